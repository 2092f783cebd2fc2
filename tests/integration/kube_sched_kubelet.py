"""The kubelets of the simulated cluster (kube_sched.py): pod IPs within the
node's VPC CNI capacity, image pulls, container starts, crashes and OOM kills,
with the pod status and the Events a real kubelet (containerd, aws-node CNI)
reports. A pod already carrying container statuses when first seen (a seeded
kube-system pod) is left as it is.

Facts:
- Pod-network IPs per node (VPC CNI secondary IPs, no prefix delegation):
  ENIs x (IPv4 per ENI - 1), i.e. max pods - 2 (awslabs/amazon-eks-ami
  nodeadm instance info, as eks_clusters.py cites it): t2/t3/t4g.micro 2,
  t2/t3/t4g.small 9. Other types: the node's allocatable pods (also what a
  prefix-delegation node amounts to). hostNetwork pods use the node IP.
- Without a free IP: Warning FailedCreatePodSandBox "Failed to create pod
  sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox
  \"ID\": plugin type=\"aws-cni\" name=\"aws-cni\" failed (add): add cmd: failed
  to assign an IP address to container"; the pod stays ContainerCreating.
- kubelet events (pkg/kubelet/kuberuntime, images): Pulling 'Pulling image
  "I"', Pulled 'Successfully pulled image "I" in D (D including waiting). Image
  size: N bytes.' or 'Container image "I" already present on machine', Created
  "Created container: C", Started "Started container C"; pull failures: Warning
  Failed 'Failed to pull image "I": ERR', Warning Failed "Error: ErrImagePull",
  Normal BackOff 'Back-off pulling image "I"', Warning Failed "Error:
  ImagePullBackOff"; crashes: Warning BackOff "Back-off restarting failed
  container C in pod P_NS(UID)", the waiting state CrashLoopBackOff "back-off
  10s restarting failed container=C pod=P_NS(UID)" (10s doubling to 5m0s).
- containerd's answer for a repository that does not exist on Docker Hub:
  "rpc error: code = Unknown desc = failed to pull and unpack image \"REF\":
  failed to resolve reference \"REF\": pull access denied, repository does not
  exist or may require authorization: server message: insufficient_scope:
  authorization failed".
- OOM kill: lastState terminated reason OOMKilled exitCode 137.
- Missing ConfigMaps/Secrets (FailedMount, CreateContainerConfigError): kube_sched_refs.py.
- Containers a rule marks "run" are real processes (kube_sched_run.py): their
  exit is the container's, their output its log.
Back-offs run 20x faster than a real kubelet's (10 s -> 0.5 s, at most 3 s);
the messages keep the real durations."""
import hashlib
import time
import urllib.request

import kube_sched_predicates as pred
import kube_sched_refs as refs
from kube_sched_run import Runner
from kube_store import now

try:  # the cited ENI table of the simulated EKS clusters, when that module is there
    from eks_clusters import INSTANCE_TYPES as _TYPES
    IP_PER_TYPE = {t: v["enis"] * (v["ipv4_per_eni"] - 1) for t, v in _TYPES.items()}
except ImportError:  # pragma: no cover
    IP_PER_TYPE = {"t2.micro": 2, "t3.micro": 2, "t4g.micro": 2, "t2.small": 9, "t3.small": 9, "t4g.small": 9}
SPEED = 20.0
RUN_BEFORE_CRASH = 0.3
SHOW_TERMINATED = 0.3


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return 200 <= r.status < 300
    except OSError:
        return False


def backoff_text(n):
    s = min(10 * 2 ** n, 300)
    return "%dm%ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


def backoff_secs(n):
    return min(min(10 * 2 ** n, 300) / SPEED, 3.0)


def node_ip(node):
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return a.get("address")
    return None


