"""The workload controllers of the simulated cluster (kube_sched.py), as in
kube-controller-manager: Deployment -> ReplicaSet (pod-template-hash label,
revision annotation, Recreate or RollingUpdate with maxSurge/maxUnavailable) ->
Pods; DaemonSet -> one Pod per eligible node (nodeSelector, required node
affinity, NoSchedule/NoExecute taints against the template's tolerations plus
the ones the DaemonSet controller adds; the Pod pinned by a matchFields
metadata.name affinity and left to the scheduler); and the status each
controller derives from its pods' readiness, which is what `kubectl rollout
status` reads. Garbage collection of what they created once the owner is gone.

Facts from kubernetes/kubernetes pkg/controller (deployment, replicaset,
daemon) and kubectl's rollout status viewers: event texts "Scaled up replica
set %s from %d to %d", "Created pod: %s", "Deleted pod: %s"; Progressing
reasons NewReplicaSetCreated / ReplicaSetUpdated / NewReplicaSetAvailable /
ProgressDeadlineExceeded; Available reasons MinimumReplicasAvailable /
MinimumReplicasUnavailable."""
import copy
import json
import math
import time

import kube_sched_predicates as pred
# The tolerations the DaemonSet controller and the DefaultTolerationSeconds
# admission plugin add (sources cited in eks_clusters.py, which seeds pods
# made the same way).
from eks_clusters import DEFAULT_TOLERATIONS, DS_HOSTNET_TOLERATION, DS_TOLERATIONS
import kube_sched_refs as refs
from kube_sched_api import fnv32a, labels, owner_of, owner_ref, safe_encode
from kube_store import now

KCM = "kube-controller-manager"
HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def template_hash(template):
    return safe_encode(str(fnv32a(json.dumps(template, sort_keys=True).encode())))


def pod_ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (p.get("status") or {}).get("conditions") or [])


def alive(p):
    return not p["metadata"].get("deletionTimestamp") and (p.get("status") or {}).get("phase") not in (
        "Succeeded", "Failed")


def add_tolerations(spec, extra):
    tol = spec.setdefault("tolerations", [])
    for t in extra:
        if not any(x.get("key") == t.get("key") and x.get("effect") == t.get("effect") for x in tol):
            tol.append(copy.deepcopy(t))


def default_pod_spec(spec):
    """The apiserver's defaults and admission plugins for a pod spec
    (DefaultTolerationSeconds, priority from the class, host ports of
    hostNetwork pods)."""
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", PRIORITIES.get(spec.get("priorityClassName"), 0))
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        img = c.get("image") or ""
        tag = img.rsplit("/", 1)[-1]
        c.setdefault("imagePullPolicy", "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")
            if spec.get("hostNetwork"):
                p.setdefault("hostPort", p.get("containerPort"))
    add_tolerations(spec, DEFAULT_TOLERATIONS)


