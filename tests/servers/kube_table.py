"""Server-side printing (meta.k8s.io/v1 Table) for the test API server, so
`kubectl get pods -o wide`, `kubectl get events`, nodes, PVCs, PVs, storage
classes and workloads show the columns a real apiserver sends (kubectl only
prints NAME and AGE itself). Columns and cell rules follow kubernetes
pkg/printers/internalversion/printers.go (v1.32); the server fills every
column, kubectl hides priority-1 ones unless -o wide."""
import calendar
import time


def ts(s):
    try:
        return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def human(d):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(d)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm" % m if s % 60 == 0 else "%dm%ds" % (m, s % 60)
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh" % h if m % 60 == 0 else "%dh%dm" % (h, m % 60)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd" % (h // 24) if h % 24 == 0 else "%dd%dh" % (h // 24, h % 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    return "%dy" % (h // 24 // 365)


def since(s):
    t = ts(s)
    return "<unknown>" if t is None else human(time.time() - t)


def col(name, priority=0, typ="string", fmt=""):
    return {"name": name, "type": typ, "format": fmt, "description": "", "priority": priority}


def access_modes(modes):
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(m, m) for m in modes or [])


def containers_images(spec):
    cs = (spec or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def selector(sel):
    sel = sel or {}
    parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append("%s %s (%s)" % (e["key"], op.lower(), ",".join(e.get("values") or [])))
        elif op == "Exists":
            parts.append(e["key"])
        else:
            parts.append("!" + e["key"])
    return ",".join(parts) or "<none>"


def pod_row(p):
    spec, st = p.get("spec") or {}, p.get("status") or {}
    restarts, ready, last_restart = 0, 0, None
    reason = st.get("reason") or st.get("phase") or ""
    initializing = False
    inits = spec.get("initContainers") or []
    for i, c in enumerate(st.get("initContainerStatuses") or []):
        restarts += c.get("restartCount", 0)
        term, wait = (c.get("state") or {}).get("terminated"), (c.get("state") or {}).get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        initializing = True
        if term:
            reason = "Init:" + term["reason"] if term.get("reason") else "Init:ExitCode:%d" % term.get("exitCode", 0)
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = "Init:%d/%d" % (i, len(inits))
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in st.get("conditions") or [])
    if not initializing or initialized:
        restarts, has_running = 0, False
        for c in reversed(st.get("containerStatuses") or []):
            restarts += c.get("restartCount", 0)
            lt = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            if lt and (last_restart is None or (ts(lt) or 0) > (ts(last_restart) or 0)):
                last_restart = lt
            s = c.get("state") or {}
            if (s.get("waiting") or {}).get("reason"):
                reason = s["waiting"]["reason"]
            elif s.get("terminated") and s["terminated"].get("reason"):
                reason = s["terminated"]["reason"]
            elif s.get("terminated"):
                reason = "ExitCode:%d" % s["terminated"].get("exitCode", 0)
            elif c.get("ready") and s.get("running"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if any(c.get("type") == "Ready" and c.get("status") == "True"
                                      for c in st.get("conditions") or []) else "NotReady"
    if p["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if st.get("reason") == "NodeLost" else "Terminating"
    rs = str(restarts)
    if restarts and last_restart:
        rs = "%d (%s ago)" % (restarts, since(last_restart))
    ips = st.get("podIPs") or ([{"ip": st["podIP"]}] if st.get("podIP") else [])
    gates = spec.get("readinessGates") or []
    return [p["metadata"]["name"], "%d/%d" % (ready, len(spec.get("containers") or [])), reason, rs,
            since(p["metadata"].get("creationTimestamp")), ips[0]["ip"] if ips else "<none>",
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>",
            "<none>" if not gates else "%d/%d" % (0, len(gates))]


def event_row(e):
    first = since(e.get("firstTimestamp") or e.get("eventTime"))
    last = since(e["lastTimestamp"]) if e.get("lastTimestamp") else first
    io = e.get("involvedObject") or {}
    target = "%s/%s" % (io.get("kind", "").lower(), io["name"]) if io.get("name") else io.get("kind", "").lower()
    src = e.get("source") or {}
    source = src.get("component") or e.get("reportingComponent") or ""
    if src.get("host"):
        source += ", " + src["host"]
    return [last, e.get("type", ""), e.get("reason", ""), target, io.get("fieldPath", ""), source,
            (e.get("message") or "").strip(), first, e.get("count") or 1, e["metadata"]["name"]]


def node_row(n):
    st, m = n.get("status") or {}, n["metadata"]
    ready = next((c.get("status") for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = "Ready" if ready == "True" else "NotReady" if ready else "Unknown"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (m.get("labels") or {}) if k.startswith("node-role.kubernetes.io/"))
    addr = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [m["name"], status, ",".join(roles) or "<none>", since(m.get("creationTimestamp")),
            info.get("kubeletVersion", ""), addr.get("InternalIP", "<none>"), addr.get("ExternalIP", "<none>"),
            info.get("osImage", "<unknown>"), info.get("kernelVersion", "<unknown>"),
            info.get("containerRuntimeVersion", "<unknown>")]


def pvc_row(c):
    st, spec = c.get("status") or {}, c.get("spec") or {}
    phase = st.get("phase", "")
    if c["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    bound = phase == "Bound"
    return [c["metadata"]["name"], phase, spec.get("volumeName", ""),
            (st.get("capacity") or {}).get("storage", "") if bound else "",
            access_modes(st.get("accessModes")) if bound else "", spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", since(c["metadata"].get("creationTimestamp")),
            spec.get("volumeMode") or "Filesystem"]


def pv_row(v):
    st, spec = v.get("status") or {}, v.get("spec") or {}
    ref = spec.get("claimRef")
    return [v["metadata"]["name"], (spec.get("capacity") or {}).get("storage", ""),
            access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), st.get("phase", ""),
            "%s/%s" % (ref.get("namespace"), ref.get("name")) if ref else "", spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", st.get("reason", ""),
            since(v["metadata"].get("creationTimestamp")), spec.get("volumeMode") or "Filesystem"]


def sc_row(s):
    name = s["metadata"]["name"]
    if (s["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [name, s.get("provisioner", ""), s.get("reclaimPolicy") or "Delete",
            s.get("volumeBindingMode") or "Immediate", bool(s.get("allowVolumeExpansion")),
            since(s["metadata"].get("creationTimestamp"))]


def deploy_row(d):
    st, spec = d.get("status") or {}, d.get("spec") or {}
    c, i = containers_images((spec.get("template") or {}).get("spec"))
    return [d["metadata"]["name"], "%d/%d" % (st.get("readyReplicas", 0), spec.get("replicas", 1)),
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), since(d["metadata"].get("creationTimestamp")),
            c, i, selector(spec.get("selector"))]


def ds_row(d):
    st, spec = d.get("status") or {}, d.get("spec") or {}
    c, i = containers_images((spec.get("template") or {}).get("spec"))
    ns = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [d["metadata"]["name"], st.get("desiredNumberScheduled", 0), st.get("currentNumberScheduled", 0),
            st.get("numberReady", 0), st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0),
            ",".join("%s=%s" % kv for kv in sorted(ns.items())) or "<none>",
            since(d["metadata"].get("creationTimestamp")), c, i, selector(spec.get("selector"))]


def rs_row(r):
    st, spec = r.get("status") or {}, r.get("spec") or {}
    c, i = containers_images((spec.get("template") or {}).get("spec"))
    return [r["metadata"]["name"], spec.get("replicas", 1), st.get("replicas", 0), st.get("readyReplicas", 0),
            since(r["metadata"].get("creationTimestamp")), c, i, selector(spec.get("selector"))]


NAME = col("Name", fmt="name")
AGE = col("Age")
PRINTERS = {
    ("", "pods"): ([NAME, col("Ready"), col("Status"), col("Restarts"), AGE, col("IP", 1), col("Node", 1),
                    col("Nominated Node", 1), col("Readiness Gates", 1)], pod_row),
    ("", "events"): ([col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Subobject", 1),
                      col("Source", 1), col("Message"), col("First Seen", 1), col("Count", 1, "integer"),
                      col("Name", 1)], event_row),
    ("", "nodes"): ([NAME, col("Status"), col("Roles"), AGE, col("Version"), col("Internal-IP", 1),
                     col("External-IP", 1), col("OS-Image", 1), col("Kernel-Version", 1),
                     col("Container-Runtime", 1)], node_row),
    ("", "persistentvolumeclaims"): ([NAME, col("Status"), col("Volume"), col("Capacity"), col("Access Modes"),
                                      col("StorageClass"), col("VolumeAttributesClass"), AGE, col("VolumeMode", 1)],
                                     pvc_row),
    ("", "persistentvolumes"): ([NAME, col("Capacity"), col("Access Modes"), col("Reclaim Policy"), col("Status"),
                                 col("Claim"), col("StorageClass"), col("VolumeAttributesClass"), col("Reason"), AGE,
                                 col("VolumeMode", 1)], pv_row),
    ("storage.k8s.io", "storageclasses"): ([NAME, col("Provisioner"), col("ReclaimPolicy"),
                                            col("VolumeBindingMode"), col("AllowVolumeExpansion"), AGE], sc_row),
    ("apps", "deployments"): ([NAME, col("Ready"), col("Up-to-date", typ="integer"), col("Available", typ="integer"),
                               AGE, col("Containers", 1), col("Images", 1), col("Selector", 1)], deploy_row),
    ("apps", "daemonsets"): ([NAME, col("Desired", typ="integer"), col("Current", typ="integer"),
                              col("Ready", typ="integer"), col("Up-to-date", typ="integer"),
                              col("Available", typ="integer"), col("Node Selector"), AGE, col("Containers", 1),
                              col("Images", 1), col("Selector", 1)], ds_row),
    ("apps", "replicasets"): ([NAME, col("Desired", typ="integer"), col("Current", typ="integer"),
                               col("Ready", typ="integer"), AGE, col("Containers", 1), col("Images", 1),
                               col("Selector", 1)], rs_row),
}


def printable(res):
    return (res.group, res.plural) in PRINTERS


def wants_table(accept):
    return "as=Table" in (accept or "")


def table(res, items, list_meta, include):
    """A Table of items (typed objects) of resource res, or None when there is no
    printer for it (kubectl then prints NAME and AGE itself)."""
    p = PRINTERS.get((res.group, res.plural))
    if p is None:
        return None
    cols, row = p
    rows = []
    for o in items:
        if include == "None":
            obj = None
        elif include == "Object":
            obj = o
        else:
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata")}
        rows.append({"cells": row(o), "object": obj})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": cols,
            "rows": rows}
