#!/bin/bash
# install-stack's placement plan and storage decision on the simulated EKS
# clusters of tests/integration/eks_clusters.py (nodes and kube-system pods
# as EKS reports them): with default flags 2 x t3.micro, 3 x t2.micro and
# 2 x t4g.micro install, the printed plan agrees with the cluster's objects
# (recomputed here from them), and, with the scheduler stand-in, every pod
# runs on the node the plan named within its pod slots, pod IPs and memory.
# t3.small + t3.micro with the EBS CSI add-on: as simulated, coredns has a
# replica on the t3.micro, whose 4 slots are then full; with default flags the
# plan shows the agent (system-node-critical) displacing that replica to the
# t3.small, and it installs on EBS (gp2), the stack on the t3.small, the
# replica's replacement running there. 3 x t2.micro with the EBS CSI add-on
# is refused before anything is written (no node has room for a displaced
# replica), with the per-node reasons and the options. A re-run keeps the
# stack node (its volumes are there), a dry run writes nothing, and
# k8s-manifests/README.md's example plan is what the plan prints for
# 2 x t3.micro. The scenarios run in parallel, each with its own API server.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
command -v influxd >/dev/null || fail "influxd not installed"
CLUSTERS="$(dirname "$0")/eks_clusters.py"
README="$(dirname "$0")/../../k8s-manifests/README.md"
# The scheduler stand-in places the pods as a real cluster would; without it
# the controller only marks the workloads ready, and placement is not checked.
SCHED=()
python3 "$KUBE_SERVER_PY" --help 2>/dev/null | grep -q -- --scheduler && SCHED=(--scheduler)

run() { # run RC ARGS...: agentctl with the test kubeconfig; output in $TMP/out, $TMP/err
	local want=$1 rc=0
	shift
	"$AGENTCTL" "$@" --kubeconfig "$KC" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "agentctl $* exited $rc, expected $want: $(cat "$TMP/err") $(cat "$TMP/out")"
}

# cluster NAME: a fresh API server holding the simulated cluster NAME, and a
# fresh influxd for its stack pod (the simulated kubelet runs influxdb-setup
# and influxdb as real processes on it: kube_lib.sh kube_influx_run).
KPID=
cluster() {
	[ -z "$KPID" ] || { kill "$KPID"; wait "$KPID" 2>/dev/null || true; }
	local port
	port=$(free_port)
	mkdir -p "$TMP/influx-$1"
	"$(dirname "$TESTLIB")/../../scripts/influxd-conf.sh" "$TMP/influx-$1" "$port" "$(free_port)" auth >"$TMP/influx-$1.conf"
	rm -f "$TMP/kube-port"
	kube_start "${SCHED[@]}" --controller-delay 0.1 --service-proxy "monitoring/influxdb:8086=http://127.0.0.1:$port"
	KPID=${PIDS[-1]}
	KC="$TMP/kubeconfig"
	kube_config "$KC"
	kube_influx_run "$TMP/influx-$1.conf" "$port"
	python3 "$CLUSTERS" "$1" >"$TMP/cluster.json" || fail "eks_clusters.py $1"
	curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/cluster.json" >/dev/null ||
		fail "cluster $1 not loaded"
	CLUSTER=$1
}

# The plan's table checked against the cluster's own objects: per node its
# type, zone and arch labels, pods used/allocatable, pod-network IPs used
# (hostNetwork pods use none) of max pods - 2, memory requests.
check_plan() {
	python3 - "$TMP/cluster.json" "$TMP/out" "$CLUSTER" <<'PY' || fail "plan of $CLUSTER: $(cat "$TMP/out")"
import json, re, sys
objs = json.load(open(sys.argv[1]))
objs = objs.get("items", objs) if isinstance(objs, dict) else objs
out = open(sys.argv[2]).read().splitlines()
MI = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
def qty(s):
    m = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi)?", s or "0")
    return float(m.group(1)) * MI.get(m.group(2), 1)
def pod_mem(p):  # as the scheduler counts a pod: the containers, or the largest init container
    req = lambda k: qty(k.get("resources", {}).get("requests", {}).get("memory"))
    return max([sum(req(k) for k in p["spec"]["containers"])] + [req(k) for k in p["spec"].get("initContainers", [])])
