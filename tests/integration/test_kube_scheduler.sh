#!/usr/bin/env bash
# The scheduler stand-in (kube_api_server.py --scheduler, kube_sched*.py) seen
# with real kubectl, as on a small EKS cluster: two t3.micro nodes carrying
# aws-node, kube-proxy and coredns; an agent DaemonSet on hostNetwork and a
# stack Deployment placed within pod slots, pod IPs and memory; rollouts that
# complete; and each stuck state of an install shown by kubectl get/describe
# and events with the reason and message a real cluster gives: Too many pods,
# node affinity/selector mismatch, Insufficient memory, untolerated taint,
# cordoned node, unbound immediate PVC (no class), ExternalProvisioning
# without a driver, ProvisioningFailed UnauthorizedOperation, volume node
# affinity conflict, FailedCreatePodSandBox (no pod IP left),
# ErrImagePull/ImagePullBackOff, CrashLoopBackOff, OOMKilled, a missing
# ServiceAccount/ConfigMap/Secret, a rollout past its progress deadline, a
# NotReady node; recovery once the cause is fixed; the simulated EKS
# clusters (eks_clusters.py) kept exactly as loaded; and a system-node-critical
# DaemonSet preempting a coredns replica, which moves to the node with room.
source "${TESTLIB:-$(dirname "$0")/lib.sh}"
source "$(dirname "${BASH_SOURCE[0]}")/kube_lib.sh"
: "${FIXTURES:=$(cd "$(dirname "$0")/../fixtures" && pwd)}"
command -v kubectl >/dev/null || fail "kubectl not installed"

kube_start --scheduler
kube_config "$TMP/kubeconfig"
export KUBECONFIG="$TMP/kubeconfig"
k() { timeout 30 kubectl "$@"; }
apply() { k apply --server-side --force-conflicts -f - >>"$TMP/apply.out" 2>&1 || fail "apply: $(tail -5 "$TMP/apply.out")"; }
# until_has TEXT KUBECTL-ARGS...: waits until the kubectl output contains TEXT
# (the loop reacts within a few tenths of a second; no fixed sleeps).
until_has() {
	local text=$1
	shift
	wait_for bash -c 'timeout 20 kubectl "$@" 2>/dev/null | grep -qF -- "$0"' "$text" "$@" ||
		fail "no '$text' in 'kubectl $*':
$(k "$@" 2>&1 | tail -25)"
}
# node NAME TYPE ZONE IP PODS MEMORY: a Node as EKS reports it.
node() {
	cat <<J
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "$1", "labels": {
  "node.kubernetes.io/instance-type": "$2", "topology.kubernetes.io/zone": "$3", "kubernetes.io/arch": "amd64",
  "kubernetes.io/os": "linux", "kubernetes.io/hostname": "$1"}},
 "spec": {"providerID": "aws:///$3/i-0$RANDOM"},
 "status": {"capacity": {"cpu": "2", "memory": "926Mi", "pods": "$5"},
  "allocatable": {"cpu": "1930m", "memory": "$6", "pods": "$5"},
  "addresses": [{"type": "InternalIP", "address": "$4"}, {"type": "Hostname", "address": "$1"}],
  "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
  "nodeInfo": {"kubeletVersion": "v1.32.3-eks-473151a", "osImage": "Amazon Linux 2023.7.20250414",
   "kernelVersion": "6.1.132-147.221.amzn2023.x86_64", "containerRuntimeVersion": "containerd://1.7.27"}}}
J
}

