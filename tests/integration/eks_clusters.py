#!/usr/bin/env python3
"""Simulated free-tier EKS clusters, shaped as EKS reports them, for the test API server.

  eks_clusters.py SCENARIO            JSON list of objects for POST /_control/objects
  eks_clusters.py --summary SCENARIO  per node: slots, pod IPs, memory and cpu requests
  eks_clusters.py --list              the scenario names

Scenarios (EKS 1.32, AL2023 managed node groups, us-east-1, eksctl's 192.168.0.0/16 VPC):
  2x-t3.micro             default add-ons: vpc-cni (aws-node DS), kube-proxy DS, coredns 2 replicas;
                          no EBS CSI driver; gp2 StorageClass exists but is not the default (>= 1.30)
  3x-t2.micro             the same add-ons on three t2.micro (Xen, 1 vCPU)
  2x-t4g.micro            the same on arm64
  t3.small+t3.micro-ebs   plus the EBS CSI add-on (ebs-csi-node DS, ebs-csi-controller x2,
                          CSIDriver ebs.csi.aws.com); gp2 is the default class (a cluster created
                          before 1.30 keeps the annotation across upgrades)
  3x-t2.micro-ebs         the EBS CSI add-on on three t2.micro: one ebs-csi-controller replica
                          stays Pending ("Too many pods"); install-stack must refuse this cluster
  2x-t3.micro-eksctl      2x-t3.micro as `eksctl create cluster` makes it since eksctl 0.200
                          (January 2025): plus the metrics-server add-on, 2 replicas on the pod
                          network, so every slot and pod IP is taken

From other Python: scenario(name) -> list of objects, summary(objects) -> per-node usage,
INSTANCE_TYPES, max_pods(t), pod_ips(t), allocatable(t).

Pods are placed as kube-scheduler would: DaemonSet pods on every node first (they tolerate
everything), then the Deployments' pods in creation order (coredns, created with the cluster,
before the EBS CSI controller); a pod goes to a node where it fits (pod count vs allocatable pods,
cpu and memory requests vs allocatable), preferring the node with fewer pods of its own app (both
Deployments carry a preferred podAntiAffinity on kubernetes.io/hostname), then the node with the
larger free share of memory (NodeResourcesFit LeastAllocated). The VPC CNI hands a pod-network pod
a secondary IP of its node; hostNetwork pods have the node's IP and use none. Output is
deterministic (names, uids, IPs derive from the scenario), so tests can compare runs.

Facts and their sources (repo, path, commit), numbers only, nothing copied:
- Max pods = ENIs x (IPv4 per ENI - 1) + 2; the ENI/IP table: awslabs/amazon-eks-ami
  nodeadm/internal/kubelet/instance-info.jsonl and eni_max_pods.go calculateStandardMaxPods
  (commit 81fec2e895854f599974fe4d3d72f61c0a9aaffa; instance-info.jsonl last changed in
  4d63a3bc2d86958490e0e0e2a04eba69da4c45db). Without custom networking or prefix delegation a pod
  on the pod network takes one secondary IPv4: ENIs x (IPv4 per ENI - 1) of them.
- kube-reserved memory = 11Mi x maxPods + 255Mi; kube-reserved cpu = 6% of the first core, 1% of
  the second, 0.5% of cores 3-4, 0.25% above; kube-reserved ephemeral-storage 1Gi; evictionHard
  memory.available 100Mi, nodefs.available 10%; no system-reserved: awslabs/amazon-eks-ami
  nodeadm/internal/kubelet/config.go (getMemoryMebibytesToReserve, getCPUMillicoresToReserve,
  withDefaultReservedResources, defaultKubeletSubConfig), commit 6caf8311a3c6a8da71ac7e5e83f9c2e06287039a.
- aws-node: DaemonSet, hostNetwork, system-node-critical, tolerations [operator Exists], containers
  aws-node and aws-eks-nodeagent cpu 25m each (no memory request), init aws-vpc-cni-init cpu 25m,
  required nodeAffinity os linux, arch amd64/arm64, compute-type NotIn fargate/hybrid/auto:
  aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml and charts/aws-vpc-cni/values.yaml,
  commit b52188387f2e2f10bf289ace929d6a63b176a4fa.
- ebs-csi-node: DaemonSet, hostNetwork false (so a pod IP), system-node-critical, tolerate all
  taints; ebs-plugin 10m/40Mi (limit 256Mi), node-driver-registrar and liveness-probe 10m/32Mi
  (limit 32Mi) = 30m/104Mi per node. ebs-csi-controller: 2 replicas, system-cluster-critical,
  nodeSelector os linux, preferred podAntiAffinity on hostname (weight 100), tolerations
  CriticalAddonsOnly and NoExecute 300s, maxUnavailable 1; ebs-plugin, csi-provisioner,
  csi-attacher, csi-resizer 10m/40Mi (limit 256Mi) and liveness-probe 10m/32Mi = 50m/192Mi per
  replica (csi-snapshotter only with the snapshot CRDs, volumemodifier off by default).
  CSIDriver ebs.csi.aws.com attachRequired true, podInfoOnMount false, fsGroupPolicy File:
  kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver (values.yaml, templates/_node.tpl,
  controller.yaml, csidriver.yaml), chart 2.64.0, commit 429e202e589798e55c0f8ddcc81b2850b7f000d0.
- coredns: 2 replicas regardless of node count (EKS user guide, coredns-autoscaling / managing
  coredns); requests cpu 100m memory 70Mi, limit memory 170Mi, system-cluster-critical,
  toleration CriticalAddonsOnly: coredns/deployment kubernetes/coredns.yaml.sed (commit
  000c366e86407ad55a502d31e9134a616aad6d3f). The EKS add-on's Deployment differs in using a
  *preferred* podAntiAffinity (weight 100) and a node affinity on os/arch, and adds the
  control-plane NoSchedule toleration and a zone topologySpreadConstraint (ScheduleAnyway): as
  the add-on renders it on a cluster, not checked against a primary source here.
- kube-proxy: DaemonSet, hostNetwork, system-node-critical, tolerations [operator Exists], cpu
  100m (the upstream kube-proxy DaemonSet's request, which the EKS add-on keeps; no memory request).
- metrics-server: eksctl installs the metrics-server EKS add-on by default since eksctl-io/eksctl
  PR 8118 (merged January 2025; issue 8652 and PR 8653, 2026: intentional, kept); the add-on runs
  2 replicas (a 1-node eksctl t2.micro cluster shows both metrics-server pods Running and coredns
  Pending "Too many pods": velog.io/@yulmwu/kubernetes-eks-max-pods) and serves on containerPort
  10251 (EKS user guide, metrics-server page, as quoted in terraform-aws-modules/terraform-aws-eks
  issue 3557); requests cpu 100m memory 200Mi, system-cluster-critical, not hostNetwork:
  kubernetes-sigs/metrics-server charts/metrics-server/values.yaml (chart 3.13.1), commit
  5ed5d3a2cf940a8c7541cfbac19af822f4c97844.
- eks-pod-identity-agent (not in these scenarios): DaemonSet, hostNetwork true,
  system-node-critical, resources {}: aws/eks-pod-identity-agent charts/eks-pod-identity-agent,
  commit d4dc0f3fedd795b26ac88755238867a2110c7460.
- Starting with 1.30 EKS no longer puts the default annotation on the gp2 StorageClass
  (provisioner kubernetes.io/aws-ebs, type gp2, fsType ext4): awsdocs/amazon-eks-user-guide
  latest/ug/clusters/kubernetes-versions-standard.adoc and latest/ug/storage/YAML/gp2-storage-class.yaml,
  commit 4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7.
- MemTotal: EC2 does not publish the kernel's figure. The one published number used: t4g.small
  allocatable 1408312Ki (aws/karpenter-provider-aws issue 3937), i.e. capacity 1895736Ki =
  1408312Ki + (255 + 11 x 11 + 100)Mi, 2 GiB less 197Mi. The micro types' MemTotal below are
  1 GiB less a similar kernel share (about 65-100Mi); their allocatable, 524-559Mi, lies in the
  520-580Mi the issue reports. Treat the micro MemTotals as realistic, not measured.
"""
import hashlib
import json
import sys
import uuid

