#!/usr/bin/env python3
"""InfluxDB's memory as the stack pod runs it: what k8s-manifests/30-stack.yaml's sizing rests on.

  bench/influxd_stack_memory.py --agent build/agent [--influxd /usr/bin/influxd] [--hosts 3]
                                [--backfill-hours 24] [--live-minutes 3] [--query-range 24h]
                                [--interval 2m] [--work DIR [--reuse]]

influxd gets scripts/influxd-conf.sh's private config plus, from the environment, every
INFLUXDB_* setting the stack's influxdb container sets (read from 30-stack.yaml, so the two cannot
drift): tsi1, 64m cache, 8m snapshots, no series-id set cache, one compaction, no _internal.
The load is the repo's agent: one gather (--once) of the inputs k8s-manifests/41-agent-config.yaml
runs on a node (node inputs, and the kubernetes input against tests/servers/kubelet_server.py
serving a captured kubelet summary with 11 pods), replayed for HOSTS nodes as the agent writes
(batches of 1000 lines, one flush per 10 s interval):
  1. backfill: BACKFILL_HOURS of history at full speed (as agents flushing their buffers after
     an outage, and so the shards hold TSM files and compactions run),
  2. live: LIVE_MINUTES at the real 10 s interval,
  3. dashboards: every InfluxQL query of grafana-dashboards/*.json over QUERY_RANGE (Grafana's
     variables as match-all, $__interval as Grafana sets it for ~1000 points, at least 1m), each
     dashboard's panels 6 at a time (a browser's connections to one host), three times,
  4. restart: influxd stopped and started on the data (the tsi1 index and TSM files opened).
VmRSS is sampled from /proc every 0.25 s; VmHWM is read at the end of each phase.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stack_env():
    """The influxdb container's literal INFLUXDB_* values from 30-stack.yaml (secrets excluded)."""
    env, name = {}, None
    text = open(os.path.join(ROOT, "k8s-manifests", "30-stack.yaml")).read()
    for line in text.splitlines():
        m = re.match(r"\s*- name: (INFLUXDB_[A-Z_]+)\s*$", line)
        if m:
            name = m.group(1)
            continue
        m = re.match(r"\s*value: \"?([^\"#]*?)\"?\s*(#.*)?$", line)
        if name and m:
            env[name] = m.group(1)
        name = None
    env.pop("INFLUXDB_HTTP_AUTH_ENABLED", None)   # the bench writes without users
    return env


def status(pid, key):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])   # kB
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], False

    def run(self):
        while not self.stop:
            self.samples.append(status(self.pid, "VmRSS"))
            time.sleep(0.25)


def http(url, data=None, timeout=120):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def start_influxd(args, work, port, rpc):
    conf = subprocess.check_output([os.path.join(ROOT, "scripts", "influxd-conf.sh"), work + "/influxdb",
                                    str(port), str(rpc)])
    open(work + "/influxdb.conf", "wb").write(conf)
    env = dict(os.environ, **stack_env())
    log = open(work + "/influxd.log", "ab")
    p = subprocess.Popen([args.influxd, "-config", work + "/influxdb.conf"], env=env, stdout=log, stderr=log)
    for _ in range(600):
        try:
            http("http://127.0.0.1:%d/ping" % port, timeout=1)
            return p
        except OSError:
            time.sleep(0.1)
    sys.exit("influxd did not start: see %s/influxd.log" % work)


def capture(args, work):
    """One gather of the stack's node inputs and the kubernetes input, as line protocol."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", work + "/key.pem",
                    "-out", work + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    open(work + "/token", "w").write("bench-token\n")
    kub = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "servers", "kubelet_server.py"),
                            "--cert", work + "/cert.pem", "--key", work + "/key.pem", "--token-file", work + "/token",
                            "--port-file", work + "/kport",
                            "--summary", FIX + "/kubelet-summary/honeycomb-baremetal-docker-calico-summary.json",
                            "--pods", FIX + "/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(work + "/kport") and open(work + "/kport").read().strip():
                break
            time.sleep(0.1)
        kport = open(work + "/kport").read().strip()
        cfg = """agent: {hostname: node-0, interval: 10s, flush_interval: 10s}
inputs:
  - cpu: {percpu: false, totalcpu: true}
  - mem: {}
  - swap: {}
  - system: {}
  - kernel: {}
  - net: {}
  - processes: {}
  - disk: {}
  - diskio: {}
  - internal: {}
  - kubernetes: {url: "https://127.0.0.1:%s", bearer_token: "%s/token", tls_ca: "%s/cert.pem"}