# ---- the cluster: 2 x t3.micro (4 pods, 2 pod IPs each), default add-ons ----
ctl objects "[$(node node-a t3.micro us-east-1a 192.168.10.11 4 541Mi), $(node node-b t3.micro us-east-1b 192.168.40.12 4 541Mi)]"
apply <<'Y'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: aws-node, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: aws-node}}
  template:
    metadata: {labels: {k8s-app: aws-node}}
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
      containers: [{name: aws-node, image: 602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.19.2,
                    resources: {requests: {cpu: 25m}}, ports: [{containerPort: 61678, name: metrics}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-proxy}}
  template:
    metadata: {labels: {k8s-app: kube-proxy}}
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
      containers: [{name: kube-proxy, image: 602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.32.0,
                    resources: {requests: {cpu: 100m}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  replicas: 2
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      priorityClassName: system-cluster-critical
      containers: [{name: coredns, image: 602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.4,
                    resources: {requests: {cpu: 100m, memory: 70Mi}, limits: {memory: 170Mi}}}]
Y
k -n kube-system rollout status deployment/coredns --timeout=20s >"$TMP/rs.out" 2>&1 || fail "coredns rollout: $(cat "$TMP/rs.out")"
for ds in aws-node kube-proxy; do
	k -n kube-system rollout status "daemonset/$ds" --timeout=20s >"$TMP/rs.out" 2>&1 || fail "$ds rollout: $(cat "$TMP/rs.out")"
	grep -q "daemon set \"$ds\" successfully rolled out" "$TMP/rs.out" || fail "$ds rollout output: $(cat "$TMP/rs.out")"
done
# hostNetwork pods carry the node IP; coredns spreads one per node with a pod IP from the node's subnet.
k -n kube-system get pods -o wide >"$TMP/ks.out"
for n in node-a:192.168.10 node-b:192.168.40; do
	[ "$(grep -cE "^(aws-node|kube-proxy)-[a-z0-9]+ +1/1 +Running +0 .* ${n#*:}\.1[12] +${n%%:*} " "$TMP/ks.out")" = 2 ] ||
		fail "hostNetwork pods on ${n%%:*}: $(cat "$TMP/ks.out")"
	[ "$(grep -cE "^coredns-[a-z0-9]+-[a-z0-9]+ +1/1 +Running +0 .* ${n#*:}\.[0-9]+ +${n%%:*} " "$TMP/ks.out")" = 1 ] ||
		fail "coredns on ${n%%:*}: $(cat "$TMP/ks.out")"
done

# ---- the agent DaemonSet (hostNetwork, port 8275) takes the 4th slot everywhere ----
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n' | apply
agent_ds() {
	cat <<Y
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: heliograph-agent, namespace: monitoring}
spec:
  selector: {matchLabels: {app: heliograph-agent}}
  template:
    metadata: {labels: {app: heliograph-agent}}
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      nodeSelector: {kubernetes.io/os: linux}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: heliograph.io/stack, operator: DoesNotExist}]}]
      containers:
      - name: agent
        image: heliograph/agent:$1
        ports: [{containerPort: 8275, name: health}]
        resources: {requests: {cpu: 50m, memory: 40Mi}, limits: {memory: 100Mi}}
Y
}
agent_ds 0.1.0 | apply
k -n monitoring rollout status daemonset/heliograph-agent --timeout=20s >"$TMP/rs.out" 2>&1 || fail "agent rollout: $(cat "$TMP/rs.out")"
k -n monitoring get pods -o wide >"$TMP/agent.out"
grep -qE "^heliograph-agent-[a-z0-9]+ +1/1 +Running +0 .* 192\.168\.10\.11 +node-a " "$TMP/agent.out" || fail "agent on node-a: $(cat "$TMP/agent.out")"
grep -qE "^heliograph-agent-[a-z0-9]+ +1/1 +Running +0 .* 192\.168\.40\.12 +node-b " "$TMP/agent.out" || fail "agent on node-b: $(cat "$TMP/agent.out")"

# ---- the stack pod: its nodeSelector matches no node yet, then every node is full ----
stack() {
	cat <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: heliograph-stack, namespace: monitoring}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: heliograph-stack}}
  template:
    metadata: {labels: {app: heliograph-stack}}
    spec:
      nodeSelector: {kubernetes.io/os: linux, heliograph.io/stack: "true"}
      containers:
      - {name: influxdb, image: "influxdb:$1", resources: {requests: {cpu: 100m, memory: 200Mi}}}
      - {name: grafana, image: grafana/grafana:11.6.0, resources: {requests: {cpu: 50m, memory: 100Mi}}}
Y
}
stack 1.11.8 | apply
until_has "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling." \
	-n monitoring get events --field-selector reason=FailedScheduling
until_has "Pending" -n monitoring get pods -l app=heliograph-stack
k -n monitoring get pods -l app=heliograph-stack -o jsonpath='{.items[0].status.conditions[?(@.type=="PodScheduled")].reason}' |
	grep -qx Unschedulable || fail "PodScheduled reason: $(k -n monitoring get pods -l app=heliograph-stack -o yaml)"

# A DaemonSet-pinned pod on a full node: the real EKS wording of a full node.
k -n monitoring run extra --image=busybox --overrides='{"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["node-a"]}]}]}}}}}' >/dev/null ||
	fail "kubectl run"
until_has "0/2 nodes are available: 1 Too many pods, 1 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling." \
	-n monitoring describe pod extra
k -n monitoring delete pod extra >/dev/null || fail "delete extra"

# Labelling node-b for the stack: its agent pod goes (DoesNotExist), the stack pod takes the slot.
k label node node-b heliograph.io/stack=true >/dev/null || fail "label"
k -n monitoring rollout status deployment/heliograph-stack --timeout=20s >"$TMP/rs.out" 2>&1 || fail "stack rollout: $(cat "$TMP/rs.out")"
grep -q 'deployment "heliograph-stack" successfully rolled out' "$TMP/rs.out" || fail "rollout output: $(cat "$TMP/rs.out")"
k -n monitoring get pods -o wide >"$TMP/mon.out"
grep -qE "^heliograph-stack-[a-z0-9]+-[a-z0-9]+ +2/2 +Running +0 .* 192\.168\.40\.[0-9]+ +node-b " "$TMP/mon.out" || fail "stack pod: $(cat "$TMP/mon.out")"
[ "$(grep -c '^heliograph-agent-' "$TMP/mon.out")" = 1 ] || fail "agent pods after labelling: $(cat "$TMP/mon.out")"
k -n monitoring rollout status daemonset/heliograph-agent --timeout=20s >/dev/null 2>&1 || fail "agent rollout after label"
[ "$(k -n monitoring get ds heliograph-agent -o jsonpath='{.status.desiredNumberScheduled}/{.status.numberAvailable}')" = 1/1 ] ||
	fail "agent status: $(k -n monitoring get ds heliograph-agent -o yaml)"
