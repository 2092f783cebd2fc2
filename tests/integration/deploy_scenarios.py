#!/usr/bin/env python3
"""Scripted rollouts against kube_api_server.py for the deploy_events input.

  deploy_scenarios.py URL CA baseline|phase1|phase2|phase3
  deploy_scenarios.py check OUT.lp...       (asserts; exit 1 with reasons)

Objects are stored through /_control/objects exactly as a controller would
leave them (spec, status with observedGeneration, Progressing condition,
managedFields times), one state per step, so each step is one watch event.
The Argo Rollouts objects are the real ones from the fixtures, preceded by a
"before" state derived from them (previous image, stable, healthy).
"""
import copy
import json
import os
import re
import ssl
import sys
import time
import urllib.request

import yaml

NS = "shop"
FIX = os.environ.get("FIXTURES", "tests/fixtures")


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Api:
    def __init__(self, url, ca):
        self.url = url
        self.ctx = ssl.create_default_context(cafile=ca)

    def put(self, *objs):
        req = urllib.request.Request(self.url + "/_control/objects", data=json.dumps(list(objs)).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, context=self.ctx).read()
        time.sleep(0.25)


def dep(name, image, gen, rev, replicas=3, updated=None, available=None, reason="NewReplicaSetAvailable",
        cstatus="True", labels=None, tmpl=None, recreate=False, t_spec=None, t_cond=None, ann=None, observed=None,
        message=None):
    now = time.time()
    t_spec = t_spec or now
    t_cond = t_cond or now
    labels = labels or {"app": name}
    tmpl = tmpl or dict(labels)
    updated = replicas if updated is None else updated
    available = replicas if available is None else available
    a = {"deployment.kubernetes.io/revision": str(rev)}
    a.update(ann or {})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "generation": gen, "labels": labels, "annotations": a,
                     "creationTimestamp": ts(t_spec - 3600),
                     "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                                        "apiVersion": "apps/v1", "time": ts(t_spec)},
                                       {"manager": "kube-controller-manager", "operation": "Update",
                                        "apiVersion": "apps/v1", "time": ts(t_cond), "subresource": "status"}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": tmpl},
                 "strategy": {"type": "Recreate" if recreate else "RollingUpdate"},
                 "template": {"metadata": {"labels": tmpl},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
        "status": {"observedGeneration": gen if observed is None else observed, "replicas": replicas,
                   "updatedReplicas": updated, "readyReplicas": available, "availableReplicas": available,
                   "conditions": [{"type": "Progressing", "status": cstatus, "reason": reason,
                                   "message": message or ("ReplicaSet \"%s\" %s." % (name, reason)),
                                   "lastUpdateTime": ts(t_cond), "lastTransitionTime": ts(t_cond)}]},
    }


def svc(name, selector):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS, "managedFields": [
                {"manager": "kubectl", "operation": "Update", "apiVersion": "v1", "time": ts(time.time())}]},
            "spec": {"selector": selector, "ports": [{"port": 80}]}}


def rollout(rel):
    with open(os.path.join(FIX, "k8s-api/argo-rollouts", rel)) as f:
        return yaml.safe_load(f)


def rollout_before(o):
    """The state the real object came from: previous image, fully rolled out."""
    b = copy.deepcopy(o)
    c = b["spec"]["template"]["spec"]["containers"][0]
    c["image"] = c["image"].rsplit(":", 1)[0] + ":previous"
    st = b["status"]
    st["currentPodHash"] = st["stableRS"]
    st.pop("abort", None)
    st.pop("abortedAt", None)
    st.pop("pauseConditions", None)
    st["updatedReplicas"] = st["availableReplicas"] = b["spec"]["replicas"]
    if "blueGreen" in b["spec"]["strategy"]:
        st["blueGreen"] = {"activeSelector": st["stableRS"]}
    st["conditions"] = [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                         "message": "Rollout has completed", "lastUpdateTime": "2019-10-20T00:00:00Z",
                         "lastTransitionTime": "2019-10-20T00:00:00Z"}]
    return b


