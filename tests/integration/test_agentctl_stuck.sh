#!/bin/bash
# A stuck install-stack rollout explains itself (issue 12, point 5). The test
# API server's scheduler stand-in (kube_api_server.py --scheduler,
# kube_sched*.py) produces each stuck state of a real EKS install on one
# simulated cluster, in turn, with the states and Events a real cluster
# gives; a short install-stack run in each must print the plain sentence with
# its fix while waiting (each once) and end with it in its error, never with a
# bare "see kubectl describe":
#   FailedScheduling Too many pods, FailedScheduling Insufficient memory,
#   PVC Pending (EBS CSI driver without an IAM role: UnauthorizedOperation),
#   ErrImagePull/ImagePullBackOff (the default agent image, not released
#   yet), CrashLoopBackOff and OOMKilled (one pod, one run),
#   FailedCreatePodSandBox (no pod IP left), FailedScheduling volume node
#   affinity conflict (EBS volumes restored in another zone than the plan
#   could know).
# Each state is set up through the stand-in's control API (behaviour rules,
# ebsProvisioning, ipCapacity) or as a user would make it (their pods, their
# volumes), awaited as the API shows it, and only then is install-stack run
# (--timeout 1s; the last state comes about during its run): no sleeps, one
# server for all (about 50 s on 2 busy cores).
# The cluster: two t3.small nodes in us-east-1a/b with the default add-ons and
# the EBS CSI add-on, shaped by eks_clusters.py as EKS reports them (11 pods,
# 9 pod IPs, 1440Mi allocatable each; aws-node, kube-proxy, ebs-csi-node, a
# coredns and an ebs-csi-controller replica on each). install-stack's
# placement plan labels the stack node (--force: also where nothing fits).
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

kube_start --scheduler
KC="$TMP/kubeconfig"
kube_config "$KC"
api() { # api METHOD PATH [merge-patch body]
	curl -sf --cacert "$TMP/tls/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" -X "$1" \
		-H "Content-Type: application/merge-patch+json" ${3:+--data "$3"} "$KUBE_URL$2"
}
NS=/api/v1/namespaces/monitoring
# The default agent image (the file IMAGE), as a new user installs it.
AGENT_IMAGE=$(cat "$(dirname "$0")/../../IMAGE")

python3 - "$(dirname "$0")/../servers" >"$TMP/cluster.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import eks_clusters as e
# The add-ons of the t3.small + t3.micro EBS scenario on two t3.small.
e.SCENARIOS["2x-t3.small-ebs"] = ([("t3.small", "ng-small")] * 2,) + e.SCENARIOS["t3.small+t3.micro-ebs"][1:]
json.dump(e.scenario("2x-t3.small-ebs"), sys.stdout)
PY
ctl objects "@$TMP/cluster.json"
read -r N0 N1 < <(python3 -c 'import json,sys; print(*sorted(o["metadata"]["name"] for o in json.load(open(sys.argv[1])) if o["kind"] == "Node"))' "$TMP/cluster.json")
zone() { python3 -c 'import json,sys; print([o for o in json.load(open(sys.argv[1])) if o["metadata"]["name"] == sys.argv[2]][0]["metadata"]["labels"]["topology.kubernetes.io/zone"])' "$TMP/cluster.json" "$1"; }
Z0=$(zone "$N0")
Z1=$(zone "$N1")

# running NS NAME NODE MEMORY: a pod as a kubelet reports it running (the
# kubelet stand-in leaves a pod that has container statuses as it is), on
# hostNetwork so it takes a slot and memory but no pod IP.
running() {
	echo "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$2\",\"namespace\":\"$1\",\"uid\":\"$(cat /proc/sys/kernel/random/uuid)\"},
	\"spec\":{\"nodeName\":\"$3\",\"hostNetwork\":true,\"containers\":[{\"name\":\"c\",\"image\":\"public.ecr.aws/nginx/nginx:1.27\",
	\"resources\":{\"requests\":{\"memory\":\"$4\"}}}]},
	\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],
	\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,\"restartCount\":0,\"image\":\"public.ecr.aws/nginx/nginx:1.27\",
	\"state\":{\"running\":{\"startedAt\":\"2026-12-07T00:00:00Z\"}}}]}}"
}

