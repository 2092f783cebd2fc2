#!/usr/bin/env bash
# The simulated EKS clusters (eks_clusters.py) loaded into the test API server read back through
# real kubectl as the issue's arithmetic says: node labels, allocatable = capacity - kube-reserved
# (255Mi + 11Mi x max pods) - 100Mi eviction, max pods = ENIs x (IPv4 per ENI - 1) + 2, and per node
# the pod slots and pod-network IPs in use (hostNetwork pods carry the node's IP and use none).
# The expected counts are written out here, not recomputed by the generator.
source "${TESTLIB:-$(dirname "$0")/lib.sh}"
source "$(dirname "${BASH_SOURCE[0]}")/kube_lib.sh"
: "${FIXTURES:=$(cd "$(dirname "$0")/../fixtures" && pwd)}"
command -v kubectl >/dev/null || fail "kubectl not installed"
EKS="$(dirname "${BASH_SOURCE[0]}")/../servers/eks_clusters.py"
k() { timeout 60 kubectl "$@"; }

# load SCENARIO: a fresh server holding only that cluster (the scenarios share node names).
SERVER_PID=
load() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -f "$TMP/kube-port"
	kube_start
	SERVER_PID=${PIDS[-1]}
	kube_config "$TMP/kubeconfig"
	export KUBECONFIG="$TMP/kubeconfig"
	python3 "$EKS" "$1" >"$TMP/$1.json" || fail "$1: generator failed"
	curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/$1.json" >/dev/null ||
		fail "$1: loading the objects failed: $(tail -5 "$TMP/kube-server.log")"
}

# usage SCENARIO: "TYPE ZONE ARCH PODS/MAX IPS/MAXIPS" per node, sorted, from kubectl output only.
# The test server returns no server-side Tables, so kubectl's columns are custom-columns here.
usage() {
	k get nodes --no-headers -o custom-columns='N:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,IP:.status.addresses[?(@.type=="InternalIP")].address,T:.metadata.labels.node\.kubernetes\.io/instance-type,Z:.metadata.labels.topology\.kubernetes\.io/zone,A:.metadata.labels.kubernetes\.io/arch,OS:.metadata.labels.kubernetes\.io/os,P:.status.allocatable.pods' \
		>"$TMP/$1.nodes" || fail "$1: get nodes"
	k get pods -A --no-headers -o custom-columns='NS:.metadata.namespace,N:.metadata.name,PHASE:.status.phase,IP:.status.podIP,NODE:.spec.nodeName' \
		>"$TMP/$1.pods" || fail "$1: get pods -A"
	python3 - "$TMP/$1.nodes" "$TMP/$1.pods" <<'PY'
import sys
nodes = {}
for line in open(sys.argv[1]):
    name, ready, ip, itype, zone, arch, os_, maxpods = line.split()
    assert ready == "True" and os_ == "linux", line
    nodes[name] = {"ip": ip, "desc": "%s %s %s" % (itype, zone, arch), "pods": 0, "ips": 0, "max": maxpods}
ipcap = {"4": 2, "11": 9}   # ENIs x (IPv4 per ENI - 1) for the micro and small types
for line in open(sys.argv[2]):
    ns, name, phase, ip, node = line.split()
    if node not in nodes:
        continue
    n = nodes[node]
    n["pods"] += 1
    n["ips"] += ip != n["ip"]
for n in nodes.values():
    print("%s %d/%s %d/%d" % (n["desc"], n["pods"], n["max"], n["ips"], ipcap[n["max"]]))
PY
}

expect_usage() {
	local got
	got=$(usage "$1" | sort) || fail "$1: reading usage"
	[ "$got" = "$(printf '%s\n' "${@:2}" | sort)" ] || fail "$1: per-node usage
got:
$got
want:
$(printf '%s\n' "${@:2}" | sort)
pods: $(cat "$TMP/$1.pods")"
}

# Allocatable memory = capacity - (255 + 11 x maxPods)Mi - 100Mi; cpu = capacity - nodeadm's reserve.
check_allocatable() {
	k get nodes --no-headers -o custom-columns='T:.metadata.labels.node\.kubernetes\.io/instance-type,CM:.status.capacity.memory,AM:.status.allocatable.memory,P:.status.allocatable.pods,CC:.status.capacity.cpu,AC:.status.allocatable.cpu' \
		>"$TMP/$1.alloc" || fail "$1: get allocatable"
	python3 - "$TMP/$1.alloc" <<'PY' || fail "$1: allocatable arithmetic: $(cat "$TMP/$1.alloc")"
import sys
maxpods = {"t2.micro": 4, "t3.micro": 4, "t4g.micro": 4, "t3.small": 11}
reserve_cpu = {"1": 60, "2": 70}   # 6% of the first core + 1% of the second
for line in open(sys.argv[1]):
    t, cm, am, p, cc, ac = line.split()
    cap, alloc = int(cm[:-2]), int(am[:-2])
    assert cm.endswith("Ki") and am.endswith("Ki"), line
    assert int(p) == maxpods[t], line
    assert cap - alloc == (255 + 11 * int(p) + 100) * 1024, line
    if maxpods[t] == 4:
        assert 520 * 1024 <= alloc <= 580 * 1024, line   # the range reported for micro nodes
    assert ac == "%dm" % (int(cc) * 1000 - reserve_cpu[cc]), line
PY
}

