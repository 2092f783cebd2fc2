#!/usr/bin/env python3
"""Compares the agent's node metrics (line protocol from `agent --test`) with
node_exporter's (Prometheus text), both read from this machine's kernel
moments apart. Counters agree within a stated tolerance, gauges closely,
constants exactly. Given a scrape taken just before the agent's gather too,
the counters read from one kernel number (bytes, context switches) must lie
between the two scrapes.

Every check must find something to compare: one that finds nothing fails,
unless this machine has nothing of the kind (then it is skipped, with the
reason printed).

usage: node_crosscheck.py AGENT_OUTPUT.lp NODE_EXPORTER_AFTER.txt [NODE_EXPORTER_BEFORE.txt]"""
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
skips = []
before = None  # node_exporter's scrape taken before the agent's gather, if given


def skip(what, reason):
    skips.append((what, reason))


def first(samples, name, **labels):
    return (prom_get(samples, name, **labels) or [None])[0]


def between(what, ours, before, after, slack=0.0):
    """A counter of the agent read after `before` and before `after`."""
    if ours is None or before is None or after is None:
        checks.append((what, False, "missing: agent=%r node_exporter before=%r after=%r" % (ours, before, after)))
        return
    ok = before - slack <= ours <= after + slack
    checks.append((what, ok, "node_exporter before=%r <= agent=%r <= node_exporter after=%r (slack %g)" %
                   (before, ours, after, slack)))


def check(what, ours, theirs, abs_tol=0.0, rel_tol=0.0):
    if ours is None or theirs is None:
        checks.append((what, False, "missing: agent=%r node_exporter=%r" % (ours, theirs)))
        return
    diff = abs(ours - theirs)
    ok = diff <= abs_tol or (theirs != 0 and diff / abs(theirs) <= rel_tol)
    checks.append((what, ok, "agent=%r node_exporter=%r diff=%g (tolerance abs %g, rel %g)" %
                   (ours, theirs, diff, abs_tol, rel_tol)))


def net_checks(lp, prom, counter):
    """bytes in/out of an interface both report, the busiest one."""
    ne_nics = {l.get("device") for n, l, v in prom if n == "node_network_receive_bytes_total"}
    ours = {t["interface"]: f for m, t, f in lp if m == "net" and "interface" in t and "bytes_recv" in f}
    common = sorted(set(ours) & ne_nics, key=lambda d: -ours[d]["bytes_recv"])
    if not common:
        real = [d for d in os.listdir("/sys/class/net") if d != "lo"] if os.path.isdir("/sys/class/net") else []
        if not real:
            skip("net bytes_recv/bytes_sent", "this machine has no network interface but lo")
        else:
            checks.append(("net: an interface both report", False, "agent %s, node_exporter %s (machine: %s)" %
                           (sorted(ours), sorted(ne_nics), real)))
        return
    nic = common[0]
    counter("net %s bytes_recv ~ node_network_receive_bytes_total" % nic, ours[nic]["bytes_recv"],
            "node_network_receive_bytes_total", 1e6, 0.02, device=nic)
    counter("net %s bytes_sent ~ node_network_transmit_bytes_total" % nic, ours[nic].get("bytes_sent"),
            "node_network_transmit_bytes_total", 1e6, 0.02, device=nic)


def diskio_checks(lp, prom, counter):
    """Bytes read and written of a device both report (node_exporter leaves out partitions, loop
    and ram devices), the busiest one."""
    ne_devs = {l.get("device") for n, l, v in prom if n == "node_disk_read_bytes_total"}
    ours = {t["name"]: f for m, t, f in lp if m == "diskio" and "name" in t and "read_bytes" in f}
    common = sorted(set(ours) & ne_devs, key=lambda d: -(ours[d]["read_bytes"] + ours[d].get("write_bytes", 0)))
    if not common:
        if not ne_devs:
            skip("diskio read_bytes/write_bytes", "node_exporter reports no disk on this machine (/proc/diskstats "
                 "has only devices it leaves out)")
        else:
            checks.append(("diskio: a device both report", False, "agent %s, node_exporter %s" %
                           (sorted(ours), sorted(ne_devs))))
        return
    dev = common[0]
    counter("diskio %s read_bytes ~ node_disk_read_bytes_total" % dev, ours[dev]["read_bytes"],
            "node_disk_read_bytes_total", 64 << 20, 0.01, device=dev)
    counter("diskio %s write_bytes ~ node_disk_written_bytes_total" % dev, ours[dev].get("write_bytes"),
            "node_disk_written_bytes_total", 64 << 20, 0.01, device=dev)


