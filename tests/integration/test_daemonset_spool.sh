#!/usr/bin/env bash
# The DaemonSet's disk buffer, with the config `agentctl render` ships: the
# agent runs with exactly the rendered ConfigMap and the DaemonSet
# container's environment (daemonset_pod.py moves the hostPath paths onto
# this machine, the disk buffer's under $TMP/node, and fills the downward
# API and Secret values), against a real influxd; its cluster inputs talk
# to the test API server (KUBECONFIG standing in for the in-cluster
# config). The one addition is a file output, the record of what was
# gathered. InfluxDB stops, the agent spools, is killed with SIGKILL, a new
# agent starts on the same spool and spools on, InfluxDB comes back: every
# point gathered is in InfluxDB exactly once (count per timestamp).
source "$TESTLIB"
source "$(dirname "$TESTLIB")/kube_lib.sh"
HERE=$(dirname "$TESTLIB")

kube_start
kube_config "$TMP/kubeconfig"
influx_start
daemonset_config "$INFLUX_URL" spool-node
case $SPOOL in "$TMP/node/var/lib/heliograph/monitoring/agent-spool") ;; *) fail "spool on the node at $SPOOL" ;; esac
INTERVAL=$(awk '$1 == "interval:" { print $2; exit }' "$TMP/agent.yaml")
[ "$INTERVAL" = 10s ] || fail "agent.interval is '$INTERVAL'; the waits below count 10 s gathers"
# The agent skips database creation (a write-only user); agentctl creates it.
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE heliograph' >/dev/null

spool_bytes() { find "$SPOOL" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'; }
# ticks_after NS: the gathers after NS that are complete in the record.
# All inputs gather at the same 10 s mark; all but the three cluster ones
# in one go, kube_inventory from the API server's answer, later (kubernetes
# finds no kubelet here; deploy_events emits on changes only). So a gather
# whose kube_inventory line (kubernetes_node) is in the record is done, and
# since an input's lines reach the spool when its gather ends, before the
# file output's next flush, all of it is in the spool: a kill then loses
# nothing the record has.
ticks_after() {
	awk -v t="$1" '/^kubernetes_node,/ && $NF > t && !($NF in s) { s[$NF] = 1; n++ } END { print n + 0 }' \
		"$TMP/gathered.lp" 2>/dev/null || echo 0
}
# wait_for runs its arguments each time: these re-read their numbers.
db_points_ge() { [ "$(db_points)" -ge "$1" ]; }
ticks_after_ge() { [ "$(ticks_after "$1")" -ge "$2" ]; }
peak_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
now_ns() { echo $(($(date +%s) * 1000000000)); }
db_points() {
	curl -s "$INFLUX_URL/query" --data-urlencode db=heliograph --data-urlencode 'q=SELECT count(usage_idle) FROM cpu' |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["results"][0].get("series"); print(s[0]["values"][0][1] if s else 0)'
}

daemonset_agent "$TMP/agent1.log"
WAIT_SECS=120 wait_for db_points_ge 2 || fail "the agent did not write two gathers to InfluxDB ($(db_points) cpu points)"
# No kubelet listens at NODE_IP:10250 here: the kubernetes input's errors are expected, no other.
grep 'E!' "$TMP/agent1.log" | grep -v '\[inputs.kubernetes\]' >"$TMP/errors" &&
	fail "errors with InfluxDB up: $(cat "$TMP/errors")"

# Outage: the agent spools two gathers, then is killed.
influx_stop
t_stop=$(now_ns)
b0=$(spool_bytes)
WAIT_SECS=90 wait_for ticks_after_ge "$t_stop" 2 || fail "no two gathers during the outage"
WAIT_SECS=60 wait_for grep -q 'write of .* failed' "$TMP/agent1.log" || fail "no failed write while InfluxDB is down"
b1=$(spool_bytes)
[ "$b1" -gt "$b0" ] || fail "the spool did not grow during the outage ($b0 -> $b1 bytes)"
hwm1=$(peak_kib "$AGENT_PID")
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
t_kill=$(now_ns)
spooled1=$(awk -v a="$t_stop" '$NF > a' "$TMP/gathered.lp" | wc -l)

# A new agent (the restarted container) on the same spool, InfluxDB still away.
daemonset_agent "$TMP/agent2.log"
WAIT_SECS=60 wait_for grep -q 'metrics from the disk buffer .* will be written first' "$TMP/agent2.log" ||
	fail "the new agent did not resume the spool"
resumed=$(sed -n 's/.* \([0-9][0-9]*\) metrics from the disk buffer .*/\1/p' "$TMP/agent2.log" | head -n 1)
[ "$resumed" -ge "$spooled1" ] || fail "the new agent resumed $resumed metrics; the first gathered $spooled1 during the outage"
WAIT_SECS=90 wait_for ticks_after_ge "$t_kill" 2 || fail "the new agent gathered no two gathers during the outage"
b2=$(spool_bytes)
[ "$b2" -gt "$b1" ] || fail "the new agent's gathers were not spooled ($b1 -> $b2 bytes)"
ticks=$(ticks_after "$t_stop")

# InfluxDB back: everything reaches it, once.
influx_start
t_back=$(now_ns)
WAIT_SECS=90 wait_for ticks_after_ge "$t_back" 1 || fail "no gather after InfluxDB came back"
# What was gathered up to InfluxDB's return (complete: a later gather is);
# the newer gathers wait for the flush, and are checked after the stop.
WAIT_SECS=120 wait_for python3 "$HERE/lp_once.py" "$TMP/gathered.lp" "$INFLUX_URL" heliograph --until "$t_back" ||
	{ python3 "$HERE/lp_once.py" "$TMP/gathered.lp" "$INFLUX_URL" heliograph --until "$t_back"; fail "points gathered across the outage are not in InfluxDB once"; }
hwm2=$(peak_kib "$AGENT_PID")
agent_stop || fail "agent exit status after SIGTERM"
# At SIGTERM both outputs flush: all of the record is in InfluxDB.
python3 "$HERE/lp_once.py" "$TMP/gathered.lp" "$INFLUX_URL" heliograph >"$TMP/once.out" ||
	fail "after the agent stopped: $(cat "$TMP/once.out")"
grep -q 'dropped' "$TMP/agent1.log" "$TMP/agent2.log" && fail "metrics dropped: $(grep dropped "$TMP"/agent[12].log)"
# The containers' limit is 32Mi, their request 24Mi: a build without
# sanitizers (whose shadow memory says nothing about the agent) must stay
# within the request through the outage and the replay.
case $(ldd "$AGENT") in
*libasan*) ;;
*)
	for h in "$hwm1" "$hwm2"; do
		[ "$h" -le $((24 * 1024)) ] || fail "peak RSS ${h} KiB is above the pods' 24Mi memory request"
	done
	;;
esac
lines=$(awk -v a="$t_stop" '$NF > a' "$TMP/gathered.lp" | wc -l)
echo "daemonset spool: $ticks gathers during the outage ($lines lines; $spooled1 spooled by the killed agent, $resumed" \
	"resumed), spool grew $(((b2 - b0) / ticks)) bytes per gather; peak RSS $hwm1 KiB (killed agent), $hwm2 KiB" \
	"(after the replay); $(cat "$TMP/once.out")"