stuck() { # stuck WHAT PATTERN...: install-stack times out, saying each PATTERN while waiting and in its error
	local what=$1 rc=0 p
	shift
	"$AGENTCTL" install-stack --kubeconfig "$KC" --force --storage-class gp2 \
		--timeout "${TIMEOUT:-1s}" >"$TMP/out" 2>"$TMP/err" || rc=$?
	cp "$TMP/out" "$TMP/$what.out.log"
	cp "$TMP/err" "$TMP/$what.err.log"
	[ "$rc" -eq 1 ] || fail "$what: install-stack exited $rc: $(cat "$TMP/err")"
	grep -q "timed out waiting for the rollout" "$TMP/err" || fail "$what: no timeout: $(cat "$TMP/err")"
	! grep -q "describe pod" "$TMP/err" || fail "$what: the error still says only 'see kubectl describe'"
	for p in "$@"; do
		grep '^why: ' "$TMP/out" | grep -qF -- "$p" ||
			fail "$what: not said while waiting: $p
$(cat "$TMP/out")"
		grep -qF -- "$p" "$TMP/err" || fail "$what: not in the error: $p
$(cat "$TMP/err")"
	done
	# Every sentence is printed once, however many polls saw it.
	[ -z "$(grep '^why: ' "$TMP/out" | sort | uniq -d)" ] ||
		fail "$what: a sentence printed twice: $(grep '^why: ' "$TMP/out" | sort | uniq -d)"
}
# is STATE: the stuck state has come about, as the API shows it: STATE is a
# Python expression over the namespace's pods P and events E, with the
# helpers sched(pod) (the PodScheduled message), cs(pod, container) (its
# status) and ev(reason) (messages of events with that reason). Each
# install-stack run starts once its state is there, so a short --timeout
# suffices and the sentences are printed at the first look.
is() {
	api GET "$NS/pods" >"$TMP/pods.json" && api GET "$NS/events" >"$TMP/events.json" || return 1
	python3 - "$1" "$TMP/pods.json" "$TMP/events.json" <<'PY'
import json, sys
P = json.load(open(sys.argv[2]))["items"]
E = json.load(open(sys.argv[3]))["items"]
def sched(p):
    return " ".join(c.get("message") or "" for c in (p.get("status") or {}).get("conditions") or []
                    if c.get("type") == "PodScheduled")
def cs(p, name):
    st = p.get("status") or {}
    for c in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or []):
        if c.get("name") == name:
            return c
    return {}
def ev(reason):
    return [e.get("message") or "" for e in E if e.get("reason") == reason]
stack = [p for p in P if p["metadata"]["name"].startswith("heliograph-stack-")
         and not p["metadata"].get("deletionTimestamp")]
agents = [p for p in P if p["metadata"]["name"].startswith("heliograph-agent-")]
sys.exit(0 if eval(sys.argv[1]) else 1)
PY
}
until_is() { # until_is WHAT STATE
	wait_for is "$2" || fail "$1: the state did not come about: $2
$(python3 -m json.tool "$TMP/pods.json" | grep -E '"(name|message|reason|restartCount|nodeName)"' | head -60)"
}
not_said() { # not_said WHAT TEXT: the last run did not say TEXT
	! grep -qF -- "$2" "$TMP/out" || fail "$1: said '$2' though it is not so:
$(cat "$TMP/out")"
}
stack_pods() { api GET "$NS/pods?labelSelector=app.kubernetes.io/name%3Dheliograph-stack" |
	python3 -c 'import json,sys; print(" ".join(p["metadata"]["name"] for p in json.load(sys.stdin)["items"] if not p["metadata"].get("deletionTimestamp")))'; }
behave() { ctl behaviour "$1"; }
# The ReplicaSet replaces the deleted stack pod; the new one meets the new
# behaviour. Sets POD to the new pod's name.
new_pod() { local p; p=$(stack_pods); [ -n "$p" ] && [ "$p" != "$1" ] && [ "${p#* }" = "$p" ]; }
restart_stack() {
	local old
	old=$(stack_pods)
	api DELETE "$NS/pods/$old" >/dev/null || fail "delete $old"
	wait_for new_pod "$old" || fail "no new stack pod after deleting $old: $(stack_pods)"
	POD=$(stack_pods)
}

# ---- Too many pods: the user's pods took every free slot (--force went past the plan) ----
# The plan labels $N0 (the most free memory where nothing fits). The agent
# pod of $N1 (system-node-critical) preempts a pod of lower priority there,
# as kube-scheduler does, and runs: only the stack pod (priority 0, as the
# fillers) waits. $N1's fillers request 150Mi each, so that the slot the
# preemption frees there is no place for the stack pod (344Mi) either.
fill="" fillers=()
for n in "$N0" "$N1"; do
	for i in 1 2 3 4 5 6; do
		fill="$fill${fill:+,}$(running default "web-$i-$n" "$n" "$([ "$n" = "$N1" ] && echo 150Mi || echo 0)")"
		fillers+=("web-$i-$n")
	done
