#!/usr/bin/env bash
# deploy_events against the test API server: two agents campaign for one
# Lease and only the holder records; scripted rollouts of every strategy
# (Recreate, RollingUpdate, track=canary beside a stable, blue-green Service
# selector switch, the heliograph.io/strategy annotation), a failed rollout
# and its rollback, and the real Argo Rollouts objects are each recorded
# once with the expected phases; the leader is killed (-9) mid-rollout, the
# other agent takes over within two lease durations and records the rest,
# nothing twice; the live color of a blue-green pair updated in place is a
# deploy; a started point still waiting for its revision number when the
# leader stops is written before it exits; SIGTERM hands the Lease over
# (holderIdentity cleared).
source "$TESTLIB"
source "$(dirname "$TESTLIB")/kube_lib.sh"
SCEN="$(dirname "$TESTLIB")/deploy_scenarios.py"
LEASE_S=2

# Discovery with the Argo Rollouts CRD installed.
FIXTURES_SAVED=$FIXTURES
kube_argo_discovery
kube_start --controller-delay 100000 --bookmark-interval 0.5
FIXTURES=$FIXTURES_SAVED
kube_config "$TMP/kubeconfig"
export FIXTURES
python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" baseline || fail "baseline objects"

holder() {
	curl -sf --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" \
		"$KUBE_URL/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/heliograph-agent-leader" |
		json_get "d['spec'].get('holderIdentity') or ''" 2>/dev/null
}
holder_is() { [ "$(holder)" = "$1" ]; }
# lease_field EXPR: a Python expression over the Lease object d.
lease_field() {
	curl -sf --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" \
		"$KUBE_URL/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/heliograph-agent-leader" |
		json_get "$1"
}
# recorded_past T: the leader's recorded-until annotation is past Unix time T.
recorded_past() {
	local ru
	ru=$(lease_field "d['metadata'].get('annotations', {}).get('heliograph.io/deploy-events-recorded-until', '')")
	[ -n "$ru" ] && python3 -c "import datetime, sys; sys.exit(0 if datetime.datetime.strptime('$ru', '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp() > $1 else 1)"
}

# start_agent NAME: agent with identity NAME writing $TMP/NAME.lp
start_agent() {
	cat >"$TMP/$1.yaml" <<CONF
agent: {hostname: $1, interval: 1s, flush_interval: 1s, debug: true}
inputs:
  - deploy_events: {kubeconfig: "$TMP/kubeconfig", identity: $1, lease_namespace: monitoring, cluster: test, lease_duration: ${LEASE_S}s}
outputs: [{file: {files: ["$TMP/$1.lp"]}}]
CONF
	"$AGENT" --config "$TMP/$1.yaml" >"$TMP/$1.log" 2>&1 &
	eval "PID_$1=$!"
	PIDS+=($!)
}

