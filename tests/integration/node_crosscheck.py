#!/usr/bin/env python3
"""Compares the agent's node metrics (line protocol from `agent --test`) with
node_exporter's (Prometheus text), both read from this machine's kernel
moments apart. Counters agree within a stated tolerance, gauges closely,
constants exactly.

usage: node_crosscheck.py AGENT_OUTPUT.lp NODE_EXPORTER_METRICS.txt"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpcompare import parse_line  # noqa: E402


def parse_lp(path):
    return [parse_line(l.rstrip("\n"))[:3] for l in open(path) if l.strip()]


def lp_get(points, meas, field, **tags):
    for m, t, f in points:
        if m == meas and all(t.get(k) == v for k, v in tags.items()) and field in f:
            return f[field]
    return None


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_prom(path):
    out = []
    for line in open(path):
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            out.append((m.group(1), dict(LABEL.findall(m.group(3) or "")), float(m.group(4))))
    return out


def prom_get(samples, name, **labels):
    vals = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    return vals


checks = []


def check(what, ours, theirs, abs_tol=0.0, rel_tol=0.0):
    if ours is None or theirs is None:
        checks.append((what, False, "missing: agent=%r node_exporter=%r" % (ours, theirs)))
        return
    diff = abs(ours - theirs)
    ok = diff <= abs_tol or (theirs != 0 and diff / abs(theirs) <= rel_tol)
    checks.append((what, ok, "agent=%r node_exporter=%r diff=%g (tolerance abs %g, rel %g)" %
                   (ours, theirs, diff, abs_tol, rel_tol)))


def main():
    lp = parse_lp(sys.argv[1])
    prom = parse_prom(sys.argv[2])
    # Constants: exact.
    check("mem.total == node_memory_MemTotal_bytes", lp_get(lp, "mem", "total"),
          (prom_get(prom, "node_memory_MemTotal_bytes") or [None])[0])
    check("swap.total == node_memory_SwapTotal_bytes", lp_get(lp, "swap", "total"),
          (prom_get(prom, "node_memory_SwapTotal_bytes") or [None])[0])
    check("kernel.boot_time == node_boot_time_seconds", lp_get(lp, "kernel", "boot_time"),
          (prom_get(prom, "node_boot_time_seconds") or [None])[0], abs_tol=1)
    check("system.n_cpus == count(node_cpu_seconds_total{mode=idle})", lp_get(lp, "system", "n_cpus"),
          len(prom_get(prom, "node_cpu_seconds_total", mode="idle")))
    # Gauges: small tolerance (read moments apart).
    check("mem.available ~ node_memory_MemAvailable_bytes", lp_get(lp, "mem", "available"),
          (prom_get(prom, "node_memory_MemAvailable_bytes") or [None])[0], rel_tol=0.05)
    check("system.load1 ~ node_load1", lp_get(lp, "system", "load1"),
          (prom_get(prom, "node_load1") or [None])[0], abs_tol=0.5)
    # Counters: both increase between the two reads.
    for mode, field in (("user", "time_user"), ("system", "time_system"), ("idle", "time_idle")):
        ne = sum(prom_get(prom, "node_cpu_seconds_total", mode=mode))
        check("cpu-total %s ~ sum(node_cpu_seconds_total{mode=%s})" % (field, mode),
              lp_get(lp, "cpu", field, cpu="cpu-total"), ne, abs_tol=3.0, rel_tol=0.01)
    check("kernel.context_switches ~ node_context_switches_total", lp_get(lp, "kernel", "context_switches"),
          (prom_get(prom, "node_context_switches_total") or [None])[0], rel_tol=0.02)
    check("kernel.processes_forked ~ node_forks_total", lp_get(lp, "kernel", "processes_forked"),
          (prom_get(prom, "node_forks_total") or [None])[0], abs_tol=200)
    nics = [t["interface"] for m, t, f in lp if m == "net" and "interface" in t and "bytes_recv" in f]
    if nics:
        nic = nics[0]
        check("net %s bytes_recv ~ node_network_receive_bytes_total" % nic,
              lp_get(lp, "net", "bytes_recv", interface=nic),
              (prom_get(prom, "node_network_receive_bytes_total", device=nic) or [None])[0],
              abs_tol=1e6, rel_tol=0.02)
    mounts = {l.get("mountpoint") for n, l, v in prom if n == "node_filesystem_size_bytes"}
    paths = [t["path"] for m, t, f in lp if m == "disk" and t.get("path") in mounts]
    if paths:
        check("disk %s total == node_filesystem_size_bytes" % paths[0], lp_get(lp, "disk", "total", path=paths[0]),
              (prom_get(prom, "node_filesystem_size_bytes", mountpoint=paths[0]) or [None])[0])
    bad = 0
    for what, ok, detail in checks:
        print("%s %s: %s" % ("ok  " if ok else "FAIL", what, detail))
        bad += not ok
    print("%d passed, %d failed" % (len(checks) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
