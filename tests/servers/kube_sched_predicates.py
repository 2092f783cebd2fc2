"""kube-scheduler's filters as the simulated scheduler (kube_sched.py) applies
them, and the FailedScheduling message they add up to.

Facts from kubernetes/kubernetes pkg/scheduler (v1.32):
- Filter plugins run per node in this order and the first failing one decides
  the node's reasons: NodeUnschedulable "node(s) were unschedulable",
  TaintToleration "node(s) had untolerated taint {key: value}" (NoSchedule and
  NoExecute taints only), NodeAffinity "node(s) didn't match Pod's node
  affinity/selector" (nodeSelector, and required nodeAffinity terms ORed,
  expressions ANDed), NodePorts "node(s) didn't have free ports for the
  requested pod ports", NodeResourcesFit "Too many pods", "Insufficient cpu",
  "Insufficient memory" (all that apply; requests against status.allocatable
  minus the requests of the pods already on the node), VolumeBinding "node(s)
  had volume node affinity conflict" / "node(s) didn't find available
  persistent volumes to bind".
- NodeAffinity's PreFilter limits a pod whose required terms all name nodes by
  matchFields metadata.name (DaemonSet pods) to those nodes; the others count as
  "node(s) didn't satisfy plugin(s) [NodeAffinity]" (v1.31+ absent-node status;
  seen on EKS: "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't
  satisfy plugin(s) [NodeAffinity]. preemption: 0/4 nodes are available: 1 No
  preemption victims found for incoming pod, 3 Preemption is not helpful for
  scheduling.").
- VolumeBinding's PreFilter fails the whole pod (no per-node reasons) with
  "pod has unbound immediate PersistentVolumeClaims" or
  'persistentvolumeclaim "NAME" not found'.
- FitError.Error(): "0/N nodes are available: " + the reasons counted over
  nodes as "COUNT REASON", sorted as strings, joined by ", ", then "." and the
  PostFilter (preemption) message "preemption: 0/N nodes are available: ...":
  nodes whose failure is UnschedulableAndUnresolvable (affinity, taints,
  unschedulable, volume conflicts, PreFilter) count as "Preemption is not
  helpful for scheduling", the others (resources, ports) as "No preemption
  victims found for incoming pod" when evicting every pod of lower priority
  there would still not make the pod fit. When preemption nominates a node
  the message has no preemption part (PostFilterMsg is the empty message of
  a successful status); while that node's victims terminate the preemptor's
  next attempt ends in "preemption: not eligible due to a terminating pod on
  the nominated node." (DefaultPreemption.PodEligibleToPreemptOthers).
- No nodes at all: "no nodes available to schedule pods".
- NotReady nodes carry the node.kubernetes.io/not-ready:NoSchedule taint (Ready
  Unknown: node.kubernetes.io/unreachable), added by the node lifecycle
  controller; a node without it in its spec gets it here when Ready is not True.
"""
import re

RESOLVABLE = {"Too many pods", "Insufficient cpu", "Insufficient memory",
              "node(s) didn't have free ports for the requested pod ports"}
MSG_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
MSG_NOT_PINNED = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
MSG_UNSCHEDULABLE = "node(s) were unschedulable"
MSG_PORTS = "node(s) didn't have free ports for the requested pod ports"
MSG_VOLUME_CONFLICT = "node(s) had volume node affinity conflict"
MSG_NO_PV = "node(s) didn't find available persistent volumes to bind"
MSG_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"

_UNITS = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
          "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "P": 1e15, "E": 1e18}