k -n monitoring describe pod -l app=heliograph-stack >"$TMP/desc.out"
for want in "Successfully assigned monitoring/heliograph-stack-" 'Pulling image "influxdb:1.11.8"' \
	'Successfully pulled image "grafana/grafana:11.6.0" in' "Created container: influxdb" "Started container grafana"; do
	grep -qF -- "$want" "$TMP/desc.out" || fail "describe lacks '$want': $(cat "$TMP/desc.out")"
done
[ "$(k -n monitoring get rs -l app=heliograph-stack -o jsonpath='{.items[0].metadata.annotations.deployment\.kubernetes\.io/revision}')" = 1 ] ||
	fail "revision 1"

# A changed template (Recreate) replaces the pod: revision 2, the old ReplicaSet at 0.
stack 1.11.9 | apply
k -n monitoring rollout status deployment/heliograph-stack --timeout=20s >"$TMP/rs.out" 2>&1 || fail "stack re-rollout: $(cat "$TMP/rs.out")"
k -n monitoring get rs -o wide >"$TMP/rs2.out"
grep -qE "^heliograph-stack-[a-z0-9]+ +1 +1 +1 .*influxdb:1\.11\.9" "$TMP/rs2.out" || fail "new rs: $(cat "$TMP/rs2.out")"
grep -qE "^heliograph-stack-[a-z0-9]+ +0 +0 +0 .*influxdb:1\.11\.8" "$TMP/rs2.out" || fail "old rs: $(cat "$TMP/rs2.out")"
[ "$(k -n monitoring get deploy heliograph-stack -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 2 ] ||
	fail "deployment revision 2"
# The DaemonSet's rolling update replaces its pod too.
agent_ds 0.1.1 | apply
k -n monitoring rollout status daemonset/heliograph-agent --timeout=20s >/dev/null 2>&1 || fail "agent re-rollout"
until_has "heliograph/agent:0.1.1" -n monitoring get pods -l app=heliograph-agent -o jsonpath='{.items[*].spec.containers[0].image}'

# ---- two more nodes: node-c runs with a max-pods above its 2 pod IPs, node-d is a t3.small ----
ctl objects "[$(node node-c t3.micro us-east-1a 192.168.11.13 17 541Mi), $(node node-d t3.small us-east-1b 192.168.41.14 11 1392Mi)]"
k -n monitoring rollout status daemonset/heliograph-agent --timeout=20s >/dev/null 2>&1 || fail "agent on the new nodes"
[ "$(k -n monitoring get ds heliograph-agent -o jsonpath='{.status.numberAvailable}')" = 3 ] || fail "agent on 3 nodes"

# Insufficient memory.
apply <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: hog, namespace: monitoring}
spec:
  nodeSelector: {kubernetes.io/hostname: node-c}
  containers: [{name: hog, image: busybox, resources: {requests: {memory: 600Mi}}}]
Y
until_has "0/4 nodes are available: 1 Insufficient memory, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling." \
	-n monitoring describe pod hog

# No pod IP left on node-c: the third pod-network pod stays ContainerCreating.
apply <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: ipdemo, namespace: monitoring}
spec:
  replicas: 3
  selector: {matchLabels: {app: ipdemo}}
  template:
    metadata: {labels: {app: ipdemo}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-c}
      containers: [{name: app, image: nginx:1.27, resources: {requests: {cpu: 10m, memory: 10Mi}}}]
Y
until_has "ContainerCreating" -n monitoring get pods -l app=ipdemo
until_has "add cmd: failed to assign an IP address to container" -n monitoring get events --field-selector reason=FailedCreatePodSandBox
k -n monitoring get pods -l app=ipdemo -o wide >"$TMP/ip.out"
[ "$(grep -cE ' 1/1 +Running .* 192\.168\.11\.[0-9]+ +node-c ' "$TMP/ip.out")" = 2 ] || fail "2 pods with IPs: $(cat "$TMP/ip.out")"
grep -qE ' 0/1 +ContainerCreating .* <none> +node-c ' "$TMP/ip.out" || fail "ContainerCreating: $(cat "$TMP/ip.out")"
k -n monitoring describe pod "$(grep ContainerCreating "$TMP/ip.out" | cut -d' ' -f1)" >"$TMP/desc.out"
grep -qE 'Warning +FailedCreatePodSandBox .* kubelet +Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="aws-cni" name="aws-cni" failed \(add\): add cmd: failed to assign an IP address to container' "$TMP/desc.out" ||
	fail "sandbox event: $(cat "$TMP/desc.out")"
k -n monitoring rollout status deployment/ipdemo --timeout=1s >/dev/null 2>&1 && fail "ipdemo rolled out without IPs"
k -n monitoring delete deployment ipdemo >/dev/null || fail "delete ipdemo"
wait_for bash -c '[ -z "$(kubectl -n monitoring get pods -l app=ipdemo -o name)" ]' || fail "ipdemo pods not collected"

