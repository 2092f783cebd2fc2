#!/usr/bin/env bash
# The agent against an InfluxDB stand-in that answers after longer than the
# output's timeout, and one that drops the connection without a response:
# each failed batch is retried first, in order (one writer, max_in_flight: 1),
# and every line the agent gathered (also copied to a file output) is
# accepted exactly once.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault-server.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
url="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
# timeout is 1s: a 2.5 s answer comes too late.
curl -sf -XPOST "$url/_ctl/script" -d '[
 {"path": "/write", "status": 204, "delay": 2.5},
 {"path": "/write", "close": true},
 {"path": "/write", "status": 204},
 {"path": "/write", "close": true},
 {"path": "/write", "status": 204, "delay": 2.5},
 {"path": "/write", "close": true, "delay": 0.3}
]' >/dev/null

cat >"$TMP/slow.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, metric_batch_size: 8, hostname: slow-host}
inputs:
  - cpu: {percpu: true}
  - mem: {}
outputs:
  - file: {files: ["$TMP/slow.lp"]}
  - influxdb: {urls: ["$url"], database: slow, skip_database_creation: true, timeout: 1s, max_in_flight: 1}
CONF
agent_start "$TMP/slow.yaml"
n_writes() { [ "$(curl -sf "$url/_ctl/requests" | json_get 'len([r for r in d if r["path"] == "/write"])')" -ge "$1" ]; }
WAIT_SECS=30 wait_for n_writes 9 || fail "the agent stopped writing after the faults"
sleep 2
agent_stop || fail "agent exit status after SIGTERM"
grep -qi "timeout\|timed out" "$TMP/agent.log" || fail "the timeout was not logged"
grep -qi "empty reply\|connection\|recv" "$TMP/agent.log" || fail "the dropped connection was not logged"

curl -sf "$url/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$TMP/slow.lp" <<'PY' || fail "lines lost or duplicated across slow answers and resets"
import json, sys
reqs = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write"]
gathered = [l for l in open(sys.argv[2]).read().split("\n") if l]
batches = [[l for l in r["body"].split("\n") if l] for r in reqs]
failed = lambda r: r["answer"] == "close" or r["delay"] >= 1
kinds = ["late" if r["delay"] >= 1 else r["answer"] for r in reqs[:6]]
assert kinds == ["late", "close", 204, "close", "late", "close"], kinds
# A failed batch is sent again next, starting with the same lines in order
# (it may have grown with metrics gathered meanwhile).
for i, r in enumerate(reqs[:-1]):
    if failed(r):
        assert batches[i + 1][:len(batches[i])] == batches[i], "request %d (%s) was not retried first" % (i, kinds[i] if i < 6 else "?")
accepted = [l for r, b in zip(reqs, batches) if not failed(r) for l in b]
dups = len(accepted) - len(set(accepted))
assert dups == 0, "%d line(s) accepted twice" % dups
missing = set(gathered) - set(accepted)
assert not missing, "%d gathered lines never accepted, e.g. %s" % (len(missing), sorted(missing)[:2])
assert not set(accepted) - set(gathered), "lines written that were not gathered"
print("%d lines, %d writes: late answers and dropped connections retried, each line accepted once" % (len(gathered), len(reqs)))
PY
echo "slow/reset: passed"
