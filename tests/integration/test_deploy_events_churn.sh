#!/usr/bin/env bash
# deploy_events' tracker does not grow with churn: with 10 Deployment +
# Service + ReplicaSet sets in the cluster, creating and deleting 1,000 more
# (through the test API server's REST API, as the big-bang dev pipeline
# does) leaves the leader's anonymous memory where it was (before the fix:
# +41.6 KB per set, 2.6 MB -> 44.3 MB). Synchronised on points of a
# blue-green pair made after the churn (Deployment and Service watches).
source "$TESTLIB"
source "$(dirname "$TESTLIB")/kube_lib.sh"
CHURN="$(dirname "$TESTLIB")/deploy_churn.py"
SETS=${CHURN_SETS:-1000}
LIMIT_KB=1024

kube_start --controller-delay 0.2 --bookmark-interval 0.5
kube_config "$TMP/kubeconfig"
curl -sf --cacert "$TMP/tls/ca.crt" -X POST -H 'Content-Type: application/json' "$KUBE_URL/_control/objects" -d '[
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}]' >/dev/null || fail "namespaces"
churn() { python3 "$CHURN" "$KUBE_URL" "$TMP/tls/ca.crt" "$KUBE_TOKEN" "$@"; }
churn create 0 10 || fail "the 10 sets that stay"

cat >"$TMP/agent.yaml" <<CONF
agent: {hostname: churn, interval: 1s, flush_interval: 1s, debug: true}
inputs:
  - deploy_events: {kubeconfig: "$TMP/kubeconfig", identity: churn, lease_namespace: monitoring, cluster: test, lease_duration: 2s}
outputs: [{file: {files: ["$TMP/out.lp"]}}]
CONF
# Under AddressSanitizer (the test build) freed blocks wait in a quarantine
# (256 MB by default) before reuse: that is memory the churn passes through,
# not memory the tracker keeps. A small one measures the agent itself.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" \
	"$AGENT" --config "$TMP/agent.yaml" >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=($AGENT_PID)
wait_for grep -q 'deployments listed' "$TMP/agent.log" || fail "the agent did not become the leader and list"

rss_anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$AGENT_PID/status"; }
# mark_completed N: the blue-green pair "mark" has N completed deploys recorded.
mark_completed() { [ "$(awk '/^deploy,.*name=mark,.*phase=completed/ {n++} END {print n+0}' "$TMP/out.lp" 2>/dev/null)" -ge "$1" ]; }

rss0=$(rss_anon_kb)
# Warm-up: the allocator's arenas and the tracker's tables reach their working size.
churn churn 100 50 || fail "warm-up churn"
churn marker 1 || fail "marker pair"
wait_for mark_completed 1 || fail "the live color's first rollout was not recorded: $(grep name=mark "$TMP/out.lp")"
rss1=$(rss_anon_kb)
t0=$(date +%s.%N)
churn churn 1000 "$SETS" || fail "churn"
t1=$(date +%s.%N)
churn marker 2 || fail "marker switch"
wait_for mark_completed 2 || fail "the switch to green was not recorded: $(grep name=mark "$TMP/out.lp")"
rss2=$(rss_anon_kb)
kill -0 "$AGENT_PID" || fail "the agent died"
echo "RssAnon: ${rss0} KiB at start, ${rss1} KiB after warm-up, ${rss2} KiB after $SETS sets created and deleted" \
	"($(python3 -c "print(round($t1 - $t0, 1))") s); growth $((rss2 - rss1)) KiB, limit ${LIMIT_KB} KiB"
[ $((rss2 - rss1)) -lt "$LIMIT_KB" ] || fail "anonymous memory grew by $((rss2 - rss1)) KiB over $SETS sets"
# Each churned Deployment was a deploy seen whole or in part; none of them is left waiting.
n=$(grep -c '^deploy,.*name=churn-app-1' "$TMP/out.lp" || true)
echo "points of churned Deployments: $n"
[ "$n" -gt 0 ] || fail "no churned Deployment was recorded: the churn did not reach the agent"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "agent exited with $?"