done
ctl objects "[$fill]"
# Applied (and the label moved) without waiting, so that the run below starts in the state.
"$AGENTCTL" install-stack --kubeconfig "$KC" --force --storage-class gp2 --no-wait \
	>"$TMP/create.log" 2>&1 || fail "install-stack --no-wait: $(cat "$TMP/create.log")"
until_is slots 'len(stack) == 1 and "Too many pods" in sched(stack[0]) and len(agents) == 1 and agents[0]["spec"].get("nodeName") == "'"$N1"'"'
stuck slots "no node it may run on has a free pod slot (node $N0 has 11 of 11 taken: " \
	"--addon-name coredns --configuration-values '{\"replicaCount\":1}'"
not_said slots "The agent pod heliograph-agent-"

# ---- Insufficient memory: the user's pods request most of each node's memory ----
# 1440Mi allocatable, 366Mi of add-ons: 100Mi left on $N0, less than the
# stack pod asks for.
# Each state is set up before the previous one is undone, so that the
# stack pod never meets a moment with room.
ctl objects "[$(running default hog-0 "$N0" 974Mi), $(running default hog-1 "$N1" 1000Mi)]"
# (one of $N1's is gone already: the agent preempted it)
for f in "${fillers[@]}"; do api DELETE "/api/v1/namespaces/default/pods/$f" >/dev/null || true; done
until_is memory '"Insufficient memory" in sched(stack[0])'
stuck memory "The stack pod heliograph-stack-" "cannot be scheduled: it asks for " \
	"Mi of memory requests and no node it may run on has that much unrequested (node $N0 has " \
	"Mi of its 1.4Gi allocatable unrequested, the largest requests there: hog-0 974Mi, " \
	"use a larger instance type for the stack node"
not_said memory "hog-1" # $N1 is no node the stack pod may run on

# ---- PVC Pending: the EBS CSI driver has no IAM role ----
behave '{"ebsProvisioning": "unauthorized"}'
api DELETE /api/v1/namespaces/default/pods/hog-0 >/dev/null
api DELETE /api/v1/namespaces/default/pods/hog-1 >/dev/null
until_is iam 'len({e["involvedObject"]["name"] for e in E if e.get("reason") == "ProvisioningFailed" and "UnauthorizedOperation" in e.get("message", "")}) == 2'
stuck iam "Volume claims grafana-data and influxdb-data stay Pending: the EBS CSI driver may not create volumes (UnauthorizedOperation" \
	"eksctl create iamserviceaccount --name ebs-csi-controller-sa --namespace kube-system --cluster CLUSTER" \
	"IMDSv2 hop limit of 1" "--storage node"
# The scheduler's 'binding volumes: provisioning failed' is the claims' doing: no sentence of its own.
not_said iam "the scheduler says"

# ---- ErrImagePull/ImagePullBackOff: the default agent image before its release ----
# The volumes are created now (in $Z0, the stack pod's node's zone); the
# stack pod's own agent container cannot pull its image: ghcr.io answers 403
# for a package that does not exist (yet), in containerd's resolver words
# (as in LeoMartinDev/voy issue 3).
behave "$(python3 -c 'import json, sys; i = sys.argv[1]; print(json.dumps({"ebsProvisioning": "ok", "rules": [
    {"image": i, "fail": "pull", "message": "rpc error: code = Unknown desc = failed to pull and unpack image \"%s\": "
     "failed to resolve reference \"%s\": unexpected status from HEAD request to https://ghcr.io/v2/%s/manifests/%s: "
     "403 Forbidden" % (i, i, i.split("/", 1)[1].rsplit(":", 1)[0], i.rsplit(":", 1)[1])}]}))' "$AGENT_IMAGE")"
until_is pull 'cs(stack[0], "agent").get("state", {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")'
stuck pull "cannot pull $AGENT_IMAGE (container agent): ghcr.io does not have it" "403 Forbidden" \
	"release workflow publishes it when this version is tagged" "scripts/ecr-push.sh" \
	"--agent-image set to the image it printed"

