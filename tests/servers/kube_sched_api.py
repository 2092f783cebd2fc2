"""How the simulated controllers (kube_sched.py) read and write the test API
server's store: objects by kind, writes under a field manager (so watches,
resourceVersions and managedFields behave as for any client), and the Event
recorder (core/v1 Events with count/firstTimestamp/lastTimestamp, repeated
events folded into one object as client-go's correlator does).

Every method expects the caller to hold store.lock."""
import copy
import hashlib
import time

import kube_ssa
from kube_store import Req, now

# Alphabet of the generated name suffixes and hashes (k8s.io/apimachinery
# util/rand: no vowels, no 0/1/3, so no words and no look-alikes).
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(s):
    return "".join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in s)


def fnv32a(data):
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def meta(o):
    return o.setdefault("metadata", {})


def labels(o):
    return (o.get("metadata") or {}).get("labels") or {}


def owner_of(o, kind=None):
    """The controller ownerReference of o (of that kind, if given)."""
    for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") and (kind is None or ref.get("kind") == kind):
            return ref
    return None


def owner_ref(o, kind, api):
    return {"apiVersion": api, "kind": kind, "name": o["metadata"]["name"], "uid": o["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


class Cluster:
    def __init__(self, store):
        self.store = store
        self.serial = 0
        self.terminating = {}  # pod uid -> when it goes
        self.events = {}   # (uid, reason, message, component, field path) -> (namespace, name, time)

    # ---- reads ----
    def res(self, kind, group=""):
        return self.store.by_kind[(group, kind)]

    def list(self, kind, group="", ns=None):
        res = self.res(kind, group)
        return [o for k, o in self.store.objects.items()
                if k[0] == res.plural and k[1] == res.group and (ns is None or k[2] == ns)]

    def get(self, kind, ns, name, group=""):
        res = self.res(kind, group)
        return self.store.objects.get(self.store.key(res, ns, name))

    def by_uid(self, uid):
        for o in self.store.objects.values():
            if o["metadata"].get("uid") == uid:
                return o
        return None

    # ---- writes ----
    def write(self, kind, group, new, manager, paths, sub=None):
        """Creates or replaces new (a full object) as manager, who then owns paths
        (or, for a status write, the status); returns the stored object."""
        res = self.res(kind, group)
        m = new["metadata"]
        ns = m.get("namespace") if res.namespaced else None
        k = self.store.key(res, ns, m["name"])
        old = self.store.objects.get(k)
        new["apiVersion"] = res.group + "/" + res.version if res.group else res.version
        new["kind"] = res.kind
        owners = {x: set(s) for x, s in self.store.owners.get(k, {}).items()}
        owners.setdefault(manager, set()).update(paths)
        op = "Update"
        _, stored = self.store.finish_write(Req(res, ns, m["name"], sub), k, old, new, owners, manager, op)
        return stored

    def create(self, kind, group, obj, manager):
        obj = copy.deepcopy(obj)
        return self.write(kind, group, obj, manager,
                          kube_ssa.leaves({x: y for x, y in obj.items() if x not in ("apiVersion", "kind", "status")}))

    def set_status(self, kind, group, o, status, manager):
        if o.get("status") == status:
            return o
        new = copy.deepcopy(o)
        new["status"] = status
        return self.write(kind, group, new, manager, kube_ssa.leaves({"status": status}), "status")

    def update(self, kind, group, new, manager, fields):
        """new: a modified copy of a stored object; fields: a dict of what manager set."""
        return self.write(kind, group, new, manager, kube_ssa.leaves(fields))

    def delete(self, kind, group, o):
        res = self.res(kind, group)
        k = self.store.key(res, o["metadata"].get("namespace") if res.namespaced else None, o["metadata"]["name"])
        if k in self.store.objects:
            self.store.remove(res, k, self.store.objects[k])

    def delete_pod(self, p, manager="kube-controller-manager"):
        """A controller's pod deletion as the apiserver and kubelet carry it out: a
        pod on a node gets deletionTimestamp (kubectl shows Terminating; it keeps
        its slot and IP) and goes once its grace period, compressed to at most
        1 s, is over; an unscheduled pod goes at once."""
        m = p["metadata"]
        if not (p.get("spec") or {}).get("nodeName"):
            self.delete("Pod", "", p)
            return
        if m.get("deletionTimestamp"):
            return
        grace = (p.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        new = copy.deepcopy(p)
        new["metadata"]["deletionTimestamp"] = now()
        new["metadata"]["deletionGracePeriodSeconds"] = grace
        self.update("Pod", "", new, manager, {})
        self.terminating[m["uid"]] = time.time() + min(1.0, grace / 30.0)

    def reap(self):
        """Removes the pods whose (compressed) grace period is over."""
        for uid, t in list(self.terminating.items()):
            if time.time() >= t:
                o = self.by_uid(uid)
                if o is not None:
                    self.delete("Pod", "", o)
                del self.terminating[uid]

    def name_suffix(self, seed):
        self.serial += 1
        return safe_encode(hashlib.sha256(("%s/%d/%f" % (seed, self.serial, time.time())).encode())
                           .hexdigest()[:5])

    # ---- events ----
    def event(self, obj, typ, reason, message, component, host=None, field_path=None, every=2.0):
        """Records an Event about obj in its namespace ("default" for cluster-scoped
        objects, as the apiserver's recorder does); a repeat bumps count and
        lastTimestamp of the same Event object, at most once per `every` seconds
        (the controllers' resyncs and back-offs, compressed)."""
        m = obj["metadata"]
        ns = m.get("namespace") or "default"
        key = (m.get("uid"), reason, message, component, field_path)
        t = now()
        ref = self.events.get(key)
        if ref is None:
            # An Event already stored (a seeded cluster's) that this one repeats.
            for ev in self.list("Event", "", ns):
                io = ev.get("involvedObject") or {}
                same = io.get("uid") == m.get("uid") or (io.get("name") == m["name"] and
                                                          io.get("kind") == obj.get("kind"))
                if same and ev.get("reason") == reason and ev.get("message") == message and \
                        (ev.get("source") or {}).get("component") == component and io.get("fieldPath") == field_path:
                    ref = self.events[key] = (ns, ev["metadata"]["name"], 0)
                    break
        if ref is not None:
            if time.time() - ref[2] < every:
                return
            self.events[key] = (ref[0], ref[1], time.time())
            ev = self.get("Event", ref[0], ref[1])
            if ev is not None:
                new = copy.deepcopy(ev)
                new["count"] = ev.get("count", 1) + 1
                new["lastTimestamp"] = t
                self.update("Event", "", new, component, {"count": 1, "lastTimestamp": t})
                return
        self.serial += 1
        name = "%s.%x" % (m["name"], int(time.time() * 1e9) + self.serial)
        involved = {"kind": obj.get("kind"), "namespace": m.get("namespace"), "name": m["name"],
                    "uid": m.get("uid"), "apiVersion": obj.get("apiVersion"),
                    "resourceVersion": m.get("resourceVersion")}
        if not m.get("namespace"):
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component}
        if host:
            source["host"] = host
        ev = {"metadata": {"name": name, "namespace": ns}, "involvedObject": involved, "reason": reason,
              "message": message, "type": typ, "count": 1, "firstTimestamp": t, "lastTimestamp": t,
              "source": source, "reportingComponent": component.split("_")[0], "reportingInstance": host or "",
              "eventTime": None}
        self.create("Event", "", ev, component.split("_")[0])
        self.events[key] = (ns, name, time.time())
