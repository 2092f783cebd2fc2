#!/usr/bin/env bash
# The health endpoint against clients that send requests and never read the
# answers (issue 16): 64 of them (health_max_connections) fill every slot,
# each with an answer the server cannot get rid of. The kubelet's probe, a
# new connection, must still be answered: it sheds the connection whose
# answer has waited longest (before, it was refused until the idle timeout).
# Then one such client alone is closed by health_write_timeout (2 s here).
# Each phase is a bounded loop that stops by itself.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
hport=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, health_listen: "127.0.0.1:$hport", health_write_timeout: 2s}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/out.lp"]}}]
CONF
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$hport/healthz" || fail "/healthz never answered"

python3 "$here/listener_attack.py" slowreaders "$hport" 64 10 >"$TMP/attack.json" 2>"$TMP/attack.log" ||
	fail "attack: $(cat "$TMP/attack.log")"
cat "$TMP/attack.json"
python3 - "$TMP/attack.json" <<'PY' || fail "probes under slow readers"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["stuck"] == 64, d           # every slot held by an unread answer before probing
assert d["probes"] == 10, d
assert d["ok"] == d["probes"], d     # every probe answered 200
assert d["worst"] < 3, d             # inside the DaemonSet probe's timeoutSeconds
assert d["replaced"] >= d["probes"], d  # each probe shed an attacker, which came back
PY
m=$(curl -sf "http://127.0.0.1:$hport/metrics") || fail "/metrics"
grep '^heliograph_health' <<<"$m"
shed=$(awk '$1 == "heliograph_health_connections_shed_total" {print $2}' <<<"$m")
[ "$shed" -ge 10 ] || fail "shed total $shed"
grep -qx 'heliograph_health_connections_rejected_total 0' <<<"$m" || fail "a connection was refused"

# One client that never reads, alone: closed by the 2 s write deadline.
before=$(awk '$1 == "heliograph_health_response_timeouts_total" {print $2}' <<<"$m")
python3 - "$hport" "$here" <<'PY' >"$TMP/one.log" 2>&1 || fail "write deadline: $(cat "$TMP/one.log")"
import sys, time
sys.path.insert(0, sys.argv[2])
import listener_attack as la
port = int(sys.argv[1])
s = la.reader_that_never_reads(port, 2000)
t0 = time.monotonic()
while not any(r > 0 and w > 0 for r, w in la.server_queues(port)):
    assert time.monotonic() - t0 < 20, "never stuck"
    time.sleep(0.05)
stuck = time.monotonic()
while la.server_queues(port):
    assert time.monotonic() - stuck < 10, "not closed"
    time.sleep(0.05)
held = time.monotonic() - stuck
print("closed %.2f s after its answer got stuck" % held)
# Not before the 2 s deadline (less the time the server still had room to
# write after ss first showed the client's window shut); well before the
# 30 s idle timeout. response_timeouts_total below says which one fired.
assert 1.0 <= held < 10.0, held
PY
cat "$TMP/one.log"
m=$(curl -sf "http://127.0.0.1:$hport/metrics") || fail "/metrics"
after=$(awk '$1 == "heliograph_health_response_timeouts_total" {print $2}' <<<"$m")
[ "$after" -eq $((before + 1)) ] || fail "response timeouts $before -> $after"
agent_stop || fail "agent exit status after SIGTERM"
echo "health_slow_readers: passed"
