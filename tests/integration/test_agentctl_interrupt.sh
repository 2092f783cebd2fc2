#!/bin/bash
# Ctrl-C during agentctl install-stack leaves nothing a re-run cannot finish
# (issue 5): against the test API server (its simulated kubelet running the
# stack pod's InfluxDB set-up and a real influxd), SIGINT while a PATCH is in flight (the server holds the
# Deployment's apply until the signal is sent: kube_faults "hold"), then
# SIGINT while waiting for the rollout (the controller is paused, so the
# rollout waits until then); each run exits 1 saying it was interrupted and
# that a re-run finishes; the next run finishes, every object is there once,
# each was created by exactly one run, the Secrets made by the first
# (interrupted) run are kept, and a last run changes nothing. The controller
# writes the Deployment's status between the re-run's read and its apply of
# it (as a real one does while a rollout goes on): that is no change of the
# re-run's (it once said "configured" when the write fell there by chance).
# Every step waits for an event, none for a time.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
command -v influxd >/dev/null || fail "influxd not installed"

# The stack pod's influxdb-setup and influxdb run for real on this influxd
# config (kube_lib.sh kube_influx_run).
INFLUX_PORT=$(free_port)
mkdir -p "$TMP/influxdb"
"$(dirname "$TESTLIB")/../../scripts/influxd-conf.sh" "$TMP/influxdb" "$INFLUX_PORT" "$(free_port)" auth >"$TMP/influxdb.conf"
INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"

# The simulated cluster is paused until run 3 (the rollout waits for it).
kube_start --scheduler --service-proxy "monitoring/influxdb:8086=$INFLUX_URL"
KC="$TMP/kubeconfig"
kube_config "$KC"
kube_influx_run "$TMP/influxdb.conf" "$INFLUX_PORT"
NS=/api/v1/namespaces/monitoring
DEPLOY=/apis/apps/v1/namespaces/monitoring/deployments/heliograph-stack
DS=/apis/apps/v1/namespaces/monitoring/daemonsets/heliograph-agent

ctl objects '[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"kubernetes.io/os":"linux","kubernetes.io/hostname":"n1"}},"status":{"allocatable":{"pods":"17","memory":"3800Mi"},"conditions":[{"type":"Ready","status":"True"}]}},
	{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"gp2","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"ebs.csi.aws.com"},
	{"apiVersion":"storage.k8s.io/v1","kind":"CSIDriver","metadata":{"name":"ebs.csi.aws.com"},"spec":{}}]'

# start_install N: agentctl install-stack in the background, output in $TMP/outN/errN.
start_install() {
	"$AGENTCTL" install-stack --kubeconfig "$KC" --wait --timeout 60s >"$TMP/out$1" 2>"$TMP/err$1" &
	CTL_PID=$!
}
# finish_install N: its exit code in RC.
finish_install() {
	RC=0
	wait "$CTL_PID" || RC=$?
}
requested() { # requested METHOD PATH N: the server has seen that request N times
	ctl_get requests | python3 -c 'import json,sys; sys.exit(0 if sum(r["method"]==sys.argv[1] and r["path"]==sys.argv[2] for r in json.load(sys.stdin)) >= int(sys.argv[3]) else 1)' "$1" "$2" "$3"
}
OBJ_RE='^(namespace|secret|persistentvolumeclaim|configmap|deployment|service|serviceaccount|clusterrole|clusterrolebinding|role|rolebinding|daemonset|influxdb)[ ./]'

ctl controller '{"paused":true}'

# ---- 1: Ctrl-C while the Deployment's apply is in flight ----
# The signal is queued before the server answers, so agentctl sees it
# before it sees the answer.
ctl fail "{\"method\":\"PATCH\",\"path\":\"$DEPLOY\",\"hold\":\"apply1\",\"times\":1}"
start_install 1
WAIT_SECS=20 wait_for requested PATCH "$DEPLOY" 1 || fail "run 1 never applied the Deployment: $(cat "$TMP/err1")"
kill -INT "$CTL_PID"
t0=$(date +%s%N)
ctl release '{"hold":"apply1"}'
finish_install 1
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$RC" -eq 1 ] || fail "run 1 interrupted while applying exited $RC, expected 1: $(cat "$TMP/err1")"
grep -q "agentctl install-stack: interrupted" "$TMP/err1" || fail "run 1: no 'interrupted': $(cat "$TMP/err1")"
grep -q "Every step done so far is complete; run agentctl install-stack again to finish." "$TMP/err1" ||
	fail "run 1 does not say how to finish: $(cat "$TMP/err1")"
# The request in flight was finished (not cut half-way), nothing after it was sent.
grep -q "^deployment.apps/heliograph-stack  *created" "$TMP/out1" || fail "run 1 did not finish its in-flight apply: $(cat "$TMP/out1")"
exists "$DEPLOY" || fail "run 1: Deployment missing"
! exists "$DS" || fail "run 1 went on applying after Ctrl-C"
! exists "$NS/services/grafana" || fail "run 1 went on applying after Ctrl-C (Service)"
! grep -q "^rollout" "$TMP/out1" || fail "run 1 waited after Ctrl-C"
echo "run 1: interrupted while applying; stopped ${ms} ms after SIGINT and the in-flight apply's answer"
for s in influxdb-admin influxdb-agent influxdb-grafana grafana-admin; do
	api "$NS/secrets/$s" | json_get 'd["data"]' >"$TMP/secret-$s" || fail "run 1: Secret $s missing"