REGION = "us-east-1"
K8S_VERSION = "v1.32.3-eks-473151a"
OS_IMAGE = "Amazon Linux 2023.7.20250512"
KERNEL = "6.1.134-152.225.amzn2023"
RUNTIME = "containerd://1.7.27"
ECR = "602401143452.dkr.ecr.%s.amazonaws.com" % REGION
T0 = "2026-12-01T09:00:00Z"   # cluster creation
T1 = "2026-12-01T09:12:30Z"   # nodes joined, add-on pods started
DISK_KI = 20893676            # the managed node group's default 20 GiB root volume, as xfs reports it

# type -> ENIs, IPv4 per ENI (instance-info.jsonl), vCPUs, arch, Nitro, MemTotal in Ki (see above).
INSTANCE_TYPES = {
    "t2.micro":  {"enis": 2, "ipv4_per_eni": 2, "vcpus": 1, "arch": "amd64", "nitro": False, "mem_ki": 980740},
    "t2.small":  {"enis": 3, "ipv4_per_eni": 4, "vcpus": 1, "arch": "amd64", "nitro": False, "mem_ki": 2004640},
    "t3.micro":  {"enis": 2, "ipv4_per_eni": 2, "vcpus": 2, "arch": "amd64", "nitro": True, "mem_ki": 957868},
    "t3.small":  {"enis": 3, "ipv4_per_eni": 4, "vcpus": 2, "arch": "amd64", "nitro": True, "mem_ki": 1961960},
    "t4g.micro": {"enis": 2, "ipv4_per_eni": 2, "vcpus": 2, "arch": "arm64", "nitro": True, "mem_ki": 945572},
    "t4g.small": {"enis": 3, "ipv4_per_eni": 4, "vcpus": 2, "arch": "arm64", "nitro": True, "mem_ki": 1895736},
}
for _t, _i in INSTANCE_TYPES.items():
    _i["max_pods"] = _i["enis"] * (_i["ipv4_per_eni"] - 1) + 2
    _i["pod_ips"] = _i["enis"] * (_i["ipv4_per_eni"] - 1)

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
ZONE_IDS = {"us-east-1a": "use1-az4", "us-east-1b": "use1-az6", "us-east-1c": "use1-az1"}
SUBNET_THIRD_OCTET = {"us-east-1a": 0, "us-east-1b": 32, "us-east-1c": 64}  # eksctl's /19 public subnets

