#!/usr/bin/env bash
# deploy_events on leadership loss, the agent still running: a started point
# waiting for its revision number (a spec write the controller has not
# numbered yet) is written when the leader stops leading, not lost with its
# tracker. The API server refuses the leader's renews (500), so it steps down
# at its deadline; the point must reach its file while it keeps running, with
# what was known: the previous revision number and the new image.
source "$TESTLIB"
source "$(dirname "$TESTLIB")/kube_lib.sh"
SCEN="$(dirname "$TESTLIB")/deploy_scenarios.py"
LEASE=/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/heliograph-agent-leader

# The Argo Rollouts CRD as in test_deploy_events (the baseline has Rollouts); the
# server's own controller never acts (the scenario writes every status itself).
FIXTURES_SAVED=$FIXTURES
kube_argo_discovery
kube_start --controller-delay 100000
FIXTURES=$FIXTURES_SAVED
export FIXTURES
kube_config "$TMP/kubeconfig"
python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" baseline || fail "baseline objects"

cat >"$TMP/a.yaml" <<CONF
agent: {hostname: a, interval: 1s, flush_interval: 1s, debug: true}
inputs:
  - deploy_events: {kubeconfig: "$TMP/kubeconfig", identity: a, lease_namespace: monitoring, cluster: test, lease_duration: 2s}
outputs: [{file: {files: ["$TMP/a.lp"]}}]
CONF
"$AGENT" --config "$TMP/a.yaml" >"$TMP/a.log" 2>&1 &
PID_a=$!
PIDS+=($PID_a)
wait_for grep -q 'became the leader' "$TMP/a.log" || fail "a did not take the Lease"
wait_for grep -q 'deployments listed' "$TMP/a.log" || fail "a's Deployment watch did not list"

# late: a spec write never numbered (its started point waits); marker: a deploy
# on the same watch after it, so once marker is recorded, late has been read.
python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" phase3 || fail "phase3"
wait_for grep -q '^deploy,.*name=marker,.*phase=completed' "$TMP/a.lp" || fail "a did not record marker completed"
! grep -q '^deploy,.*name=late,' "$TMP/a.lp" || fail "late's started did not wait for its revision number"

# Every renew refused from now on: the leader steps down at its deadline.
ctl fail "{\"method\": \"PUT\", \"path\": \"$LEASE\", \"code\": 500, \"times\": -1}"
wait_for grep -q 'not the leader any more' "$TMP/a.log" || fail "a did not step down: $(tail -5 "$TMP/a.log")"
wait_for grep -q '^deploy,.*name=late,.*phase=started' "$TMP/a.lp" ||
	fail "late's waiting started point not written at the leadership loss"
grep -q '^deploy,.*name=late,.*phase=started.* revision=1i,image="shop/late:2.0"' "$TMP/a.lp" ||
	fail "late's started point: $(grep 'name=late' "$TMP/a.lp")"
[ "$(grep -c '^deploy,.*name=late,' "$TMP/a.lp")" = 1 ] || fail "late recorded more than once: $(grep 'name=late' "$TMP/a.lp")"
kill -0 "$PID_a" 2>/dev/null || fail "the agent exited"
echo "ok: $(grep 'name=late' "$TMP/a.lp" | cut -c1-200)"