# Taints and cordoning.
k taint node node-d dedicated=db:NoSchedule >/dev/null || fail "taint"
k -n monitoring run tainted --image=busybox --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-d"}}}' >/dev/null || fail "run tainted"
until_has "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 3 node(s) didn't match Pod's node affinity/selector." \
	-n monitoring describe pod tainted
k taint node node-d dedicated=db:NoSchedule- >/dev/null || fail "untaint"
until_has "Running" -n monitoring get pod tainted
k cordon node-d >/dev/null || fail "cordon"
k -n monitoring run cordoned --image=busybox --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-d"}}}' >/dev/null || fail "run cordoned"
until_has "0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector." \
	-n monitoring describe pod cordoned
k uncordon node-d >/dev/null || fail "uncordon"
until_has "Running" -n monitoring get pod cordoned
k -n monitoring delete pod tainted cordoned hog >/dev/null || fail "delete pods"

# ---- volumes ----
# No class and no default class: Pending with FailedBinding; its pod cannot be scheduled.
apply <<'Y'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: noclass, namespace: monitoring}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: noclass-user, namespace: monitoring}
spec:
  containers: [{name: app, image: busybox}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: noclass}}]
Y
until_has "no persistent volumes available for this claim and no storage class is set" -n monitoring describe pvc noclass
k -n monitoring get pvc noclass | grep -qE '^noclass +Pending ' || fail "pvc Pending: $(k -n monitoring get pvc)"
until_has "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling." \
	-n monitoring describe pod noclass-user

# EKS's gp2 class (in-tree provisioner, migrated to ebs.csi.aws.com) without the driver: ExternalProvisioning.
apply <<'Y'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: gp2}
provisioner: kubernetes.io/aws-ebs
parameters: {type: gp2, fsType: ext4}
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ebs, namespace: monitoring}
spec: {accessModes: [ReadWriteOnce], storageClassName: gp2, resources: {requests: {storage: 2Gi}}}
Y
until_has "waiting for first consumer to be created before binding" -n monitoring describe pvc ebs
apply <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: ebs-user, namespace: monitoring}
spec:
  nodeSelector: {kubernetes.io/hostname: node-d}
  containers: [{name: app, image: busybox}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: ebs}}]
Y
until_has "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered." \
	-n monitoring describe pvc ebs
[ "$(k -n monitoring get pvc ebs -o jsonpath='{.metadata.annotations.volume\.kubernetes\.io/selected-node}')" = node-d ] || fail "selected-node"
# The driver installed but without an IAM role: ProvisioningFailed UnauthorizedOperation, the pod not bound.
ctl behaviour '{"ebsProvisioning": "unauthorized"}'
apply <<'Y'
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: ebs.csi.aws.com}
spec: {attachRequired: true, podInfoOnMount: false}
Y
until_has 'failed to provision volume with StorageClass "gp2": rpc error: code = Internal desc = Could not create volume "pvc-' \
	-n monitoring get events --field-selector involvedObject.name=ebs,reason=ProvisioningFailed
until_has "could not create volume in EC2: operation error EC2: CreateVolume, https response error StatusCode: 403" \
	-n monitoring describe pvc ebs
until_has "api error UnauthorizedOperation: You are not authorized to perform this operation." -n monitoring describe pvc ebs
until_has 'External provisioner is provisioning volume for claim "monitoring/ebs"' -n monitoring describe pvc ebs
until_has 'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "ebs"' \
	-n monitoring describe pod ebs-user
k -n monitoring get pod ebs-user -o jsonpath='{.spec.nodeName}' | grep -q . && fail "ebs-user bound without its volume"
# With the role: provisioned in the node's zone, bound, the pod runs there.
ctl behaviour '{"ebsProvisioning": "ok"}'
until_has "Successfully provisioned volume pvc-" -n monitoring describe pvc ebs
until_has "Running" -n monitoring get pod ebs-user
k -n monitoring get pvc ebs | grep -qE '^ebs +Bound +pvc-[0-9a-f-]+ +2Gi +RWO +gp2 ' || fail "pvc Bound: $(k -n monitoring get pvc ebs)"
pv=$(k -n monitoring get pvc ebs -o jsonpath='{.spec.volumeName}')
[ "$(k get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key}={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} {.spec.csi.driver}')" = "topology.kubernetes.io/zone=us-east-1b ebs.csi.aws.com" ] ||
	fail "pv: $(k get pv "$pv" -o yaml)"
k get pv | grep -qE "^$pv +2Gi +RWO +Delete +Bound +monitoring/ebs +gp2 " || fail "get pv: $(k get pv)"

# A node-local volume on a full node: Too many pods there and on node-b (resources are checked before
# volumes), volume node affinity conflict on the two nodes with room.
apply <<'Y'
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-a}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: heliograph-node
  hostPath: {path: /var/lib/heliograph/monitoring/influxdb, type: DirectoryOrCreate}
  claimRef: {namespace: monitoring, name: local}
  nodeAffinity:
    required:
      nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-a]}]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: local, namespace: monitoring}