PRIORITY = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
ALPHANUM = "bcdfghjklmnpqrstvwxz2456789"   # the alphabet of generated names and pod-template-hash


def max_pods(t):
    return INSTANCE_TYPES[t]["max_pods"]


def pod_ips(t):
    return INSTANCE_TYPES[t]["pod_ips"]


def kube_reserved_memory_mi(maxpods):
    return 11 * maxpods + 255


def kube_reserved_cpu_m(vcpus):
    total, reserved = vcpus * 1000, 0
    for lo, hi, per10k in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, 1 << 30, 25)):
        if total > lo:
            reserved += (min(total, hi) - lo) * per10k // 10000
    return reserved


def allocatable(t):
    """{'cpu_m', 'memory_ki', 'pods', 'ephemeral_bytes'} as the kubelet computes them."""
    i = INSTANCE_TYPES[t]
    mem = i["mem_ki"] - (kube_reserved_memory_mi(i["max_pods"]) + 100) * 1024
    disk = DISK_KI * 1024
    return {"cpu_m": i["vcpus"] * 1000 - kube_reserved_cpu_m(i["vcpus"]), "memory_ki": mem,
            "pods": i["max_pods"], "ephemeral_bytes": disk - (1 << 30) - disk // 10}


# ---- deterministic names ----
def _h(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _uid(*parts):
    return str(uuid.UUID(_h("uid", *parts)[:32], version=4))


def _suffix(n, *parts):
    d = int(_h("sfx", *parts), 16)
    out = ""
    for _ in range(n):
        d, r = divmod(d, len(ALPHANUM))
        out += ALPHANUM[r]
    return out


# ---- quantities ----
def mem_ki(q):
    """'70Mi' / '1Gi' / '123Ki' / bytes -> Ki."""
    for suf, mul in (("Ki", 1), ("Mi", 1024), ("Gi", 1024 * 1024)):
        if q.endswith(suf):
            return int(q[:-2]) * mul
    return int(q) // 1024


def cpu_m(q):
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def res(cpu=None, mem=None, mem_limit=None):
    r = {}
    if cpu or mem:
        r["requests"] = {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v}
    if mem_limit:
        r["limits"] = {"memory": mem_limit}
    return r


# ---- add-on workloads (see the module docstring for sources) ----
DS_TOLERATIONS = [  # added by the DaemonSet controller to every daemon pod
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
DS_HOSTNET_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}
DEFAULT_TOLERATIONS = [  # DefaultTolerationSeconds admission, on pods that do not tolerate these already
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]
NODE_AFFINITY_EKS = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
        {"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate", "hybrid", "auto"]}]}]}}}


def _container(name, image, resources, ports=(), privileged=False):
    c = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "resources": resources,
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
    if ports:
        c["ports"] = [dict(p) for p in ports]
    if privileged:
        c["securityContext"] = {"privileged": True}
    return c


def aws_node_ds():
    v = "v1.23.1-eksbuild.1"
    spec = {
        "priorityClassName": "system-node-critical", "serviceAccountName": "aws-node", "hostNetwork": True,
        "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 10, "affinity": NODE_AFFINITY_EKS,
        "tolerations": [{"operator": "Exists"}],
        "initContainers": [_container("aws-vpc-cni-init", "%s/amazon-k8s-cni-init:%s" % (ECR, v), res("25m"),
                                      privileged=True)],
        "containers": [
            _container("aws-node", "%s/amazon-k8s-cni:%s" % (ECR, v), res("25m"),
                       [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}]),
            _container("aws-eks-nodeagent", "%s/amazon/aws-network-policy-agent:v1.2.1-eksbuild.1" % ECR, res("25m"),
                       [{"containerPort": 8162, "name": "agentmetrics", "protocol": "TCP"}], privileged=True)],
    }
    # The add-on's default: network policy enforcement off (configuration value
    # enableNetworkPolicy "true" turns it to --enable-network-policy=true).
    spec["containers"][1]["args"] = ["--enable-ipv6=false", "--enable-network-policy=false",
                                     "--enable-cloudwatch-logs=false", "--enable-policy-event-logs=false",
                                     "--metrics-bind-addr=:8162", "--health-probe-bind-addr=:8163"]
    labels = {"app.kubernetes.io/instance": "aws-vpc-cni", "app.kubernetes.io/name": "aws-node", "k8s-app": "aws-node"}
    return _ds("aws-node", labels, {"k8s-app": "aws-node"}, spec, "10%")