start = next(i for i, l in enumerate(out) if l.startswith("Placement plan"))
head = out[start + 1]
cols = [head.index(h) for h in ("NODE", "TYPE", "ZONE", "ARCH", "PODS", "POD IPS", "MEMORY REQUESTS", "THE STACK ADDS")]
rows = {}
for l in out[start + 2:]:
    if not l.startswith("  "):
        break
    cells = [l[a:b].strip() for a, b in zip(cols, cols[1:] + [None])]
    rows[cells[0]] = cells
nodes = [o for o in objs if o["kind"] == "Node"]
assert sorted(rows) == sorted(n["metadata"]["name"] for n in nodes), (sorted(rows), "nodes")
stack = [n for n, c in rows.items() if c[7].startswith("stack pod (")]
assert len(stack) == 1, "one stack node: %s" % stack
for n in nodes:
    name, lab = n["metadata"]["name"], n["metadata"]["labels"]
    c = rows[name]
    assert c[1:4] == [lab["node.kubernetes.io/instance-type"], lab["topology.kubernetes.io/zone"], lab["kubernetes.io/arch"]], c
    pods = [p for p in objs if p["kind"] == "Pod" and p["spec"].get("nodeName") == name and
            p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
    alloc = int(n["status"]["allocatable"]["pods"])
    ips = sum(1 for p in pods if not p["spec"].get("hostNetwork"))
    mem = sum(pod_mem(p) for p in pods)
    assert c[4] == "%d/%d" % (len(pods), alloc), (name, c[4], len(pods))
    assert c[5] == "%d/%d" % (ips, alloc - 2), (name, c[5], ips)
    used, total = c[6].split("/")
    assert abs(qty(used) - mem) < 1 << 20 and abs(qty(total) - qty(n["status"]["allocatable"]["memory"])) < 1 << 20, (name, c[6])
    want = "stack pod (influxdb, grafana, agent): 1 pod, 1 IP, " if name in stack else "agent (hostNetwork): 1 pod, "
    assert c[7].startswith(want) and "does not fit" not in c[7], (name, c[7])
print(stack[0])
PY
	STACK_NODE=$(python3 - "$TMP/out" <<'PY'
import sys
for l in open(sys.argv[1]):
    if "stack pod (" in l:
        print(l.split()[0])
PY
)
}

