#!/usr/bin/env bash
# The test API server behaves like kube-apiserver for real kubectl:
# server-side apply, get, rollout status, a no-op re-apply, delete, errors.
source "${TESTLIB:-$(dirname "$0")/lib.sh}"
source "$(dirname "${BASH_SOURCE[0]}")/kube_lib.sh"
: "${FIXTURES:=$(cd "$(dirname "$0")/../fixtures" && pwd)}"
command -v kubectl >/dev/null || fail "kubectl not installed"

kube_start --controller-delay 2
kube_config "$TMP/kubeconfig"
export KUBECONFIG="$TMP/kubeconfig"
M="$FIXTURES/k8s-api/manifests"
k() { timeout 60 kubectl "$@"; }

# Applying into a namespace that does not exist fails as on a real cluster.
out=$(k apply --server-side -f "$M/app.yaml" 2>&1) && fail "apply without namespace succeeded: $out"
grep -q 'namespaces "kubetest" not found' <<<"$out" || fail "unexpected error: $out"

k apply --server-side -f "$M/namespace.yaml" >"$TMP/apply0.out" 2>&1 || fail "apply namespace: $(cat "$TMP/apply0.out")"
k apply --server-side -f "$M/app.yaml" >"$TMP/apply1.out" 2>&1 || fail "apply: $(cat "$TMP/apply1.out")"
for o in configmap/web-config deployment.apps/web service/web; do
	grep -q "^$o serverside-applied" "$TMP/apply1.out" || fail "apply output lacks $o: $(cat "$TMP/apply1.out")"
done

k -n kubetest get deployment web -o json --show-managed-fields >"$TMP/deploy.json" || fail "get -o json"
python3 - "$TMP/deploy.json" <<'PY' || fail "deployment object: $(cat "$TMP/deploy.json")"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["metadata"]
assert d["kind"] == "Deployment" and d["apiVersion"] == "apps/v1", d
assert m["name"] == "web" and m["namespace"] == "kubetest" and m["generation"] == 1
assert m["uid"] and m["creationTimestamp"] and int(m["resourceVersion"]) > 0
mf = [e for e in m["managedFields"] if e["manager"] == "kubectl"]
assert mf and mf[0]["operation"] == "Apply" and "f:replicas" in mf[0]["fieldsV1"]["f:spec"], m["managedFields"]
assert d["spec"]["replicas"] == 2 and d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
PY

# The controller needs 2 s: rollout status must wait for it, then succeed.
start=$(date +%s.%N)
k -n kubetest rollout status deployment/web --timeout=20s >"$TMP/rollout.out" 2>&1 || fail "rollout status: $(cat "$TMP/rollout.out")"
grep -q 'deployment "web" successfully rolled out' "$TMP/rollout.out" || fail "rollout output: $(cat "$TMP/rollout.out")"
python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 0.5 else 1)" "$start" "$(date +%s.%N)" \
	|| echo "note: rollout status returned at once (controller already done)"

k get -n kubetest configmap web-config -o jsonpath='{.data.greeting}' | grep -qx hello || fail "configmap data"
k get -n kubetest service web -o jsonpath='{.spec.clusterIP}' | grep -q '^10\.96\.' || fail "service clusterIP"
k get -n kubetest deploy -l app=web -o name | grep -qx deployment.apps/web || fail "label selector list"
[ -z "$(k get -n kubetest deploy -l app=other -o name)" ] || fail "label selector matched the wrong app"

# A second apply of the same manifests changes nothing.
before=$(k get -n kubetest deploy,svc,cm -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.resourceVersion}/{.metadata.generation} {end}')
k apply --server-side -f "$M/app.yaml" >"$TMP/apply2.out" 2>&1 || fail "second apply: $(cat "$TMP/apply2.out")"
after=$(k get -n kubetest deploy,svc,cm -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.resourceVersion}/{.metadata.generation} {end}')
[ "$before" = "$after" ] || fail "second apply changed objects: $before -> $after"

# A change bumps generation, and rollout status waits for the controller again.
sed 's/replicas: 2/replicas: 3/' "$M/app.yaml" >"$TMP/app3.yaml"
k apply --server-side -f "$TMP/app3.yaml" >/dev/null 2>&1 || fail "apply replicas 3"
[ "$(k get -n kubetest deploy web -o jsonpath='{.metadata.generation}')" = 2 ] || fail "generation not bumped"
k -n kubetest rollout status deployment/web --timeout=20s >/dev/null 2>&1 || fail "second rollout status"
[ "$(k get -n kubetest deploy web -o jsonpath='{.status.availableReplicas}')" = 3 ] || fail "availableReplicas"

# Another field manager changing an owned field conflicts (409) unless forced.
sed 's/replicas: 2/replicas: 5/' "$M/app.yaml" >"$TMP/app5.yaml"
out=$(k apply --server-side --field-manager=other -f "$TMP/app5.yaml" 2>&1) && fail "conflicting apply succeeded"
grep -q 'conflict with "kubectl"' <<<"$out" || fail "conflict message: $out"
k apply --server-side --field-manager=other --force-conflicts -f "$TMP/app5.yaml" >/dev/null 2>&1 || fail "forced apply"
[ "$(k get -n kubetest deploy web -o jsonpath='{.spec.replicas}')" = 5 ] || fail "forced apply value"

# 422 with the field named.
cat >"$TMP/bad.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: kubetest}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: busybox}]}
Y
out=$(k apply --server-side -f "$TMP/bad.yaml" 2>&1) && fail "invalid deployment accepted"
grep -q 'is invalid: spec.template.metadata.labels' <<<"$out" || fail "422 message: $out"

# Client certificate auth works too; a wrong token is refused.
kube_config "$TMP/kubeconfig-cert" cert
KUBECONFIG="$TMP/kubeconfig-cert" k get -n kubetest deploy web -o name >/dev/null 2>&1 || fail "client cert auth"
out=$(k --token=wrong get ns 2>&1) && fail "wrong token accepted"
grep -qi unauthorized <<<"$out" || fail "401 message: $out"

k delete -f "$M/app.yaml" --timeout=20s >"$TMP/delete.out" 2>&1 || fail "delete: $(cat "$TMP/delete.out")"
grep -q 'deployment.apps "web" deleted' "$TMP/delete.out" || fail "delete output: $(cat "$TMP/delete.out")"
out=$(k -n kubetest get deploy web 2>&1) && fail "deleted deployment still there"
grep -q 'deployments.apps "web" not found' <<<"$out" || fail "404 message: $out"
echo "PASS test_kube_api_server"