def kube_proxy_ds():
    spec = {
        "priorityClassName": "system-node-critical", "serviceAccountName": "kube-proxy", "hostNetwork": True,
        "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30, "affinity": NODE_AFFINITY_EKS,
        "tolerations": [{"operator": "Exists"}],
        "containers": [_container("kube-proxy", "%s/eks/kube-proxy:v1.32.0-minimal-eksbuild.2" % ECR, res("100m"),
                                  privileged=True)],
    }
    labels = {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"}
    return _ds("kube-proxy", labels, {"k8s-app": "kube-proxy"}, spec, "10%")


def ebs_csi_node_ds():
    img = "%s/eks/aws-ebs-csi-driver:v1.64.0" % ECR
    spec = {
        "priorityClassName": "system-node-critical", "serviceAccountName": "ebs-csi-node-sa",
        "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn",
                                   "values": ["fargate", "auto", "hybrid"]}]}]}}},
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "fsGroup": 0},
        "tolerations": [{"operator": "Exists"},
                        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                        {"key": "ebs.csi.aws.com/agent-not-ready", "operator": "Exists"}],
        "containers": [
            _container("ebs-plugin", img, res("10m", "40Mi", "256Mi"),
                       [{"containerPort": 9808, "name": "healthz", "protocol": "TCP"}], privileged=True),
            _container("node-driver-registrar", "%s/eks/csi-node-driver-registrar:v2.17.0-eksbuild.5" % ECR,
                       res("10m", "32Mi", "32Mi")),
            _container("liveness-probe", "%s/eks/livenessprobe:v2.19.0-eksbuild.5" % ECR, res("10m", "32Mi", "32Mi"))],
    }
    labels = {"app": "ebs-csi-node", "app.kubernetes.io/component": "csi-driver",
              "app.kubernetes.io/managed-by": "EKS", "app.kubernetes.io/name": "aws-ebs-csi-driver",
              "app.kubernetes.io/version": "1.64.0"}
    return _ds("ebs-csi-node", labels, {"app": "ebs-csi-node", "app.kubernetes.io/name": "aws-ebs-csi-driver"},
               spec, "10%")


def coredns_deploy():
    spec = {
        "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns", "dnsPolicy": "Default",
        "terminationGracePeriodSeconds": 30,
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                                      {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                "topologyKey": "kubernetes.io/hostname"}}]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        "containers": [_container("coredns", "%s/eks/coredns:v1.11.4-eksbuild.2" % ECR, res("100m", "70Mi", "170Mi"),
                                  [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                   {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                   {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}])],
    }
    labels = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    return _deploy("coredns", labels, {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}, spec, 2,
                   {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}})


def ebs_csi_controller_deploy():
    img = "%s/eks/aws-ebs-csi-driver:v1.64.0" % ECR
    side = res("10m", "40Mi", "256Mi")
    spec = {
        "priorityClassName": "system-cluster-critical", "serviceAccountName": "ebs-csi-controller-sa",
        "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {
            "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {
                "matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn",
                                      "values": ["fargate", "auto", "hybrid"]}]}}]},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["ebs-csi-controller"]}]},
                "topologyKey": "kubernetes.io/hostname"}}]}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
        "containers": [
            _container("ebs-plugin", img, side, [{"containerPort": 9808, "name": "healthz", "protocol": "TCP"}]),
            _container("csi-provisioner", "%s/eks/csi-provisioner:v6.3.0-eksbuild.4" % ECR, side),
            _container("csi-attacher", "%s/eks/csi-attacher:v4.12.0-eksbuild.5" % ECR, side),
            _container("csi-resizer", "%s/eks/csi-resizer:v2.2.1-eksbuild.3" % ECR, side),
            _container("liveness-probe", "%s/eks/livenessprobe:v2.19.0-eksbuild.5" % ECR, res("10m", "32Mi", "32Mi"))],
    }
    labels = {"app": "ebs-csi-controller", "app.kubernetes.io/component": "csi-driver",
              "app.kubernetes.io/managed-by": "EKS", "app.kubernetes.io/name": "aws-ebs-csi-driver",
              "app.kubernetes.io/version": "1.64.0"}
    return _deploy("ebs-csi-controller", labels,
                   {"app": "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver"}, spec, 2,
                   {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}})


def metrics_server_deploy():
    spec = {
        "priorityClassName": "system-cluster-critical", "serviceAccountName": "metrics-server",
        "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "securityContext": {},
        "containers": [_container("metrics-server", "%s/eks/metrics-server:v0.8.0-eksbuild.1" % ECR,
                                  res("100m", "200Mi"),
                                  [{"containerPort": 10251, "name": "https", "protocol": "TCP"}])],
    }
    labels = {"app.kubernetes.io/instance": "metrics-server", "app.kubernetes.io/name": "metrics-server"}
    return _deploy("metrics-server", labels, labels, spec, 2,
                   {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})


def _meta(name, labels, kind, ns="kube-system", t=T0):
    m = {"name": name, "uid": _uid(kind, ns or "", name), "creationTimestamp": t, "labels": dict(labels)}
    if ns:
        m["namespace"] = ns
    return m