outputs: [{file: {files: ["%s/once.lp"]}}]
""" % (kport, work, work, work)
        open(work + "/agent.yaml", "w").write(cfg)
        subprocess.run([args.agent, "--config", work + "/agent.yaml", "--once"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        kub.terminate()
        kub.wait()
    lines = [l for l in open(work + "/once.lp").read().splitlines() if l and not l.startswith("#")]
    # Drop the timestamp: the replay sets its own.
    return [l.rsplit(" ", 1)[0] for l in lines]


def write_intervals(port, template, hosts, t0_ns, n, step_ns=10 ** 10):
    url = "http://127.0.0.1:%d/write?db=heliograph&precision=ns" % port
    batch = []
    for i in range(n):
        ts = t0_ns + i * step_ns
        for h in range(hosts):
            host = "node-%d" % h
            for l in template:
                batch.append("%s %d" % (l.replace("node-0", host), ts))
                if len(batch) == 1000:
                    http(url, "\n".join(batch).encode())
                    batch = []
    if batch:
        http(url, "\n".join(batch).encode())


def dashboard_queries(rng, interval):
    out = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "grafana-dashboards", "*.json"))):
        qs = []

        def walk(ps):
            for p in ps:
                for t in p.get("targets") or []:
                    if t.get("query"):
                        qs.append(t["query"])
                walk(p.get("panels", []))
        d = json.load(open(f))
        walk(d.get("panels", []))
        sub = []
        for q in qs:
            q = q.replace("$timeFilter", "time > now() - " + rng).replace("$__interval", interval)
            q = re.sub(r"\$\{?[a-zA-Z_]+\}?", ".*", q)
            sub.append(q)
        out[os.path.basename(f)] = sub
    return out


SLOW = []   # (seconds, query) of every dashboard query run


def run_queries(port, qs, parallel=6):
    """A dashboard's panels, at most PARALLEL at a time: a browser's connections to one host."""
    errs, todo, lock = [], list(qs), threading.Lock()

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                q = todo.pop()
            t0 = time.time()
            try:
                http("http://127.0.0.1:%d/query?db=heliograph&%s" % (port, urllib.parse.urlencode({"q": q})),
                     timeout=600)
            except OSError as e:
                errs.append(str(e))
            with lock:
                SLOW.append((time.time() - t0, q))
    ts = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--influxd", default="/usr/bin/influxd")
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--backfill-hours", type=float, default=24)
    ap.add_argument("--live-minutes", type=float, default=3)
    ap.add_argument("--query-range", default="24h", help="the dashboards' time range (InfluxQL duration)")
    ap.add_argument("--interval", help="$__interval (default: what Grafana picks for about 1000 points, "
                    "the range / 1000 rounded up to whole minutes)")
    ap.add_argument("--work")
    ap.add_argument("--reuse", action="store_true", help="WORK holds a previous run's data: only the "
                    "dashboards and the restart")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="hg-influx-mem.")
    os.makedirs(work + "/influxdb", exist_ok=True)
    secs = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    rng_s = int(args.query_range[:-1]) * secs[args.query_range[-1]]
    interval = args.interval or "%dm" % max(1, -(-rng_s // 1000 // 60))
    template = [] if args.reuse else capture(args, work)
    port, rpc = free_port(), free_port()
    p = start_influxd(args, work, port, rpc)
    version = subprocess.run([args.influxd, "version"], capture_output=True, text=True).stdout.strip()
    http("http://127.0.0.1:%d/query" % port, urllib.parse.urlencode(
        {"q": 'CREATE DATABASE heliograph WITH DURATION 30d SHARD DURATION 1d'}).encode())
    s = Sampler(p.pid)
    s.start()
    rows = []

    def phase(name, start):
        hwm = status(p.pid, "VmHWM")
        win = s.samples[start:] or [0]
        rows.append((name, max(win) / 1024, sum(win) / len(win) / 1024, hwm / 1024))
        return len(s.samples)

    back_s = 0
    if args.reuse:
        i2 = phase("open on the data", 0)
    else:
        i0 = phase("idle (empty database)", 0)
        now = time.time_ns() // 10 ** 10 * 10 ** 10
        n_back = int(args.backfill_hours * 360)
        t = time.time()
        write_intervals(port, template, args.hosts, now - n_back * 10 ** 10, n_back)
        back_s = time.time() - t
        i1 = phase("backfill %gh (%d lines)" % (args.backfill_hours, n_back * args.hosts * len(template)), i0)
        end = time.time() + args.live_minutes * 60
        while time.time() < end:
            write_intervals(port, template, args.hosts, time.time_ns(), 1)
            time.sleep(max(0, 10 - (time.time() % 10)))
        i2 = phase("live %g min at 10 s" % args.live_minutes, i1)
    errs = []
    for _ in range(3):
        for dash, qs in dashboard_queries(args.query_range, interval).items():
            errs += run_queries(port, qs)
    i3 = phase("dashboards (3 x every panel, last %s, $__interval %s)" % (args.query_range, interval), i2)
    s.stop = True
    p.send_signal(signal.SIGTERM)
    p.wait()
    p = start_influxd(args, work, port, rpc)
    s = Sampler(p.pid)
    s.start()
    time.sleep(5)
    run_queries(port, ["SELECT mean(usage_idle) FROM cpu WHERE time > now() - 1h GROUP BY host"])
    phase("restart on the data (+5 s)", 0)
    s.stop = True
    series = http("http://127.0.0.1:%d/query?db=heliograph&%s" % (port, urllib.parse.urlencode(
        {"q": "SHOW SERIES CARDINALITY"}))).decode()
    p.send_signal(signal.SIGTERM)
    p.wait()
    du = subprocess.run(["du", "-sh", work + "/influxdb"], capture_output=True, text=True).stdout.split()[0]
    print("influxd: %s; env from 30-stack.yaml: %s" % (version, " ".join("%s=%s" % kv for kv in sorted(stack_env().items()))))
    print("load: %d hosts x %d lines per 10 s gather; backfill took %.0f s; data on disk %s; series: %s" % (
        args.hosts, len(template), back_s, du, re.findall(r'"values":\[\[(\d+)', series)))
    print("slowest queries: %s" % "; ".join("%.1f s %s" % (d, q[:90]) for d, q in sorted(SLOW)[-3:]))
    print("query errors: %d%s" % (len(errs), (" (first: %s)" % errs[0]) if errs else ""))
    print("| phase | VmRSS max MiB | VmRSS mean MiB | VmHWM so far MiB |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f | %.1f | %.1f |" % r)
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
