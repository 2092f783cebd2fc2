#!/usr/bin/env python3
"""Posts pre-generated line protocol to an InfluxDB write endpoint from
several connections and measures the time until it is all written and the
CPU the server processes used meanwhile.

usage: listener_relay.py URL POINTS BATCH CONNS --pids PID[,PID] [--written-url URL --written-min N]
  URL          e.g. http://127.0.0.1:8186/write?db=relay
  --pids       processes whose CPU (utime+stime) is measured over the run
  --written-url  /metrics of the agent: the run ends when
                 heliograph_metrics_written_total >= --written-min
Prints one JSON object: points, seconds, points_per_s, cpu_s per pid."""
import argparse
import http.client
import json
import os
import queue
import threading
import time
import urllib.parse
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def bodies(points, batch):
    out = []
    ts = 1700000000000000000
    for start in range(0, points, batch):
        lines = []
        for i in range(start, min(points, start + batch)):
            lines.append(f"relay,host=node-{i % 100:03d},region=r{i % 7} value={i * 0.25},count={i}i,ok=true {ts + i}\n")
        out.append("".join(lines).encode())
    return out


def written(url):
    with urllib.request.urlopen(url) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("heliograph_metrics_written_total "):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("points", type=int)
    ap.add_argument("batch", type=int)
    ap.add_argument("conns", type=int)
    ap.add_argument("--pids", required=True)
    ap.add_argument("--written-url")
    ap.add_argument("--written-min", type=int, default=0)
    a = ap.parse_args()
    pids = [int(p) for p in a.pids.split(",")]
    work = queue.Queue()
    for b in bodies(a.points, a.batch):
        work.put(b)
    u = urllib.parse.urlparse(a.url)
    target = u.path + ("?" + u.query if u.query else "")
    errors = []

    def client():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        while True:
            try:
                b = work.get_nowait()
            except queue.Empty:
                return
            c.request("POST", target, b, {"Content-Type": "text/plain"})
            r = c.getresponse()
            r.read()
            if r.status != 204:
                errors.append(r.status)

    cpu0 = [cpu_s(p) for p in pids]
    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    posted = time.monotonic() - t0
    if a.written_url:
        while written(a.written_url) < a.written_min:
            time.sleep(0.01)
    secs = time.monotonic() - t0
    cpu1 = [cpu_s(p) for p in pids]
    print(json.dumps({
        "points": a.points, "seconds": round(secs, 3), "posted_seconds": round(posted, 3),
        "points_per_s": round(a.points / secs), "errors": len(errors),
        "cpu_s": {str(p): round(c1 - c0, 3) for p, c0, c1 in zip(pids, cpu0, cpu1)},
    }))


if __name__ == "__main__":
    main()
