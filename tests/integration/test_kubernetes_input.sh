#!/usr/bin/env bash
# kubernetes input against a stand-in kubelet (kubelet_server.py) over
# HTTPS with a certificate made here: values equal the captured JSON, the
# bearer token is required and re-read when its file changes, 401/403 name
# the RBAC rule (never the token), 500/truncated/slow answers are counted
# gather errors, and the other inputs keep emitting. The shipped url form
# "https://${NODE_IP}:PORT" reaches an IPv4 NODE_IP as it is and an IPv6 one
# in brackets (a kubelet on ::1 when the machine has IPv6 loopback).
source "$TESTLIB"

command -v openssl >/dev/null || fail "openssl not installed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,IP:::1 2>"$TMP/openssl.log" || fail "openssl req"

TOKEN=tok-$RANDOM-$RANDOM-secret
echo "$TOKEN" >"$TMP/kubelet-token"   # what the kubelet accepts
echo "$TOKEN" >"$TMP/agent-token"     # what the agent sends
python3 "$(dirname "$TESTLIB")/../servers/kubelet_server.py" --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
	--token-file "$TMP/kubelet-token" --port-file "$TMP/port" \
	--summary "$FIXTURES/kubelet-summary/honeycomb-baremetal-docker-calico-summary.json" \
	--pods "$FIXTURES/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json" >"$TMP/kubelet.log" 2>&1 &
