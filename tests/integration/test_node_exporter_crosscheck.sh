#!/usr/bin/env bash
# The agent and a real node_exporter read the same kernel in one run: their
# values agree (constants exactly, gauges and counters within the
# tolerances stated in node_crosscheck.py). node_exporter is scraped just
# before and just after the agent's gather, so a counter of the agent must lie
# between the two scrapes.
source "$TESTLIB"
NE=$(command -v prometheus-node-exporter || true)
[ -n "$NE" ] || fail "prometheus-node-exporter not installed (apt-get install prometheus-node-exporter)"
port=$(free_port)
# node_exporter's defaults: its filesystem collector leaves out these file-system types (its
# --collector.filesystem.fs-types-exclude) and mount points under /dev, /proc, /run, /sys,
# /mnt, /media; diskstats leaves out partitions, loop and ram devices; netdev keeps every
# interface. Logged so that a change of default shows in the log.
# interrupts and lnstat (the conntrack counters per CPU) are off by default; the stat
# collector's softirq vectors too.
"$NE" --web.listen-address="127.0.0.1:$port" --collector.interrupts --collector.lnstat --collector.stat.softirq >"$TMP/node_exporter.log" 2>&1 &
PIDS+=("$!")
wait_for curl -sf "http://127.0.0.1:$port/metrics" || fail "node_exporter did not start"
# The disk input with node_exporter's fs-type excludes instead of Telegraf's (which drop tmpfs
# and overlay, so a container whose / is overlay would have no file system in common).
ne_ignore_fs="[autofs, binfmt_misc, bpf, cgroup, cgroup2, configfs, debugfs, devpts, devtmpfs, fusectl, hugetlbfs, iso9660, mqueue, nsfs, overlay, proc, procfs, pstore, rpc_pipefs, securityfs, selinuxfs, squashfs, sysfs, tracefs]"
cat >"$TMP/node.yaml" <<YAML
agent: {omit_hostname: true}
inputs:
  - cpu: {percpu: false, totalcpu: true, collect_cpu_time: true}
  - mem: {}
  - swap: {}
  - system: {}
  - kernel: {}
  - net: {}
  - diskio: {}
  - disk: {ignore_fs: $ne_ignore_fs}
  - interrupts: {cpu_as_tag: true}
  - conntrack: {collect: [percpu]}
YAML
curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/ne-before.txt" || fail "scrape node_exporter"
"$AGENT" --config "$TMP/node.yaml" --test >"$TMP/agent.lp" 2>"$TMP/agent.log" || fail "agent --test"
curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/ne.txt" || fail "scrape node_exporter"
python3 "$(dirname "$TESTLIB")/node_crosscheck.py" "$TMP/agent.lp" "$TMP/ne.txt" "$TMP/ne-before.txt" ||
	fail "agent and node_exporter disagree"
