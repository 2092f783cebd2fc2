#!/usr/bin/env bash
# buffer: {type: disk}: a backlog goes out back to back. While writes fail,
# each input's gather becomes a record of its own; once InfluxDB takes
# writes again, the records follow one another at once, not one per flush
# (at one per flush, with each flush adding one, a backlog never shrank).
# Here 2 inputs gathering every second spool at least 10 records; with a
# 20 s flush interval, one record per flush would take over 3 minutes, back
# to back they are written within a few seconds of the first flush.
source "$TESTLIB"
influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE hg_backlog' >/dev/null
influx_stop
# The first agent flushes every second, so its writes fail from the start
# and every gather is spooled as it ends; the second flushes every 20 s.
config() { # config FLUSH_INTERVAL
	cat <<CONF
agent: {interval: 1s, flush_interval: $1, hostname: backlog-host}
inputs:
  - cpu: {percpu: false}
  - mem: {}
outputs:
  - file: {files: ["$TMP/gathered.lp"], flush_interval: 1s}
  - influxdb:
      urls: ["$INFLUX_URL"]
      database: hg_backlog
      timeout: 2s
      skip_database_creation: true
      buffer: {type: disk, path: "$TMP/spool", max_size: 16MiB}
CONF
}
config 1s >"$TMP/failing.yaml"
config 20s >"$TMP/backlog.yaml"
agent_start "$TMP/failing.yaml"
WAIT_SECS=20 wait_for grep -q 'write of .* failed' "$TMP/agent.log" || fail "no failed write while InfluxDB is down"
# mem's lines are one per gather: 6 gathers after the failure are at least
# 10 records (cpu's and mem's).
mem_lines_ge() { [ "$(grep -c '^mem,' "$TMP/gathered.lp" 2>/dev/null)" -ge "$1" ]; }
m0=$(grep -c '^mem,' "$TMP/gathered.lp" 2>/dev/null || true)
WAIT_SECS=30 wait_for mem_lines_ge $((m0 + 6)) || fail "no 6 gathers after the failure"
# SIGTERM keeps the spool for the next start.
agent_stop || fail "agent exit status after SIGTERM"
grep -q "stay in the disk buffer for the next start" "$TMP/agent.log" || fail "the spool was not kept"
# What the backlog holds (the next agent's gathers go to the same file).
cp "$TMP/gathered.lp" "$TMP/spooled.lp"
n=$(grep -c . "$TMP/spooled.lp")
influx_start
: >"$TMP/agent.log"
t0=$(date +%s)
agent_start "$TMP/backlog.yaml"
WAIT_SECS=20 wait_for grep -q 'metrics from the disk buffer .* will be written first' "$TMP/agent.log" ||
	fail "the spool was not resumed"
# The first flush is 20 s after the start; the backlog must be out well
# before a second one.
WAIT_SECS=35 wait_for python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/spooled.lp" "$INFLUX_URL" hg_backlog ||
	{ python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/spooled.lp" "$INFLUX_URL" hg_backlog; fail "the backlog was not written back to back"; }
t1=$(date +%s)
agent_stop || fail "agent exit status"
echo "disk buffer backlog: $n lines spooled, all in InfluxDB $((t1 - t0)) s after the restart (first flush at 20 s)"