done

# ---- 2: Ctrl-C while waiting for the rollout ----
start_install 2
WAIT_SECS=20 wait_for grep -q "^rollout:" "$TMP/out2" || fail "run 2 never waited: $(cat "$TMP/out2" "$TMP/err2")"
kill -INT "$CTL_PID"
finish_install 2
[ "$RC" -eq 1 ] || fail "run 2 interrupted while waiting exited $RC, expected 1: $(cat "$TMP/err2")"
grep -q "interrupted while waiting for the rollout" "$TMP/err2" || fail "run 2: $(cat "$TMP/err2")"
grep -q "Re-run install-stack to wait again" "$TMP/err2" || fail "run 2 does not say how to finish: $(cat "$TMP/err2")"
grep -q "run agentctl install-stack again to finish" "$TMP/err2" || fail "run 2 does not say how to finish"
! grep -q "^influxdb " "$TMP/out2" || fail "run 2 converged InfluxDB after Ctrl-C"
exists "$DS" || fail "run 2: DaemonSet missing"

# ---- 3: a plain re-run finishes ----
# Its apply of the Deployment is held until the controller, resumed, has
# written the Deployment's status: after the re-run read the Deployment,
# before its apply (runs 1 and 2 sent the first two PATCHes).
ctl fail "{\"method\":\"PATCH\",\"path\":\"$DEPLOY\",\"hold\":\"apply3\",\"times\":1}"
start_install 3
WAIT_SECS=30 wait_for requested PATCH "$DEPLOY" 3 || fail "run 3 never applied the Deployment: $(cat "$TMP/err3")"
ctl controller '{"paused":false}'
observed() { api "$DEPLOY" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if (d.get("status") or {}).get("observedGeneration") == d["metadata"]["generation"] else 1)'; }
wait_for observed || fail "the controller did not write the Deployment's status"
ctl release '{"hold":"apply3"}'
finish_install 3
[ "$RC" -eq 0 ] || fail "re-run exited $RC: $(cat "$TMP/err3") $(tail -5 "$TMP/out3")"
grep -q "^rollout  *done" "$TMP/out3" || fail "re-run did not wait"
# Every object and InfluxDB item was created by exactly one of the runs:
# none made twice, none lost.
cat "$TMP/out1" "$TMP/out2" "$TMP/out3" | grep -E "$OBJ_RE" | grep ' created' |
	sed -E 's/ +created.*//' | sort >"$TMP/created"
[ "$(wc -l <"$TMP/created")" -eq 25 ] || fail "objects created over the three runs: $(cat "$TMP/created")"
[ -z "$(uniq -d "$TMP/created")" ] || fail "created twice: $(uniq -d "$TMP/created")"
# Nothing applied before was changed by a later run (the retention policy
# of the new database is set by its creating run).
! grep -E "$OBJ_RE" "$TMP/out2" "$TMP/out3" | grep -v "retention policy" | grep -q ' configured' ||
	fail "a re-run changed objects: $(grep -h ' configured' "$TMP/out2" "$TMP/out3")"
for s in influxdb-admin influxdb-agent influxdb-grafana grafana-admin; do
	api "$NS/secrets/$s" | json_get 'd["data"]' | cmp -s - "$TMP/secret-$s" || fail "Secret $s changed after the interrupted run"
done
for p in "$NS" "$NS/configmaps/grafana-dashboards" "$NS/services/influxdb" "$NS/services/grafana" \
	"$NS/persistentvolumeclaims/influxdb-data" "$NS/persistentvolumeclaims/grafana-data" "$DEPLOY" "$DS" \
	/apis/rbac.authorization.k8s.io/v1/clusterroles/heliograph-agent "$NS/configmaps/heliograph-agent"; do
	exists "$p" || fail "$p missing after the re-run"
done
ADMIN_PW=$(api "$NS/secrets/influxdb-admin" | json_get 'd["data"]["password"]' | base64 -d)
curl -s -G "$INFLUX_URL/query" --data-urlencode u=admin --data-urlencode "p=$ADMIN_PW" --data-urlencode 'q=SHOW USERS' |
	grep -q '\["admin",true\],\["heliograph",false\],\["grafana",false\]' || fail "InfluxDB users after the re-run"

# ---- 4: and then nothing is left to do ----
api "/apis/apps/v1/namespaces/monitoring/deployments" | json_get '[i["metadata"]["resourceVersion"] for i in d["items"]]' >"$TMP/rv-before"
start_install 4
finish_install 4
[ "$RC" -eq 0 ] || fail "last run exited $RC: $(cat "$TMP/err4")"
grep -q "Nothing changed" "$TMP/out4" || fail "last run changed something: $(cat "$TMP/out4")"
[ "$(grep -E "$OBJ_RE" "$TMP/out4" | grep -vc ' unchanged')" -eq 0 ] || fail "last run: $(cat "$TMP/out4")"
api "/apis/apps/v1/namespaces/monitoring/deployments" | json_get '[i["metadata"]["resourceVersion"] for i in d["items"]]' |
	cmp -s - "$TMP/rv-before" || fail "last run wrote the Deployment"
echo "ok"
