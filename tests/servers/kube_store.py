"""Object store of the test API server: resources from discovery, objects,
resourceVersions, the watch history, selectors, Status errors and the
simulated Deployment/DaemonSet controller."""
import base64
import bisect
import copy
import json
import os
import re
import threading
import time
import uuid
from collections import namedtuple

import kube_ssa

# Resource lists for group versions the discovery fixtures only name in /apis
# (facts from the Kubernetes API reference): (plural, Kind, namespaced).
EXTRA_RESOURCES = {
    "rbac.authorization.k8s.io/v1": [("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "storage.k8s.io/v1": [("storageclasses", "StorageClass", False), ("csidrivers", "CSIDriver", False),
                          ("csinodes", "CSINode", False), ("volumeattachments", "VolumeAttachment", False)],
    "coordination.k8s.io/v1": [("leases", "Lease", True)],
    "batch/v1": [("jobs", "Job", True), ("cronjobs", "CronJob", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("ingresses", "Ingress", True), ("networkpolicies", "NetworkPolicy", True),
                             ("ingressclasses", "IngressClass", False)],
    "events.k8s.io/v1": [("events", "Event", True)],
    "apiextensions.k8s.io/v1": [("customresourcedefinitions", "CustomResourceDefinition", False)],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "autoscaling/v1": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
}
# kubectl resolves "sc", "pdb"... through discovery (kubectl api-resources on a v1.32 cluster).
SHORT_NAMES = {"storageclasses": ["sc"], "ingresses": ["ing"], "networkpolicies": ["netpol"],
               "poddisruptionbudgets": ["pdb"], "priorityclasses": ["pc"], "horizontalpodautoscalers": ["hpa"],
               "customresourcedefinitions": ["crd", "crds"], "cronjobs": ["cj"]}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NO_GENERATION = {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "ClusterRole", "Role",
                 "ClusterRoleBinding", "RoleBinding", "Node", "Pod", "Event", "Lease"}

Res = namedtuple("Res", "group version plural kind namespaced")
Req = namedtuple("Req", "res namespace name sub")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, meta=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details
        self.meta = meta or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": dict(self.meta), "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details:
            s["details"] = self.details
        s["code"] = self.code
        return s


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def gname(res):
    """"deployments.apps" or "services" as the apiserver words it."""
    return res.plural + ("." + res.group if res.group else "")


class Store:
    def __init__(self, discovery_dir, tokens, readonly_tokens):
        self.lock = threading.Condition()
        self.tokens, self.readonly_tokens = tokens, readonly_tokens
        self.requests = []
        self.rv = 100
        self.objects = {}   # (plural, group, namespace, name) -> object
        self.item_cache = {}  # same key -> (object, resourceVersion, its JSON as a List item)
        self.key_order = {}   # (plural, group) -> its keys in list order; dropped when one comes or goes
        self.owners = {}    # same key -> {manager: set(paths)}
        self.events = []    # (rv, type, res, object)
        self.oldest_rv = 0  # watches from below this get 410
        # An expired continue token: the 410 offers a token that lists the rest
        # at the current resourceVersion, as an etcd3 apiserver does; off, only
        # a new list helps (POST /_control/list {"inconsistent_continue": false}).
        self.inconsistent_continue = True
        self.epoch = 0
        self.stopping = False
        self.controller_paused = False  # start_controller's loop writes nothing while set
        self.defaulter = None  # callable(res, obj): API defaulting (kube_sched sets it; none without --scheduler)
        self.docs = {}
        self.resources = {}  # (group, version, plural) -> Res
        self.by_kind = {}    # (group, Kind) -> Res
        self.load_discovery(discovery_dir)
        for ns in ("default", "kube-system", "kube-public"):
            self.put_raw({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns},
                          "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    # ---- discovery ----
    def load_discovery(self, d):
        def load(name):
            p = os.path.join(d, name)
            if os.path.exists(p):
                with open(p) as f:
                    return json.load(f)
            return None
        self.docs["/api"] = load("api.json") or {"kind": "APIVersions", "versions": ["v1"]}
        self.docs["/apis"] = load("apis.json")
        for g in self.docs["/apis"]["groups"]:
            self.docs["/apis/" + g["name"]] = dict(g, kind="APIGroup", apiVersion="v1")
            for v in g["versions"]:
                gv = v["groupVersion"]
                doc = load("apis__" + gv.replace("/", "__") + ".json")
                if doc is None:
                    doc = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
                        dict({"name": p, "singularName": k.lower(), "namespaced": ns, "kind": k, "verbs": VERBS},
                             **({"shortNames": SHORT_NAMES[p]} if p in SHORT_NAMES else {}))
                        for p, k, ns in EXTRA_RESOURCES.get(gv, [])]}
                self.docs["/apis/" + gv] = doc
        self.docs["/api/v1"] = load("api__v1.json")
        for path, doc in self.docs.items():
            if doc.get("kind") != "APIResourceList":
                continue
            gv = doc["groupVersion"]
            group, version = gv.split("/") if "/" in gv else ("", gv)
            for r in doc["resources"]:
                if "/" in r["name"]:
                    continue
                res = Res(group, version, r["name"], r["kind"], r["namespaced"])
                self.resources[(group, version, r["name"])] = res
                self.by_kind.setdefault((group, r["kind"]), res)

    def discovery_doc(self, path):
        return self.docs.get(path)

    def openapi_v3(self, path):
        """Just enough OpenAPI v3 for kubectl: the index, and per group version
        a PATCH operation per kind that declares the fieldValidation query
        parameter, so kubectl leaves validation to the server (fieldValidation=Strict)."""
        gvs = {}
        for res in self.resources.values():
            gv = ("apis/%s/%s" % (res.group, res.version)) if res.group else "api/" + res.version
            gvs.setdefault(gv, []).append(res)
        if path == "/openapi/v3":
            return {"paths": {gv: {"serverRelativeURL": "/openapi/v3/%s?hash=%d" % (gv, self.rv)} for gv in gvs}}
        rs = gvs.get(path[len("/openapi/v3/"):])
        if rs is None:
            return None
        paths = {}
        for res in rs:
            base = "/" + ("apis/%s/%s" % (res.group, res.version) if res.group else "api/" + res.version)
            p = base + ("/namespaces/{namespace}/" if res.namespaced else "/") + res.plural + "/{name}"
            paths[p] = {"patch": {
                "operationId": "patch" + res.kind,
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
                "parameters": [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                               for n in ("dryRun", "fieldManager", "fieldValidation", "force")],
                "responses": {"200": {"description": "OK"}}}}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
                "components": {"schemas": {}}}

    def parse_path(self, path):
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        res = self.resources.get((group, version, rest[0]))
        if res is None or (ns is not None and not res.namespaced):
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3:
            return None
        return Req(res, ns, name, sub)

    # ---- errors ----
    def not_found(self, r, name=None):
        d = {"name": name or r.name, "kind": r.res.plural}
        if r.res.group:
            d["group"] = r.res.group
        return ApiError(404, "NotFound", '%s "%s" not found' % (gname(r.res), name or r.name), d)

    def forbidden(self, r, verb):
        where = ' in the namespace "%s"' % r.namespace if r.namespace else " at the cluster scope"
        d = {"kind": r.res.plural}
        if r.name:
            d["name"] = r.name
        if r.res.group:
            d["group"] = r.res.group
        obj = '%s "%s"' % (gname(r.res), r.name) if r.name else gname(r.res)
        return ApiError(403, "Forbidden",
                        '%s is forbidden: User "system:serviceaccount:test:readonly" cannot %s resource "%s" '
                        'in API group "%s"%s' % (obj, verb, r.res.plural, r.res.group, where), d)

    def invalid(self, res, name, causes):
        msg = '%s "%s" is invalid: %s' % (res.kind + ("." + res.group if res.group else ""), name,
                                         ", ".join("%s: %s" % (c["field"], c["message"]) for c in causes))
        d = {"name": name, "kind": res.kind, "causes": causes}
        if res.group:
            d["group"] = res.group
        return ApiError(422, "Invalid", msg, d)

    # ---- objects ----
    def key(self, res, ns, name):
        return (res.plural, res.group, ns if res.namespaced else None, name)

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def record_event(self, typ, res, obj):
        self.events.append((int(obj["metadata"]["resourceVersion"]), typ, res, copy.deepcopy(obj)))
        if len(self.events) > 5000:
            self.oldest_rv = self.events[1000][0]
            del self.events[:1000]
        self.lock.notify_all()

    def end_watches(self):
        with self.lock:
            self.epoch += 1
            self.lock.notify_all()

    def compact(self):
        with self.lock:
            # As if other objects were written and etcd compacted: every
            # resourceVersion handed out so far is now too old to watch from.
            self.events.clear()
            self.rv += 1
            self.oldest_rv = self.rv
            self.epoch += 1  # open watches end, as when an apiserver restarts
            self.lock.notify_all()

    def put_raw(self, o):
        """Stores a seed object as given (status included), filling identity fields."""
        api = o.get("apiVersion", "v1")
        group = api.split("/")[0] if "/" in api else ""
        with self.lock:
            res = self.by_kind.get((group, o["kind"]))
            if res is None:
                raise ValueError("unknown kind %s %s" % (api, o["kind"]))
            o = copy.deepcopy(o)
            m = o.setdefault("metadata", {})
            if res.namespaced:
                m.setdefault("namespace", "default")
            m.setdefault("uid", str(uuid.uuid4()))
            m.setdefault("creationTimestamp", now())
            m["resourceVersion"] = self.next_rv()
            k = self.key(res, m.get("namespace"), m["name"])
            typ = "MODIFIED" if k in self.objects else "ADDED"
            if typ == "ADDED":
                self.key_order.pop(k[:2], None)
            self.objects[k] = o
            self.item_json(k, o)
            self.record_event(typ, res, o)

    def check_namespace(self, r):
        if r.res.namespaced:
            if not r.namespace:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                                                  "namespace sent on the request")
            if ("namespaces", "", None, r.namespace) not in self.objects:
                raise ApiError(404, "NotFound", 'namespaces "%s" not found' % r.namespace,
                               {"name": r.namespace, "kind": "namespaces"})

    def validate(self, r, obj, name):
        res = r.res
        causes = []
        if obj.get("kind") and obj["kind"] != res.kind:
            raise ApiError(400, "BadRequest", "the kind %s of the body does not match the URL resource %s"
                           % (obj["kind"], res.plural))
        if not name:
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": "metadata.name"})
        elif not DNS1123_SUB.match(name) or len(name) > 253:
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                           "message": 'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of '
                                      "lower case alphanumeric characters, '-' or '.', and must start and end "
                                      "with an alphanumeric character" % name})
        if res.kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"):
            spec = obj.get("spec") or {}
            sel = (spec.get("selector") or {}).get("matchLabels")
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not spec.get("selector"):
                causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"})
            elif sel and any(labels.get(k) != v for k, v in sel.items()):
                causes.append({"reason": "FieldValueInvalid", "field": "spec.template.metadata.labels",
                               "message": "Invalid value: %s: `selector` does not match template `labels`"
                                          % json.dumps(labels, separators=(",", ":"))})
            if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
                causes.append({"reason": "FieldValueRequired", "message": "Required value",
                               "field": "spec.template.spec.containers"})
        if causes:
            raise self.invalid(res, name or "", causes)

    def managed_fields(self, res, owners, times, ops):
        api = res.group + "/" + res.version if res.group else res.version
        out = []
        for m in sorted(owners):
            e = {"manager": m, "operation": ops.get(m, "Apply"), "apiVersion": api, "time": times.get(m, now()),
                 "fieldsType": "FieldsV1", "fieldsV1": kube_ssa.to_fields_v1(owners[m])}
            if m == "kube-controller-manager":
                e["subresource"] = "status"
            out.append(e)
        return out

    def finish_write(self, r, k, old, obj, owners, manager, op):
        """Bumps identity fields when obj differs from old; records the event.
        Returns (changed, stored object)."""
        if self.defaulter is not None:
            self.defaulter(r.res, obj)
        meta = obj.setdefault("metadata", {})
        prev_owners = self.owners.get(k, {})
        if old is not None:
            a = {x: y for x, y in old.items() if x != "metadata"}
            b = {x: y for x, y in obj.items() if x != "metadata"}
            om = {x: y for x, y in old["metadata"].items() if x != "managedFields"}
            nm = {x: y for x, y in meta.items() if x != "managedFields"}
            if a == b and om == nm and prev_owners == owners:
                return False, old
        times = {e["manager"]: e["time"] for e in (old or {}).get("metadata", {}).get("managedFields", [])}
        ops = {e["manager"]: e["operation"] for e in (old or {}).get("metadata", {}).get("managedFields", [])}
        times[manager] = now()
        ops[manager] = op
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if r.res.kind not in NO_GENERATION:
                meta["generation"] = 1
            if r.res.kind == "Service":
                obj.setdefault("spec", {}).setdefault("clusterIP", "10.96.0.%d" % (self.rv % 250 + 2))
                obj["spec"].setdefault("type", "ClusterIP")
            if r.res.kind in ("Deployment", "DaemonSet"):
                obj.setdefault("status", {})
        else:
            for f in ("uid", "creationTimestamp", "generation"):
                if f in old["metadata"]:
                    meta[f] = old["metadata"][f]
            if "generation" in meta:
                a = {x: y for x, y in old.items() if x not in ("metadata", "status")}
                b = {x: y for x, y in obj.items() if x not in ("metadata", "status")}
                if a != b:
                    meta["generation"] += 1
        meta["resourceVersion"] = self.next_rv()
        meta["managedFields"] = self.managed_fields(r.res, owners, times, ops)
        if k not in self.objects:
            self.key_order.pop(k[:2], None)
        self.objects[k] = obj
        self.item_json(k, obj)
        self.owners[k] = owners
        self.record_event("ADDED" if old is None else "MODIFIED", r.res, obj)
        return True, obj

    def typed(self, res, obj):
        o = copy.deepcopy(obj)
        o["apiVersion"] = res.group + "/" + res.version if res.group else res.version
        o["kind"] = res.kind
        return o

    def apply(self, r, applied, q):
        manager = q.get("fieldManager")
        if not manager:
            raise ApiError(400, "BadRequest", "PATCH requests of type apply must specify a fieldManager")
        if r.name is None or not isinstance(applied, dict):
            raise ApiError(400, "BadRequest", "apply needs an object and a name in the URL")
        name = (applied.get("metadata") or {}).get("name")
        if name != r.name:
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (name, r.name))
        force = q.get("force") == "true"
        with self.lock:
            self.check_namespace(r)
            self.validate(r, applied, name)
            k = self.key(r.res, r.namespace, r.name)
            old = self.objects.get(k)
            try:
                obj, owners = kube_ssa.apply(old, applied, manager, self.owners.get(k, {}), force)
            except ValueError as e:
                conflicts = e.args[0]
                api = r.res.group + "/" + r.res.version if r.res.group else r.res.version
                causes = [{"reason": "FieldManagerConflict", "field": kube_ssa.fmt_path(p),
                           "message": 'conflict with "%s" using %s' % (m, api)} for m, p in conflicts]
                raise ApiError(409, "Conflict", "Apply failed with %d conflict%s: %s" % (
                    len(conflicts), "" if len(conflicts) == 1 else "s",
                    ", ".join("%s: %s" % (c["message"], c["field"]) for c in causes)),
                    {"name": r.name, "kind": r.res.plural, "group": r.res.group, "causes": causes})
            obj = self.typed(r.res, obj)
            if r.res.namespaced:
                obj["metadata"]["namespace"] = r.namespace
            if old is not None and "status" in old:
                obj["status"] = old["status"]
            if old is not None:
                for f in ("clusterIP", "clusterIPs", "type"):
                    if f in (old.get("spec") or {}) and f not in (obj.get("spec") or {}):
                        obj.setdefault("spec", {})[f] = old["spec"][f]
            if q.get("dryRun") == "All":
                return 200 if old else 201, obj
            changed, stored = self.finish_write(r, k, old, obj, owners, manager, "Apply")
            return (201 if old is None else 200), copy.deepcopy(stored)

    def create(self, r, obj, q):
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the body is not an object")
        name = (obj.get("metadata") or {}).get("name")
        with self.lock:
            self.check_namespace(r)
            self.validate(r, obj, name)
            k = self.key(r.res, r.namespace, name)
            if k in self.objects:
                d = {"name": name, "kind": r.res.plural}
                if r.res.group:
                    d["group"] = r.res.group
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (gname(r.res), name), d)
            manager = q.get("fieldManager") or "unknown"
            obj = self.typed(r.res, obj)
            if r.res.namespaced:
                obj["metadata"]["namespace"] = r.namespace
            owners = {manager: kube_ssa.leaves({x: y for x, y in obj.items()
                                                if x not in ("apiVersion", "kind", "status")})}
            _, stored = self.finish_write(r, k, None, obj, owners, manager, "Update")
            return copy.deepcopy(stored)

    def merge_patch(self, r, patch, q):
        with self.lock:
            old = self.get_locked(r)
            obj = copy.deepcopy(old)

            def mp(dst, src):
                for x, y in src.items():
                    if y is None:
                        dst.pop(x, None)
                    elif isinstance(y, dict) and isinstance(dst.get(x), dict):
                        mp(dst[x], y)
                    else:
                        dst[x] = copy.deepcopy(y)
            mp(obj, patch)
            k = self.key(r.res, r.namespace, r.name)
            manager = q.get("fieldManager") or "unknown"
            owners = {m: set(s) for m, s in self.owners.get(k, {}).items()}
            owners.setdefault(manager, set()).update(kube_ssa.leaves({x: y for x, y in patch.items()
                                                                      if y is not None}))
            _, stored = self.finish_write(r, k, old, obj, owners, manager, "Update")
            return copy.deepcopy(stored)

    def replace(self, r, obj, q):
        with self.lock:
            old = self.get_locked(r)
            k = self.key(r.res, r.namespace, r.name)
            # Optimistic concurrency as the apiserver does it (leader election relies on it).
            want = (obj.get("metadata") or {}).get("resourceVersion")
            if want and want != old["metadata"].get("resourceVersion"):
                d = {"name": r.name, "kind": r.res.plural}
                if r.res.group:
                    d["group"] = r.res.group
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                               "modified; please apply your changes to the latest version and try again"
                               % (gname(r.res), r.name), d)
            obj = self.typed(r.res, obj)
            if r.sub == "status":
                new = copy.deepcopy(old)
                new["status"] = obj.get("status", {})
                obj = new
            owners = self.owners.get(k, {})
            _, stored = self.finish_write(r, k, old, obj, owners, q.get("fieldManager") or "unknown", "Update")
            return copy.deepcopy(stored)

    def get_locked(self, r):
        if r.res.namespaced and not r.namespace:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        o = self.objects.get(self.key(r.res, r.namespace, r.name))
        if o is None:
            raise self.not_found(r)
        return o

    def get(self, r):
        with self.lock:
            return self.typed(r.res, self.get_locked(r))

    def delete(self, r):
        with self.lock:
            o = self.get_locked(r)
            k = self.key(r.res, r.namespace, r.name)
            self.remove(r.res, k, o)
            if r.res.plural == "namespaces":
                for k2 in [k2 for k2 in self.objects if k2[2] == r.name]:
                    res = self.resource_of(k2)
                    self.remove(res, k2, self.objects[k2])
            d = {"name": r.name, "kind": r.res.plural, "uid": o["metadata"]["uid"]}
            if r.res.group:
                d["group"] = r.res.group
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}

    def delete_raw(self, o):
        """Deletes the object o names (apiVersion, kind, metadata name/namespace), if stored."""
        api = o.get("apiVersion", "v1")
        group = api.split("/")[0] if "/" in api else ""
        with self.lock:
            res = self.by_kind.get((group, o["kind"]))
            if res is None:
                raise ValueError("unknown kind %s %s" % (api, o["kind"]))
            m = o.get("metadata", {})
            k = self.key(res, m.get("namespace", "default"), m["name"])
            if k in self.objects:
                self.remove(res, k, self.objects[k])

    def resource_of(self, k):
        for res in self.resources.values():
            if res.plural == k[0] and res.group == k[1]:
                return res
        return None

    def remove(self, res, k, o):
        del self.objects[k]
        self.item_cache.pop(k, None)
        self.key_order.pop(k[:2], None)
        self.owners.pop(k, None)
        gone = copy.deepcopy(o)
        gone["metadata"]["resourceVersion"] = self.next_rv()
        self.record_event("DELETED", res, self.typed(res, gone))

    # ---- list / watch ----
    def matches(self, r, o, q):
        m = o.get("metadata", {})
        if r.res.namespaced and r.namespace and m.get("namespace") != r.namespace:
            return False
        return label_match(q.get("labelSelector", ""), m.get("labels") or {}) and \
            field_match(q.get("fieldSelector", ""), o)

    @staticmethod
    def etcd_key(k):
        # The order of the real server: keys "NAMESPACE/NAME" (or "NAME")
        # under the resource's prefix, compared as bytes.
        return "/".join(x for x in (k[2], k[3]) if x is not None)

    def list(self, r, q):
        """The List r and q ask for, as a dict (the page's objects copied)."""
        with self.lock:
            meta, items = self.list_page(r, q)
            items = [self.as_item(o) for _, _, o in items]
        return {"kind": r.res.kind + "List", "apiVersion": self.api_version(r.res), "metadata": meta, "items": items}

    def list_json(self, r, q):
        """The same List as json.dumps(self.list(r, q)).encode(), byte for byte,
        made from each object's JSON kept since it was stored (item_json): a
        page costs a join of its objects' bytes, not a copy and a dump of them."""
        with self.lock:
            meta, items = self.list_page(r, q)
            parts = [self.item_json(k, o) for _, k, o in items]
        head = json.dumps({"kind": r.res.kind + "List", "apiVersion": self.api_version(r.res), "metadata": meta,
                           "items": []}).encode()
        assert head.endswith(b"[]}")
        return b"".join((head[:-2], b", ".join(parts), b"]}"))

    @staticmethod
    def api_version(res):
        return res.group + "/" + res.version if res.group else res.version

    @staticmethod
    def as_item(o):
        """A stored object as a List item: a copy without kind and apiVersion."""
        o = copy.deepcopy(o)
        o.pop("apiVersion", None)
        o.pop("kind", None)
        return o

    def item_json(self, k, o):
        """json.dumps of as_item(o) (o stored under k), computed once per stored
        version, when it is stored (put_raw, finish_write; remove drops it):
        every write stores a new dict (copy on write); the identity and
        resourceVersion check guards against a write that did not come here."""
        c = self.item_cache.get(k)
        rv = o.get("metadata", {}).get("resourceVersion")
        if c is None or c[0] is not o or c[1] != rv:
            c = (o, rv, json.dumps({x: y for x, y in o.items() if x not in ("apiVersion", "kind")}).encode())
            self.item_cache[k] = c
        return c[2]

    def list_page(self, r, q):
        """(metadata, [(etcd key, key, object)]) of the page r and q ask for, the
        objects by reference (the caller copies or serializes them, under the lock)."""
        # The resource's keys in the real server's order (kept while no key
        # comes or goes), from the continue token's key on; then the objects
        # that match, unless nothing is selected (all do).
        rk = (r.res.plural, r.res.group)
        order = self.key_order.get(rk)
        if order is None:
            order = sorted((self.etcd_key(k).encode(), self.etcd_key(k), k) for k in self.objects if k[:2] == rk)
            self.key_order[rk] = order
        rv = str(self.rv)
        meta = {"resourceVersion": rv}
        # Paging as the real server: limit, and an opaque continue token
        # (here the last key listed and the list's resourceVersion; 410 once
        # compacted, offering a token for the rest unless inconsistent_continue
        # is off).
        after = None
        if q.get("continue"):
            try:
                tok = json.loads(base64.b64decode(q["continue"]))
                after, tok_rv = str(tok["after"]), int(tok["rv"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "BadRequest", "continue key is not valid")
            if tok_rv < self.oldest_rv:
                if not self.inconsistent_continue:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue parameter.")
                fresh = base64.b64encode(json.dumps({"after": after, "rv": int(rv)}).encode()).decode()
                raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter, or use the "
                               "continue token in this response to retrieve the remainder of the results. Continuing "
                               "with the provided token results in an inconsistent list - objects that were created, "
                               "modified, or deleted between the time the first chunk was returned and now may show "
                               "up in the list.", meta={"continue": fresh})
            meta["resourceVersion"] = str(tok_rv)
        start = 0
        if after is not None:
            # (key,) sorts before (key, ...): the first entry past the token's key.
            start = bisect.bisect_right(order, (after.encode(),))
            while start < len(order) and order[start][0] <= after.encode():
                start += 1
        if (r.res.namespaced and r.namespace) or q.get("labelSelector") or q.get("fieldSelector"):
            items = [(ek, k, self.objects[k]) for _, ek, k in order[start:] if self.matches(r, self.objects[k], q)]
        else:
            items = [(ek, k, None) for _, ek, k in order[start:]]
        limit = int(q.get("limit") or 0)
        if 0 < limit < len(items):
            meta["continue"] = base64.b64encode(json.dumps({"after": items[limit - 1][0],
                                                            "rv": int(meta["resourceVersion"])})
                                                .encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return meta, [(ek, k, o if o is not None else self.objects[k]) for ek, k, o in items]

    def watch_events(self, r, q, rv, timeout, bookmarks, initial, bookmark_interval, alive=None):
        """Yields watch event dicts until timeout, server stop, or alive() (the
        client is still connected) turns false."""
        deadline = time.time() + timeout
        first = []
        with self.lock:
            if rv in ("", "0") or initial:
                for k, o in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
                    if k[0] == r.res.plural and k[1] == r.res.group and self.matches(r, o, q):
                        first.append({"type": "ADDED", "object": self.typed(r.res, o)})
                since = self.rv
                if initial:
                    first.append({"type": "BOOKMARK", "object": self.bookmark_obj(r, {
                        "k8s.io/initial-events-end": "true"})})
            elif not rv.isdigit() or int(rv) < self.oldest_rv:
                since = None
                first.append({"type": "ERROR", "object": ApiError(
                    410, "Expired", "too old resource version: %s (%d)" % (rv, self.oldest_rv)).status()})
            else:
                since = int(rv)
        yield from first
        if since is None:
            return
        next_bookmark = time.time() + bookmark_interval
        epoch = self.epoch
        while not self.stopping and self.epoch == epoch and (alive is None or alive()):
            batch = []
            with self.lock:
                for ev_rv, typ, res, o in self.events:
                    if ev_rv > since and res.plural == r.res.plural and res.group == r.res.group \
                            and self.matches(r, o, q):
                        batch.append({"type": typ, "object": copy.deepcopy(o)})
                if self.events:
                    since = max(since, self.events[-1][0])
                if not batch:
                    wait = min(deadline, next_bookmark if bookmarks else deadline) - time.time()
                    if wait > 0:
                        self.lock.wait(min(wait, 0.5))
            for ev in batch:
                yield ev
            t = time.time()
            if t >= deadline:
                return
            if bookmarks and t >= next_bookmark:
                yield {"type": "BOOKMARK", "object": self.bookmark_obj(r, None, str(since))}
                next_bookmark = t + bookmark_interval

    def bookmark_obj(self, r, annotations, rv=None):
        m = {"resourceVersion": rv or str(self.rv)}
        if annotations:
            m["annotations"] = annotations
        api = r.res.group + "/" + r.res.version if r.res.group else r.res.version
        return {"kind": r.res.kind, "apiVersion": api, "metadata": m}

    def stop(self):
        with self.lock:
            self.stopping = True
            self.lock.notify_all()


def label_match(sel, labels):
    if not sel:
        return True
    # split on commas outside parentheses
    terms, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    for t in (t.strip() for t in terms):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", t)
        if m:
            vals = {v.strip() for v in m.group(3).split(",")}
            has = labels.get(m.group(1)) in vals
            if (m.group(2) == "in") != has:
                return False
        elif "!=" in t:
            k, v = t.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in t:
            k, v = t.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif t.startswith("!"):
            if t[1:] in labels:
                return False
        elif t and t not in labels:
            return False
    return True


def field_match(sel, o):
    if not sel:
        return True
    for t in sel.split(","):
        neg = "!=" in t
        k, v = t.replace("==", "=").split("!=" if neg else "=", 1)
        cur = o
        for part in k.strip().split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        cur = "" if cur is None else str(cur)
        if (cur == v.strip()) == neg:
            return False
    return True


def start_controller(store, delay):
    """Marks Deployments and DaemonSets available `delay` seconds after their
    generation changed, as kube-controller-manager and the kubelets would.
    While store.controller_paused, nothing: the delay counts from the unpause."""
    seen = {}

    def set_status(k, res, o, status):
        new = copy.deepcopy(o)
        new["status"] = status
        owners = {m: set(s) for m, s in store.owners.get(k, {}).items()}
        owners["kube-controller-manager"] = kube_ssa.leaves({"status": status})
        store.finish_write(Req(res, k[2], k[3], "status"), k, o, new, owners, "kube-controller-manager", "Update")

    def loop():
        while not store.stopping:
            time.sleep(0.1)
            with store.lock:
                if store.controller_paused:
                    seen.clear()
                    continue
                nodes = sum(1 for k in store.objects if k[0] == "nodes" and k[1] == "")
                for k, o in list(store.objects.items()):
                    if k[1] != "apps" or k[0] not in ("deployments", "daemonsets"):
                        continue
                    gen = o["metadata"].get("generation", 1)
                    if (o.get("status") or {}).get("observedGeneration") == gen:
                        continue
                    if (o["metadata"].get("annotations") or {}).get("heliograph.test/never-ready") == "true":
                        continue
                    t0 = seen.setdefault((k, gen), time.time())
                    if time.time() - t0 < delay:
                        continue
                    res = store.resource_of(k)
                    if k[0] == "deployments":
                        n = (o.get("spec") or {}).get("replicas", 1)
                        st = {"observedGeneration": gen, "replicas": n, "updatedReplicas": n, "readyReplicas": n,
                              "availableReplicas": n, "conditions": [
                                  {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                   "message": "Deployment has minimum availability.",
                                   "lastUpdateTime": now(), "lastTransitionTime": now()},
                                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                                   "message": 'ReplicaSet "%s" has successfully progressed.' % k[3],
                                   "lastUpdateTime": now(), "lastTransitionTime": now()}]}
                    else:
                        st = {"observedGeneration": gen, "currentNumberScheduled": nodes, "desiredNumberScheduled":
                              nodes, "numberMisscheduled": 0, "numberReady": nodes, "numberAvailable": nodes,
                              "updatedNumberScheduled": nodes}
                    set_status(k, res, o, st)

    threading.Thread(target=loop, daemon=True).start()