spec: {accessModes: [ReadWriteOnce], storageClassName: heliograph-node, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: local-user, namespace: monitoring}
spec:
  containers: [{name: app, image: busybox}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: local}}]
Y
until_has "Bound" -n monitoring get pvc local
until_has "0/4 nodes are available: 2 Too many pods, 2 node(s) had volume node affinity conflict. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling." \
	-n monitoring get events --field-selector involvedObject.name=local-user
k -n monitoring delete pod local-user >/dev/null || fail "delete local-user"

# ---- container failures on node-d ----
# ErrImagePull lasts only until the kubelet's first back-off (0.3 s in the stand-in): a watch
# sees it, polling with kubectl under load can miss it. The watch lists before the pods exist.
timeout 120 kubectl -n monitoring get pods -w >"$TMP/fail.watch" 2>&1 &
fwatch=$!
wait_for grep -qE "^NAME |No resources found" "$TMP/fail.watch" || fail "get -w: no list: $(cat "$TMP/fail.watch")"
ctl behaviour '{"rules": [{"image": "docker.io/heliograph/agent:9.9.9", "fail": "pull"},
	{"container": "crasher", "fail": "crash", "exitCode": 2}, {"container": "eater", "fail": "oom"}]}'
apply <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: pull, namespace: monitoring}
spec:
  nodeSelector: {kubernetes.io/hostname: node-d}
  containers: [{name: agent, image: heliograph/agent:9.9.9}]
---
apiVersion: v1
kind: Pod
metadata: {name: crash, namespace: monitoring}
spec:
  nodeSelector: {kubernetes.io/hostname: node-d}
  containers: [{name: crasher, image: busybox:1.36}]
---
apiVersion: v1
kind: Pod
metadata: {name: oom, namespace: monitoring}
spec:
  nodeSelector: {kubernetes.io/hostname: node-d}
  containers: [{name: eater, image: busybox:1.36, resources: {limits: {memory: 64Mi}}}]
Y
wait_for grep -qE '^pull +0/1 +ImagePullBackOff ' "$TMP/fail.watch" || fail "pull: no ImagePullBackOff: $(grep '^pull ' "$TMP/fail.watch")"
awk '/^pull +0\/1 +ErrImagePull / && !e { e = NR } /^pull +0\/1 +ImagePullBackOff / && !b { b = NR } END { exit !(e && e < b) }' "$TMP/fail.watch" ||
	fail "pull: ErrImagePull not seen before ImagePullBackOff: $(grep '^pull ' "$TMP/fail.watch")"
kill "$fwatch" 2>/dev/null || true
wait "$fwatch" 2>/dev/null || true
until_has "ImagePullBackOff" -n monitoring get pod pull
k -n monitoring describe pod pull >"$TMP/desc.out"
for want in 'Failed to pull image "heliograph/agent:9.9.9": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/heliograph/agent:9.9.9": failed to resolve reference "docker.io/heliograph/agent:9.9.9": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed' \
	"Error: ErrImagePull" 'Back-off pulling image "heliograph/agent:9.9.9"' "Error: ImagePullBackOff"; do
	grep -qF -- "$want" "$TMP/desc.out" || fail "pull describe lacks '$want': $(cat "$TMP/desc.out")"
done
until_has "CrashLoopBackOff" -n monitoring get pod crash
# (a crash loop passes through Running and Error too: wait for the back-off state itself)
crash_ok() {
	k -n monitoring get pod crash -o json >"$TMP/crash.json" || return 1
	python3 - "$TMP/crash.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = p["status"]["containerStatuses"][0]
w = c["state"]["waiting"]
assert w["reason"] == "CrashLoopBackOff", c
assert w["message"].startswith("back-off ") and "restarting failed container=crasher pod=crash_monitoring(%s)" % p["metadata"]["uid"] in w["message"], w
t = c["lastState"]["terminated"]
assert t["reason"] == "Error" and t["exitCode"] == 2, t
assert c["restartCount"] >= 1 and not c["ready"], c
assert p["status"]["phase"] == "Running", p["status"]["phase"]
PY
}
wait_for crash_ok || fail "crash status: $(cat "$TMP/crash.json")"
until_has "Back-off restarting failed container crasher in pod crash_monitoring(" -n monitoring get events --field-selector involvedObject.name=crash
until_has "OOMKilled" -n monitoring get pod oom -o jsonpath='{.status.containerStatuses[0].lastState.terminated.reason}'
until_has "CrashLoopBackOff" -n monitoring get pod oom
k -n monitoring describe pod oom >"$TMP/desc.out"
grep -qE "Last State: +Terminated" "$TMP/desc.out" && grep -qE "Reason: +OOMKilled" "$TMP/desc.out" &&
	grep -qE "Exit Code: +137" "$TMP/desc.out" || fail "oom describe: $(cat "$TMP/desc.out")"
# The fixes: the image exists and the containers stop failing; the kubelet's next retries succeed.
ctl behaviour '{"rules": []}'
for p in pull crash oom; do
	until_has "true" -n monitoring get pod "$p" -o jsonpath='{.status.containerStatuses[0].ready}'