def api_defaults(res, obj):
    """Store hook (kube_store.Store.defaulter): the defaults the real apiserver
    fills in on every write, owned by no field manager; kubectl rollout status
    needs the DaemonSet's updateStrategy."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if (res.group, res.kind) == ("apps", "Deployment"):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        st = spec.setdefault("strategy", {})
        st.setdefault("type", "RollingUpdate")
        if st["type"] == "RollingUpdate":
            st.setdefault("rollingUpdate", {}).setdefault("maxSurge", "25%")
            st["rollingUpdate"].setdefault("maxUnavailable", "25%")
    elif (res.group, res.kind) == ("apps", "DaemonSet"):
        spec.setdefault("revisionHistoryLimit", 10)
        st = spec.setdefault("updateStrategy", {})
        st.setdefault("type", "RollingUpdate")
        if st["type"] == "RollingUpdate":
            st.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", 1)
            st["rollingUpdate"].setdefault("maxSurge", 0)
    elif (res.group, res.kind) == ("", "Pod"):
        default_pod_spec(spec)
        st = obj.setdefault("status", {})  # the pod registry's PrepareForCreate
        st.setdefault("phase", "Pending")
        st.setdefault("qosClass", qos_class(spec))
    elif (res.group, res.kind) == ("", "PersistentVolumeClaim"):
        spec.setdefault("volumeMode", "Filesystem")


def new_pod(template, ns, name, owner, extra_labels):
    """A pod as the ReplicaSet and DaemonSet controllers create it."""
    tm = template.get("metadata") or {}
    spec = copy.deepcopy(template.get("spec") or {})
    default_pod_spec(spec)
    m = {"name": name, "namespace": ns, "generateName": name[:name.rfind("-") + 1],
         "labels": dict(tm.get("labels") or {}, **extra_labels), "ownerReferences": [owner]}
    if tm.get("annotations"):
        m["annotations"] = dict(tm["annotations"])
    return {"metadata": m, "spec": spec, "status": {"phase": "Pending", "qosClass": qos_class(spec)}}


def qos_class(spec):
    cs = spec.get("containers") or []
    req = [(c.get("resources") or {}).get("requests") or {} for c in cs]
    lim = [(c.get("resources") or {}).get("limits") or {} for c in cs]
    if not any(req) and not any(lim):
        return "BestEffort"
    if all(l.get("cpu") and l.get("memory") and pred.quantity(r.get("cpu", l["cpu"])) == pred.quantity(l["cpu"])
           and pred.quantity(r.get("memory", l["memory"])) == pred.quantity(l["memory"]) for r, l in zip(req, lim)):
        return "Guaranteed"
    return "Burstable"


def int_or_percent(v, total, round_up):
    if v is None:
        v = "25%"
    if isinstance(v, str) and v.endswith("%"):
        x = total * int(v[:-1]) / 100.0
        return int(math.ceil(x) if round_up else math.floor(x))
    return int(v)


def owned_by(o, owner, kind):
    """o's controller is owner. By name too: seeded objects (eks_clusters.py,
    captured clusters) name their owner with a uid this store never gave it."""
    ref = owner_of(o, kind)
    return ref is not None and (ref.get("uid") == owner["metadata"]["uid"] or
                                ref.get("name") == owner["metadata"]["name"])


def selects(sel, labels_):
    """A LabelSelector (matchLabels, matchExpressions) matches labels_."""
    sel = sel or {}
    if not sel:
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels_.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        if not pred.expr_match(e, labels_.get(e.get("key")), e.get("key") in labels_):
            return False
    return True


class Workloads:
    def __init__(self, cl):
        self.cl = cl
        self.created = set()    # uids of the objects these controllers made (garbage-collected with their owner)
        self.progress = {}      # deployment uid -> (last progress signature, time)
        # owner uid -> (template hash when first seen, what was current then): objects
        # seeded with their pods (eks_clusters.py) carry hashes this controller did
        # not compute; they stay current until the template changes.
        self.first_seen = {}

    def pods(self, ns):
        return self.cl.list("Pod", "", ns)

    def adopt(self, owner, kind, api, objs):
        """Orphans (no controller) that owner's selector matches become its own,
        as the controllers' ControllerRefManager does."""
        for o in objs:
            if owner_of(o) is None and selects((owner.get("spec") or {}).get("selector"), labels(o)) \
                    and not o["metadata"].get("deletionTimestamp"):
                new = copy.deepcopy(o)
                refs = new["metadata"].setdefault("ownerReferences", [])
                refs.append(owner_ref(owner, kind, api))
                self.cl.update(o["kind"], "apps" if o["kind"] == "ReplicaSet" else "", new, KCM,
                               {"metadata": {"ownerReferences": refs}})

    # ---- garbage collection ----
    def collect(self):
        for kind, group in (("ReplicaSet", "apps"), ("Pod", "")):
            for o in list(self.cl.list(kind, group)):
                if o["metadata"].get("uid") not in self.created:
                    continue
                ref = owner_of(o)
                if ref and self.cl.by_uid(ref.get("uid")) is None:
                    if kind == "Pod":
                        self.cl.delete_pod(o)
                    else:
                        self.cl.delete(kind, group, o)
                        self.created.discard(o["metadata"]["uid"])

    # ---- ReplicaSets ----
    def sync_replicasets(self):
        for rs in self.cl.list("ReplicaSet", "apps"):
            ns = rs["metadata"]["namespace"]
            self.adopt(rs, "ReplicaSet", "apps/v1", self.pods(ns))
            mine = [p for p in self.pods(ns) if owned_by(p, rs, "ReplicaSet") and alive(p)]
            want = (rs.get("spec") or {}).get("replicas", 1)
            refused = refs.missing_service_account(self.cl, ns, (rs["spec"].get("template") or {}).get("spec") or {},
                                                   rs["metadata"]["name"] + "-")
            if len(mine) < want and refused:
                self.cl.event(rs, "Warning", "FailedCreate", "Error creating: " + refused, "replicaset-controller")
            elif len(mine) < want:
                for _ in range(want - len(mine)):
                    name = "%s-%s" % (rs["metadata"]["name"], self.cl.name_suffix(rs["metadata"]["uid"]))
                    p = self.cl.create("Pod", "", new_pod(rs["spec"]["template"], ns, name,
                                                          owner_ref(rs, "ReplicaSet", "apps/v1"), {}), KCM)
                    self.created.add(p["metadata"]["uid"])
                    mine.append(p)
                    self.cl.event(rs, "Normal", "SuccessfulCreate", "Created pod: " + name, "replicaset-controller",
                                  every=0)
            elif len(mine) > want:
                # Unscheduled first, then not ready, then the newest (controller.ActivePods ordering).
                mine.sort(key=lambda p: (bool(p["spec"].get("nodeName")), pod_ready(p),
                                         -int(p["metadata"]["resourceVersion"])))
                for p in mine[:len(mine) - want]:
                    self.cl.delete_pod(p)
                    self.cl.event(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + p["metadata"]["name"],
                                  "replicaset-controller", every=0)
                mine = mine[len(mine) - want:]
            ready = sum(1 for p in mine if pod_ready(p))
            st = {"replicas": len(mine), "fullyLabeledReplicas": len(mine), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
            self.cl.set_status("ReplicaSet", "apps", rs, st, KCM)

    # ---- Deployments ----
    def sync_deployments(self):
        for d in self.cl.list("Deployment", "apps"):
            if (d["metadata"].get("annotations") or {}).get("heliograph.test/never-ready") == "true":
                continue
            self.sync_deployment(d)

    def scale(self, d, rs, n):
        old = rs["spec"].get("replicas", 1)
        if old == n:
            return rs
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = n
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(
            d["spec"].get("replicas", 1))
        rs = self.cl.update("ReplicaSet", "apps", new, KCM, {"spec": {"replicas": n}})
        self.cl.event(d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d" % (
            "up" if n > old else "down", rs["metadata"]["name"], old, n), "deployment-controller", every=0)
        return rs

    def rebuild_replicaset(self, d, tmpl, want):
        """Pods seeded without their ReplicaSet (eks_clusters.py's coredns): the
        ReplicaSet they name comes back with the Deployment's template, so the
        pods count instead of being doubled."""
        ns = d["metadata"]["namespace"]
        for p in self.pods(ns):
            ref = owner_of(p, "ReplicaSet")
            if ref and ref.get("name", "").startswith(d["metadata"]["name"] + "-") and \
                    selects((d.get("spec") or {}).get("selector"), labels(p)) and \
                    self.cl.get("ReplicaSet", ns, ref["name"], "apps") is None:
                h = ref["name"][len(d["metadata"]["name"]) + 1:]
                rs = self.new_replicaset(d, tmpl, h, 1, want)
                rs["metadata"]["name"] = ref["name"]
                return [self.cl.create("ReplicaSet", "apps", rs, KCM)]
        return []

    def new_replicaset(self, d, tmpl, h, rev, replicas):
        spec = d.get("spec") or {}
        rs_tmpl = copy.deepcopy(tmpl)
        rs_tmpl.setdefault("metadata", {}).setdefault("labels", {})[HASH] = h
        sel = copy.deepcopy(spec.get("selector") or {})
        sel.setdefault("matchLabels", {})[HASH] = h
        want = spec.get("replicas", 1)
        return {"metadata": {"name": "%s-%s" % (d["metadata"]["name"], h), "namespace": d["metadata"]["namespace"],
                             "labels": dict((tmpl.get("metadata") or {}).get("labels") or {}, **{HASH: h}),
                             "annotations": {REVISION: str(rev), "deployment.kubernetes.io/desired-replicas": str(want),
                                             "deployment.kubernetes.io/max-replicas": str(want)},
                             "ownerReferences": [owner_ref(d, "Deployment", "apps/v1")]},
                "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds", 0), "selector": sel,
                         "template": rs_tmpl}}

    def sync_deployment(self, d):
        ns = d["metadata"]["namespace"]
        spec = d.get("spec") or {}
        want = spec.get("replicas", 1)
        tmpl = spec.get("template") or {}
        h = template_hash(tmpl)
        self.adopt(d, "Deployment", "apps/v1", self.cl.list("ReplicaSet", "apps", ns))
        rss = [rs for rs in self.cl.list("ReplicaSet", "apps", ns) if owned_by(rs, d, "Deployment")]
        if not rss:
            rss = self.rebuild_replicaset(d, tmpl, want)

        def bare(t):
            t = copy.deepcopy(t)
            (t.get("metadata") or {}).get("labels", {}).pop(HASH, None)
            return t
        if d["metadata"]["uid"] not in self.first_seen:
            rev = (d["metadata"].get("annotations") or {}).get(REVISION)
            cur = [rs["metadata"]["name"] for rs in rss if rev and (rs["metadata"].get("annotations") or {}).get(
                REVISION) == rev] or [rs["metadata"]["name"] for rs in rss[:1] if len(rss) == 1]
            self.first_seen[d["metadata"]["uid"]] = (h, set(cur))
        seen_h, seen_cur = self.first_seen[d["metadata"]["uid"]]
        new_rs = next((rs for rs in rss if labels(rs).get(HASH) == h or bare(rs["spec"]["template"]) == tmpl
                       or (h == seen_h and rs["metadata"]["name"] in seen_cur)), None)
        revs = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")) for rs in rss]
        max_rev = max(revs or [0])
        if spec.get("paused"):
            return
        if new_rs is None:
            rs = self.new_replicaset(d, tmpl, h, max_rev + 1, 0)
            new_rs = self.cl.create("ReplicaSet", "apps", rs, KCM)
            self.created.add(new_rs["metadata"]["uid"])
            rss.append(new_rs)
            self.progress.pop(d["metadata"]["uid"], None)
        elif int((new_rs["metadata"].get("annotations") or {}).get(REVISION, "0")) < max_rev:
            # A rollback to an older template: that ReplicaSet becomes the newest revision.
            upd = copy.deepcopy(new_rs)
            upd["metadata"]["annotations"][REVISION] = str(max_rev + 1)
            new_rs = self.cl.update("ReplicaSet", "apps", upd, KCM, {"metadata": {"annotations": {REVISION: 1}}})
        old = [rs for rs in rss if rs is not new_rs and rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        pods = [p for p in self.pods(ns) if alive(p)]

        def count(rs, f=lambda p: True):
            return sum(1 for p in pods if owned_by(p, rs, "ReplicaSet") and f(p))
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        if strategy == "Recreate":
            for rs in old:
                self.scale(d, rs, 0)
            # The new pods only once the old ones are gone, terminating ones included.
            if not any(owned_by(p, rs, "ReplicaSet") and pred.occupies(p) for p in self.pods(ns) for rs in old):
                new_rs = self.scale(d, new_rs, want)
        else:
            ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
            surge = int_or_percent(ru.get("maxSurge"), want, True)
            unavail = int_or_percent(ru.get("maxUnavailable"), want, False)
            if surge == 0 and unavail == 0:
                unavail = 1
            total = sum(rs["spec"].get("replicas", 1) for rs in old) + new_rs["spec"].get("replicas", 1)
            cur_new = new_rs["spec"].get("replicas", 1)
            if cur_new > want:
                new_rs = self.scale(d, new_rs, want)
            elif cur_new < want:
                up = min(want, cur_new + max(0, want + surge - total))
                if up > cur_new:
                    new_rs = self.scale(d, new_rs, up)
            # Old replicas: the not-ready ones go at once, the ready ones as far as
            # the available count stays at want - maxUnavailable.
            available = sum(count(rs, pod_ready) for rs in rss)
            room = available - (want - unavail)
            for rs in sorted(old, key=lambda r: int((r["metadata"].get("annotations") or {}).get(REVISION, "0"))):
                n = rs["spec"].get("replicas", 1)
                if n == 0:
                    continue
                unready = n - count(rs, pod_ready)
                down = min(n, max(0, unready) + max(0, room))
                room -= max(0, down - max(0, unready))
                if down > 0:
                    self.scale(d, rs, n - down)
        self.deployment_status(d, new_rs, old, count, want, strategy)

    def deployment_status(self, d, new_rs, old, count, want, strategy):
        spec = d.get("spec") or {}
        rss = [new_rs] + old
        replicas = sum(count(rs) for rs in rss)
        updated = count(new_rs)
        ready = sum(count(rs, pod_ready) for rs in rss)
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        unavail = 0 if strategy == "Recreate" else int_or_percent(ru.get("maxUnavailable"), want, False)
        total_spec = sum(rs["spec"].get("replicas", 1) for rs in rss)
        st = copy.deepcopy(d.get("status") or {})
        conds = {c["type"]: c for c in st.get("conditions") or []}
        t = now()

        def cond(typ, status, reason, msg):
            c = conds.get(typ)
            if c and c["status"] == status and c["reason"] == reason and c["message"] == msg:
                return
            conds[typ] = {"type": typ, "status": status, "reason": reason, "message": msg, "lastUpdateTime": t,
                          "lastTransitionTime": c["lastTransitionTime"] if c and c["status"] == status else t}
        if ready >= want - unavail:
            cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        name = new_rs["metadata"]["name"]
        uid = d["metadata"]["uid"]
        sig = (updated, ready, replicas, name)
        last = self.progress.get(uid)
        changed = last is None or last[0] != sig
        if changed:
            self.progress[uid] = last = (sig, time.time())
        complete = updated == want and replicas == want and count(new_rs, pod_ready) == want
        prog = conds.get("Progressing")
        if complete:
            cond("Progressing", "True", "NewReplicaSetAvailable", 'ReplicaSet "%s" has successfully progressed.' % name)
        elif time.time() - last[1] > spec.get("progressDeadlineSeconds", 600):
            cond("Progressing", "False", "ProgressDeadlineExceeded",
                 'ReplicaSet "%s" has timed out progressing.' % name)
        elif prog is None or '"%s"' % name not in prog["message"]:
            cond("Progressing", "True", "NewReplicaSetCreated", 'Created new replica set "%s"' % name)
        elif changed or prog["reason"] != "NewReplicaSetCreated":
            cond("Progressing", "True", "ReplicaSetUpdated", 'ReplicaSet "%s" is progressing.' % name)
        st.update({"observedGeneration": d["metadata"].get("generation", 1), "replicas": replicas,
                   "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
                   "conditions": [conds[k] for k in ("Available", "Progressing") if k in conds]})
        if total_spec - ready > 0:
            st["unavailableReplicas"] = total_spec - ready
        else:
            st.pop("unavailableReplicas", None)
        for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if not st[k]:
                del st[k]
        self.cl.set_status("Deployment", "apps", d, st, KCM)
        rev = (new_rs["metadata"].get("annotations") or {}).get(REVISION)
        if rev and (d["metadata"].get("annotations") or {}).get(REVISION) != rev:
            cur = self.cl.get("Deployment", d["metadata"]["namespace"], d["metadata"]["name"], "apps")
            upd = copy.deepcopy(cur)
            upd["metadata"].setdefault("annotations", {})[REVISION] = rev
            self.cl.update("Deployment", "apps", upd, KCM, {"metadata": {"annotations": {REVISION: rev}}})

    # ---- DaemonSets ----
    def ds_node_ok(self, tmpl_pod, node):
        return pred.affinity_match(tmpl_pod, node) and pred.untolerated_taint(tmpl_pod, node) is None

    def sync_daemonsets(self):
        nodes = self.cl.list("Node")
        for ds in self.cl.list("DaemonSet", "apps"):
            if (ds["metadata"].get("annotations") or {}).get("heliograph.test/never-ready") == "true":
                continue
            self.sync_daemonset(ds, nodes)

    def sync_daemonset(self, ds, nodes):
        ns = ds["metadata"]["namespace"]
        tmpl = (ds.get("spec") or {}).get("template") or {}
        h = template_hash(tmpl)
        gen = ds["metadata"].get("generation", 1)
        probe = {"spec": copy.deepcopy(tmpl.get("spec") or {})}
        add_tolerations(probe["spec"], DS_TOLERATIONS)
        if probe["spec"].get("hostNetwork"):
            add_tolerations(probe["spec"], [DS_HOSTNET_TOLERATION])
        eligible = {n["metadata"]["name"] for n in nodes if self.ds_node_ok(probe, n)}
        by_node = {}
        self.adopt(ds, "DaemonSet", "apps/v1", self.pods(ns))
        # A node whose daemon pod is still terminating gets its new pod once that one
        # is gone (maxSurge 0), as the DaemonSet controller counts it as existing.
        leaving = set()
        for p in self.pods(ns):
            if owned_by(p, ds, "DaemonSet") and alive(p):
                by_node.setdefault(target_node(p), []).append(p)
            elif owned_by(p, ds, "DaemonSet") and p["metadata"].get("deletionTimestamp"):
                leaving.add(target_node(p))
        if ds["metadata"]["uid"] not in self.first_seen:
            self.first_seen[ds["metadata"]["uid"]] = (h, {labels(p).get("controller-revision-hash")
                                                          for ps in by_node.values() for p in ps})
        seen_h, seen_cur = self.first_seen[ds["metadata"]["uid"]]

        def current(p):
            ph = labels(p).get("controller-revision-hash")
            return ph == h or (h == seen_h and ph in seen_cur)
        for node, ps in list(by_node.items()):
            extra = ps[1:] if node in eligible else ps
            for p in extra:
                self.cl.delete_pod(p)
                self.cl.event(ds, "Normal", "SuccessfulDelete", "Deleted pod: " + p["metadata"]["name"],
                              "daemonset-controller", every=0)
            by_node[node] = [] if node not in eligible else ps[:1]
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            max_unavail = int_or_percent((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1),
                                         len(eligible), True) or 1
            unavailable = sum(1 for n in eligible if not by_node.get(n) or not pod_ready(by_node[n][0]))
            for n in sorted(eligible):
                ps = by_node.get(n) or []
                if not ps or current(ps[0]):
                    continue
                if not pod_ready(ps[0]) or unavailable < max_unavail:
                    if pod_ready(ps[0]):
                        unavailable += 1
                    self.cl.delete_pod(ps[0])
                    self.cl.event(ds, "Normal", "SuccessfulDelete", "Deleted pod: " + ps[0]["metadata"]["name"],
                                  "daemonset-controller", every=0)
                    by_node[n] = []
                    leaving.add(n)
        refused = refs.missing_service_account(self.cl, ns, tmpl.get("spec") or {}, ds["metadata"]["name"] + "-")
        for n in sorted(eligible):
            if by_node.get(n) or n in leaving:
                continue
            if refused:
                self.cl.event(ds, "Warning", "FailedCreate", "Error creating: " + refused, "daemonset-controller")
                break
            name = "%s-%s" % (ds["metadata"]["name"], self.cl.name_suffix(ds["metadata"]["uid"] + n))
            pod = new_pod(tmpl, ns, name, owner_ref(ds, "DaemonSet", "apps/v1"),
                          {"controller-revision-hash": h, "pod-template-generation": str(gen)})
            add_tolerations(pod["spec"], probe["spec"].get("tolerations") or [])
            pin_to_node(pod["spec"], n)
            p = self.cl.create("Pod", "", pod, KCM)
            self.created.add(p["metadata"]["uid"])
            by_node[n] = [p]
            self.cl.event(ds, "Normal", "SuccessfulCreate", "Created pod: " + name, "daemonset-controller", every=0)
        ps = [by_node[n][0] for n in eligible if by_node.get(n)]
        ready = sum(1 for p in ps if pod_ready(p))
        st = {"observedGeneration": gen, "desiredNumberScheduled": len(eligible), "currentNumberScheduled": len(ps),
              "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
              "updatedNumberScheduled": sum(1 for p in ps if current(p))}
        if len(eligible) - ready:
            st["numberUnavailable"] = len(eligible) - ready
        for k in ("numberAvailable", "updatedNumberScheduled"):
            if not st[k]:
                del st[k]
        self.cl.set_status("DaemonSet", "apps", ds, st, KCM)


def target_node(p):
    """The node a daemon pod is for: spec.nodeName, or its matchFields pin."""
    if (p.get("spec") or {}).get("nodeName"):
        return p["spec"]["nodeName"]
    req = ((((p.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for t in req.get("nodeSelectorTerms") or []:
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return None


def pin_to_node(spec, node):
    """The DaemonSet controller's node affinity: a matchFields metadata.name term,
    replacing any matchFields of the template's required terms."""
    na = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    req = na.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    field = {"key": "metadata.name", "operator": "In", "values": [node]}
    terms = req.get("nodeSelectorTerms") or [{}]
    for t in terms:
        t["matchFields"] = [field]
    req["nodeSelectorTerms"] = terms
