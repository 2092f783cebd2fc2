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

# kube_config FILE [token|cert|data]: a kubeconfig for the running server;
# data: the CA, client certificate and key inline (*-data, base64), no token.
kube_config() {
	local user ca="    certificate-authority: $TMP/tls/ca.crt"
	case ${2:-token} in
	cert)
		user="    client-certificate: $TMP/tls/client.crt
    client-key: $TMP/tls/client.key" ;;
	data)
		ca="    certificate-authority-data: $(base64 -w0 <"$TMP/tls/ca.crt")"
		user="    client-certificate-data: $(base64 -w0 <"$TMP/tls/client.crt")
    client-key-data: $(base64 -w0 <"$TMP/tls/client.key")" ;;
	*) user="    token: $KUBE_TOKEN" ;;
	esac
	cat >"$1" <<CFG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $KUBE_URL
$ca
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

# ctl NAME JSON: POST to the test server's control endpoint /_control/NAME.
ctl() { curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/$1" -d "$2" >/dev/null || fail "control $1 $2"; }
# ctl_get NAME: GET /_control/NAME, the body on stdout.
ctl_get() { curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/$1"; }

# api PATH: GET with the full-access token, the body on stdout.
api() { curl -s --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" "$KUBE_URL$1"; }
# exists PATH: whether GET answers 200.
exists() { [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" "$KUBE_URL$1")" = 200 ]; }

# daemonset_config INFLUX_URL NODE [OLD=NEW ...]: the agent config and
# environment of the DaemonSet pod that `agentctl render` ships, moved onto
# this machine by daemonset_pod.py (hostPaths under $TMP/node, the downward
# API and Secret values filled, /healthz on a free loopback port, the service
# account's CA the test server's, the influxdb output at INFLUX_URL, the pod
# on node NODE), plus the OLD=NEW substitutions given, and one addition: a
# file output writing every line to $TMP/gathered.lp each second, the record
# of what was gathered. Sets $TMP/render.yaml, $TMP/agent.yaml, POD_ENV, and SPOOL, the disk buffer's directory on the
# node, created as the kubelet does for the hostPath (DirectoryOrCreate;
# spool-owner's chown is moot: the test owns it). Needs kube_start.
daemonset_config() {
	local agentctl=${AGENTCTL:-$(dirname "$AGENT")/agentctl} influx=$1 node=$2
	shift 2
	[ -x "$agentctl" ] || fail "no agentctl at $agentctl"
	python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is needed"
	"$agentctl" render >"$TMP/render.yaml" || fail "agentctl render"
	python3 "$(dirname "${BASH_SOURCE[0]}")/daemonset_pod.py" "$TMP/render.yaml" "$TMP/node" "$TMP/agent.yaml" \
		"$TMP/agent.env" "$TMP/spool-dir" \
		'urls: ["http://influxdb:8086"]'="urls: [\"$influx\"]" \
		'health_listen: ":8275"'="health_listen: \"127.0.0.1:$(free_port)\"" \
		'/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'="$TMP/tls/ca.crt" \
		field:spec.nodeName="$node" field:status.hostIP=127.0.0.1 \
		field:metadata.name=heliograph-agent-x1 field:metadata.namespace=monitoring \
		secret:influxdb-agent/username=agent secret:influxdb-agent/password=agent-pw "$@" ||
		fail "the rendered DaemonSet config"
	cat >>"$TMP/agent.yaml" <<CONF
  - file:
      files: ["$TMP/gathered.lp"]
      flush_interval: 1s
CONF
	SPOOL=$(cat "$TMP/spool-dir")
	mkdir -p "$SPOOL"
	mapfile -t POD_ENV <"$TMP/agent.env"
}

# daemonset_agent LOG: the agent of daemonset_config with the container's
# environment only (KUBECONFIG=$TMP/kubeconfig standing in for the in-cluster
# config), its output appended to LOG; sets AGENT_PID.
daemonset_agent() {
	env -i PATH="$PATH" KUBECONFIG="$TMP/kubeconfig" "${POD_ENV[@]}" \
		"$AGENT" --config "$TMP/agent.yaml" >>"$1" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
}

# kube_influx_run CONF HTTP_PORT: with --scheduler, the stack pod's InfluxDB
# containers run for real (kube_sched_run.py): influxdb-setup runs its
# script from the rendered ConfigMap with the real influx CLI against an
# influxd of config CONF (Debian's; the image's env is kept, the set-up's
# loopback port moved to a free one), and influxdb is that influxd on
# HTTP_PORT, ready once /ping answers. Their logs go under $TMP/kube-run;
# SETUP_PORT is the set-up's port.
kube_influx_run() {
	mkdir -p "$TMP/kube-run"
	SETUP_PORT=$(free_port)
	ctl behaviour "{\"rules\": [
	  {\"container\": \"influxdb-setup\", \"run\": {\"dir\": \"$TMP/kube-run\",
	    \"env\": {\"INFLUXDB_CONFIG_PATH\": \"$1\", \"INFLUXDB_HTTP_BIND_ADDRESS\": \"127.0.0.1:$SETUP_PORT\"}}},
	  {\"container\": \"influxdb\", \"run\": {\"dir\": \"$TMP/kube-run\", \"argv\": [\"influxd\"],
	    \"env\": {\"INFLUXDB_CONFIG_PATH\": \"$1\"}, \"ready\": \"http://127.0.0.1:$2/ping\"}}]}"
}