ARGO = ["canary/canary-rollout.yaml", "blue-green/bluegreen-rollout.yaml", "rollout-aborted/rollout.yaml"]


def baseline(api):
    """Live before the agents start: nothing here is a deploy to record."""
    old = time.time() - 600
    api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}})
    api.put(dep("web", "shop/web:1.0", 1, 1, t_spec=old, t_cond=old),
            dep("bb", "shop/bb:1.0", 1, 1, recreate=True, t_spec=old, t_cond=old),
            dep("legacy", "shop/legacy:1.0", 1, 1, ann={"heliograph.io/strategy": "bigbang"}, t_spec=old,
                t_cond=old),
            dep("fail", "shop/fail:1.0", 1, 1, t_spec=old, t_cond=old),
            dep("mid", "shop/mid:1.0", 1, 1, t_spec=old, t_cond=old),
            dep("api", "shop/api:1.0", 1, 1, labels={"app": "api", "track": "stable"}, t_spec=old, t_cond=old),
            dep("shopbg-blue", "shop/bg:1.0", 1, 1, labels={"app": "shopbg", "color": "blue"}, t_spec=old,
                t_cond=old),
            dep("paybg-blue", "shop/pay:1.0", 1, 1, labels={"app": "paybg", "color": "blue"}, t_spec=old,
                t_cond=old),
            dep("paybg-green", "shop/pay:0.9", 1, 1, labels={"app": "paybg", "color": "green"}, t_spec=old,
                t_cond=old),
            dep("late", "shop/late:1.0", 1, 1, t_spec=old, t_cond=old),
            svc("api", {"app": "api"}), svc("shopbg", {"app": "shopbg", "color": "blue"}),
            svc("paybg", {"app": "paybg", "color": "blue"}))
    for rel in ARGO:
        api.put(rollout_before(rollout(rel)))


def rolling(api, name, image, gen, rev, **kw):
    """A rollout as the controller reports it: the user's spec write (the revision annotation still the
    previous one), the controller numbering the new revision, then updating, then done."""
    t0 = time.time()
    api.put(dep(name, image, gen, rev - 1 if rev > 1 else rev, observed=gen - 1, t_spec=t0, t_cond=t0 - 60, **kw))
    api.put(dep(name, image, gen, rev, observed=gen - 1, t_spec=t0, t_cond=t0 - 60, **kw))
    api.put(dep(name, image, gen, rev, updated=1, available=2, reason="ReplicaSetUpdated", t_spec=t0, **kw))
    api.put(dep(name, image, gen, rev, t_spec=t0, **kw))