def quantity(q):
    """A resource.Quantity string as a float of base units (cores, bytes, pods)."""
    if q is None:
        return 0.0
    if isinstance(q, (int, float)):
        return float(q)
    m = re.match(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$", str(q).strip())
    if not m or m.group(2) not in _UNITS:
        return 0.0
    return float(m.group(1)) * _UNITS[m.group(2)]


def pod_requests(pod):
    """Effective requests (cpu cores, memory bytes): the larger of the sum over
    containers and the largest init container, plus the pod overhead."""
    spec = pod.get("spec") or {}

    def req(c, r):
        res = c.get("resources") or {}
        # A limit without a request defaults the request to the limit (API defaulting).
        return quantity((res.get("requests") or {}).get(r, (res.get("limits") or {}).get(r)))
    out = {}
    for r in ("cpu", "memory"):
        s = sum(req(c, r) for c in spec.get("containers") or [])
        i = max([req(c, r) for c in spec.get("initContainers") or []] or [0])
        out[r] = max(s, i) + quantity((spec.get("overhead") or {}).get(r))
    return out


def node_ready(node):
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status")
    return "True"  # a node object without conditions (a bare seed) counts as Ready


def node_taints(node):
    taints = list((node.get("spec") or {}).get("taints") or [])
    ready = node_ready(node)
    extra = {"False": "node.kubernetes.io/not-ready", "Unknown": "node.kubernetes.io/unreachable"}.get(ready)
    if extra and not any(t.get("key") == extra for t in taints):
        taints.append({"key": extra, "effect": "NoSchedule"})
    return taints


def tolerates(tolerations, taint):
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t["key"] != taint.get("key"):
            continue
        if op == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated_taint(pod, node, effects=("NoSchedule", "NoExecute")):
    tol = (pod.get("spec") or {}).get("tolerations")
    for t in node_taints(node):
        if t.get("effect") in effects and not tolerates(tol, t):
            return t
    return None


def expr_match(e, value, present):
    op = e.get("operator")
    vals = e.get("values") or []
    if op == "In":
        return present and value in vals
    if op == "NotIn":
        return not present or value not in vals
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and vals:
        try:
            return int(value) > int(vals[0]) if op == "Gt" else int(value) < int(vals[0])
        except ValueError:
            return False
    return False


def term_match(term, node):
    lab = (node.get("metadata") or {}).get("labels") or {}
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no objects
    for e in exprs:
        if not expr_match(e, lab.get(e.get("key")), e.get("key") in lab):
            return False
    for e in fields:
        if e.get("key") != "metadata.name" or not expr_match(e, node["metadata"]["name"], True):
            return False
    return True


def selector_terms_match(terms, node):
    return any(term_match(t, node) for t in terms or [])


def affinity_match(pod, node):
    spec = pod.get("spec") or {}
    lab = (node.get("metadata") or {}).get("labels") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if lab.get(k) != v:
            return False
    req = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    if "nodeSelectorTerms" in req and not selector_terms_match(req["nodeSelectorTerms"], node):
        return False
    return True


def host_ports(pod):
    spec = pod.get("spec") or {}
    out = set()
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            hp = p.get("hostPort") or (p.get("containerPort") if spec.get("hostNetwork") else None)
            if hp:
                out.add((p.get("protocol") or "TCP", int(hp), p.get("hostIP") or "0.0.0.0"))
    return out


def active(pod):
    return occupies(pod) and not pod["metadata"].get("deletionTimestamp")


def occupies(pod):
    """The pod holds its node's slot, requests and IP: terminating pods do until they are gone."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


class NodeInfo:
    """What the scheduler knows about a node: its pods' requests and host ports."""

    def __init__(self, node, pods):
        self.node = node
        self.name = node["metadata"]["name"]
        self.pods = [p for p in pods if occupies(p)]
        alloc = (node.get("status") or {}).get("allocatable") or (node.get("status") or {}).get("capacity") or {}
        self.alloc = {"pods": quantity(alloc.get("pods", 110)), "cpu": quantity(alloc.get("cpu", "1000")),
                      "memory": quantity(alloc.get("memory", "1Ei"))}
        self.used = {"cpu": 0.0, "memory": 0.0}
        self.ports = set()
        for p in self.pods:
            self.add_usage(p)

    def add_usage(self, pod):
        r = pod_requests(pod)
        self.used["cpu"] += r["cpu"]
        self.used["memory"] += r["memory"]
        self.ports |= host_ports(pod)

    def add(self, pod):
        self.pods.append(pod)
        self.add_usage(pod)


def ports_conflict(pod, info):
    for proto, port, ip in host_ports(pod):
        for p2, port2, ip2 in info.ports:
            if proto == p2 and port == port2 and (ip == ip2 or "0.0.0.0" in (ip, ip2)):
                return True
    return False


def pinned_nodes(pod):
    """NodeAffinity's PreFilter: the node names a pod is limited to when every
    required term has a matchFields metadata.name In (a DaemonSet pod), else None."""
    req = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    names = set()
    for t in req.get("nodeSelectorTerms") or []:
        f = [e for e in t.get("matchFields") or [] if e.get("key") == "metadata.name" and e.get("operator") == "In"]
        if not f:
            return None
        names |= set(f[0].get("values") or [])
    return names if req.get("nodeSelectorTerms") else None


def fit_reasons(pod, info, volume_check):
    """The reasons the node fails the pod (empty: it fits), as the first failing
    filter plugin gives them. volume_check(pod, node) -> reason or None."""
    node = info.node
    if (node.get("spec") or {}).get("unschedulable") and not untolerated_ok_unschedulable(pod):
        return [MSG_UNSCHEDULABLE]
    t = untolerated_taint(pod, node)
    if t:
        return ["node(s) had untolerated taint {%s: %s}" % (t.get("key"), t.get("value") or "")]
    if not affinity_match(pod, node):
        return [MSG_AFFINITY]
    if ports_conflict(pod, info):
        return [MSG_PORTS]
    reasons = []
    if len(info.pods) + 1 > info.alloc["pods"]:
        reasons.append("Too many pods")
    r = pod_requests(pod)
    if r["cpu"] > 0 and r["cpu"] > info.alloc["cpu"] - info.used["cpu"] + 1e-9:
        reasons.append("Insufficient cpu")
    if r["memory"] > 0 and r["memory"] > info.alloc["memory"] - info.used["memory"]:
        reasons.append("Insufficient memory")
    if reasons:
        return reasons
    v = volume_check(pod, node)
    return [v] if v else []


def untolerated_ok_unschedulable(pod):
    return tolerates((pod.get("spec") or {}).get("tolerations"),
                     {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})


def histogram(counts):
    return ", ".join(sorted("%d %s" % (n, r) for r, n in counts.items()))


def fit_error(n_nodes, per_node, prefilter=None, postfilter=None):
    """The FailedScheduling message. per_node: {node: [reasons]}; prefilter: the
    PreFilter failure, which replaces the per-node reasons; postfilter: what
    preemption says instead of the victims histogram ("" when it nominated a
    node: then the message has no preemption part)."""
    if n_nodes == 0:
        return "no nodes available to schedule pods"
    msg = "0/%d nodes are available:" % n_nodes
    pre = {}
    if prefilter:
        msg += " %s." % prefilter
        pre["Preemption is not helpful for scheduling"] = n_nodes
    else:
        counts = {}
        for reasons in per_node.values():
            for r in reasons:
                counts[r] = counts.get(r, 0) + 1
            k = ("No preemption victims found for incoming pod" if all(r in RESOLVABLE for r in reasons)
                 else "Preemption is not helpful for scheduling")
            pre[k] = pre.get(k, 0) + 1
        if counts:
            msg += " %s." % histogram(counts)
    if postfilter is not None:
        return msg + (" preemption: %s" % postfilter if postfilter else "")
    msg += " preemption: 0/%d nodes are available: %s." % (n_nodes, histogram(pre))
    return msg