done
k -n monitoring get pods pull crash oom >"$TMP/fixed.out"
[ "$(grep -cE ' 1/1 +Running ' "$TMP/fixed.out")" = 3 ] || fail "after the fixes: $(cat "$TMP/fixed.out")"

# What pods refer to by name: every namespace has its default ServiceAccount and kube-root-ca.crt;
# a missing ServiceAccount refuses the ReplicaSet's pods (FailedCreate), a missing ConfigMap volume
# keeps the pod ContainerCreating (FailedMount), a missing Secret key stops the container
# (CreateContainerConfigError); each clears once the object is there.
k -n monitoring get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}' | grep -q "BEGIN CERTIFICATE" || fail "kube-root-ca.crt"
k -n monitoring get serviceaccount default -o name >/dev/null || fail "default ServiceAccount"
apply <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: refs, namespace: monitoring}
spec:
  replicas: 1
  selector: {matchLabels: {app: refs}}
  template:
    metadata: {labels: {app: refs}}
    spec:
      serviceAccountName: refs-sa
      nodeSelector: {kubernetes.io/hostname: node-d}
      containers:
      - name: app
        image: busybox:1.36
        env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: refs-secret, key: token}}}]
        volumeMounts: [{name: conf, mountPath: /etc/refs}]
      volumes: [{name: conf, configMap: {name: refs-config}}]
Y
until_has 'Error creating: pods "refs-' -n monitoring get events --field-selector reason=FailedCreate
until_has 'is forbidden: error looking up service account monitoring/refs-sa: serviceaccount "refs-sa" not found' \
	-n monitoring get events --field-selector reason=FailedCreate
printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: refs-sa, namespace: monitoring}\n' | apply
until_has 'MountVolume.SetUp failed for volume "conf" : configmap "refs-config" not found' -n monitoring describe pod -l app=refs
k -n monitoring get pods -l app=refs | grep -qE ' 0/1 +ContainerCreating ' || fail "refs pod: $(k -n monitoring get pods -l app=refs)"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: refs-config, namespace: monitoring}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: refs-secret, namespace: monitoring}\nstringData: {other: x}\n' | apply
until_has CreateContainerConfigError -n monitoring get pods -l app=refs
until_has "Error: couldn't find key token in Secret monitoring/refs-secret" -n monitoring describe pod -l app=refs
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: refs-secret, namespace: monitoring}\nstringData: {token: t}\n' | apply
k -n monitoring rollout status deployment/refs --timeout=20s >/dev/null 2>&1 || fail "refs after the fixes: $(k -n monitoring describe pod -l app=refs | tail)"
k -n monitoring delete deployment refs >/dev/null || fail "delete refs"

# A rolling update whose new pod cannot start: the old pod stays, rollout status waits, then
# reports the progress deadline (2 s here).
roll() {
	cat <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: roll, namespace: monitoring}
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector: {matchLabels: {app: roll}}
  template:
    metadata: {labels: {app: roll}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-d}
      containers: [{name: app, image: "$1", resources: {requests: {cpu: 10m, memory: 10Mi}}}]
Y
}
roll nginx:1.27 | apply
k -n monitoring rollout status deployment/roll --timeout=20s >/dev/null 2>&1 || fail "roll v1"
ctl behaviour '{"rules": [{"image": "nginx:1.99", "fail": "pull"}]}'
roll nginx:1.99 | apply
out=$(k -n monitoring rollout status deployment/roll --timeout=20s 2>&1) && fail "rollout of an unpullable image succeeded: $out"
grep -q 'Waiting for deployment "roll" rollout to finish: 1 old replicas are pending termination' <<<"$out" ||
	fail "rollout wait message: $out"
grep -q 'error: deployment "roll" exceeded its progress deadline' <<<"$out" || fail "progress deadline: $out"
k -n monitoring get deploy roll -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}' | grep -qx ProgressDeadlineExceeded ||
	fail "Progressing condition: $(k -n monitoring get deploy roll -o yaml)"
k -n monitoring get pods -l app=roll >"$TMP/roll.out"
grep -qE '^roll-[a-z0-9]+-[a-z0-9]+ +1/1 +Running ' "$TMP/roll.out" && grep -qE ' 0/1 +(ErrImagePull|ImagePullBackOff) ' "$TMP/roll.out" ||
	fail "old pod kept, new one failing: $(cat "$TMP/roll.out")"
old_roll=$(grep -E ' 1/1 +Running ' "$TMP/roll.out" | cut -d' ' -f1)
# Fixed: the next pull succeeds, the old pod goes, Progressing turns NewReplicaSetAvailable.
ctl behaviour '{"rules": []}'
until_has NewReplicaSetAvailable -n monitoring get deploy roll -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
k -n monitoring rollout status deployment/roll --timeout=20s >/dev/null 2>&1 || fail "roll v2 after the fix"
# The rollout is complete once the old pod is Terminating; as on a cluster it is listed
# until its grace period is over (at most 1 s here), so its deletion is awaited.
k -n monitoring wait --for=delete "pod/$old_roll" --timeout=20s >/dev/null || fail "old roll pod $old_roll not deleted"
[ "$(k -n monitoring get pods -l app=roll -o jsonpath='{.items[*].spec.containers[0].image}')" = nginx:1.99 ] ||
	fail "roll pods: $(k -n monitoring get pods -l app=roll)"