def filesystem_checks(lp, prom):
    """Size exactly, free and used space closely (other processes write meanwhile, tolerance
    the larger of 256 MiB and 0.5 % of the size), inodes exactly, for every mount point both
    report."""
    ne_mounts = {l.get("mountpoint") for n, l, v in prom if n == "node_filesystem_size_bytes"}
    ours = {t["path"]: f for m, t, f in lp if m == "disk" and "path" in t}
    common = sorted(set(ours) & ne_mounts)
    if not common:
        if not ne_mounts:
            skip("disk total/free", "node_exporter reports no file system on this machine")
        else:
            checks.append(("disk: a mount point both report", False, "agent %s, node_exporter %s" %
                           (sorted(ours), sorted(ne_mounts))))
        return
    for path in common:
        f = ours[path]
        check("disk %s total == node_filesystem_size_bytes" % path, f.get("total"),
              first(prom, "node_filesystem_size_bytes", mountpoint=path))
        # Telegraf's free is what unprivileged users may still use (f_bavail), node_exporter's
        # avail_bytes; its used counts the reserved blocks too: size - free_bytes (f_bfree).
        size = f.get("total") or 0
        tol = max(256 << 20, size * 0.005)
        check("disk %s free ~ node_filesystem_avail_bytes" % path, f.get("free"),
              first(prom, "node_filesystem_avail_bytes", mountpoint=path), abs_tol=tol)
        ne_free = first(prom, "node_filesystem_free_bytes", mountpoint=path)
        check("disk %s used ~ node_filesystem_size_bytes - node_filesystem_free_bytes" % path, f.get("used"),
              None if ne_free is None else first(prom, "node_filesystem_size_bytes", mountpoint=path) - ne_free,
              abs_tol=tol)
        if "inodes_total" in f:
            check("disk %s inodes_total == node_filesystem_files" % path, f["inodes_total"],
                  first(prom, "node_filesystem_files", mountpoint=path))


def family_between(what, pairs, before_prom, after_prom):
    """Counters of a family (interrupts per IRQ and CPU ...): every one the agent and
    node_exporter both report lies between node_exporter's two scrapes. One check line for the
    family: how many were compared and the first mismatches."""
    if not pairs:
        checks.append((what, False, "nothing in common"))
        return
    bad = []
    for label, ours, sel in pairs:
        b, a = first(before_prom, *sel[0], **sel[1]), first(after_prom, *sel[0], **sel[1])
        if ours is None or b is None or a is None or not (b <= ours <= a):
            bad.append("%s: before=%r agent=%r after=%r" % (label, b, ours, a))
    checks.append((what, not bad, "%d compared, %d outside: %s" % (len(pairs), len(bad), "; ".join(bad[:5]))))


def interrupts_checks(lp, prom):
    """interrupts (cpu_as_tag) per IRQ and CPU against node_interrupts_total (node_exporter's
    type label is the IRQ, info its type, devices the device), and soft_interrupts summed
    over CPUs against node_softirqs_total (from /proc/stat's softirq line)."""
    ours = {(t.get("irq"), t.get("cpu")): (t, f["count"]) for m, t, f in lp
            if m == "interrupts" and "count" in f}
    pairs, tag_bad = [], []
    for n, l, v in prom:
        if n != "node_interrupts_total":
            continue
        key = (l.get("type"), "cpu" + l.get("cpu", ""))
        if key not in ours:
            continue
        t, count = ours[key]
        if t.get("type", "") != l.get("info", "") or t.get("device", "") != l.get("devices", ""):
            tag_bad.append("%s: agent type=%r device=%r, node_exporter info=%r devices=%r" % (
                key, t.get("type"), t.get("device"), l.get("info"), l.get("devices")))
        pairs.append(("irq %s %s" % key, count, (("node_interrupts_total",), {"type": l["type"], "cpu": l["cpu"]})))
    if not ours:
        checks.append(("interrupts: agent emitted none", False, "no interrupts line"))
        return
    # node_exporter leaves out rows with fewer counts than CPUs (ERR, MIS): all else is common
    full = {k for k, (t, c) in ours.items() if "type" in t}
    checks.append(("interrupts: every IRQ row with a type is in node_exporter", len(pairs) >= len(full),
                   "%d agent rows with a type, %d found in node_exporter" % (len(full), len(pairs))))
    checks.append(("interrupts type/device tags == node_exporter info/devices", not tag_bad, "; ".join(tag_bad[:5])))
    family_between("interrupts count per IRQ and CPU ~ node_interrupts_total", pairs, before, prom)
    soft = {}
    for m, t, f in lp:
        if m == "soft_interrupts" and "count" in f:
            soft[t["irq"]] = soft.get(t["irq"], 0) + f["count"]
    # node_exporter names the vectors in lower case, IRQ_POLL by its pre-4.6 name
    vec = {irq: {"IRQ_POLL": "block_iopoll"}.get(irq, irq.lower()) for irq in soft}
    spairs = [("softirq " + irq, total, (("node_softirqs_total",), {"vector": vec[irq]}))
              for irq, total in sorted(soft.items()) if first(prom, "node_softirqs_total", vector=vec[irq]) is not None]
    checks.append(("soft_interrupts: every vector in node_softirqs_total", soft and len(spairs) == len(soft),
                   "agent %s, compared %d" % (sorted(soft), len(spairs))))
    family_between("soft_interrupts sum over CPUs ~ node_softirqs_total", spairs, before, prom)