def phase1(api):
    rolling(api, "web", "shop/web:1.1", 2, 2)
    # big bang: Recreate takes every pod down first
    t0 = time.time()
    api.put(dep("bb", "shop/bb:2.0", 2, 1, recreate=True, observed=1, t_spec=t0, t_cond=t0 - 60))
    api.put(dep("bb", "shop/bb:2.0", 2, 2, recreate=True, updated=0, available=0, reason="ReplicaSetUpdated",
                t_spec=t0))
    api.put(dep("bb", "shop/bb:2.0", 2, 2, recreate=True, t_spec=t0))
    rolling(api, "legacy", "shop/legacy:2.0", 2, 2, ann={"heliograph.io/strategy": "bigbang"})
    # canary: api-canary beside the stable api behind Service api, then the stable takes its image
    cl = {"app": "api", "track": "canary"}
    t0 = time.time()
    api.put(dep("api-canary", "shop/api:2.0", 1, 1, replicas=1, updated=1, available=0,
                reason="ReplicaSetUpdated", labels=cl, t_spec=t0))
    api.put(dep("api-canary", "shop/api:2.0", 1, 1, replicas=1, labels=cl, t_spec=t0))
    sl = {"app": "api", "track": "stable"}
    rolling(api, "api", "shop/api:2.0", 2, 2, labels=sl)
    api.put(dep("api-canary", "shop/api:2.0", 2, 1, replicas=0, labels=cl, t_spec=time.time()))
    # blue-green: green comes up beside blue, then the Service switches
    gl = {"app": "shopbg", "color": "green"}
    t0 = time.time()
    api.put(dep("shopbg-green", "shop/bg:2.0", 1, 1, updated=1, available=1, reason="ReplicaSetUpdated",
                labels=gl, t_spec=t0))
    api.put(dep("shopbg-green", "shop/bg:2.0", 1, 1, labels=gl, t_spec=t0))
    api.put(svc("shopbg", {"app": "shopbg", "color": "green"}))
    # a failed rollout (ProgressDeadlineExceeded), then kubectl rollout undo
    t0 = time.time()
    api.put(dep("fail", "shop/fail:2.0", 2, 1, observed=1, t_spec=t0, t_cond=t0 - 60))
    api.put(dep("fail", "shop/fail:2.0", 2, 2, updated=1, available=3, reason="ReplicaSetUpdated", t_spec=t0))
    api.put(dep("fail", "shop/fail:2.0", 2, 2, updated=1, available=3, reason="ProgressDeadlineExceeded",
                cstatus="False", t_spec=t0, message='ReplicaSet "fail-2" has timed out progressing.'))
    rolling(api, "fail", "shop/fail:1.0", 3, 3)
    # Argo Rollouts: the real objects
    for rel in ARGO:
        api.put(rollout(rel))
    bg = rollout("blue-green/bluegreen-rollout.yaml")
    bg["status"]["blueGreen"]["activeSelector"] = bg["status"]["currentPodHash"]
    bg["status"].pop("pauseConditions")
    api.put(bg)
    bg = copy.deepcopy(bg)
    bg["status"]["stableRS"] = bg["status"]["currentPodHash"]
    bg["status"]["conditions"][1].update(reason="NewReplicaSetAvailable", status="True",
                                          message="Rollout has completed")
    api.put(bg)
    # a rollout still under way when the leader dies
    t0 = time.time()
    api.put(dep("mid", "shop/mid:2.0", 2, 1, observed=1, t_spec=t0, t_cond=t0 - 60))
    api.put(dep("mid", "shop/mid:2.0", 2, 2, updated=1, available=2, reason="ReplicaSetUpdated", t_spec=t0))
    MID_T0[0] = t0


MID_T0 = [0]


def phase2(api):
    t0 = float(os.environ.get("MID_T0", "0")) or time.time()
    api.put(dep("mid", "shop/mid:2.0", 2, 2, t_spec=t0))
    rolling(api, "post", "shop/post:1.0", 1, 1)
    # blue-green: the live color (blue) updated in place, no selector switch
    rolling(api, "paybg-blue", "shop/pay:1.1", 2, 2, labels={"app": "paybg", "color": "blue"})


def phase3(api):
    """Before the leader stops: a spec write the controller never numbers (its started point waits),
    then a deploy that completes, after which the leader has read the first (one watch)."""
    t0 = time.time()
    api.put(dep("late", "shop/late:2.0", 2, 1, observed=1, t_spec=t0, t_cond=t0 - 60))
    rolling(api, "marker", "shop/marker:1.0", 1, 1)


