#!/usr/bin/env bash
# Outputs' configuration as a Telegraf user writes it, against a real influxd:
# - "" means unset: username/password/database/retention_policy/tls_* "" (the helm
#   chart's, the sandbox's) start and write to the default database "telegraf";
# - an influxdb output whose URL is udp:// or unix:// (Telegraf speaks both, we do
#   not) is disabled, named with its position, and counted; the agent runs the others;
#   its URL's credentials never reach the log;
# - with no usable output left, and on a malformed URL or a bad option value, the
#   agent exits 2 with file:line:column, at start and with --test alike;
# - the start line counts in the singular: "1 input, 1 output".
source "$TESTLIB"
influx_start
HPORT=$(free_port)

cat >"$TMP/main.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: cfg-host
  health_listen: "127.0.0.1:$HPORT"
inputs:
  - mem: {}
outputs:
  - influxdb:
      urls: ["$INFLUX_URL"]
      database: ""
      username: ""
      password: ""
      retention_policy: ""
      tls_ca: ""
      tls_cert: ""
      tls_key: ""
      user_agent: ""
      content_encoding: ""
  - influxdb:
      urls: ["udp://telegraf:s3cr3tpw@127.0.0.1:8089"]
CONF

# --test sees what the start sees: the udp output is reported, the config passes.
"$AGENT" --config "$TMP/main.yaml" --test >"$TMP/test.out" 2>"$TMP/test.err" || fail "--test failed: $(cat "$TMP/test.err")"
grep -q '^mem,host=cfg-host ' "$TMP/test.out" || fail "--test printed no mem line"
grep -q 'outputs.influxdb\] .*main.yaml:20:5: urls: udp:// URLs are not supported' "$TMP/test.err" ||
	fail "--test does not name the udp output: $(cat "$TMP/test.err")"

agent_start "$TMP/main.yaml"
wait_for grep -q ' started: ' "$TMP/agent.log" || fail "agent did not start"
grep -q 'started: 1 input, 1 output (1 disabled), interval 1s' "$TMP/agent.log" ||
	fail "start line: $(grep started "$TMP/agent.log")"
grep -q 'E! \[outputs.influxdb\] .*/main.yaml:20:5: urls: udp:// URLs are not supported (only http:// and https://); this output is disabled' \
	"$TMP/agent.log" || fail "disabled output not logged with its position"
! grep -q 's3cr3tpw\|telegraf:' "$TMP/agent.log" || fail "the URL's credentials reached the log"
# "" database is Telegraf's default "telegraf", created by the output.
mem_rows() { influx_query telegraf 'SELECT count(used) FROM mem WHERE host='"'"'cfg-host'"'" | json_get 'd["results"][0]["series"][0]["values"][0][1]'; }
WAIT_SECS=30 wait_for mem_rows || fail "no mem point in database telegraf"
curl -sf "http://127.0.0.1:$HPORT/metrics" >"$TMP/metrics"
grep -qx 'heliograph_outputs_disabled 1' "$TMP/metrics" || fail "/metrics: $(grep disabled "$TMP/metrics")"
agent_stop || fail "agent exited non-zero"

# With agent.logfile, the disabled output is reported there, not on stderr: the log is open
# before the outputs are checked.
printf 'agent: {logfile: "%s", interval: 1s}\ninputs: [mem]\noutputs:\n  - file: {files: ["%s"]}\n  - influxdb: {urls: ["udp://127.0.0.1:8089"]}\n' \
	"$TMP/file.log" "$TMP/out.lp" >"$TMP/logfile.yaml"
"$AGENT" --config "$TMP/logfile.yaml" >/dev/null 2>"$TMP/logfile.err" &
PIDS+=("$!")
logpid=$!
wait_for grep -q ' started: ' "$TMP/file.log" || fail "agent with a logfile did not start: $(cat "$TMP/logfile.err")"
grep -q 'udp:// URLs are not supported' "$TMP/file.log" || fail "disabled output not in agent.logfile: $(cat "$TMP/file.log")"
[ ! -s "$TMP/logfile.err" ] || fail "the agent wrote to stderr despite agent.logfile: $(cat "$TMP/logfile.err")"
kill -TERM "$logpid"
wait "$logpid" || fail "agent with a logfile exited non-zero"

# Exit 2 with file:line:column, at start and with --test.
expect_config_error() { # name yaml want
	printf '%s' "$2" >"$TMP/$1.yaml"
	for mode in --test ""; do
		local rc=0
		# shellcheck disable=SC2086
		timeout 20 "$AGENT" --config "$TMP/$1.yaml" $mode >/dev/null 2>"$TMP/$1.err" || rc=$?
		[ "$rc" = 2 ] || fail "$1 ${mode:-start}: exit $rc, expected 2: $(cat "$TMP/$1.err")"
		grep -qF "$3" "$TMP/$1.err" || fail "$1 ${mode:-start}: want '$3' in: $(cat "$TMP/$1.err")"
		! grep -q 'pw0rd' "$TMP/$1.err" || fail "$1: credentials in the message"
	done
}
expect_config_error malformed $'inputs: [mem]\noutputs:\n  - influxdb:\n      urls: ["u:pw0rd@localhost:8086"]\n' \
	'malformed.yaml:4:14: option "urls": not a URL'
expect_config_error encoding $'inputs: [mem]\noutputs:\n  - influxdb: {content_encoding: br}\n' \
	'encoding.yaml:3:34: option "content_encoding": expected gzip or identity, got "br"'
expect_config_error v2bucket $'inputs: [mem]\noutputs:\n  - influxdb_v2: {organization: o}\n' \
	'v2bucket.yaml:3:5: outputs.influxdb_v2: bucket: must be set'
expect_config_error inflight $'inputs: [mem]\noutputs:\n  - influxdb: {max_in_flight: 0}\n' \
	'inflight.yaml:3:5: outputs.influxdb: max_in_flight: 0 is not between 1 and 64'
expect_config_error prw_inflight $'inputs: [mem]\noutputs:\n  - prometheus_remote_write: {url: "http://127.0.0.1:9/w", max_in_flight: 65}\n' \
	'prw_inflight.yaml:3:5: outputs.prometheus_remote_write: max_in_flight: 65 is not between 1 and 64'
expect_config_error only_unix $'inputs: [mem]\noutputs:\n  - influxdb: {alias: sock, urls: ["unix:///run/influxdb.sock"]}\n' \
	'no usable output: the 1 configured output is disabled'
grep -q 'outputs.influxdb::sock\] .*only_unix.yaml:3:5: urls: unix:// URLs are not supported' "$TMP/only_unix.err" ||
	fail "unix output not named by its alias: $(cat "$TMP/only_unix.err")"
echo PASS
