"""Scheduler stand-in of the test API server (kube_api_server.py --scheduler):
one loop, every 0.1 s, acting as kube-controller-manager (Deployment,
ReplicaSet, DaemonSet controllers, garbage collector: kube_sched_workloads.py),
kube-scheduler (this file, filters in kube_sched_predicates.py), the
persistentvolume-controller and CSI provisioners (kube_sched_volumes.py) and
the kubelets with the VPC CNI (kube_sched_kubelet.py), with what pods refer to
(service accounts, ConfigMaps, Secrets, kube_sched_refs.py). What a real cluster
shows - pod phases, conditions, container states, PVC phases, workload status
and core/v1 Events with the real reasons and messages - comes out of it, so
kubectl and agentctl see the states of a stuck install as on EKS.

Scheduling: pods without spec.nodeName (schedulerName default-scheduler),
highest priority first, then oldest; a node passes the filters of
kube_sched_predicates.py and the VolumeBinding checks; among the fitting nodes
the one with the fewest pods of the same owner, then the least requested
memory/cpu share, then the name. A pod that fits nowhere stays Pending with
condition PodScheduled False reason Unschedulable and a Warning
FailedScheduling event (default-scheduler) with the FitError message,
re-evaluated every pass (so a node label, a deleted pod or a new node
unblocks it) and the event repeated (count) at most every 10 s. Success:
Normal Scheduled "Successfully assigned NS/POD to NODE". Pods wait bound to
no node while their WaitForFirstConsumer claims are provisioned (PreBind).
A pod of higher priority that fits no node preempts pods of lower priority
as kube-scheduler's DefaultPreemption does (Scheduler.preempt: victims'
DisruptionTarget condition, deletion and Normal Preempted "Preempted by pod
UID on node NODE" event; the preemptor's status.nominatedNodeName); priority
is spec.priority, or the class's (system-node-critical 2000001000,
system-cluster-critical 2000000000, else 0). When no node can be freed the
FailedScheduling message says so as kube-scheduler does.

Also as on a cluster: pods a controller deletes are Terminating for at most
1 s and keep their slot and IP meanwhile; with --scheduler the apiserver's
defaults are filled in (pod phase Pending and QoS class at creation, workload
strategies, DefaultTolerationSeconds); every namespace gets its default
ServiceAccount and kube-root-ca.crt. Objects loaded with their pods (seeds)
are adopted as they are, not replaced.

Control (no auth), JSON:
  POST /_control/behaviour  sets the keys given (others keep their value):
    "rules": [{"image": "REF", "container": "NAME", "namespace": "NS", "pod": "NAME-PREFIX",
               "fail": "pull" | "crash" | "oom", "exitCode": N, "message": "pull error text"}, ...]
        containers matching every key given (image as written or as containerd
        normalises it, docker.io/library/...:latest) fail that way: "pull" ->
        ErrImagePull then ImagePullBackOff (message: containerd's error for a
        repository that does not exist, unless "message"); "crash" -> runs 0.3 s
        never ready, terminated reason Error exitCode N (default 1), then
        CrashLoopBackOff; "oom" -> the same with reason OOMKilled exitCode 137.
        Replacing the rules (e.g. with []) lets the next retry succeed.
    "ebsProvisioning": "ok" | "unauthorized"   ebs.csi.aws.com provisioning fails with
        ProvisioningFailed ... UnauthorizedOperation (the driver without an IAM role)
    "ipCapacity": {"NODE": N}   pod-network IPs of a node (default from its instance type)
  POST /_control/controller {"paused": true|false}  the whole loop stands still while paused
                            (objects a test stores keep the status it gave them)
  GET  /_control/behaviour  the current behaviour, and "passes": loop passes completed so far
                            (a test waits for a few more to know the loop has seen a change)
"""
import copy
import threading
import traceback
import time

import kube_sched_predicates as pred
import kube_sched_refs as refs
from kube_sched_api import Cluster, owner_of
from kube_sched_kubelet import Kubelets
from kube_sched_volumes import Volumes
from kube_sched_workloads import PRIORITIES, Workloads, api_defaults
from kube_store import now

SCHED = "default-scheduler"