def _ds(name, labels, selector, podspec, max_unavailable):
    m = _meta(name, labels, "DaemonSet")
    m["generation"] = 1
    m["annotations"] = {"deprecated.daemonset.template.generation": "1"}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": m, "spec": {
        "selector": {"matchLabels": dict(selector)}, "revisionHistoryLimit": 10,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable,
                                                                      "maxSurge": 0}},
        "template": {"metadata": {"labels": dict(labels)}, "spec": podspec}}}


def _deploy(name, labels, selector, podspec, replicas, strategy):
    m = _meta(name, labels, "Deployment")
    m["generation"] = 1
    m["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": m, "spec": {
        "replicas": replicas, "selector": {"matchLabels": dict(selector)}, "strategy": strategy,
        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "template": {"metadata": {"labels": dict(labels)}, "spec": podspec}}}


# ---- nodes ----
def node(t, idx, zone, nodegroup, ebs=False):
    i, a = INSTANCE_TYPES[t], allocatable(t)
    third = SUBNET_THIRD_OCTET[zone] + int(_h("ip3", nodegroup, str(idx))[:2], 16) % 30
    ip = "192.168.%d.%d" % (third, 10 + int(_h("ip4", nodegroup, str(idx))[:2], 16) % 240)
    name = "ip-%s.ec2.internal" % ip.replace(".", "-")
    iid = "i-0" + _h("iid", nodegroup, str(idx))[:16]
    labels = {
        "beta.kubernetes.io/arch": i["arch"], "beta.kubernetes.io/instance-type": t, "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": "ON_DEMAND", "eks.amazonaws.com/nodegroup": nodegroup,
        "eks.amazonaws.com/nodegroup-image": "ami-0" + _h("ami", i["arch"])[:16],
        "failure-domain.beta.kubernetes.io/region": REGION, "failure-domain.beta.kubernetes.io/zone": zone,
        "k8s.io/cloud-provider-aws": _h("cp")[:32], "kubernetes.io/arch": i["arch"], "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": t, "topology.k8s.aws/zone-id": ZONE_IDS[zone],
        "topology.kubernetes.io/region": REGION, "topology.kubernetes.io/zone": zone}
    ann = {"alpha.kubernetes.io/provided-node-ip": ip, "node.alpha.kubernetes.io/ttl": "0",
           "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    if ebs:
        labels["topology.ebs.csi.aws.com/zone"] = zone
        ann["csi.volume.kubernetes.io/nodeid"] = json.dumps({"ebs.csi.aws.com": iid}, separators=(",", ":"))
    hp = {"hugepages-1Gi": "0", "hugepages-2Mi": "0"}
    if i["arch"] == "arm64":
        hp.update({"hugepages-32Mi": "0", "hugepages-64Ki": "0"})
    cap = dict(hp, cpu=str(i["vcpus"]), memory="%dKi" % i["mem_ki"], pods=str(i["max_pods"]),
               **{"ephemeral-storage": "%dKi" % DISK_KI})
    alloc = dict(hp, cpu="%dm" % a["cpu_m"], memory="%dKi" % a["memory_ki"], pods=str(a["pods"]),
                 **{"ephemeral-storage": str(a["ephemeral_bytes"])})
    cond = []
    for typ, reason, msg in (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                             ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                             ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                             ("Ready", "KubeletReady", "kubelet is posting ready status")):
        cond.append({"type": typ, "status": "True" if typ == "Ready" else "False", "reason": reason, "message": msg,
                     "lastHeartbeatTime": T1, "lastTransitionTime": T1})
    m = _meta(name, labels, "Node", ns=None, t=T1)
    m["annotations"] = ann
    return {"apiVersion": "v1", "kind": "Node", "metadata": m,
            "spec": {"providerID": "aws:///%s/%s" % (zone, iid)},
            "status": {"capacity": cap, "allocatable": alloc, "conditions": cond,
                       "addresses": [{"type": "InternalIP", "address": ip},
                                     {"type": "InternalDNS", "address": name},
                                     {"type": "Hostname", "address": name}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"architecture": i["arch"], "bootID": _uid("boot", name),
                                    "containerRuntimeVersion": RUNTIME, "kernelVersion": KERNEL + (
                                        ".aarch64" if i["arch"] == "arm64" else ".x86_64"),
                                    "kubeProxyVersion": K8S_VERSION, "kubeletVersion": K8S_VERSION,
                                    "machineID": _h("mid", name)[:32], "operatingSystem": "linux",
                                    "osImage": OS_IMAGE, "systemUUID": _uid("sys", name)}}}


# ---- pods and placement ----
def _pod_requests(spec):
    """Effective requests: max(sum of containers, largest init container), as the scheduler counts."""
    def tot(cs):
        c = m = 0
        for x in cs:
            r = x.get("resources", {}).get("requests", {})
            c += cpu_m(r.get("cpu", "0m"))
            m += mem_ki(r.get("memory", "0Ki"))
        return c, m
    c, m = tot(spec.get("containers", []))
    for ic in spec.get("initContainers", []):
        ic_c, ic_m = tot([ic])
        c, m = max(c, ic_c), max(m, ic_m)
    return c, m


def _pod(owner, owner_kind, name, podspec, labels, node_obj, ip, tolerations):
    spec = json.loads(json.dumps(podspec))
    spec.update({"schedulerName": "default-scheduler", "restartPolicy": "Always", "enableServiceLinks": True,
                 "preemptionPolicy": "PreemptLowerPriority", "priority": PRIORITY[spec["priorityClassName"]],
                 "securityContext": spec.get("securityContext", {}), "tolerations": tolerations})
    for c in spec["containers"]:
        if spec.get("hostNetwork"):
            for p in c.get("ports", []):
                p["hostPort"] = p["containerPort"]   # API defaulting for hostNetwork pods
    m = _meta(name, labels, "Pod", t=T1)
    m["generateName"] = name[:name.rfind("-") + 1]
    m["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner["metadata"]["name"],
                             "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": spec}
    if node_obj is None:
        return pod
    spec["nodeName"] = node_obj["metadata"]["name"]
    host_ip = node_obj["status"]["addresses"][0]["address"]
    conds = [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": T1}
             for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]

    def cstatus(c, init=False):
        s = {"name": c["name"], "image": c["image"], "imageID": c["image"].split(":")[0] + "@sha256:" + _h("img", c["image"]),
             "containerID": "containerd://" + _h("cid", name, c["name"]), "restartCount": 0, "ready": not init,
             "started": not init}
        s["state"] = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": T1, "finishedAt": T1,
                                      "containerID": s["containerID"]}} if init else {"running": {"startedAt": T1}})
        return s
    pod["status"] = {"phase": "Running", "conditions": conds, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
                     "podIP": ip, "podIPs": [{"ip": ip}], "startTime": T1, "qosClass": "Burstable",
                     "containerStatuses": [cstatus(c) for c in spec["containers"]]}
    if spec.get("initContainers"):
        pod["status"]["initContainerStatuses"] = [cstatus(c, True) for c in spec["initContainers"]]
    return pod