EXPECT = {
    ("Deployment", "web"): ("rolling", ["started", "progressing", "completed"]),
    ("Deployment", "bb"): ("bigbang", ["started", "progressing", "completed"]),
    ("Deployment", "legacy"): ("bigbang", ["started", "progressing", "completed"]),
    ("Service", "api"): ("canary", ["started", "progressing", "promoted", "completed"]),
    ("Service", "shopbg"): ("bluegreen", ["started", "progressing", "promoted", "completed"]),
    ("Deployment", "fail"): ("rolling", ["started", "progressing", "failed", "rolled_back"]),
    ("Rollout", "canary-demo"): ("canary", ["started", "failed"]),
    ("Rollout", "bluegreen-demo"): ("bluegreen", ["started", "progressing", "promoted", "completed"]),
    ("Rollout", "rollout-background-analysis"): ("canary", ["started", "failed"]),
    ("Deployment", "mid"): ("rolling", ["started", "progressing", "completed"]),
    ("Deployment", "post"): ("rolling", ["started", "progressing", "completed"]),
    ("Service", "paybg"): ("bluegreen", ["started", "progressing", "completed"]),
    ("Deployment", "marker"): ("rolling", ["started", "progressing", "completed"]),
    ("Deployment", "late"): ("rolling", ["started"]),
}
PHASE2 = {("Deployment", "post")}


def parse(path):
    out = []
    for line in open(path):
        if not line.startswith("deploy,"):
            continue
        head, rest = line.split(" ", 1)
        tags = dict(kv.split("=", 1) for kv in head.split(",")[1:])
        out.append((tags, rest.strip()))
    return out


def check(files, only=None):
    errs = []
    seen = {}
    points = set()
    for f in files:
        for tags, rest in parse(f):
            key = (tags["kind"], tags["name"])
            seen.setdefault(key, []).append((tags, rest, f))
            pt = (tuple(sorted(tags.items())), rest.rsplit(" ", 1)[-1])
            if pt in points:
                errs.append("recorded twice: %s %s" % (key, tags["phase"]))
            points.add(pt)
            if tags["source"] != "cluster" or tags["cluster"] != "test" or tags["namespace"] not in (
                    NS, "jesse-test", "default"):
                errs.append("bad tags %s" % tags)
    want = {k: v for k, v in EXPECT.items() if only is None or k in only}
    for key, (strategy, phases) in want.items():
        got = seen.get(key, [])
        got_phases = [t["phase"] for t, _, _ in got]
        if got_phases != phases:
            errs.append("%s/%s: phases %s, want %s" % (key[0], key[1], got_phases, phases))
        for t, rest, _ in got:
            if t["strategy"] != strategy:
                errs.append("%s/%s: strategy %s, want %s" % (key[0], key[1], t["strategy"], strategy))
            if t["phase"] in ("completed", "failed", "rolled_back") and "duration_s=" not in rest:
                errs.append("%s/%s %s without duration_s" % (key[0], key[1], t["phase"]))
            if strategy == "canary" and "canary_weight=" not in rest:
                errs.append("%s/%s %s without canary_weight" % (key[0], key[1], t["phase"]))
        # started names the revision being rolled out, as the next phase of the same workload does
        # (a Service's deploy spans two Deployments: not compared).
        revs = [re.search(r"\brevision=(\d+)i", rest).group(1) for _, rest, _ in got]
        if key[0] in ("Deployment", "Rollout") and len(got) > 1 and got_phases[0] == "started" and revs[0] != revs[1]:
            errs.append("%s/%s: started revision %s, %s revision %s" % (key[0], key[1], revs[0], got_phases[1],
                                                                       revs[1]))
    for key in seen:
        if key not in EXPECT:
            errs.append("unexpected deploy %s: %s" % (key, [t["phase"] for t, _, _ in seen[key]]))
    return errs


def main():
    if sys.argv[1] == "check":
        errs = check(sys.argv[2:])
        for e in errs:
            print("FAIL:", e)
        sys.exit(1 if errs else 0)
    api = Api(sys.argv[1], sys.argv[2])
    {"baseline": baseline, "phase1": phase1, "phase2": phase2, "phase3": phase3}[sys.argv[3]](api)
    if sys.argv[3] == "phase1":
        print(MID_T0[0])


if __name__ == "__main__":
    main()