# A NotReady node keeps the not-ready taint: the agent (no toleration) skips it, aws-node (tolerates all) runs.
ctl objects "$(node node-e t3.micro us-east-1a 192.168.12.15 4 541Mi | sed 's/"status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"/"status": "False", "reason": "KubeletNotReady", "message": "container runtime network not ready"/')"
until_has "node-e" -n kube-system get pods -l k8s-app=aws-node -o wide
k -n monitoring run notready --image=busybox --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-e"}}}' >/dev/null || fail "run notready"
until_has "0/5 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 4 node(s) didn't match Pod's node affinity/selector." \
	-n monitoring describe pod notready
k -n monitoring get pods -l app=heliograph-agent -o wide | grep -q node-e && fail "agent on the NotReady node"
k get nodes | grep -qE '^node-e +NotReady ' || fail "get nodes: $(k get nodes)"

# kubectl get -w prints the same columns for the watch events (one-row Tables).
timeout 30 kubectl -n monitoring get pods -w >"$TMP/watch.out" 2>&1 &
WATCH=$!
# The watch starts after its list is printed: the pod comes after that, so every state of it is seen.
wait_for grep -q "^NAME " "$TMP/watch.out" || fail "get -w: no list: $(cat "$TMP/watch.out")"
k -n monitoring run watched --image=busybox --overrides='{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-d"}}}' >/dev/null || fail "run watched"
wait_for grep -qE '^watched +1/1 +Running +0 ' "$TMP/watch.out" || fail "get -w: $(cat "$TMP/watch.out")"
grep -qE '^watched +0/1 +(Pending|ContainerCreating) ' "$TMP/watch.out" || fail "get -w states: $(cat "$TMP/watch.out")"
kill "$WATCH" 2>/dev/null || true

# Every pod on node-a..d within its slots and IPs.
k get pods -A -o json >"$TMP/all.json"
k get nodes -o json >"$TMP/nodes.json"
python3 - "$TMP/all.json" "$TMP/nodes.json" <<'PY' || fail "capacity check"
import json, sys
pods = json.load(open(sys.argv[1]))["items"]
nodes = {n["metadata"]["name"]: n for n in json.load(open(sys.argv[2]))["items"]}
ips = {"node-a": 2, "node-b": 2, "node-c": 2, "node-d": 9, "node-e": 2}
for name, n in nodes.items():
    on = [p for p in pods if p["spec"].get("nodeName") == name]
    assert len(on) <= int(n["status"]["allocatable"]["pods"]), (name, len(on))
    with_ip = [p for p in on if not p["spec"].get("hostNetwork") and p["status"].get("podIP")]
    assert len(with_ip) <= ips[name], (name, [p["metadata"]["name"] for p in with_ip])
PY
k get events -A >/dev/null || fail "get events -A"