# ---- CrashLoopBackOff and OOMKilled: Grafana exits at start, InfluxDB goes over its memory limit ----
# (one pod, one run: each container shows its own state and gets its own sentence)
# InfluxDB's shipped memory limit, in Mi, as the Deployment has it.
LIMIT=$(api GET /apis/apps/v1/namespaces/monitoring/deployments/heliograph-stack | python3 -c 'import json, sys
c = [c for c in json.load(sys.stdin)["spec"]["template"]["spec"]["containers"] if c["name"] == "influxdb"][0]
print(c["resources"]["limits"]["memory"].removesuffix("Mi"))')
[[ "$LIMIT" =~ ^[0-9]+$ ]] || fail "InfluxDB's memory limit is not in Mi: $LIMIT"
behave '{"rules": [{"container": "grafana", "fail": "crash", "exitCode": 3}, {"container": "influxdb", "fail": "oom"}]}'
restart_stack
until_is crash 'cs(stack[0], "grafana").get("restartCount", 0) >= 1 and "OOMKilled" in json.dumps(cs(stack[0], "influxdb"))'
stuck crash "Container grafana of the stack pod $POD keeps crashing (last exit code 3, Error)" \
	"kubectl -n monitoring logs $POD -c grafana --previous" \
	"Container influxdb of the stack pod $POD was killed for going over its memory limit of ${LIMIT}Mi (OOMKilled)" \
	"set resources deployment/heliograph-stack -c influxdb --limits=memory=$((LIMIT * 2))Mi"
not_said crash "Container influxdb of the stack pod $POD keeps crashing" # OOMKilled says it better

# ---- FailedCreatePodSandBox: no pod IP left on the stack node ----
# $N0's three pod-network pods (ebs-csi-node, coredns, ebs-csi-controller) hold all its IPs.
behave "{\"rules\": [], \"ipCapacity\": {\"$N0\": 3}}"
restart_stack
until_is ip 'any("failed to assign an IP address" in m for m in ev("FailedCreatePodSandBox"))'
stuck ip "cannot start on node $N0: the VPC CNI has no pod IP left on that node" \
	"the pod-network pods there hold them: " "ENABLE_PREFIX_DELEGATION=true"
# The holders are the three, not the stack pod waiting for an IP.
holders=$(grep '^why: ' "$TMP/out" | grep -o 'hold them: [^.]*' || true)
[[ "$holders" == *coredns-* && "$holders" == *ebs-csi-controller-* && "$holders" == *ebs-csi-node-* &&
	"$holders" != *heliograph-stack* ]] ||
	fail "ip: the IP holders are wrong: $holders"

# ---- volume node affinity conflict: volumes restored from snapshots in $Z1 ----
# The user starts over from EBS snapshots taken in $Z1: deletes the stack
# and its claims, creates static PersistentVolumes pre-bound to the claims
# (the EBS CSI driver's static provisioning) and runs install-stack. The
# placement plan cannot know those volumes (no claim exists yet) and keeps
# $N0 in $Z0; the new claims bind to the restored volumes, which cannot
# leave $Z1. The state comes about during this run, hence its longer wait.
behave '{"ipCapacity": {}}'
api DELETE /apis/apps/v1/namespaces/monitoring/deployments/heliograph-stack >/dev/null || fail "delete the Deployment"
api DELETE "$NS/persistentvolumeclaims/influxdb-data" >/dev/null || fail "delete claim influxdb-data"
api DELETE "$NS/persistentvolumeclaims/grafana-data" >/dev/null || fail "delete claim grafana-data"
until_is restore 'not stack'
pv() { # pv CLAIM SIZE
	echo "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"restored-$1\"},
	\"spec\":{\"capacity\":{\"storage\":\"$2\"},\"accessModes\":[\"ReadWriteOnce\"],\"persistentVolumeReclaimPolicy\":\"Retain\",
	\"storageClassName\":\"gp2\",\"claimRef\":{\"namespace\":\"monitoring\",\"name\":\"$1\"},
	\"csi\":{\"driver\":\"ebs.csi.aws.com\",\"volumeHandle\":\"vol-0$RANDOM$RANDOM\",\"fsType\":\"ext4\"},
	\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"topology.kubernetes.io/zone\",
	\"operator\":\"In\",\"values\":[\"$Z1\"]}]}]}}},\"status\":{\"phase\":\"Available\"}}"
}
ctl objects "[$(pv influxdb-data 5Gi), $(pv grafana-data 1Gi)]"
TIMEOUT=5s stuck zone "cannot go where its data is: EBS volumes restored-influxdb-data (claim influxdb-data) and restored-grafana-data (claim grafana-data) are in zone $Z1 and an EBS volume cannot leave its zone, but the pod may only run on $N0 in zone $Z0. Re-run install-stack, which places the stack in its volumes' zone, or label node $N1, which is in $Z1" \
	"delete the claims (\`kubectl -n monitoring delete pvc influxdb-data grafana-data\`)"
[ "$(grep -c '^why: ' "$TMP/out")" -eq 1 ] || fail "zone: one sentence for both volumes expected: $(cat "$TMP/out")"
echo "ok"
