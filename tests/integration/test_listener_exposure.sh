#!/usr/bin/env bash
# influxdb_listener warns at start when it listens beyond loopback without
# authentication (anyone who reaches the port, in a cluster every pod, can
# write any point through the agent's outputs and credentials), and only then.
source "$TESTLIB"

# start_check NAME LISTENER_OPTIONS: runs --test with the listener configured so; the log in $TMP/NAME.log.
start_check() {
	cat >"$TMP/$1.yaml" <<CONF
inputs:
  - influxdb_listener: {$2}
outputs: [{file: {files: ["$TMP/$1.lp"]}}]
CONF
	"$AGENT" --config "$TMP/$1.yaml" --test >"$TMP/$1.out" 2>"$TMP/$1.log" || fail "$1: --test exited $?: $(cat "$TMP/$1.log")"
	grep -q "listening on" "$TMP/$1.log" || fail "$1: the listener did not start: $(cat "$TMP/$1.log")"
}
warned() { grep -q "W! \[inputs.influxdb_listener\] listening on .* without authentication: anyone who reaches this port" "$TMP/$1.log"; }

for case in "all|service_address: ':0'" "any4|service_address: '0.0.0.0:0'" "any6|service_address: '[::]:0'"; do
	name=${case%%|*}
	start_check "$name" "${case#*|}"
	warned "$name" || fail "$name: no warning: $(cat "$TMP/$name.log")"
	[ "$(grep -c 'without authentication' "$TMP/$name.log")" = 1 ] || fail "$name: warned more than once"
done
for case in "lo4|service_address: '127.0.0.1:0'" "lo6|service_address: '[::1]:0'" "localhost|service_address: 'localhost:0'" \
	"token|service_address: ':0', token: s3cret" "basic|service_address: ':0', basic_username: u, basic_password: p"; do
	name=${case%%|*}
	start_check "$name" "${case#*|}"
	! warned "$name" || fail "$name: warned: $(cat "$TMP/$name.log")"
done
! grep -q s3cret "$TMP"/*.log || fail "the token was logged"
echo "ok: warned for :0, 0.0.0.0 and [::] without auth; not for loopback or with credentials"