class Scheduler:
    def __init__(self, cl, volumes):
        self.cl = cl
        self.volumes = volumes
        self.waiting = {}    # pod uid -> node name reserved while its volumes bind
        self.retry_at = {}   # pod uid -> earliest next attempt after a PreBind failure

    def sync(self):
        nodes = sorted(self.cl.list("Node"), key=lambda n: n["metadata"]["name"])
        pods = self.cl.list("Pod")
        by_node = {n["metadata"]["name"]: [] for n in nodes}
        waiting_pods = []
        for p in pods:
            nn = (p.get("spec") or {}).get("nodeName")
            if nn in by_node:
                by_node[nn].append(p)
            elif p["metadata"]["uid"] in self.waiting and self.waiting[p["metadata"]["uid"]] in by_node:
                waiting_pods.append(p)
        infos = {n["metadata"]["name"]: pred.NodeInfo(n, by_node[n["metadata"]["name"]]) for n in nodes}
        for p in waiting_pods:
            infos[self.waiting[p["metadata"]["uid"]]].add(p)
        pending = [p for p in pods if not (p.get("spec") or {}).get("nodeName") and pred.active(p)
                   and (p["spec"].get("schedulerName") or SCHED) == SCHED]
        pending.sort(key=lambda p: (-(p["spec"].get("priority") or 0), int(p["metadata"]["resourceVersion"])))
        live = {p["metadata"]["uid"] for p in pods}
        for uid in [u for u in self.waiting if u not in live]:
            del self.waiting[uid]
        for p in pending:
            self.schedule(p, nodes, infos)

    def schedule(self, p, nodes, infos):
        uid = p["metadata"]["uid"]
        if uid in self.waiting:
            node = self.waiting[uid]
            try:
                if self.volumes.prebind(p, node):
                    del self.waiting[uid]
                    self.bind(p, node)
            except ValueError as e:
                del self.waiting[uid]
                self.retry_at[uid] = time.time() + 2
                self.unschedulable(p, str(e), "SchedulerError")
            return
        if time.time() < self.retry_at.get(uid, 0):
            return
        pre = self.volumes.prefilter(p)
        if pre:
            return self.unschedulable(p, pred.fit_error(len(nodes), {}, pre))
        pinned = pred.pinned_nodes(p)
        per_node, feasible = {}, []
        for n in nodes:
            name = n["metadata"]["name"]
            if pinned is not None and name not in pinned:
                per_node[name] = [pred.MSG_NOT_PINNED]
                continue
            reasons = pred.fit_reasons(p, infos[name], self.volumes.node_check)
            if reasons:
                per_node[name] = reasons
            else:
                feasible.append(name)
        if not feasible:
            return self.preempt(p, nodes, infos, per_node)
        owner = (owner_of(p) or {}).get("uid")
        req = pred.pod_requests(p)

        def score(name):
            i = infos[name]
            same = sum(1 for q in i.pods if owner and (owner_of(q) or {}).get("uid") == owner)
            share = sum((i.used[r] + req[r]) / i.alloc[r] for r in ("cpu", "memory") if i.alloc[r])
            return same, share, name
        best = min(feasible, key=score)
        infos[best].add(p)
        self.volumes.reserve(p, infos[best].node)
        try:
            done = self.volumes.prebind(p, best)
        except ValueError:
            done = False
        if done:
            self.bind(p, best)
        else:
            self.waiting[uid] = best

    def preempt(self, p, nodes, infos, per_node):
        """DefaultPreemption (PostFilter) for a pod that fits no node: on each
        node whose failure is resolvable (pods, cpu, memory, ports), every pod of
        lower priority is removed; if the pod then fits, the victims are reprieved
        one by one, most important first (higher priority, then older), as long
        as the pod still fits. The candidate with the lowest highest-victim
        priority, then the smallest sum of priorities, then the fewest victims
        wins. Its victims get the DisruptionTarget condition, are deleted (their
        controllers replace them and the new pods are scheduled as any other)
        and get a Normal Preempted event; the preemptor gets
        status.nominatedNodeName and is bound once the victims are gone (the
        kubelet stand-in's status, written whole, then no longer carries it;
        since 1.34 the apiserver clears it at binding, kubernetes PR 132443).
        PodDisruptionBudgets are not consulted: on a cluster they are best
        effort, and preemption goes ahead when every choice violates one."""
        prio = prio_of(p)
        uid = p["metadata"]["uid"]
        nominated = (p.get("status") or {}).get("nominatedNodeName")
        if nominated in infos and any(
                q["metadata"].get("deletionTimestamp") and prio_of(q) < prio and any(
                    c.get("type") == "DisruptionTarget" and c.get("reason") == "PreemptionByScheduler"
                    for c in (q.get("status") or {}).get("conditions") or [])
                for q in infos[nominated].pods):
            return self.unschedulable(p, pred.fit_error(
                len(nodes), per_node, postfilter="not eligible due to a terminating pod on the nominated node."))
        if p["spec"].get("preemptionPolicy") == "Never":
            return self.unschedulable(p, pred.fit_error(len(nodes), per_node))
        candidates = []
        for n in nodes:
            name = n["metadata"]["name"]
            reasons = per_node.get(name) or []
            if not reasons or not all(r in pred.RESOLVABLE for r in reasons):
                continue
            info = infos[name]
            lower = [q for q in info.pods if prio_of(q) < prio and not q["metadata"].get("deletionTimestamp")]
            if not lower:
                continue
            keep = [q for q in info.pods if q not in lower]
            if pred.fit_reasons(p, pred.NodeInfo(n, keep), self.volumes.node_check):
                continue
            victims = []
            for q in sorted(lower, key=lambda q: (-prio_of(q), q["metadata"].get("creationTimestamp") or "")):
                if pred.fit_reasons(p, pred.NodeInfo(n, keep + [q]), self.volumes.node_check):
                    victims.append(q)
                else:
                    keep.append(q)
            if victims:
                candidates.append((max(map(prio_of, victims)), sum(map(prio_of, victims)), len(victims), name, victims))
        if not candidates:
            return self.unschedulable(p, pred.fit_error(len(nodes), per_node))
        *_, node, victims = min(candidates, key=lambda c: c[:4])
        for q in victims:
            st = copy.deepcopy(q.get("status") or {})
            st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != "DisruptionTarget"] + [
                {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None, "lastTransitionTime": now(),
                 "reason": "PreemptionByScheduler",
                 "message": "%s: preempting to accommodate a higher priority pod" % SCHED}]
            q = self.cl.set_status("Pod", "", q, st, "kube-scheduler")
            self.cl.delete_pod(q, "kube-scheduler")
            self.cl.event(q, "Normal", "Preempted", "Preempted by pod %s on node %s" % (uid, node), SCHED, every=0)
        st = copy.deepcopy(p.get("status") or {})
        st["nominatedNodeName"] = node
        p = self.cl.set_status("Pod", "", p, st, "kube-scheduler")
        self.unschedulable(p, pred.fit_error(len(nodes), per_node, postfilter=""))

    def bind(self, p, node):
        p = self.cl.get("Pod", p["metadata"]["namespace"], p["metadata"]["name"])
        new = copy.deepcopy(p)
        new["spec"]["nodeName"] = node
        p = self.cl.update("Pod", "", new, "kube-scheduler", {"spec": {"nodeName": node}})
        st = copy.deepcopy(p.get("status") or {})
        st["phase"] = "Pending"
        st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now()}]
        p = self.cl.set_status("Pod", "", p, st, "kube-scheduler")
        self.cl.event(p, "Normal", "Scheduled", "Successfully assigned %s/%s to %s" % (
            p["metadata"]["namespace"], p["metadata"]["name"], node), SCHED, every=0)

    def unschedulable(self, p, msg, reason="Unschedulable"):
        st = copy.deepcopy(p.get("status") or {})
        old = next((c for c in st.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if not old or old.get("message") != msg or old.get("reason") != reason:
            st["phase"] = "Pending"
            st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
                {"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": now(),
                 "reason": reason, "message": msg}]
            p = self.cl.set_status("Pod", "", p, st, "kube-scheduler")
        self.cl.event(p, "Warning", "FailedScheduling", msg, SCHED, every=10)


def prio_of(p):
    """spec.priority as the Priority admission plugin sets it (from the class)."""
    spec = p.get("spec") or {}
    pr = spec.get("priority")
    return pr if isinstance(pr, int) else PRIORITIES.get(spec.get("priorityClassName"), 0)


class Simulation:
    def __init__(self, store, ca_file=None):
        self.store = store
        self.ca = refs.ca_pem(ca_file)
        store.defaulter = api_defaults
        self.behaviour = {"rules": [], "ebsProvisioning": "ok", "ipCapacity": {}}
        self.cl = Cluster(store)
        self.workloads = Workloads(self.cl)
        self.volumes = Volumes(self.cl, self.behaviour)
        self.scheduler = Scheduler(self.cl, self.volumes)
        self.kubelets = Kubelets(self.cl, self.behaviour)
        self.passes = 0
        self.seen_seeded = set()

    def set_behaviour(self, d):
        with self.store.lock:
            for k, v in d.items():
                if k != "passes":
                    self.behaviour[k] = copy.deepcopy(v)
            return copy.deepcopy(self.behaviour)

    def get_behaviour(self):
        with self.store.lock:
            return dict(copy.deepcopy(self.behaviour), passes=self.passes)

    def step(self):
        with self.store.lock:
            if getattr(self.store, "controller_paused", False):
                return  # POST /_control/controller {"paused": true}: the control plane stands still
            refs.sync_namespaces(self.cl, self.ca)
            self.cl.reap()
            self.workloads.collect()
            self.workloads.sync_deployments()
            self.workloads.sync_replicasets()
            self.workloads.sync_daemonsets()
            self.volumes.sync()
            self.scheduler.sync()
            self.kubelets.sync()
            seeded = [u for u in self.kubelets.adopted() if u not in self.seen_seeded]
            refs.seeded_service_accounts(self.cl, [p for p in map(self.cl.by_uid, seeded) if p is not None])
            self.seen_seeded.update(seeded)
            self.passes += 1

    def run(self):
        while not self.store.stopping:
            time.sleep(0.1)
            try:
                self.step()
            except Exception:  # keep the cluster going; the server log says what broke
                traceback.print_exc()


def start(store, ca_file=None):
    """Starts the loop; ca_file: the CA certificate each namespace's kube-root-ca.crt carries."""
    sim = Simulation(store, ca_file)
    threading.Thread(target=sim.run, daemon=True).start()
    return sim
