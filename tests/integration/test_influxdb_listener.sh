#!/usr/bin/env bash
# inputs.influxdb_listener through the real agent: v1 and v2 writes (plain
# and gzip) come out of a file output byte for byte where nothing changes
# them (no re-serialization: "1.50" stays "1.50") and re-serialized where
# something does (unsorted tags, a host tag to add, a precision, a uint
# for an output without uint support); partial writes answer InfluxDB's 400
# and keep the good lines; 413, 401, 404, 405, /ping, /health, /query; and
# the same points relayed to a real influxd are queried back exactly.
source "$TESTLIB"
influx_start
LP=$(free_port)
LA=$(free_port)
L="http://127.0.0.1:$LP"
A="http://127.0.0.1:$LA"

cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: test-host
inputs:
  - influxdb_listener:
      service_address: "127.0.0.1:$LP"
      max_body_size: 64KiB
  - influxdb_listener:
      alias: auth
      service_address: "127.0.0.1:$LA"
      basic_username: user
      basic_password: "s3cret-pass"
      token: "s3cret-token"
      database_tag: database
outputs:
  - file: {files: ["$TMP/uint.lp"], influx_uint_support: true}
  - file: {alias: plain, files: ["$TMP/plain.lp"]}
  - influxdb: {urls: ["$INFLUX_URL"], database: hg_listener}
CONF
agent_start "$TMP/agent.yaml"
wait_for curl -sf "$L/health" || fail "listener did not start"
wait_for curl -sf "$A/health" || fail "auth listener did not start"

# status CODE URL [curl args...]: asserts the HTTP status, body in $TMP/body
status() {
	local want=$1
	shift
	local got
	got=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@") || true
	[ "$got" = "$want" ] || fail "$* answered $got, expected $want: $(cat "$TMP/body")"
}

status 204 "$L/ping"
grep -qi '^X-Influxdb-Version: ' "$TMP/headers" || fail "/ping without X-Influxdb-Version"
status 200 "$L/ping?verbose=true"
[ "$(cat "$TMP/body")" = '{"version":"1.8.10"}' ] || fail "verbose ping body: $(cat "$TMP/body")"
status 200 "$L/health"
grep -q '"status":"pass"' "$TMP/body" || fail "/health body: $(cat "$TMP/body")"
status 200 "$L/query" --data-urlencode "q=CREATE DATABASE x"
[ "$(cat "$TMP/body")" = '{"results":[]}' ] || fail "/query body: $(cat "$TMP/body")"
status 404 "$L/nope"
status 405 "$L/write"

# v1, plain
printf '%s\n' \
	'cpu,cpu=cpu0,host=h1 usage=1.50,idle=98i 1700000000000000000' \
	'weird,host=h1,b=2,a=1 v=1 1700000000000000001' \
	'nohost,t=x v=2.0 1700000000000000002' \
	'counters,host=h1 n=5u 1700000000000000003' >"$TMP/w1.lp"
status 204 -XPOST "$L/write?db=mydb" --data-binary @"$TMP/w1.lp"
status 204 -XPOST "$L/write?db=mydb&precision=s" --data-binary 'sec,host=h1 v=1 1700000001'
status 204 -XPOST "$L/write" --data-binary 'nots,host=h1 v=1'
# gzip, v1 and v2
printf 'gz1,host=h1 v=1i 1700000000000000010\n' | gzip >"$TMP/g1.gz"
status 204 -XPOST "$L/write?db=mydb" -H 'Content-Encoding: gzip' --data-binary @"$TMP/g1.gz"
printf 'gz2,host=h1 v=2i 1700000000000000020\n' | gzip >"$TMP/g2.gz"
status 204 -XPOST "$L/api/v2/write?org=o&bucket=b&precision=ns" -H 'Content-Encoding: gzip' --data-binary @"$TMP/g2.gz"
status 204 -XPOST "$L/api/v2/write?org=o&bucket=b&precision=ms" --data-binary 'v2ms,host=h1 v=3i 1700000000021'
# partial write: 400 naming the bad line, the good ones kept
printf 'good1,host=h1 v=1 1700000000000000030\nbad line\ngood2,host=h1 v=2 1700000000000000031\n' >"$TMP/p.lp"
status 400 -XPOST "$L/write?db=mydb" --data-binary @"$TMP/p.lp"
body=$(cat "$TMP/body")
case $body in
'{"error":"partial write: unable to parse '"'bad line'"': at line 2:'*' dropped=1"}') ;;
*) fail "partial write body: $body" ;;
esac
grep -qi '^Content-Type: application/json' "$TMP/headers" || fail "partial write is not JSON"
status 400 -XPOST "$L/write" --data-binary 'only bad'
case $(cat "$TMP/body") in '{"error":"unable to parse '"'only bad'"': '*) ;; *) fail "all-bad body: $(cat "$TMP/body")" ;; esac
# 413: a body over max_body_size, and a gzip body that inflates past it
head -c 70000 /dev/zero | tr '\0' 'x' >"$TMP/big"
status 413 -XPOST "$L/write" --data-binary @"$TMP/big"
python3 -c 'import sys; sys.stdout.write("b,host=h1 v=1 1\n" * 20000)' | gzip >"$TMP/bomb.gz"
[ "$(stat -c %s "$TMP/bomb.gz")" -lt 65536 ] || fail "bomb not small"
status 413 -XPOST "$L/write" -H 'Content-Encoding: gzip' --data-binary @"$TMP/bomb.gz"
grep -q 'request body too large' "$TMP/body" || fail "413 body: $(cat "$TMP/body")"