load 2x-t3.micro
check_allocatable 2x-t3.micro
expect_usage 2x-t3.micro "t3.micro us-east-1a amd64 3/4 1/2" "t3.micro us-east-1b amd64 3/4 1/2"
SC_COLS='N:.metadata.name,P:.provisioner,R:.reclaimPolicy,B:.volumeBindingMode,D:.metadata.annotations.storageclass\.kubernetes\.io/is-default-class'
sc=$(k get storageclass --no-headers -o custom-columns="$SC_COLS") || fail "get storageclass"
# EKS >= 1.30: the gp2 class exists but is not the default.
[[ "$sc" =~ ^gp2\ +kubernetes.io/aws-ebs\ +Delete\ +WaitForFirstConsumer\ +\<none\>$ ]] || fail "gp2 class: $sc"
[ -z "$(k get csidriver --no-headers 2>/dev/null)" ] || fail "no CSI driver expected without the EBS add-on"
# Workload status as kubectl shows it, and the pods' owners.
wl=$(k -n kube-system get ds,deploy --no-headers -o custom-columns='N:.metadata.name,D:.status.desiredNumberScheduled,R:.status.numberReady,W:.spec.replicas,A:.status.availableReplicas' | tr -s ' ' | sort | tr '\n' ';')
[ "$wl" = "aws-node 2 2 <none> <none>;coredns <none> <none> 2 2;kube-proxy 2 2 <none> <none>;" ] || fail "workloads: $wl"
owners=$(k -n kube-system get pods -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].kind}/{.spec.hostNetwork}{"\n"}{end}' | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
[ "$owners" = "4xDaemonSet/true 2xReplicaSet/ " ] || fail "owners/hostNetwork: $owners"
k -n kube-system rollout status deploy/coredns --timeout=10s >/dev/null || fail "coredns rollout status"
# coredns carries its real requests.
[ "$(k -n kube-system get deploy coredns -o jsonpath='{.spec.template.spec.containers[0].resources.requests.cpu}/{.spec.template.spec.containers[0].resources.requests.memory}')" = 100m/70Mi ] ||
	fail "coredns requests"

load 3x-t2.micro
check_allocatable 3x-t2.micro
expect_usage 3x-t2.micro "t2.micro us-east-1a amd64 3/4 1/2" "t2.micro us-east-1b amd64 3/4 1/2" \
	"t2.micro us-east-1c amd64 2/4 0/2"

load 2x-t4g.micro
check_allocatable 2x-t4g.micro
expect_usage 2x-t4g.micro "t4g.micro us-east-1a arm64 3/4 1/2" "t4g.micro us-east-1b arm64 3/4 1/2"

load t3.small+t3.micro-ebs
check_allocatable t3.small+t3.micro-ebs
# ebs-csi-node is on the pod network: a slot and an IP on every node; both controllers on the small node.
expect_usage t3.small+t3.micro-ebs "t3.small us-east-1a amd64 6/11 4/9" "t3.micro us-east-1b amd64 4/4 2/2"
sc=$(k get storageclass --no-headers -o custom-columns="$SC_COLS") || fail "get storageclass"
[[ "$sc" =~ ^gp2\ +kubernetes.io/aws-ebs\ +Delete\ +WaitForFirstConsumer\ +true$ ]] || fail "gp2 default class expected: $sc"
csi=$(k get csidriver ebs.csi.aws.com --no-headers -o custom-columns='N:.metadata.name,A:.spec.attachRequired,F:.spec.fsGroupPolicy') ||
	fail "CSIDriver ebs.csi.aws.com missing"
[[ "$csi" =~ ^ebs.csi.aws.com\ +true\ +File$ ]] || fail "CSIDriver: $csi"
[ "$(k -n kube-system get pods -l app=ebs-csi-node -o jsonpath='{.items[*].spec.hostNetwork}')" = "" ] ||
	fail "ebs-csi-node must not be on hostNetwork"

load 3x-t2.micro-ebs
expect_usage 3x-t2.micro-ebs "t2.micro us-east-1a amd64 4/4 2/2" "t2.micro us-east-1b amd64 4/4 2/2" \
	"t2.micro us-east-1c amd64 4/4 2/2"
pending=$(k -n kube-system get pods --no-headers -o custom-columns='N:.metadata.name,P:.status.phase,NODE:.spec.nodeName' |
	awk '$2 == "Pending" {print $1 " " $3}')
[[ "$pending" == ebs-csi-controller-*" <none>" ]] && [ "$(wc -l <<<"$pending")" = 1 ] ||
	fail "one ebs-csi-controller pod Pending without a node expected: $pending"
msg=$(k -n kube-system get pod "${pending%% *}" -o jsonpath='{.status.conditions[0].reason}: {.status.conditions[0].message}')
[[ "$msg" == "Unschedulable: 0/3 nodes are available: 3 Too many pods."* ]] || fail "pending reason: $msg"
k -n kube-system get events --no-headers -o custom-columns='R:.reason,O:.involvedObject.name,M:.message' >"$TMP/ev" ||
	fail "get events"
grep -q "^FailedScheduling *${pending%% *} *0/3 nodes are available: 3 Too many pods" "$TMP/ev" ||
	fail "FailedScheduling event: $(cat "$TMP/ev")"
[ "$(k -n kube-system get deploy ebs-csi-controller -o jsonpath='{.status.readyReplicas}/{.spec.replicas}')" = 1/2 ] ||
	fail "ebs-csi-controller should be 1/2 ready"
# eksctl's default metrics-server add-on (2 replicas on the pod network) takes the last slot and IP.
load 2x-t3.micro-eksctl
expect_usage 2x-t3.micro-eksctl "t3.micro us-east-1a amd64 4/4 2/2" "t3.micro us-east-1b amd64 4/4 2/2"
[ "$(k -n kube-system get deploy metrics-server -o jsonpath='{.status.readyReplicas}/{.spec.template.spec.containers[0].resources.requests.memory}')" = 2/200Mi ] ||
	fail "metrics-server: 2 ready replicas requesting 200Mi expected"
echo "PASS test_eks_clusters"