PIDS+=($!)
wait_for test -s "$TMP/port" || fail "test kubelet did not start"
PORT=$(cat "$TMP/port")
KUBELET="https://127.0.0.1:$PORT"
control() { curl -sfk "$KUBELET/_control?path=$1&mode=$2&delay=${3:-0}" >/dev/null || fail "control $1 $2"; }
stat_of() { curl -sfk "$KUBELET/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# config NAME [extra kubernetes options] -> $TMP/NAME.yaml writing $TMP/NAME.lp
config() {
	cat >"$TMP/$1.yaml" <<CONF
agent: {hostname: node-a, interval: ${INTERVAL:-10s}, flush_interval: 1s}
inputs:
  - kubernetes: {url: "$KUBELET", bearer_token: "$TMP/agent-token", tls_ca: "$TMP/cert.pem", response_timeout: 2s, label_include: [app]${2:+, $2}}
  - mem: {}
${EXTRA_INPUT:-}
outputs: [{file: {files: ["$TMP/$1.lp"]}}]
CONF
}
once() { config "$1" "${2:-}"; "$AGENT" --config "$TMP/$1.yaml" --once >"$TMP/$1.out" 2>"$TMP/$1.log" || true; }
line() { grep "^$1 " "$TMP/$2.lp" | head -1; }
field() { sed -n "s/.* \(.*,\)\{0,1\}$1=\([^, ]*\).*/\2/p" <<<"$2"; }

# ---- values as in the JSON, over TLS with the generated CA ----
once ok
n=$(grep -c '^kubernetes_' "$TMP/ok.lp" || true)
[ "$n" = 45 ] || fail "expected 45 kubernetes lines (1 node, 3 system, 12 containers, 18 volumes, 11 pods), got $n"
grep -q '^mem,' "$TMP/ok.lp" || fail "mem missing"
L=$(line "kubernetes_node,host=node-a,node_name=duckboat-01" ok)
[ "$(field memory_working_set_bytes "$L")" = 2127441920i ] || fail "node memory_working_set_bytes: $L"
[ "$(field fs_used_bytes "$L")" = 30272806912i ] || fail "node fs_used_bytes: $L"
L=$(line "kubernetes_pod_container,app=metallb,container_name=speaker,host=node-a,namespace=metallb-system,node_name=duckboat-01,pod_name=speaker-cpxhz" ok)
[ -n "$L" ] || fail "speaker container line with app label missing"
[ "$(field resource_requests_millicpu_units "$L")" = 100i ] || fail "speaker cpu request: $L"
[ "$(field resource_limits_memory_bytes "$L")" = 104857600i ] || fail "speaker memory limit: $L"
want=$(python3 -c "
import json; d=json.load(open('$FIXTURES/kubelet-summary/honeycomb-baremetal-docker-calico-summary.json'))
p=[p for p in d['pods'] if p['podRef']['name']=='speaker-cpxhz'][0]
print(p['containers'][0]['cpu']['usageCoreNanoSeconds'], (p.get('network') or {}).get('rxBytes', 0))")
[ "$(field cpu_usage_core_nanoseconds "$L")" = "${want% *}i" ] || fail "speaker cpu_usage_core_nanoseconds $(field cpu_usage_core_nanoseconds "$L") != ${want% *}"
L=$(line "kubernetes_pod_network,app=metallb,host=node-a,namespace=metallb-system,node_name=duckboat-01,pod_name=speaker-cpxhz" ok)
[ "$(field rx_bytes "$L")" = "${want#* }i" ] || fail "speaker rx_bytes: $L"
grep -q 'E!' "$TMP/ok.log" && fail "errors in a clean run: $(grep 'E!' "$TMP/ok.log")"

# ---- NODE_IP in the url (41-agent-config.yaml's form): IPv4 as it is, IPv6 in brackets ----
NODE_URL='https://${NODE_IP}:'
KUBELET="$NODE_URL$PORT" config v4
NODE_IP=127.0.0.1 "$AGENT" --config "$TMP/v4.yaml" --once >"$TMP/v4.out" 2>"$TMP/v4.log" || true
[ "$(grep -c '^kubernetes_' "$TMP/v4.lp")" = 45 ] || fail "NODE_IP=127.0.0.1: $(cat "$TMP/v4.log")"
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	python3 "$(dirname "$TESTLIB")/../servers/kubelet_server.py" --host ::1 --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
		--token-file "$TMP/kubelet-token" --port-file "$TMP/port6" \
		--summary "$FIXTURES/kubelet-summary/honeycomb-baremetal-docker-calico-summary.json" \
		--pods "$FIXTURES/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json" >"$TMP/kubelet6.log" 2>&1 &
	PIDS+=($!)
	wait_for test -s "$TMP/port6" || fail "test kubelet on ::1 did not start"
	KUBELET="$NODE_URL$(cat "$TMP/port6")" config v6
	NODE_IP=::1 "$AGENT" --config "$TMP/v6.yaml" --once >"$TMP/v6.out" 2>"$TMP/v6.log" || true
	[ "$(grep -c '^kubernetes_' "$TMP/v6.lp")" = 45 ] || fail "NODE_IP=::1: $(cat "$TMP/v6.log")"
	grep -q 'E!' "$TMP/v6.log" && fail "errors with NODE_IP=::1: $(grep 'E!' "$TMP/v6.log")"
else
	echo "no IPv6 loopback here: the IPv6 NODE_IP case is left to test_config_values"
fi

# ---- wrong token: 401 with the hint, no token in the log, mem still there ----
echo wrong-token >"$TMP/agent-token"
once badtoken
grep -q '401 Unauthorized for /stats/summary.*nodes/stats' "$TMP/badtoken.log" || fail "401 hint missing: $(cat "$TMP/badtoken.log")"
grep -q '^mem,' "$TMP/badtoken.lp" || fail "mem not emitted when the kubelet refused"
grep -q '^kubernetes_' "$TMP/badtoken.lp" && fail "metrics despite 401"
grep -q -e wrong-token -e "$TOKEN" "$TMP/badtoken.log" "$TMP/badtoken.out" && fail "token in the log"
echo "$TOKEN" >"$TMP/agent-token"

# ---- without the CA the certificate is refused ----
config noca
sed -i 's|, tls_ca: "[^"]*"||' "$TMP/noca.yaml"
"$AGENT" --config "$TMP/noca.yaml" --once >/dev/null 2>"$TMP/noca.log" || true
grep -qi 'certificate' "$TMP/noca.log" || fail "no certificate error without tls_ca: $(cat "$TMP/noca.log")"

# ---- 403 on the summary names nodes/stats; on /pods names nodes/pods and the summary still goes out ----
control /stats/summary 403
once forbidden
grep -q 'grant get on nodes/stats' "$TMP/forbidden.log" || fail "403 hint missing: $(cat "$TMP/forbidden.log")"
control /stats/summary ok
control /pods 403
once podsforbidden
grep -q '403 Forbidden for /pods: grant get on nodes/pods' "$TMP/podsforbidden.log" || fail "/pods 403 hint: $(cat "$TMP/podsforbidden.log")"
[ "$(grep -c '^kubernetes_pod_container' "$TMP/podsforbidden.lp")" = 12 ] || fail "summary lost when /pods is forbidden"
grep -q 'resource_requests' "$TMP/podsforbidden.lp" && fail "requests without pod metadata"
control /pods ok

# ---- pod_metadata_source: none never asks for /pods ----
before=$(stat_of /pods)
once nopods "pod_metadata_source: none"
[ "$(stat_of /pods)" = "$before" ] || fail "/pods requested with pod_metadata_source: none"
[ "$(grep -c '^kubernetes_pod_container' "$TMP/nopods.lp")" = 12 ] || fail "nopods: containers"
grep -q 'app=' "$TMP/nopods.lp" && fail "labels without pod metadata"

# ---- 500, truncated transfer, cut JSON, slow: counted errors, no crash ----
for mode in 500 truncated cutjson slow; do
	control /stats/summary $mode 4
	once "m$mode"
	grep -q 'E! \[inputs.kubernetes\]' "$TMP/m$mode.log" || fail "$mode: no gather error logged: $(cat "$TMP/m$mode.log")"
	grep -q '^mem,' "$TMP/m$mode.lp" || fail "$mode: mem missing"
done
grep -q 'HTTP 500 for /stats/summary' "$TMP/m500.log" || fail "500 message: $(cat "$TMP/m500.log")"
grep -q 'summary: ' "$TMP/mcutjson.log" || fail "cut JSON message: $(cat "$TMP/mcutjson.log")"
grep -qi 'timeout\|timed out' "$TMP/mslow.log" || fail "slow message: $(cat "$TMP/mslow.log")"
grep -q '^kubernetes_pod_container' "$TMP/m500.lp" && fail "500 body emitted metrics"
control /stats/summary ok

# ---- a running agent: token rotation is picked up, /pods is not fetched every gather,
#      internal_gather counts the errors ----
INTERVAL=1s EXTRA_INPUT='  - internal: {}' config rot
pods_before=$(stat_of /pods)
"$AGENT" --config "$TMP/rot.yaml" >"$TMP/rot.out" 2>"$TMP/rot.log" &
AGENT_PID=$!
PIDS+=($AGENT_PID)
wait_for grep -q '^kubernetes_node' "$TMP/rot.lp" || fail "running agent: no metrics"
NEW=tok2-$RANDOM-secret
echo "$NEW" >"$TMP/kubelet-token"                        # the kubelet moves on first
sleep 2.5
unauth=$(stat_of unauthorized)
[ "$unauth" -ge 1 ] || fail "old token still accepted?"
echo "$NEW" >"$TMP/agent-token.new" && mv "$TMP/agent-token.new" "$TMP/agent-token"   # projected-token style swap
n0=$(grep -c '^kubernetes_node' "$TMP/rot.lp")
sleep 3.5
n1=$(grep -c '^kubernetes_node' "$TMP/rot.lp")
[ "$n1" -ge $((n0 + 2)) ] || fail "no metrics after token rotation ($n0 -> $n1): $(tail -3 "$TMP/rot.log")"
[ "$(stat_of unauthorized)" -le $((unauth + 1)) ] || fail "rotated token not picked up"
pods_fetches=$(( $(stat_of /pods) - pods_before ))
[ "$pods_fetches" -le 2 ] || fail "/pods fetched $pods_fetches times in ~7 gathers"
grep -q 'internal_gather,.*input=kubernetes.* .*errors=[1-9]' "$TMP/rot.lp" || fail "internal_gather errors for kubernetes not counted"
grep -q -e "$NEW" -e "$TOKEN" "$TMP/rot.log" && fail "token in the log"
kill -TERM $AGENT_PID
wait $AGENT_PID || fail "agent exit status after SIGTERM"
echo "ok"