# Every pod of the stack placed where the plan said, and no node over its
# pod slots, pod IPs or memory (with the scheduler stand-in).
check_placed() {
	[ ${#SCHED[@]} -gt 0 ] || return 0
	api /api/v1/nodes >"$TMP/nodes.json"
	api /api/v1/pods >"$TMP/pods.json"
	python3 - "$TMP/nodes.json" "$TMP/pods.json" "$STACK_NODE" <<'PY' || fail "placement on $CLUSTER"
import json, re, sys
nodes = json.load(open(sys.argv[1]))["items"]
pods = [p for p in json.load(open(sys.argv[2]))["items"] if p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
stack_node = sys.argv[3]
MI = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
def qty(s):
    m = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi)?", s or "0")
    return float(m.group(1)) * MI.get(m.group(2), 1)
def pod_mem(p):  # as the scheduler counts a pod: the containers, or the largest init container
    req = lambda k: qty(k.get("resources", {}).get("requests", {}).get("memory"))
    return max([sum(req(k) for k in p["spec"]["containers"])] + [req(k) for k in p["spec"].get("initContainers", [])])
ours = [p for p in pods if p["metadata"].get("namespace") == "monitoring"]
stack = [p for p in ours if p["metadata"]["name"].startswith("heliograph-stack-")]
agents = [p for p in ours if p["metadata"]["name"].startswith("heliograph-agent-")]
assert len(stack) == 1 and stack[0]["spec"].get("nodeName") == stack_node, [(p["metadata"]["name"], p["spec"].get("nodeName")) for p in stack]
assert stack[0]["status"]["phase"] == "Running", stack[0]["status"]
names = sorted(n["metadata"]["name"] for n in nodes)
assert sorted(p["spec"].get("nodeName") or "" for p in agents) == [n for n in names if n != stack_node], agents
assert all(p["status"]["phase"] == "Running" for p in agents), [p["status"] for p in agents]
for n in nodes:
    name = n["metadata"]["name"]
    on = [p for p in pods if p["spec"].get("nodeName") == name]
    alloc = int(n["status"]["allocatable"]["pods"])
    ips = sum(1 for p in on if not p["spec"].get("hostNetwork"))
    mem = sum(pod_mem(p) for p in on)
    assert len(on) <= alloc and ips <= alloc - 2 and mem <= qty(n["status"]["allocatable"]["memory"]), (name, len(on), ips, mem)
PY
}

node_label() { api "/api/v1/nodes/$1" | json_get 'd["metadata"].get("labels", {}).get("heliograph.io/stack", "")'; }
labelled() { api /api/v1/nodes | json_get '" ".join(sorted(n["metadata"]["name"] for n in d["items"] if "heliograph.io/stack" in n["metadata"].get("labels", {})))'; }
writes() { # write requests the API server has had (the test's own included)
	api /_control/requests | json_get 'len([r for r in d if r["method"] != "GET" and not r["path"].startswith("/_control")])'; }

# The scenarios, each run in a subshell with its own $TMP and servers.
scenario_2x_t3_micro() {
# ---- 2 x t3.micro, no CSI driver, no default class ----
cluster 2x-t3.micro
run 0 install-stack --timeout 30s
check_plan
cp "$TMP/out" "$TMP/plan-2x-t3.micro"
grep -q "^Storage: on the disk of node $STACK_NODE " "$TMP/out" || fail "2x-t3.micro: no node storage: $(cat "$TMP/out")"
grep -q "does NOT survive the node's" "$TMP/out" && grep -q "survives pod restarts" "$TMP/out" || fail "node storage: what it survives"
grep -q "^After the install 0 pod slots remain for your own pods" "$TMP/out" || fail "2x-t3.micro: slots left: $(cat "$TMP/out")"
FIRST=$STACK_NODE
[ "$(labelled)" = "$FIRST" ] || fail "label: $(labelled), plan said $FIRST"
api /api/v1/persistentvolumes/heliograph-monitoring-influxdb-data | grep -q "\"$FIRST\"" || fail "PV not on $FIRST"
check_placed
# A re-run keeps the node (its volumes are on its disk), even when a new
# empty node has more free memory; a dry run then changes nothing.
python3 - "$TMP/cluster.json" >"$TMP/extra.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))
objs = objs.get("items", objs) if isinstance(objs, dict) else objs
n = json.loads(json.dumps(next(o for o in objs if o["kind"] == "Node")))
n["metadata"]["name"] = n["metadata"]["labels"]["kubernetes.io/hostname"] = "ip-10-0-99-99.ec2.internal"
n["metadata"].pop("resourceVersion", None); n["metadata"].pop("uid", None)
n["metadata"]["labels"]["heliograph.io/stack"] = "true"  # as if labelled by hand
print(json.dumps([n]))
PY
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/extra.json" >/dev/null || fail "extra node"
run 0 install-stack --dry-run
grep -q "^The stack pod goes to $FIRST: its volumes are on that node's disk" "$TMP/out" || fail "re-run: $(cat "$TMP/out")"
grep -q "^$FIRST .*stack pod (" <(sed 's/^  //' "$TMP/out") || fail "re-run moved the stack: $(cat "$TMP/out")"
grep -q "^node/$FIRST  *unchanged" "$TMP/out" || fail "re-run relabels"
grep -q "^node/ip-10-0-99-99.ec2.internal  *label heliograph.io/stack removed (dry run)" "$TMP/out" || fail "dry run: other label"
[ "$(labelled)" = "ip-10-0-99-99.ec2.internal $FIRST" ] || fail "the dry run removed a label"
run 0 install-stack --timeout 30s
grep -q "^node/ip-10-0-99-99.ec2.internal  *label heliograph.io/stack removed$" "$TMP/out" && grep -q "^Done: 1 change\." "$TMP/out" ||
	fail "re-run: only the other node's label should change: $(cat "$TMP/out")"
[ "$(labelled)" = "$FIRST" ] || fail "re-run label: $(labelled)"

# The stack node replaced (deleted): its node-local data is gone with it,
# and a re-run says so instead of placing the stack elsewhere.
curl -sf --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" -X DELETE "$KUBE_URL/api/v1/nodes/$FIRST" >/dev/null ||
	fail "delete node $FIRST"
run 1 install-stack --dry-run
grep -q "the stack's volumes are on the disk of node $FIRST, and the cluster has no such node any more: node-local data is lost with its node" "$TMP/err" &&
	grep -qF "kubectl delete pv heliograph-monitoring-influxdb-data heliograph-monitoring-grafana-data" "$TMP/err" ||
	fail "lost node: $(cat "$TMP/err")"

# k8s-manifests/README.md's example is this plan, as printed.
awk '/^<!-- plan: 2x-t3.micro -->/ {on = 1; next} on && /^```$/ {n++; if (n == 2) exit; next} on && n == 1' "$README" >"$TMP/readme-plan"
[ -s "$TMP/readme-plan" ] || fail "k8s-manifests/README.md has no plan example (<!-- plan: 2x-t3.micro -->)"
sed -n '/^Placement plan/,/^$/p' "$TMP/plan-2x-t3.micro" | sed '${/^$/d}' >"$TMP/plan-2x"
diff -u "$TMP/readme-plan" "$TMP/plan-2x" || fail "k8s-manifests/README.md's example differs from the plan for 2x-t3.micro"

}

# ---- 3 x t2.micro, 2 x t4g.micro (arm64): default flags ----
scenario_default() {
	cluster "$1"
	run 0 install-stack --timeout 30s
	check_plan
	[ "$(labelled)" = "$STACK_NODE" ] || fail "$1: label $(labelled), plan said $STACK_NODE"
	check_placed
}
scenario_3x_t2_micro() {
	scenario_default 3x-t2.micro
	# The node without coredns has the most free memory; 1 slot is left there.
	grep -q "^After the install 1 pod slot remains for your own pods" "$TMP/out" || fail "3x-t2.micro: $(cat "$TMP/out")"
}
scenario_2x_t4g_micro() {
	# A dry run on the fresh cluster says what it would do and writes nothing.
	cluster 2x-t4g.micro
	run 0 install-stack --dry-run
	check_plan
	grep -q "  t4g.micro  .*  arm64  " "$TMP/out" || fail "t4g: arch"
	grep -q "^node/$STACK_NODE  *labelled heliograph.io/stack=true (dry run)" "$TMP/out" || fail "dry run: label not announced"
	[ "$(writes)" = 0 ] && [ -z "$(labelled)" ] && ! exists /api/v1/namespaces/monitoring || fail "the dry run wrote"
	run 0 install-stack --timeout 30s
	check_plan
	[ "$(labelled)" = "$STACK_NODE" ] || fail "2x-t4g.micro: label $(labelled), plan said $STACK_NODE"
	check_placed
}

# ---- t3.small + t3.micro, EBS CSI add-on, gp2 default ----
scenario_t3_small_ebs() {
cluster t3.small+t3.micro-ebs
# As simulated: aws-node, kube-proxy, ebs-csi-node and a coredns replica fill
# the t3.micro's 4 slots. The agent (system-node-critical) preempts that
# replica (system-cluster-critical), whose ReplicaSet recreates it on the
# t3.small next to the stack pod: the plan says so and installs.
MICRO=$(python3 -c 'import json,sys; print(next(o["metadata"]["name"] for o in json.load(open(sys.argv[1])) if o["kind"] == "Node" and o["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.micro"))' "$TMP/cluster.json")
SMALL=$(python3 -c 'import json,sys; print(next(o["metadata"]["name"] for o in json.load(open(sys.argv[1])) if o["kind"] == "Node" and o["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.small"))' "$TMP/cluster.json")
VICTIM=$(python3 -c 'import json,sys; print(next(o["metadata"]["name"] for o in json.load(open(sys.argv[1])) if o["kind"] == "Pod" and o["metadata"]["name"].startswith("coredns-") and o["spec"].get("nodeName") == sys.argv[2]))' "$TMP/cluster.json" "$MICRO")
patch_node() { curl -sf --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" -X PATCH \
	-H "Content-Type: application/merge-patch+json" "$KUBE_URL/api/v1/nodes/$1" -d "$2" >/dev/null || fail "patch $1"; }
# --storage node keeps the data on the stack node (a dry run writes nothing).
run 0 install-stack --dry-run --storage node
grep -q "^Storage: on the disk of node .* (--storage node)" "$TMP/out" || fail "--storage node: $(cat "$TMP/out")"
[ "$(writes)" = 0 ] || fail "the dry run wrote"
# Default flags: the plan names the displaced replica and where it goes, and installs.
run 0 install-stack --timeout 30s
check_plan
grep -q "^  $MICRO  .*  agent (hostNetwork): 1 pod, 24Mi; displaces $VICTIM to $SMALL\$" "$TMP/out" ||
	fail "ebs: the displacement: $(cat "$TMP/out")"
grep -q "^  $SMALL  .*  stack pod (influxdb, grafana, agent): 1 pod, 1 IP, [0-9]*Mi; a new coredns pod comes here\$" "$TMP/out" ||
	fail "ebs: the replacement's node: $(cat "$TMP/out")"
grep -q "^Storage: StorageClass gp2 (the cluster's default class" "$TMP/out" || fail "ebs: storage: $(cat "$TMP/out")"
[ "$STACK_NODE" = "$SMALL" ] || fail "ebs: the stack not on the t3.small: $(cat "$TMP/out")"
# The replica went (preempted, as its event says) and its replacement runs where the plan said.
dns_moved() { api "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns" |
	json_get '"ok" if sorted((p["spec"].get("nodeName"), p["status"].get("phase")) for p in d["items"]) == [("'"$SMALL"'", "Running")] * 2 else ""' | grep -q ok; }
wait_for dns_moved || fail "the coredns replica did not move: $(api "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns" |
	json_get '[(p["metadata"]["name"], p["spec"].get("nodeName"), p["status"].get("phase")) for p in d["items"]]')"
api "/api/v1/namespaces/kube-system/events?fieldSelector=reason%3DPreempted" |
	json_get '"\n".join(e["involvedObject"]["name"] + " " + e["message"] for e in d["items"])' >"$TMP/preempted"
grep -q "^$VICTIM Preempted by pod [0-9a-f-]* on node $MICRO\$" "$TMP/preempted" || fail "ebs: Preempted event: $(cat "$TMP/preempted")"
check_placed
run 0 install-stack --timeout 30s
grep -q "Nothing changed" "$TMP/out" && [ "$(labelled)" = "$STACK_NODE" ] || fail "ebs re-run: $(cat "$TMP/out")"
# The provisioned EBS volumes are in the t3.small's zone: the re-run keeps to it.
ZONE=$(api "/api/v1/nodes/$SMALL" | json_get 'd["metadata"]["labels"]["topology.kubernetes.io/zone"]')
grep -q "^The stack pod goes to $ZONE: its EBS volumes are in that zone" "$TMP/out" || fail "ebs re-run zone: $(cat "$TMP/out")"
# Its only node there cordoned: refused, naming the zone and the node.
patch_node "$SMALL" '{"spec":{"unschedulable":true}}'
run 1 install-stack --dry-run
grep -q "the stack's EBS volumes are in zone $ZONE, and an EBS volume cannot leave its zone, but no node there can take the stack pod: $SMALL (cordoned)" "$TMP/err" ||
	fail "zone refusal: $(cat "$TMP/err")"
}

# ---- 3 x t2.micro with the EBS CSI add-on: refused before anything is written ----
scenario_3x_t2_micro_ebs() {
cluster 3x-t2.micro-ebs
run 1 install-stack
E="$TMP/err"
grep -q "refusing to install: the stack does not fit on this cluster" "$E" || fail "no refusal: $(cat "$E")"
grep -q "^Placement plan" "$TMP/out" || fail "refused without the plan"
# The driver without a default class (EKS 1.30+): agentctl's gp3 class.
grep -q "^Storage: StorageClass heliograph-gp3, created by install-stack (the EBS CSI driver is installed and the cluster has no default class" "$TMP/out" ||
	fail "gp3: $(cat "$TMP/out")"
for n in $(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); o=o.get("items",o) if isinstance(o,dict) else o; print(" ".join(x["metadata"]["name"] for x in o if x["kind"]=="Node"))' "$TMP/cluster.json"); do
	grep -q "^  $n (t2.micro): all 4 pod slots taken (.*ebs-csi-node.*): no room for the agent" "$E" || fail "no reason for $n: $(cat "$E")"
done
grep -q "^  ebs-csi-node takes 1 of 4 on every node" "$E" || fail "refusal: ebs-csi-node"
grep -q "^  coredns takes 1 of 4 on " "$E" || fail "refusal: coredns"
grep -q "Drop the EBS CSI add-on .*then the stack fits" "$E" && grep -qF "aws eks delete-addon --cluster-name" "$E" ||
	fail "option: drop EBS CSI: $(cat "$E")"
grep -qF "aws eks update-addon --cluster-name CLUSTER --addon-name coredns --configuration-values '{\"replicaCount\":1}'" "$E" ||
	fail "option: coredns"
grep -q "t2 is not a Nitro type" "$E" && grep -qF "kubectl set env daemonset aws-node -n kube-system ENABLE_PREFIX_DELEGATION=true" "$E" ||
	fail "option: prefix delegation"
grep -q "A t3.small node for the stack pod" "$E" && grep -q "Add a node (t2.micro" "$E" || fail "options: t3.small, add a node"
[ "$(writes)" = 0 ] && [ -z "$(labelled)" ] && ! exists /api/v1/namespaces/monitoring || fail "the refused install wrote"
# A NotReady and a cordoned node, empty: listed, neither counted nor used.
python3 - "$TMP/cluster.json" >"$TMP/extra.json" <<'PY'
import copy, json, sys
n = next(o for o in json.load(open(sys.argv[1])) if o["kind"] == "Node")
out = []
for name, how in (("ip-10-0-1-1.ec2.internal", "notready"), ("ip-10-0-2-2.ec2.internal", "cordoned")):
    m = copy.deepcopy(n)
    m["metadata"]["name"] = m["metadata"]["labels"]["kubernetes.io/hostname"] = name
    for k in ("uid", "resourceVersion"):
        m["metadata"].pop(k, None)
    if how == "notready":
        m["status"]["conditions"] = [dict(c, status="Unknown") if c["type"] == "Ready" else c for c in m["status"]["conditions"]]
    else:
        m["spec"]["unschedulable"] = True
    out.append(m)
print(json.dumps(out))
PY
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/extra.json" >/dev/null || fail "extra nodes"
run 1 install-stack --dry-run
grep -q "^  ip-10-0-1-1.ec2.internal .*nothing: NotReady, not counted$" "$TMP/out" &&
	grep -q "^  ip-10-0-2-2.ec2.internal .*nothing counted: cordoned (an agent still starts there if a slot is free)$" "$TMP/out" || fail "NotReady/cordoned: $(cat "$TMP/out")"
! grep -q "ip-10-0-[12]-" "$TMP/err" || fail "NotReady/cordoned nodes counted: $(cat "$TMP/err")"
}

# The TLS material once (openssl takes a second or two per server).
kube_start
kill "${PIDS[-1]}"
ALL=(scenario_2x_t3_micro scenario_3x_t2_micro scenario_2x_t4g_micro scenario_t3_small_ebs scenario_3x_t2_micro_ebs)
declare -A JOB
for f in "${ALL[@]}"; do
	(
		mkdir -p "$TMP/$f"
		cp -r "$TMP/tls" "$TMP/$f/tls"
		TMP="$TMP/$f"
		PIDS=()
		trap 'for p in "${PIDS[@]:-}"; do [ -z "$p" ] || kill "$p" 2>/dev/null || true; done' EXIT
		"$f"
	) >"$TMP/$f.out" 2>&1 &
	JOB[$f]=$!
done
failed=
for f in "${ALL[@]}"; do
	if ! wait "${JOB[$f]}"; then
		failed+=" $f"
		echo "---- $f" >&2
		grep -v '^ts=' "$TMP/$f.out" | tail -40 >&2
	fi
done
[ -z "$failed" ] || fail "failed:$failed"
echo "ok (scheduler: ${SCHED[*]:-none})"