def normalize_image(img):
    """docker.io/library/nginx:latest for nginx, as containerd names it."""
    name, _, digest = img.partition("@")
    first = name.split("/")[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + (name if "/" in name else "library/" + name)
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + ("@" + digest if digest else "")


def hexid(*parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


class Kubelets:
    def __init__(self, cl, behaviour):
        self.cl = cl
        self.behaviour = behaviour
        self.pods = {}        # pod uid -> {"ip", "containers": {name: state}, "sandbox_t"} or None (adopted)
        self.images = set()   # (node, image) pulled
        self.ips = {}         # node -> next host number
        self.runner = Runner(cl)

    # ---- behaviour rules ----
    def rule(self, pod, c):
        for r in self.behaviour.get("rules") or []:
            if r.get("image") and r["image"] not in (c.get("image"), normalize_image(c.get("image") or "")):
                continue
            if r.get("container") and r["container"] != c.get("name"):
                continue
            if r.get("namespace") and r["namespace"] != pod["metadata"]["namespace"]:
                continue
            if r.get("pod") and not pod["metadata"]["name"].startswith(r["pod"]):
                continue
            return r
        return None

    def ip_capacity(self, node):
        over = (self.behaviour.get("ipCapacity") or {}).get(node["metadata"]["name"])
        if over is not None:
            return int(over)
        lab = (node.get("metadata") or {}).get("labels") or {}
        t = lab.get("node.kubernetes.io/instance-type") or lab.get("beta.kubernetes.io/instance-type")
        if t in IP_PER_TYPE:
            return IP_PER_TYPE[t]
        return int(pred.quantity(((node.get("status") or {}).get("allocatable") or {}).get("pods", 110)))

    def new_ip(self, node):
        name = node["metadata"]["name"]
        base = node_ip(node) or "10.244.%d.1" % (len(self.ips) + 1)
        n = self.ips.get(name, 100)
        self.ips[name] = n + 1
        a, b, c, _ = base.split(".")
        return "%s.%s.%s.%d" % (a, b, c, n % 250 + 2) if n < 250 else "%s.%s.%d.%d" % (a, b, (int(c) + n // 250) % 256,
                                                                                       n % 250 + 2)

    # ---- the loop ----
    def sync(self):
        nodes = {n["metadata"]["name"]: n for n in self.cl.list("Node")}
        pods = self.cl.list("Pod")
        live = set()
        # Pod-network IPs in use per node: this loop's pods and the seeded ones.
        self.used = {}
        for p in pods:
            if not (p.get("spec") or {}).get("hostNetwork") and (p.get("status") or {}).get("podIP") \
                    and pred.occupies(p):
                self.used[p["spec"].get("nodeName")] = self.used.get(p["spec"].get("nodeName"), 0) + 1
        # Processes of pods deleted or being deleted stop before anything starts.
        going = {p["metadata"]["uid"] for p in pods if p["metadata"].get("deletionTimestamp")}
        present = {p["metadata"]["uid"] for p in pods}
        for uid, st in self.pods.items():
            if st is not None and (uid in going or uid not in present):
                self.stop_pod(st)
        for p in sorted(pods, key=lambda o: int(o["metadata"]["resourceVersion"])):
            uid = p["metadata"]["uid"]
            live.add(uid)
            node = nodes.get((p.get("spec") or {}).get("nodeName") or "")
            if node is None or p["metadata"].get("deletionTimestamp"):
                continue
            if uid not in self.pods:
                st = p.get("status") or {}
                self.pods[uid] = None if st.get("containerStatuses") or st.get("phase") in (
                    "Running", "Succeeded", "Failed") else {"ip": None, "containers": {}, "sandbox_t": 0}
            if self.pods[uid] is not None:
                self.sync_pod(p, node)
        for uid in list(self.pods):
            if uid not in live:
                del self.pods[uid]

    def stop_pod(self, st):
        for cs in st["containers"].values():
            if cs.get("proc") is not None:
                self.runner.stop(cs.pop("proc"))

    def adopted(self):
        """Uids of the pods found already started (seeded), which this kubelet leaves as they are."""
        return [uid for uid, s in self.pods.items() if s is None]

    def sync_pod(self, p, node):
        s = self.pods[p["metadata"]["uid"]]
        spec = p["spec"]
        host = node["metadata"]["name"]
        missing = refs.missing_volumes(self.cl, p) if s["ip"] is None else []
        if missing:
            for vol, msg in missing:
                self.cl.event(p, "Warning", "FailedMount", 'MountVolume.SetUp failed for volume "%s" : %s' % (vol, msg),
                              "kubelet", host, every=5)
        elif s["ip"] is None:
            if spec.get("hostNetwork"):
                s["ip"] = node_ip(node) or "10.0.0.1"
            elif self.used.get(host, 0) < self.ip_capacity(node):
                s["ip"] = self.new_ip(node)
                self.used[host] = self.used.get(host, 0) + 1
            elif time.time() - s["sandbox_t"] > 5:
                s["sandbox_t"] = time.time()
                sandbox = hexid(p["metadata"]["uid"], time.time())
                self.cl.event(p, "Warning", "FailedCreatePodSandBox",
                              'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network '
                              'for sandbox "%s": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to '
                              'assign an IP address to container' % sandbox, "kubelet", host)
        if s["ip"] is not None:
            self.step_containers(p, s, host)
        self.write_status(p, s, node)

    def step_containers(self, p, s, host):
        spec = p["spec"]
        inits = spec.get("initContainers") or []
        for c in inits:
            cs = s["containers"].setdefault(c["name"], {"state": "new", "restarts": 0, "t": time.time(), "n": 0})
            if cs["state"] == "done":
                continue
            self.step(p, c, cs, host, "spec.initContainers{%s}" % c["name"], init=True)
            return
        for c in spec.get("containers") or []:
            cs = s["containers"].setdefault(c["name"], {"state": "new", "restarts": 0, "t": time.time(), "n": 0})
            self.step(p, c, cs, host, "spec.containers{%s}" % c["name"])

    def step(self, p, c, cs, host, fp, init=False):
        """One transition of a container's state machine per loop pass."""
        t = time.time()
        img = c.get("image") or ""
        r = self.rule(p, c)
        fail = (r or {}).get("fail")
        ev = lambda typ, reason, msg: self.cl.event(p, typ, reason, msg, "kubelet", host, fp, every=0)
        st = cs["state"]
        if st == "new" or (st in ("pull_backoff",) and t >= cs["until"]):
            if fail != "pull" and (host, img) in self.images and c.get("imagePullPolicy") != "Always":
                ev("Normal", "Pulled", 'Container image "%s" already present on machine' % img)
                self.start(p, c, cs, ev)
            else:
                ev("Normal", "Pulling", 'Pulling image "%s"' % img)
                cs.update(state="pulling", t=t)
        elif st == "pulling" and t - cs["t"] >= 0.1:
            if fail == "pull":
                ref = normalize_image(img)
                err = r.get("message") or (
                    'rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve '
                    'reference "%s": pull access denied, repository does not exist or may require '
                    'authorization: server message: insufficient_scope: authorization failed' % (ref, ref))
                ev("Warning", "Failed", 'Failed to pull image "%s": %s' % (img, err))
                ev("Warning", "Failed", "Error: ErrImagePull")
                cs.update(state="pull_failed", t=t, err=err, pull_failed=True)
            else:
                self.images.add((host, img))
                ev("Normal", "Pulled", 'Successfully pulled image "%s" in 1.204s (1.204s including waiting). '
                                       'Image size: %d bytes.' % (img, 10000000 + int(hexid(img)[:6], 16)))
                self.start(p, c, cs, ev)
        elif st == "pull_failed" and t - cs["t"] >= 0.3:
            ev("Normal", "BackOff", 'Back-off pulling image "%s"' % img)
            ev("Warning", "Failed", "Error: ImagePullBackOff")
            cs.update(state="pull_backoff", t=t, until=t + backoff_secs(cs["n"]), n=cs["n"] + 1)
        elif st == "running" and cs.get("proc") is not None:
            code = cs["proc"].poll()
            if code is None:
                return
            self.runner.stop(cs.pop("proc"))
            if init and code == 0:
                cs.update(state="done", t=t, exit={"exitCode": 0, "reason": "Completed"})
            else:
                last = {"exitCode": code if code >= 0 else 128 - code, "reason": "Completed" if code == 0 else "Error",
                        "startedAt": cs["started"], "finishedAt": now(), "containerID": cs["cid"]}
                cs.update(state="terminated", t=t, prev=cs.get("last"), last=last)
        elif st == "running" and init and t - cs["t"] >= 0.1 and fail not in ("crash", "oom"):
            cs.update(state="done", t=t, exit={"exitCode": 0, "reason": "Completed"})
        elif st == "running" and fail in ("crash", "oom") and t - cs["t"] >= RUN_BEFORE_CRASH:
            code = 137 if fail == "oom" else int(r.get("exitCode", 1))
            last = {"exitCode": code, "reason": "OOMKilled" if fail == "oom" else "Error",
                    "startedAt": cs["started"], "finishedAt": now(), "containerID": cs["cid"]}
            cs.update(state="terminated", t=t, prev=cs.get("last"), last=last)
        elif st == "terminated" and t - cs["t"] >= SHOW_TERMINATED:
            ev("Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)" % (
                c["name"], p["metadata"]["name"], p["metadata"]["namespace"], p["metadata"]["uid"]))
            cs.update(state="crash_backoff", t=t, until=t + backoff_secs(cs["n"]), text=backoff_text(cs["n"]),
                      n=cs["n"] + 1, restarts=cs["restarts"] + 1)
        elif st == "config_error" and t - cs["t"] >= 1.0:
            self.start(p, c, cs, ev)
        elif st == "crash_backoff" and t >= cs["until"]:
            ev("Normal", "Pulled", 'Container image "%s" already present on machine' % img)
            self.start(p, c, cs, ev)

    def start(self, p, c, cs, ev):
        err = refs.env_error(self.cl, p, c)
        if err:
            ev("Warning", "Failed", "Error: " + err)
            cs.update(state="config_error", t=time.time(), err=err)
            return
        ev("Normal", "Created", "Created container: " + c["name"])
        ev("Normal", "Started", "Started container " + c["name"])
        cs.update(state="running", t=time.time(), started=now(), cid="containerd://" + hexid(
            p["metadata"]["uid"], c["name"], cs["restarts"], time.time()))
        spec = (self.rule(p, c) or {}).get("run")
        if spec is not None:
            cs["proc"] = self.runner.start(p, c, spec)

    # ---- status ----
    def container_status(self, p, c, cs, init):
        img = c.get("image") or ""
        out = {"name": c["name"], "image": img, "imageID": "", "ready": False, "restartCount": cs["restarts"],
               "started": False, "state": {}, "lastState": {}}
        st = cs["state"]
        if st not in ("new", "pulling", "pull_failed", "pull_backoff"):
            out["imageID"] = normalize_image(img).split(":")[0].split("@")[0] + "@sha256:" + hexid(img)
        if cs.get("last"):
            out["lastState"] = {"terminated": cs["last"]}
        if st == "pulling" and cs.get("pull_failed"):
            # A retry after a back-off: the kubelet's reasonCache keeps the last failure
            # until the container starts, so the pod does not go back to ContainerCreating.
            out["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "%s"' % img}}
        elif st in ("new", "pulling"):
            out["state"] = {"waiting": {"reason": "PodInitializing" if init is False else "ContainerCreating"}}
        elif st == "pull_failed":
            out["state"] = {"waiting": {"reason": "ErrImagePull", "message": cs["err"]}}
        elif st == "config_error":
            out["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": cs["err"]}}
        elif st == "pull_backoff":
            out["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "%s"' % img}}
        elif st == "running":
            out.update(started=True, containerID=cs["cid"], state={"running": {"startedAt": cs["started"]}})
            out["ready"] = init is None and (self.rule(p, c) or {}).get("fail") not in ("crash", "oom")
            ready_url = ((self.rule(p, c) or {}).get("run") or {}).get("ready")
            if out["ready"] and ready_url:  # a real process: ready once it answers there (its readiness probe)
                out["ready"] = cs.get("proc") is not None and cs["proc"].poll() is None and answers(ready_url)
        elif st == "done":
            out.update(containerID=cs["cid"], state={"terminated": dict(cs["exit"], startedAt=cs["started"],
                                                                       finishedAt=cs["started"],
                                                                       containerID=cs["cid"])})
        elif st == "terminated":
            out.update(containerID=cs["cid"], state={"terminated": cs["last"]})
            out["lastState"] = {"terminated": cs["prev"]} if cs.get("prev") else {}
        elif st == "crash_backoff":
            out.update(containerID=cs["cid"], state={"waiting": {
                "reason": "CrashLoopBackOff", "message": "back-off %s restarting failed container=%s pod=%s_%s(%s)" % (
                    cs["text"], c["name"], p["metadata"]["name"], p["metadata"]["namespace"], p["metadata"]["uid"])}})
        return out

    def write_status(self, p, s, node):
        spec = p["spec"]
        old = p.get("status") or {}
        inits = spec.get("initContainers") or []
        init_done = all((s["containers"].get(c["name"]) or {}).get("state") == "done" for c in inits)
        ics = [self.container_status(p, c, s["containers"].get(c["name"]) or {"state": "new", "restarts": 0}, True)
               for c in inits]
        css = [self.container_status(p, c, s["containers"].get(c["name"]) or {"state": "new", "restarts": 0},
                                     None if init_done else False) for c in spec.get("containers") or []]
        unready = [c["name"] for c in css if not c["ready"]]
        ever_started = any(cs.get("cid") for n, cs in s["containers"].items()
                           if n in {c["name"] for c in spec.get("containers") or []})
        prev = {c["type"]: c for c in old.get("conditions") or []}
        t = now()

        def cond(typ, ok, reason=None, msg=None):
            c = {"type": typ, "status": "True" if ok else "False", "lastProbeTime": None}
            pc = prev.get(typ)
            c["lastTransitionTime"] = pc["lastTransitionTime"] if pc and pc.get("status") == c["status"] else t
            if not ok and reason:
                c["reason"], c["message"] = reason, msg
            return c
        pending = " ".join(c["name"] for c in inits if s["containers"].get(c["name"], {}).get("state") != "done")
        not_ready = "containers with unready status: [%s]" % " ".join(unready)
        conds = [cond("PodReadyToStartContainers", s["ip"] is not None),
                 cond("Initialized", init_done, "ContainersNotInitialized",
                      "containers with incomplete status: [%s]" % pending),
                 cond("Ready", not unready, "ContainersNotReady", not_ready),
                 cond("ContainersReady", not unready, "ContainersNotReady", not_ready),
                 prev.get("PodScheduled") or cond("PodScheduled", True)]
        st = {"phase": "Running" if ever_started and init_done else "Pending", "conditions": conds,
              "hostIP": node_ip(node) or "10.0.0.1", "startTime": old.get("startTime") or t,
              "containerStatuses": css, "qosClass": old.get("qosClass") or "BestEffort"}
        st["hostIPs"] = [{"ip": st["hostIP"]}]
        if s["ip"]:
            st["podIP"] = s["ip"]
            st["podIPs"] = [{"ip": s["ip"]}]
        if ics:
            st["initContainerStatuses"] = ics
        self.cl.set_status("Pod", "", p, st, "kubelet")