# The simulated EKS clusters (eks_clusters.py, when present) stay as loaded under the scheduler:
# no pod added, replaced or moved, and the Pending ebs-csi-controller replica of 3x-t2.micro-ebs
# keeps its FailedScheduling event (the same message, counted again).
EKS="$(dirname "${BASH_SOURCE[0]}")/../servers/eks_clusters.py"
passes() { curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/behaviour" | python3 -c 'import json,sys; print(json.load(sys.stdin)["passes"])'; }
passed() { [ "$(passes)" -ge "$1" ]; }
pods() { k get pods -A --no-headers -o custom-columns='N:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP,P:.status.phase'; }
# Preemption on t3.small+t3.micro-ebs: the t3.micro's 4 slots hold aws-node,
# kube-proxy, ebs-csi-node and a coredns replica (system-cluster-critical). A
# system-node-critical agent DaemonSet preempts that replica (its Preempted
# event names the agent pod's uid and the node; the agent pod is nominated
# there), the ReplicaSet's new replica runs on the t3.small, the agent on the
# t3.micro.
preemption() {
	local micro small uid
	micro=$(k get nodes -l node.kubernetes.io/instance-type=t3.micro -o jsonpath='{.items[0].metadata.name}')
	small=$(k get nodes -l node.kubernetes.io/instance-type=t3.small -o jsonpath='{.items[0].metadata.name}')
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n' | apply
	# The agent pod's states as a watch sees them: Pending, nominated to the t3.micro.
	# (A pod that fits nowhere shows that the watch runs before the DaemonSet comes.)
	timeout 30 kubectl -n monitoring get pods -o wide -w >"$TMP/pre.watch" 2>&1 &
	local watch=$!
	k -n monitoring run sync --image=busybox --overrides='{"spec":{"nodeSelector":{"no":"node"}}}' >/dev/null || fail "$1: run sync"
	wait_for grep -q "^sync " "$TMP/pre.watch" || fail "$1: get -w: $(cat "$TMP/pre.watch")"
	k -n monitoring delete pod sync >/dev/null || fail "$1: delete sync"
	cat <<Y | apply
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: heliograph-agent, namespace: monitoring}
spec:
  selector: {matchLabels: {app: heliograph-agent}}
  template:
    metadata: {labels: {app: heliograph-agent}}
    spec:
      priorityClassName: system-node-critical
      hostNetwork: true
      tolerations: [{operator: Exists}]
      containers:
      - {name: agent, image: heliograph/agent:0.1.0, resources: {requests: {cpu: 20m, memory: 24Mi}}}
Y
	until_has "Preempted by pod " -n kube-system get events --field-selector reason=Preempted -o custom-columns=M:.message
	k -n monitoring rollout status daemonset/heliograph-agent --timeout=20s >/dev/null 2>&1 || fail "$1: agent rollout"
	uid=$(k -n monitoring get pods -o jsonpath="{.items[?(@.spec.nodeName==\"$micro\")].metadata.uid}")
	[ -n "$uid" ] || fail "$1: no agent pod on $micro: $(k -n monitoring get pods -o wide)"
	k -n kube-system get events --field-selector reason=Preempted -o custom-columns='T:.type,O:.involvedObject.name,M:.message' --no-headers >"$TMP/pre.ev"
	grep -qE "^Normal +coredns-[a-z0-9]+-[a-z0-9]+ +Preempted by pod $uid on node $micro\$" "$TMP/pre.ev" && [ "$(wc -l <"$TMP/pre.ev")" = 1 ] ||
		fail "$1: Preempted event: $(cat "$TMP/pre.ev")"
	# Its FailedScheduling says what failed, without a preemption part: preemption nominated a node.
	k -n monitoring get events --field-selector reason=FailedScheduling -o custom-columns=M:.message --no-headers >"$TMP/pre.fs"
	grep -qx "0/2 nodes are available: 1 Too many pods, 1 node(s) didn't satisfy plugin(s) \[NodeAffinity\]." "$TMP/pre.fs" ||
		fail "$1: FailedScheduling: $(cat "$TMP/pre.fs")"
	grep -qE "^heliograph-agent-[a-z0-9]+ +0/1 +Pending +0 .* <none> +<none> +$micro +<none>\$" "$TMP/pre.watch" ||
		fail "$1: agent nominated to $micro: $(cat "$TMP/pre.watch")"
	kill "$watch" 2>/dev/null || true
	wait "$watch" 2>/dev/null || true
	k -n monitoring get pods -o wide --no-headers >"$TMP/pre.mon"
	grep -qE "^heliograph-agent-[a-z0-9]+ +1/1 +Running +0 .* $micro +<none> +<none>\$" "$TMP/pre.mon" ||
		fail "$1: agent on $micro: $(cat "$TMP/pre.mon")"
	dns_on_small() { [ "$(k -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.spec.nodeName}/{.status.phase} {end}')" = "$small/Running $small/Running " ]; }
	wait_for dns_on_small || fail "$1: coredns: $(k -n kube-system get pods -l k8s-app=kube-dns -o wide)"
}
if [ -f "$EKS" ]; then
	for s in $(python3 "$EKS" --list); do
		kill "${PIDS[-1]}" 2>/dev/null || true
		wait "${PIDS[-1]}" 2>/dev/null || true
		rm -f "$TMP/kube-port"
		kube_start --scheduler
		kube_config "$TMP/kubeconfig"
		python3 "$EKS" "$s" >"$TMP/$s.json" || fail "$s: generator"
		curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/$s.json" >/dev/null || fail "$s: load"
		python3 - "$TMP/$s.json" >"$TMP/$s.before" <<'PY'
import json, sys
for p in sorted((o for o in json.load(open(sys.argv[1])) if o["kind"] == "Pod"), key=lambda o: o["metadata"]["name"]):
    print(p["metadata"]["name"], p["spec"].get("nodeName") or "<none>", p["status"].get("podIP") or "<none>",
          p["status"].get("phase") or "<none>")
PY
		p0=$(passes)
		wait_for passed $((p0 + 5)) || fail "$s: the loop does not run"
		pods | sort | tr -s ' ' >"$TMP/$s.after"
		diff "$TMP/$s.before" "$TMP/$s.after" >"$TMP/$s.diff" || fail "$s: pods changed under the scheduler: $(cat "$TMP/$s.diff")"
		if [ "$s" = 3x-t2.micro-ebs ]; then
			k -n kube-system get events --field-selector reason=FailedScheduling -o custom-columns='C:.count,M:.message' --no-headers >"$TMP/$s.ev"
			[ "$(wc -l <"$TMP/$s.ev")" = 1 ] && grep -q "0/3 nodes are available: 3 Too many pods." "$TMP/$s.ev" ||
				fail "$s: FailedScheduling: $(cat "$TMP/$s.ev")"
		fi
		[ "$s" = t3.small+t3.micro-ebs ] && preemption "$s"
	done
fi
echo "PASS test_kube_scheduler"
