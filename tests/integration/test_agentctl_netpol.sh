#!/bin/bash
# install-stack's NetworkPolicy (issue 16) on the simulated EKS cluster
# 2x-t3.micro (eks_clusters.py) in the test API server, read back with real
# kubectl: with the VPC CNI's network policy agent off (the add-on's
# default, --enable-network-policy=false) it installs none and says why and
# how to turn it on; once aws-node's aws-eks-nodeagent runs with
# --enable-network-policy=true it installs NetworkPolicy heliograph-stack:
# InfluxDB (8086) from exactly the nodes' InternalIPs and the API server's
# endpoint addresses, Grafana (3000) from no one, or from --grafana-from, the
# agent's health port (8275) from no one (its node's kubelet always may); --network-policy-from is used as given;
# uninstall-stack deletes it.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
command -v kubectl >/dev/null || fail "kubectl not installed"

kube_start --controller-delay 0.1
KC="$TMP/kubeconfig"
kube_config "$KC"
python3 "$(dirname "$0")/eks_clusters.py" 2x-t3.micro >"$TMP/cluster.json" || fail "eks_clusters.py"
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/cluster.json" >/dev/null ||
	fail "cluster not loaded"
# The API server's own addresses, as a real one publishes them (on EKS its ENIs).
ctl objects '{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes","namespace":"default"},
	"subsets":[{"addresses":[{"ip":"192.168.77.10"},{"ip":"192.168.99.20"}],"ports":[{"name":"https","port":443,"protocol":"TCP"}]}]}'
run() { # run RC ARGS...: output in $TMP/out, $TMP/err
	local want=$1 rc=0
	shift
	"$AGENTCTL" "$@" --kubeconfig "$KC" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "agentctl $* exited $rc, expected $want: $(cat "$TMP/err") $(cat "$TMP/out")"
}
k() { timeout 60 kubectl --kubeconfig "$KC" "$@"; }
netpol=/apis/networking.k8s.io/v1/namespaces/monitoring/networkpolicies/heliograph-stack

# ---- enforcement off: none, with why and how ----
run 0 install-stack --no-wait --force
grep -q "^NetworkPolicy: none installed: the VPC CNI's network policy agent is off (aws-node's aws-eks-nodeagent runs without --enable-network-policy=true)" "$TMP/out" ||
	fail "no note: $(cat "$TMP/out")"
grep -q "enableNetworkPolicy" "$TMP/out" || fail "the note does not say how to turn it on"
! exists "$netpol" || fail "a NetworkPolicy where none is enforced"
grep -q "^networkpolicy" "$TMP/out" && fail "applied a NetworkPolicy: $(cat "$TMP/out")"

# ---- enforcement on (what the add-on's enableNetworkPolicy "true" changes) ----
python3 - "$TMP/cluster.json" >"$TMP/aws-node.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))
objs = objs.get("items", objs) if isinstance(objs, dict) else objs
ds = next(o for o in objs if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "aws-node")
c = next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "aws-eks-nodeagent")
c["args"] = ["--enable-network-policy=true" if a.startswith("--enable-network-policy=") else a for a in c["args"]]
json.dump(ds, sys.stdout)
PY
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/aws-node.json" >/dev/null || fail "aws-node"
run 0 install-stack --no-wait --force
grep -q "^NetworkPolicy: the VPC CNI enforces NetworkPolicies: InfluxDB only from the 2 nodes and 2 API server addresses; Grafana's port from no one" "$TMP/out" ||
	fail "no NetworkPolicy line: $(cat "$TMP/out")"
grep -q "^networkpolicy.networking.k8s.io/heliograph-stack *created" "$TMP/out" || fail "not created: $(cat "$TMP/out")"
# What kubectl reads back: one rule, 8086 from the nodes and the API server; no Grafana or agent rule.
want_from=$(k get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}/32{"\n"}{end}'
	printf '192.168.77.10/32\n192.168.99.20/32\n')
k -n monitoring get networkpolicy heliograph-stack -o json >"$TMP/np.json" || fail "kubectl get networkpolicy"
python3 - "$TMP/np.json" "$want_from" <<'PY' || fail "NetworkPolicy: $(cat "$TMP/np.json")"
import json, sys
np = json.load(open(sys.argv[1]))["spec"]
want = sorted(sys.argv[2].split())
assert len(want) == 4, want
assert np["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "heliograph-stack"}}, np
assert np["policyTypes"] == ["Ingress"], np
assert len(np["ingress"]) == 1, np["ingress"]
r = np["ingress"][0]
assert [(p["protocol"], p["port"]) for p in r["ports"]] == [("TCP", 8086)], r
assert sorted(f["ipBlock"]["cidr"] for f in r["from"]) == want, (r["from"], want)
PY
# The stack pod's labels are what the policy selects.
k -n monitoring get deployment heliograph-stack -o jsonpath='{.spec.template.metadata.labels.app\.kubernetes\.io/name}' |
	grep -qx heliograph-stack || fail "the policy selects no pod of the stack"
# A second run changes nothing.
run 0 install-stack --no-wait --force
grep -q "^networkpolicy.networking.k8s.io/heliograph-stack *unchanged" "$TMP/out" || fail "second run: $(cat "$TMP/out")"

# ---- Grafana from the user's network ----
run 0 install-stack --no-wait --force --grafana-from 203.0.113.0/24,198.51.100.7/32
grep -q "Grafana's port also from --grafana-from" "$TMP/out" || fail "grafana-from line: $(cat "$TMP/out")"
k -n monitoring get networkpolicy heliograph-stack -o json >"$TMP/np.json"
python3 - "$TMP/np.json" <<'PY' || fail "Grafana rule: $(cat "$TMP/np.json")"
import json, sys
ing = json.load(open(sys.argv[1]))["spec"]["ingress"]
g = [r for r in ing if [p["port"] for p in r["ports"]] == [3000]]
assert len(ing) == 2 and len(g) == 1, ing
assert sorted(f["ipBlock"]["cidr"] for f in g[0]["from"]) == ["198.51.100.7/32", "203.0.113.0/24"], g
PY
run 2 install-stack --grafana-from 10.0.0.1
grep -q -- "--grafana-from '10.0.0.1': expected comma-separated IPv4 or IPv6 CIDRs" "$TMP/err" || fail "bad CIDR: $(cat "$TMP/err")"

# ---- --network-policy-from as given ----
run 0 install-stack --no-wait --force --network-policy-from 10.0.0.0/16
grep -q "^NetworkPolicy: InfluxDB only from --network-policy-from$" "$TMP/out" || fail "as given: $(cat "$TMP/out")"
[ "$(k -n monitoring get networkpolicy heliograph-stack -o jsonpath='{.spec.ingress[0].from[*].ipBlock.cidr}')" = 10.0.0.0/16 ] ||
	fail "--network-policy-from not used as given"
# ---- uninstall-stack deletes it, though its own render has none ----
run 0 uninstall-stack
grep -q "^networkpolicy.networking.k8s.io/heliograph-stack *deleted" "$TMP/out" || fail "uninstall: $(cat "$TMP/out")"
! exists "$netpol" || fail "uninstall left the NetworkPolicy"
run 0 uninstall-stack
! grep -q "networkpolicy" "$TMP/out" || fail "uninstall names a NetworkPolicy that is not there: $(cat "$TMP/out")"
echo "ok"
