# Helpers for tests against tests/integration/kube_api_server.py: start it
# (TLS material under $TMP/tls) and write a kubeconfig for it.
# Needs lib.sh sourced first (TMP, PIDS, fail, wait_for).
KUBE_SERVER_PY="$(dirname "${BASH_SOURCE[0]}")/kube_api_server.py"

# kube_start [extra server args...]: sets KUBE_PORT, KUBE_URL, KUBE_TOKEN.
kube_start() {
	KUBE_TOKEN="${KUBE_TOKEN:-test-token-$$}"
	python3 "$KUBE_SERVER_PY" --tls-dir "$TMP/tls" --discovery "$FIXTURES/k8s-api/discovery" \
		--token "$KUBE_TOKEN" "$@" >"$TMP/kube-port" 2>"$TMP/kube-server.log" &
	PIDS+=($!)
	WAIT_SECS=30 wait_for grep -q PORT "$TMP/kube-port" || fail "test API server did not start"
	KUBE_PORT=$(awk '/PORT/ {print $2}' "$TMP/kube-port")
	KUBE_URL="https://127.0.0.1:$KUBE_PORT"
}

# kube_argo_discovery: the discovery fixtures with the Argo Rollouts CRD
# installed, under $TMP/k8s-api/discovery; points FIXTURES at $TMP so that
# kube_start serves them (set FIXTURES back after it).
kube_argo_discovery() {
	mkdir -p "$TMP/k8s-api"
	cp -r "$FIXTURES/k8s-api/discovery" "$TMP/k8s-api/discovery"
	python3 - "$TMP/k8s-api/discovery" <<'PY'
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/apis.json"))
gv = {"groupVersion": "argoproj.io/v1alpha1", "version": "v1alpha1"}
a["groups"].append({"name": "argoproj.io", "versions": [gv], "preferredVersion": gv})
json.dump(a, open(d + "/apis.json", "w"))
json.dump({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "argoproj.io/v1alpha1", "resources": [
    {"name": "rollouts", "singularName": "rollout", "namespaced": True, "kind": "Rollout",
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]},
    open(d + "/apis__argoproj.io__v1alpha1.json", "w"))
PY
	FIXTURES=$TMP
}

# kube_config FILE [token|cert]: a kubeconfig for the running server.
kube_config() {
	local user
	if [ "${2:-token}" = cert ]; then
		user="    client-certificate: $TMP/tls/client.crt
    client-key: $TMP/tls/client.key"
	else
		user="    token: $KUBE_TOKEN"
	fi
	cat >"$1" <<CFG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $KUBE_URL
    certificate-authority: $TMP/tls/ca.crt
users:
- name: test-user
  user:
$user
contexts:
- name: test
  context:
    cluster: test
    user: test-user
current-context: test
CFG
}

# api PATH: GET with the full-access token, the body on stdout.
api() { curl -s --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" "$KUBE_URL$1"; }
# exists PATH: whether GET answers 200.
exists() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" "$KUBE_URL$1")" = 200 ]; }
