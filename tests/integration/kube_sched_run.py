"""Containers the simulated kubelets (kube_sched_kubelet.py) run for real, as
local processes: a behaviour rule with "run" makes a matching container a
process instead of a simulated one, so what it does is real (the stack pod's
influxdb-setup init container runs its script with the real influx CLI
against a real influxd, and its influxdb container is a real influxd).

  "run": {"argv": [...],          the command; default the container's command + args
          "env": {"K": "V"},       added to (and overriding) the container's env
          "dir": "/path",          where ConfigMap volumes and logs are written (default a temp dir)
          "ready": "http://..."}   ready (the readiness probe) once this URL answers 2xx

The container's env is resolved as the kubelet does (value, secretKeyRef,
configMapKeyRef; fieldRef metadata.name/namespace, spec.nodeName). Each
configMap volume the container mounts is written out as files, and an argv
word under its mountPath points into those files instead. The process's
stdout and stderr are the container's log (GET .../pods/NAME/log?container=C,
&previous=true for the run before), its exit code the container's. A
process is stopped (SIGTERM to its process group, SIGKILL after 10 s) when
its pod is deleted; all of them when the server ends."""
import atexit
import base64
import os
import signal
import subprocess
import tempfile
import threading

import orphan_guard

LOCK = threading.Lock()
PROCS = set()  # every live Popen, for the cleanup at exit


def _stop(p):
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    except ProcessLookupError:
        pass


def stop_all():
    with LOCK:
        procs = list(PROCS)
    for p in procs:
        _stop(p)


def install_exit_handlers():
    """Called from the main thread: stop the processes however the server ends."""
    atexit.register(stop_all)
    orphan_guard.BEFORE_EXIT.append(stop_all)

    def term(signum, frame):
        stop_all()
        os._exit(0)
    signal.signal(signal.SIGTERM, term)


def _env(cl, pod, c, extra):
    ns = pod["metadata"]["namespace"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    field = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": ns,
             "spec.nodeName": pod["spec"].get("nodeName", "")}
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "secretKeyRef" in vf:
            s = cl.get("Secret", ns, vf["secretKeyRef"]["name"])
            v = ((s or {}).get("data") or {}).get(vf["secretKeyRef"]["key"])
            if v is not None:
                env[e["name"]] = base64.b64decode(v).decode()
        elif "configMapKeyRef" in vf:
            m = cl.get("ConfigMap", ns, vf["configMapKeyRef"]["name"])
            v = ((m or {}).get("data") or {}).get(vf["configMapKeyRef"]["key"])
            if v is not None:
                env[e["name"]] = v
        elif "fieldRef" in vf and vf["fieldRef"].get("fieldPath") in field:
            env[e["name"]] = field[vf["fieldRef"]["fieldPath"]]
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def _config_maps(cl, pod, c, base):
    """Writes the container's configMap volumes under base; {mountPath: dir}."""
    vols = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    out = {}
    for m in c.get("volumeMounts") or []:
        cm = (vols.get(m["name"]) or {}).get("configMap")
        if not cm:
            continue
        obj = cl.get("ConfigMap", pod["metadata"]["namespace"], cm["name"]) or {}
        d = os.path.join(base, m["name"])
        os.makedirs(d, exist_ok=True)
        for k, v in (obj.get("data") or {}).items():
            with open(os.path.join(d, k), "w") as f:
                f.write(v)
        out[m["mountPath"].rstrip("/")] = d
    return out


class Runner:
    def __init__(self, cl):
        self.cl = cl
        self.logs = {}  # (namespace, pod name, container) -> [log file paths], oldest first

    def start(self, pod, c, spec):
        """Starts the container's process; returns its Popen."""
        base = spec.get("dir") or tempfile.mkdtemp(prefix="kube-run-")
        maps = _config_maps(self.cl, pod, c, os.path.join(base, pod["metadata"]["uid"]))
        argv = list(spec.get("argv") or (c.get("command") or []) + (c.get("args") or []))
        for i, w in enumerate(argv):
            for mp, d in maps.items():
                if w == mp or w.startswith(mp + "/"):
                    argv[i] = d + w[len(mp):]
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"], c["name"])
        with LOCK:
            logs = self.logs.setdefault(key, [])
            path = os.path.join(base, "%s-%s-%d.log" % (pod["metadata"]["uid"], c["name"], len(logs)))
            logs.append(path)
        with open(path, "wb") as log:
            p = subprocess.Popen(argv, env=_env(self.cl, pod, c, spec.get("env")), stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with LOCK:
            PROCS.add(p)
        return p

    def stop(self, p):
        _stop(p)
        with LOCK:
            PROCS.discard(p)

    def log(self, ns, pod, container, previous):
        with LOCK:
            logs = list(self.logs.get((ns, pod, container)) or [])
        if len(logs) < (2 if previous else 1):
            return None
        with open(logs[-2 if previous else -1], "rb") as f:
            return f.read()