class _Cluster:
    def __init__(self, nodes):
        self.nodes = nodes
        self.pods = {n["metadata"]["name"]: [] for n in nodes}   # node -> [(app, cpu, mem, hostNetwork)]
        self.ips = {n["metadata"]["name"]: 0 for n in nodes}

    def node_ip(self, n):
        return n["status"]["addresses"][0]["address"]

    def pod_ip(self, n):
        """The next secondary IP the VPC CNI hands out on this node (same subnet, near the node's)."""
        name = n["metadata"]["name"]
        self.ips[name] += 1
        a, b, c, d = map(int, self.node_ip(n).split("."))
        d2 = 10 + (d + 37 * self.ips[name]) % 240
        return "%d.%d.%d.%d" % (a, b, c + (1 if d2 == d else 0), d2)

    def fits(self, n, cpu, mem, hostnet):
        name, t = n["metadata"]["name"], n["metadata"]["labels"]["node.kubernetes.io/instance-type"]
        a, used = allocatable(t), self.pods[name]
        reasons = []
        if len(used) + 1 > a["pods"]:
            reasons.append("Too many pods")
        if sum(p[1] for p in used) + cpu > a["cpu_m"]:
            reasons.append("Insufficient cpu")
        if sum(p[2] for p in used) + mem > a["memory_ki"]:
            reasons.append("Insufficient memory")
        return reasons

    def place(self, app, cpu, mem):
        """The node for a Deployment pod, or (None, FailedScheduling message)."""
        ok, why = [], {}
        for n in self.nodes:
            r = self.fits(n, cpu, mem, False)
            if r:
                for x in r:
                    why[x] = why.get(x, 0) + 1
            else:
                ok.append(n)
        if not ok:
            parts = ", ".join("%d %s" % (why[k], k) for k in sorted(why))
            total = len(self.nodes)
            return None, ("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d No preemption "
                          "victims found for incoming pod." % (total, parts, total, total))

        def score(n):
            name, t = n["metadata"]["name"], n["metadata"]["labels"]["node.kubernetes.io/instance-type"]
            same = sum(1 for p in self.pods[name] if p[0] == app)
            free = 1 - (sum(p[2] for p in self.pods[name]) + mem) / allocatable(t)["memory_ki"]
            return (same, -free)
        return min(ok, key=score), None

    def add(self, n, app, cpu, mem, hostnet):
        self.pods[n["metadata"]["name"]].append((app, cpu, mem, hostnet))