# auth: /ping and /health open, the rest needs basic or token
status 204 "$A/ping"
status 401 -XPOST "$A/write" --data-binary 'a,host=h1 v=1 1'
grep -qi '^WWW-Authenticate: Basic' "$TMP/headers" || fail "401 without WWW-Authenticate"
status 401 -XPOST -u user:wrong "$A/write" --data-binary 'a,host=h1 v=1 1'
status 401 -XPOST -H 'Authorization: Token nope' "$A/write" --data-binary 'a,host=h1 v=1 1'
status 401 "$A/query"
status 204 -XPOST -u user:s3cret-pass "$A/write?db=authdb" --data-binary 'authb,host=h1 v=1 1700000000000000040'
# the scheme is case-insensitive (RFC 9110), the credentials are not
status 204 -XPOST -H "Authorization: basic $(printf user:s3cret-pass | base64)" "$A/write?db=authdb" \
	--data-binary 'authl,host=h1 v=3 1700000000000000042'
status 401 -XPOST -H "Authorization: basic $(printf USER:s3cret-pass | base64)" "$A/write" \
	--data-binary 'a,host=h1 v=1 1'
status 204 -XPOST -H 'Authorization: Token s3cret-token' "$A/api/v2/write?bucket=x" \
	--data-binary 'autht,host=h1 v=2 1700000000000000041'

sleep 1.5
agent_stop || fail "agent exited non-zero after SIGTERM"
if grep -q 's3cret' "$TMP/agent.log"; then fail "a secret reached the log"; fi

# Exact lines: raw where unchanged, re-serialized where the agent changed something.
nots=$(grep '^nots,' "$TMP/uint.lp") || fail "nots missing"
[[ $nots =~ ^nots,host=h1\ v=1\ [0-9]{19}$ ]] || fail "nots line: $nots"
expect() {
	cat <<EOF
cpu,cpu=cpu0,host=h1 usage=1.50,idle=98i 1700000000000000000
weird,a=1,b=2,host=h1 v=1 1700000000000000001
nohost,host=test-host,t=x v=2 1700000000000000002
counters,host=h1 n=$1 1700000000000000003
sec,host=h1 v=1 1700000001000000000
$nots
gz1,host=h1 v=1i 1700000000000000010
gz2,host=h1 v=2i 1700000000000000020
v2ms,host=h1 v=3i 1700000000021000000
good1,host=h1 v=1 1700000000000000030
good2,host=h1 v=2 1700000000000000031
authb,database=authdb,host=h1 v=1 1700000000000000040
authl,database=authdb,host=h1 v=3 1700000000000000042
autht,host=h1 v=2 1700000000000000041
EOF
}
diff <(expect 5u) "$TMP/uint.lp" || fail "uint file output differs"
diff <(expect 5i) "$TMP/plain.lp" || fail "plain file output differs"

# The relay: every point is in influxd exactly (values, types, ns timestamps).
python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/plain.lp" "$INFLUX_URL" hg_listener --expect-count 14 ||
	fail "points in InfluxDB differ from what was posted to the listener"
echo "influxdb_listener: v1/v2, gzip, partial write, 413, 401, relay to influxd exact"