def conntrack_checks(lp, prom):
    """conntrack's table size and limit against node_nf_conntrack_entries(_limit), and the
    per-CPU counters against node_lnstat_*_total{subsystem="nf_conntrack"} (same file)."""
    limit = first(prom, "node_nf_conntrack_entries_limit")
    ours_max = lp_get(lp, "conntrack", "ip_conntrack_max")
    if limit is None and not os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max"):
        skip("conntrack", "no nf_conntrack module on this machine")
        checks.append(("conntrack: no ip_conntrack_* line without the module", ours_max is None,
                       "agent ip_conntrack_max=%r" % ours_max))
        return
    check("conntrack.ip_conntrack_max == node_nf_conntrack_entries_limit", ours_max, limit)
    # a gauge that moves with traffic: within the two scrapes' range, with slack
    vals = [x for x in (first(before, "node_nf_conntrack_entries") if before else None,
                        first(prom, "node_nf_conntrack_entries")) if x is not None]
    ours_count = lp_get(lp, "conntrack", "ip_conntrack_count")
    ok = ours_count is not None and vals and min(vals) - 64 <= ours_count <= max(vals) + 64
    checks.append(("conntrack.ip_conntrack_count ~ node_nf_conntrack_entries", bool(ok),
                   "agent=%r node_exporter=%r (slack 64)" % (ours_count, vals)))
    pairs = []
    for m, t, f in lp:
        if m != "conntrack" or not t.get("cpu", "").startswith("cpu"):
            continue
        cpu = t["cpu"][3:]
        for field, v in f.items():
            # node_exporter names the columns by the file's header: the new kernels'
            # clashres and chainlength are Telegraf's searched and delete_list
            name = {"searched": "clashres", "delete_list": "chainlength"}.get(field, field)
            sel = (("node_lnstat_%s_total" % name,), {"subsystem": "nf_conntrack", "cpu": cpu})
            if first(prom, *sel[0], **sel[1]) is None:
                sel = (("node_lnstat_%s_total" % field,), sel[1])
            # entries is the table size, a gauge: compare like the count
            if field != "entries":
                pairs.append(("%s cpu%s" % (field, cpu), v, sel))
    if not pairs:
        checks.append(("conntrack percpu counters", False, "agent emitted no cpu<n> line"))
        return
    family_between("conntrack percpu counters ~ node_lnstat_*_total{subsystem=nf_conntrack}", pairs, before, prom)


def main():
    global before
    lp = parse_lp(sys.argv[1])
    prom = parse_prom(sys.argv[2])
    before = parse_prom(sys.argv[3]) if len(sys.argv) > 3 else None
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
    # Counters read from one kernel number: between the two scrapes when there are two.
    def counter(what, ours, name, abs_tol, rel_tol, **labels):
        if before is not None:
            between(what, ours, first(before, name, **labels), first(prom, name, **labels))
        else:
            check(what, ours, first(prom, name, **labels), abs_tol=abs_tol, rel_tol=rel_tol)

    counter("kernel.context_switches ~ node_context_switches_total", lp_get(lp, "kernel", "context_switches"),
            "node_context_switches_total", 0, 0.02)
    check("kernel.processes_forked ~ node_forks_total", lp_get(lp, "kernel", "processes_forked"),
          first(prom, "node_forks_total"), abs_tol=200)
    net_checks(lp, prom, counter)
    diskio_checks(lp, prom, counter)
    filesystem_checks(lp, prom)
    if before is not None:
        interrupts_checks(lp, prom)
        conntrack_checks(lp, prom)
    else:
        skip("interrupts, conntrack", "they need the scrape taken before the agent's gather")
    bad = 0
    for what, ok, detail in checks:
        print("%s %s: %s" % ("ok  " if ok else "FAIL", what, detail))
        bad += not ok
    for what, reason in skips:
        print("skip %s: %s" % (what, reason))
    print("%d passed, %d failed, %d skipped" % (len(checks) - bad, bad, len(skips)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