def _daemon_pods(cluster, ds):
    out = []
    spec = ds["spec"]["template"]["spec"]
    cpu, mem = _pod_requests(spec)
    hostnet = spec.get("hostNetwork", False)
    tol = list(spec.get("tolerations", [])) + DS_TOLERATIONS + ([DS_HOSTNET_TOLERATION] if hostnet else [])
    for n in cluster.nodes:
        nname = n["metadata"]["name"]
        ps = json.loads(json.dumps(spec))
        # The DaemonSet controller pins each daemon pod to its node with a matchFields term.
        na = ps.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        terms = (na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [{}]
        for term in terms:
            term["matchFields"] = [{"key": "metadata.name", "operator": "In", "values": [nname]}]
        na["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}
        ip = cluster.node_ip(n) if hostnet else cluster.pod_ip(n)
        labels = dict(ds["spec"]["template"]["metadata"]["labels"], **{
            "controller-revision-hash": _suffix(10, "crh", ds["metadata"]["name"]), "pod-template-generation": "1"})
        name = "%s-%s" % (ds["metadata"]["name"], _suffix(5, ds["metadata"]["name"], nname))
        out.append(_pod(ds, "DaemonSet", name, ps, labels, n, ip, tol))
        cluster.add(n, ds["metadata"]["name"], cpu, mem, hostnet)
    n = len(cluster.nodes)
    ds["status"] = {"observedGeneration": 1, "currentNumberScheduled": n, "desiredNumberScheduled": n,
                    "numberMisscheduled": 0, "numberReady": n, "numberAvailable": n, "updatedNumberScheduled": n}
    return out


def _deployment_pods(cluster, dep):
    """The ReplicaSet, its pods placed one by one, and FailedScheduling events for pods left Pending."""
    dname = dep["metadata"]["name"]
    spec = dep["spec"]["template"]["spec"]
    cpu, mem = _pod_requests(spec)
    h = _suffix(10, "pth", dname)
    rs_name = "%s-%s" % (dname, h)
    labels = dict(dep["spec"]["template"]["metadata"]["labels"], **{"pod-template-hash": h})
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": _meta(rs_name, labels, "ReplicaSet"),
          "spec": {"replicas": dep["spec"]["replicas"],
                   "selector": {"matchLabels": dict(dep["spec"]["selector"]["matchLabels"], **{"pod-template-hash": h})},
                   "template": {"metadata": {"labels": labels}, "spec": spec}}}
    rs["metadata"].update({"generation": 1, "annotations": {
        "deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
        "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + 1),
        "deployment.kubernetes.io/revision": "1"}})
    rs["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": dname,
                                          "uid": dep["metadata"]["uid"], "controller": True,
                                          "blockOwnerDeletion": True}]
    tol = list(spec.get("tolerations", [])) + DEFAULT_TOLERATIONS
    pods, events, ready = [], [], 0
    for k in range(dep["spec"]["replicas"]):
        name = "%s-%s" % (rs_name, _suffix(5, rs_name, str(k)))
        n, msg = cluster.place(dname, cpu, mem)
        if n is None:
            p = _pod(rs, "ReplicaSet", name, spec, labels, None, None, tol)
            p["status"] = {"phase": "Pending", "qosClass": "Burstable", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg,
                 "lastProbeTime": None, "lastTransitionTime": T1}]}
            events.append(_event(p, msg))
        else:
            p = _pod(rs, "ReplicaSet", name, spec, labels, n, cluster.pod_ip(n), tol)
            cluster.add(n, dname, cpu, mem, False)
            ready += 1
        pods.append(p)
    want = dep["spec"]["replicas"]
    rs["status"] = {"replicas": want, "fullyLabeledReplicas": want, "readyReplicas": ready,
                    "availableReplicas": ready, "observedGeneration": 1}
    max_unavail = dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]
    if isinstance(max_unavail, str):   # a percentage rounds down, as the Deployment controller does
        max_unavail = want * int(max_unavail[:-1]) // 100
    available = ready >= want - max_unavail
    st = {"observedGeneration": 1, "replicas": want, "updatedReplicas": want, "readyReplicas": ready,
          "availableReplicas": ready, "conditions": [
              {"type": "Available", "status": "True" if available else "False",
               "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
               "message": "Deployment has minimum availability." if available
               else "Deployment does not have minimum availability.",
               "lastUpdateTime": T1, "lastTransitionTime": T1},
              {"type": "Progressing", "status": "True" if ready == want else "False",
               "reason": "NewReplicaSetAvailable" if ready == want else "ProgressDeadlineExceeded",
               "message": ('ReplicaSet "%s" has successfully progressed.' if ready == want
                           else 'ReplicaSet "%s" has timed out progressing.') % rs_name,
               "lastUpdateTime": T1, "lastTransitionTime": T1}]}
    if ready < want:
        st["unavailableReplicas"] = want - ready
    dep["status"] = st
    return [rs] + pods + events


def _event(pod, msg):
    name = "%s.%s" % (pod["metadata"]["name"], _h("ev", pod["metadata"]["name"])[:16])
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "kube-system", "uid": _uid("Event", name),
                         "creationTimestamp": T1},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "kube-system",
                               "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
            "reason": "FailedScheduling", "message": msg, "type": "Warning",
            "source": {"component": "default-scheduler"}, "reportingComponent": "default-scheduler",
            "reportingInstance": "", "firstTimestamp": T1, "lastTimestamp": T1, "count": 1}


