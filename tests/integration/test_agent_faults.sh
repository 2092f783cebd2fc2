#!/usr/bin/env bash
# The agent against a fault-injecting HTTP server playing InfluxDB: 429 with
# Retry-After, 500, 413 and a partial-write 400 are handled as documented
# (one writer, max_in_flight: 1, so that the order of batches is checked;
# parallel writers are test_output_inflight.sh's),
# and nothing is lost that the rules keep: every line the agent gathered (also
# copied to a file output) reaches the server exactly once in an accepted
# request, except the one line the server rejected.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
port=$(awk '{print $2}' "$TMP/fault.port")
url="http://127.0.0.1:$port"
curl -sf -XPOST "$url/_ctl/script" -d '[
 {"path": "/write", "status": 429, "headers": {"Retry-After": "1"}, "body": "{\"error\":\"too many requests\"}"},
 {"path": "/write", "status": 500, "body": "{\"error\":\"timeout\"}"},
 {"path": "/write", "status": 413, "body": "{\"error\":\"Request Entity Too Large\"}"},
 {"path": "/write", "status": 204},
 {"path": "/write", "status": 400, "body": "{\"error\":\"partial write: unable to parse '"'"'x'"'"': invalid field format dropped=1\"}"}
]' >/dev/null

cat >"$TMP/faults.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, metric_batch_size: 6, hostname: fault-host}
inputs:
  - cpu: {percpu: true}
  - mem: {}
outputs:
  - file: {files: ["$TMP/faults.lp"]}
  - influxdb: {urls: ["$url"], database: faults, skip_database_creation: true, content_encoding: gzip, max_in_flight: 1}
CONF
agent_start "$TMP/faults.yaml"
sleep 9
agent_stop || fail "agent exit status after SIGTERM"

curl -sf "$url/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$TMP/faults.lp" <<'PY' || fail "lines lost or duplicated across the faults"
import json, sys
reqs = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write"]
gathered = [l for l in open(sys.argv[2]).read().split("\n") if l]
assert len(reqs) >= 6, "expected at least 6 writes, got %d" % len(reqs)
batches = [[l for l in r["body"].split("\n") if l] for r in reqs]
# 0: 429, 1: 500, 2: 413, 3: 204, 4: 400 partial, 5..: 204 (the server's default)
# A retried batch starts with the failed one, in order (it may have grown up
# to the batch size with metrics gathered meanwhile).
assert batches[1][:len(batches[0])] == batches[0], "the 429 batch was not retried first, in order"
assert batches[2][:len(batches[1])] == batches[1], "the 500 batch was not retried first, in order"
assert len(batches[3]) <= (len(batches[2]) + 1) // 2, "413 did not halve the batch: %d then %d" % (len(batches[2]), len(batches[3]))
assert batches[3] == batches[2][:len(batches[3])], "after 413 the first half must go first, in order"
accepted = [l for b in batches[3:] for l in b]
assert len(accepted) == len(set(accepted)), "a line was written twice"
missing = set(gathered) - set(accepted)
extra = set(accepted) - set(gathered)
assert not missing, "%d gathered lines never accepted, e.g. %s" % (len(missing), sorted(missing)[:2])
assert not extra, "lines written that were not gathered: %s" % sorted(extra)[:2]
print("%d lines, %d writes: 429, 500, 413, partial write handled" % (len(gathered), len(reqs)))
PY
grep -q "1 of [0-9]* metrics dropped: .*partial write" "$TMP/agent.log" || fail "the partial write was not logged"
grep -q "too large; writing batches of 3" "$TMP/agent.log" || fail "the 413 was not logged"

# 401 with credentials: the batch is kept, the log says what to check and
# never shows the password; /healthz turns 503 naming the output.
curl -sf -XPOST "$url/_ctl/reset" >/dev/null
curl -sf -XPOST "$url/_ctl/script" -d "$(python3 -c 'import json; print(json.dumps([{"path": "/write", "status": 401, "body": "{\"error\":\"authorization failed\"}"}] * 50))')" >/dev/null
hport=$(free_port)
cat >"$TMP/auth.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, health_listen: "127.0.0.1:$hport", health_max_flush_intervals: 1, shutdown_timeout: 2s}
inputs: [{mem: {}}]
outputs:
  - influxdb: {urls: ["$url"], database: faults, skip_database_creation: true, username: alice, password: "S3cretPw"}
CONF
: >"$TMP/agent.log"
agent_start "$TMP/auth.yaml"
WAIT_SECS=15 wait_for grep -q "HTTP 401" "$TMP/agent.log" || fail "401 not logged"
WAIT_SECS=15 wait_for bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hport/healthz)\" = 503 ]" ||
	fail "/healthz did not report the failing output"
curl -s "http://127.0.0.1:$hport/healthz" | grep -q "outputs.influxdb has not written" || fail "/healthz gives no reason"
t0=$(date +%s)
agent_stop || fail "agent exit status after SIGTERM with an unwritable buffer"
[ $(($(date +%s) - t0)) -le 6 ] || fail "shutdown took longer than shutdown_timeout allows"
grep -q "could not be written before shutdown" "$TMP/agent.log" || fail "unwritten metrics at shutdown not reported"
b64=$(printf 'alice:S3cretPw' | base64)
if grep -q -e "S3cretPw" -e "$b64" "$TMP/agent.log"; then fail "the password appeared in the log"; fi
grep -qi "auth" "$TMP/agent.log" || fail "the 401 message does not point at authentication"

# SIGHUP while InfluxDB fails: what the old config gathered but could not
# write moves to the new config's output of the same name and is written.
curl -sf -XPOST "$url/_ctl/reset" >/dev/null
curl -sf -XPOST "$url/_ctl/script" -d '[{"path": "/write", "status": 500}, {"path": "/write", "status": 500}]' >/dev/null
mk_reload_cfg() {
	cat >"$TMP/reload.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: $1, shutdown_timeout: 5s}
inputs: [{mem: {}}]
outputs:
  - file: {files: ["$TMP/reload.lp"]}
  - influxdb: {alias: main, urls: ["$url"], database: faults, skip_database_creation: true}
CONF
}
mk_reload_cfg before-reload
: >"$TMP/agent.log"
agent_start "$TMP/reload.yaml"
WAIT_SECS=10 wait_for grep -q "HTTP 500" "$TMP/agent.log" || fail "no failed write before the reload"
mk_reload_cfg after-reload
kill -HUP "$AGENT_PID"
WAIT_SECS=15 wait_for grep -q "host=after-reload" "$TMP/reload.lp" || fail "reload did not take effect"
sleep 4
agent_stop || fail "agent exit status after reload and SIGTERM"
curl -sf "$url/_ctl/requests" >"$TMP/requests2.json"
python3 - "$TMP/requests2.json" "$TMP/reload.lp" <<'PY' || fail "metrics buffered before the reload were lost"
import json, sys
reqs = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write"]
gathered = set(l for l in open(sys.argv[2]).read().split("\n") if l)
accepted = set(l for r in reqs[2:] for l in r["body"].split("\n") if l)
before = set(l for l in gathered if "host=before-reload" in l)
assert before, "nothing gathered before the reload"
missing = gathered - accepted
assert not missing, "%d of %d lines never written, e.g. %s" % (len(missing), len(gathered), sorted(missing)[:1])
print("reload: %d lines gathered before it, all written after it" % len(before))
PY
echo "faults: passed"
