#!/usr/bin/env bash
# Two URLs in one influxdb output, both fault servers: writes go to the first;
# when it fails (503 on /write and /ping) they move to the second; when it
# answers /ping again they return to the first within failback_interval.
# Every gathered line (also copied to a file output) is accepted exactly once.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
# Sets the variable named $1 to the server's URL. Not called in $(...): the
# server's PID must reach PIDS in this shell, so cleanup stops it.
start_server() {
	python3 "$here/../servers/http_fault_server.py" >"$TMP/$1.port" 2>"$TMP/$1-server.log" &
	PIDS+=("$!")
	wait_for grep -q PORT "$TMP/$1.port" || fail "fault server $1 did not start"
	printf -v "$1" 'http://127.0.0.1:%s' "$(awk '{print $2}' "$TMP/$1.port")"
}
start_server a
start_server b
writes() { curl -sf "$1/_ctl/requests" | json_get 'len([r for r in d if r["path"] == "/write"])'; }
writes_gt() { [ "$(writes "$1")" -gt "$2" ]; }
pings() { curl -sf "$1/_ctl/requests" | json_get 'len([r for r in d if r["path"] == "/ping"])'; }

cat >"$TMP/failback.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: failback-host}
inputs: [{mem: {}}]
outputs:
  - file: {files: ["$TMP/failback.lp"]}
  - influxdb: {urls: ["$a", "$b"], database: fb, skip_database_creation: true, timeout: 2s, failback_interval: 2s}
CONF
agent_start "$TMP/failback.yaml"
WAIT_SECS=10 wait_for writes_gt "$a" 0 || fail "no write reached the first URL"
sleep 2
[ "$(writes "$b")" = 0 ] || fail "the second URL was written to while the first was healthy"

# The first URL fails: every request (writes and health checks) gets a 503.
curl -sf -XPOST "$a/_ctl/script" -d "$(python3 -c 'import json; print(json.dumps([{"status": 503, "body": "{\"error\":\"down\"}"}] * 500))')" >/dev/null
WAIT_SECS=15 wait_for writes_gt "$b" 2 || fail "writes did not move to the second URL"
[ "$(pings "$a")" -ge 1 ] || fail "the first URL was not health-checked while the second was in use"
grep -q "HTTP 503" "$TMP/agent.log" || fail "the failed write was not logged"

# The first URL recovers: writes return to it.
a_before=$(writes "$a")
curl -sf -XPOST "$a/_ctl/unscript" >/dev/null
t0=$(date +%s)
WAIT_SECS=10 wait_for writes_gt "$a" "$a_before" || fail "writes did not return to the first URL"
echo "back on the first URL after $(($(date +%s) - t0)) s"
grep -q "answers its health check again" "$TMP/agent.log" || fail "the failback was not logged"
sleep 3
b_after=$(writes "$b")
sleep 3
[ "$(writes "$b")" = "$b_after" ] || fail "the second URL is still written to after the first recovered"
agent_stop || fail "agent exit status after SIGTERM"

curl -sf "$a/_ctl/requests" >"$TMP/a.json"
curl -sf "$b/_ctl/requests" >"$TMP/b.json"
python3 - "$TMP/a.json" "$TMP/b.json" "$TMP/failback.lp" <<'PY' || fail "lines lost or duplicated across the failover and failback"
import json, sys
accepted = []
for f in sys.argv[1:3]:
    for r in json.load(open(f)):
        if r["path"] == "/write" and r["answer"] in (200, 204):
            accepted += [l for l in r["body"].split("\n") if l]
gathered = [l for l in open(sys.argv[3]).read().split("\n") if l]
dups = len(accepted) - len(set(accepted))
assert dups == 0, "%d line(s) written twice" % dups
missing = set(gathered) - set(accepted)
assert not missing, "%d gathered lines never accepted, e.g. %s" % (len(missing), sorted(missing)[:2])
assert not set(accepted) - set(gathered), "lines written that were not gathered"
print("%d lines, each accepted once across both URLs" % len(gathered))
PY
echo "failback: passed"