def service_account(name):
    """The add-on's ServiceAccount: pods naming a missing one are refused (FailedCreate), as on a
    cluster. No eks.amazonaws.com/role-arn annotation: no IRSA role was set up (see the module
    docstring: the EBS CSI driver then cannot provision)."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": "kube-system", "uid": _uid("ServiceAccount", name),
                         "creationTimestamp": T0}}


def storage_class_gp2(default):
    m = {"name": "gp2", "uid": _uid("StorageClass", "gp2"), "creationTimestamp": T0}
    if default:
        m["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": m,
            "provisioner": "kubernetes.io/aws-ebs", "parameters": {"fsType": "ext4", "type": "gp2"},
            "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}


def csidriver_ebs():
    m = {"name": "ebs.csi.aws.com", "uid": _uid("CSIDriver", "ebs"), "creationTimestamp": T1,
         "labels": {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS",
                    "app.kubernetes.io/name": "aws-ebs-csi-driver", "app.kubernetes.io/version": "1.64.0"}}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": m,
            "spec": {"attachRequired": True, "podInfoOnMount": False, "fsGroupPolicy": "File",
                     "requiresRepublish": False, "storageCapacity": False, "seLinuxMount": False,
                     "volumeLifecycleModes": ["Persistent"]}}


# name -> ([(instance type, nodegroup)], EBS CSI add-on, gp2 default, metrics-server add-on)
SCENARIOS = {
    "2x-t3.micro": ([("t3.micro", "ng-micro")] * 2, False, False, False),
    "3x-t2.micro": ([("t2.micro", "ng-micro")] * 3, False, False, False),
    "2x-t4g.micro": ([("t4g.micro", "ng-arm")] * 2, False, False, False),
    "t3.small+t3.micro-ebs": ([("t3.small", "ng-small"), ("t3.micro", "ng-micro")], True, True, False),
    "3x-t2.micro-ebs": ([("t2.micro", "ng-micro")] * 3, True, False, False),
    "2x-t3.micro-eksctl": ([("t3.micro", "ng-micro")] * 2, False, False, True),
}


def scenario(name):
    # Callers add their own scenarios, some as (types, ebs, gp2 default): metrics-server is optional.
    types, ebs, gp2_default, *more = SCENARIOS[name]
    metrics_server = more[0] if more else False
    nodes = [node(t, k, ZONES[k % len(ZONES)], ng, ebs) for k, (t, ng) in enumerate(types)]
    cluster = _Cluster(nodes)
    daemonsets = [aws_node_ds(), kube_proxy_ds()] + ([ebs_csi_node_ds()] if ebs else [])
    deployments = [coredns_deploy()] + ([ebs_csi_controller_deploy()] if ebs else []) + (
        [metrics_server_deploy()] if metrics_server else [])
    out = list(nodes)
    for ds in daemonsets:
        out += _daemon_pods(cluster, ds)
    for dep in deployments:
        out += _deployment_pods(cluster, dep)
    out += daemonsets + deployments
    out += [service_account(w["spec"]["template"]["spec"]["serviceAccountName"]) for w in daemonsets + deployments]
    out.append(storage_class_gp2(gp2_default))
    if ebs:
        out.append(csidriver_ebs())
    return out


def summary(objs):
    """Per node, from the objects alone (as a placement plan reads a cluster): {node: {...}}."""
    nodes = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Node"}
    out = {}
    for name, n in nodes.items():
        t = n["metadata"]["labels"].get("node.kubernetes.io/instance-type")
        a = n["status"]["allocatable"]
        ips_total = INSTANCE_TYPES[t]["pod_ips"] if t in INSTANCE_TYPES else int(a["pods"])
        out[name] = {"instance_type": t, "zone": n["metadata"]["labels"].get("topology.kubernetes.io/zone"),
                     "arch": n["metadata"]["labels"].get("kubernetes.io/arch"), "pods": 0,
                     "pods_total": int(a["pods"]), "ips": 0, "ips_total": ips_total, "cpu_m": 0,
                     "cpu_total_m": cpu_m(a["cpu"]), "memory_ki": 0, "memory_total_ki": mem_ki(a["memory"]),
                     "pod_names": []}
    for p in objs:
        if p["kind"] != "Pod" or p["spec"].get("nodeName") not in out:
            continue
        if p.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue
        s = out[p["spec"]["nodeName"]]
        c, m = _pod_requests(p["spec"])
        s["pods"] += 1
        s["ips"] += 0 if p["spec"].get("hostNetwork") else 1
        s["cpu_m"] += c
        s["memory_ki"] += m
        s["pod_names"].append(p["metadata"]["name"])
    return out


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    if len(argv) == 3 and argv[1] == "--summary" and argv[2] in SCENARIOS:
        objs = scenario(argv[2])
        for name, s in summary(objs).items():
            print("%s %s %s %s pods %d/%d ips %d/%d memory %dMi/%dMi cpu %dm/%dm" % (
                name, s["instance_type"], s["zone"], s["arch"], s["pods"], s["pods_total"], s["ips"], s["ips_total"],
                s["memory_ki"] // 1024, s["memory_total_ki"] // 1024, s["cpu_m"], s["cpu_total_m"]))
        for p in objs:
            if p["kind"] == "Pod" and not p["spec"].get("nodeName"):
                print("Pending %s: %s" % (p["metadata"]["name"], p["status"]["conditions"][0]["message"]))
        return 0
    if len(argv) == 2 and argv[1] in SCENARIOS:
        json.dump(scenario(argv[1]), sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    sys.stderr.write("usage: eks_clusters.py [--summary] SCENARIO | --list\nscenarios: %s\n" % " ".join(SCENARIOS))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