start_agent a
wait_for holder_is a || fail "agent a did not take the Lease (holder '$(holder)')"
start_agent b
sleep 1
[ "$(holder)" = a ] || fail "the Lease moved to '$(holder)' while a is alive"
# a's watches have listed (Argo Rollouts' too, found by discovery), so phase 1 is seen as changes.
wait_for grep -q 'deployments listed' "$TMP/a.log" || fail "a's Deployment watch did not list"
wait_for grep -q 'rollouts listed' "$TMP/a.log" || fail "a's Rollout watch did not list"
MID_T0=$(python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" phase1) || fail "phase1"
phase1_end=$(date +%s.%N)
# Flushed (the last phase-1 point is in the file), and a has renewed past every phase-1 time.
# The API's times are whole seconds and a new leader re-records what falls in the old
# leader's last recorded second (a duplicate rather than a loss): so wait until a's
# recorded-until is in a later second than the end of phase 1, or mid is recorded twice.
wait_for grep -q '^deploy,.*name=mid,.*phase=progressing' "$TMP/a.lp" || fail "the leader did not record mid progressing"
phase1_next_s=$(python3 -c "import math; print(math.floor($phase1_end) + 1)")
wait_for recorded_past "$phase1_next_s" || fail "a's recorded-until did not pass the second after phase 1"
! grep -q '^deploy,' "$TMP/b.lp" 2>/dev/null || fail "b recorded deploys while not the leader: $(grep '^deploy' "$TMP/b.lp")"

# Kill the leader mid-rollout ("mid" is progressing).
t0=$(date +%s.%N)
kill -9 "$PID_a"
wait_for holder_is b || fail "b did not take over (holder '$(holder)')"
# Measured from the Lease's own acquireTime, written by b when it took the Lease: the test's
# polling (a curl and a python per look, slow with both cores busy) is not part of the takeover.
took=$(lease_field "round(__import__('datetime').datetime.strptime(d['spec']['acquireTime'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=__import__('datetime').timezone.utc).timestamp() - $t0, 2)")
echo "takeover after ${took}s (lease ${LEASE_S}s)"
python3 -c "import sys; sys.exit(0 if $took <= 2 * $LEASE_S else 1)" || fail "takeover took ${took}s > 2 lease durations"
wait_for grep -q 'deployments listed' "$TMP/b.log" || fail "b's Deployment watch did not list"
wait_for grep -q 'rollouts listed' "$TMP/b.log" || fail "b's Rollout watch did not list"
MID_T0=$MID_T0 python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" phase2 || fail "phase2"
# Flushed: phase 2's last points are in b's file.
wait_for grep -q '^deploy,.*name=post,.*phase=completed' "$TMP/b.lp" || fail "b did not record post completed"
wait_for grep -q '^deploy,.*name=mid,.*phase=completed' "$TMP/b.lp" || fail "b did not record mid completed"
wait_for grep -q '^deploy,.*name=paybg,.*phase=completed' "$TMP/b.lp" || fail "b did not record paybg completed"

# A spec write never numbered, then a deploy b records (same watch: late's write was read before).
python3 "$SCEN" "$KUBE_URL" "$TMP/tls/ca.crt" phase3 || fail "phase3"
wait_for grep -q '^deploy,.*name=marker,.*phase=completed' "$TMP/b.lp" || fail "b did not record marker completed"
! grep -q '^deploy,.*name=late,' "$TMP/b.lp" || fail "late's started did not wait for its revision number"

# SIGTERM: b hands the Lease over.
kill -TERM "$PID_b"
wait "$PID_b" || fail "agent b exited with $?"
[ "$(holder)" = "" ] || fail "b did not release the Lease (holder '$(holder)')"

python3 "$SCEN" check "$TMP/a.lp" "$TMP/b.lp" || {
	grep -h '^deploy' "$TMP/a.lp" "$TMP/b.lp" | sed 's/ .*//' >&2
	fail "deploys recorded"
}
# The phase-2 deploys are b's alone, the phase-1 ones a's alone.
grep -q '^deploy,.*name=post,' "$TMP/b.lp" || fail "post not recorded by b"
! grep -q '^deploy,.*name=post,' "$TMP/a.lp" || fail "post recorded by the dead leader"
grep -q '^deploy,.*name=mid,.*phase=completed' "$TMP/b.lp" || fail "mid completion not recorded by b"
# Written at the stop, with what was known: the previous revision number, the new image.
grep -q '^deploy,.*name=late,.*phase=started.* revision=1i,image="shop/late:2.0"' "$TMP/b.lp" ||
	fail "late's waiting started point not written at shutdown: $(grep 'name=late' "$TMP/b.lp")"
# Timestamps are the API's: canary-demo started at its creationTimestamp (2019-10-25T06:07:18Z).
grep -q '^deploy,.*name=canary-demo,.*phase=started.* 1571983638000000000$' "$TMP/a.lp" ||
	fail "canary-demo started timestamp: $(grep 'name=canary-demo,.*phase=started' "$TMP/a.lp")"
grep -h "^deploy" "$TMP/a.lp" "$TMP/b.lp" | cut -c1-230
echo "ok: $(grep -hc '^deploy' "$TMP/a.lp") + $(grep -hc '^deploy' "$TMP/b.lp") deploy points"
