#!/usr/bin/env bash
# buffer: {type: disk}: the agent is killed with SIGKILL while InfluxDB is
# down; restarted, it writes everything it had gathered, with the original
# timestamps, from the spool. A second output with a memory buffer in the
# same run shows what the spool saved.
source "$TESTLIB"
influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE hg_spool' >/dev/null
cat >"$TMP/spool.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: spool-host}
inputs:
  - cpu: {percpu: false}
  - mem: {}
outputs:
  - file: {files: ["$TMP/spool.lp"], metric_batch_size: 1}
  - influxdb:
      urls: ["$INFLUX_URL"]
      database: hg_spool
      timeout: 2s
      skip_database_creation: true
      buffer: {type: disk, path: "$TMP/spool", max_size: 16MiB}
CONF
agent_start "$TMP/spool.yaml"
sleep 3
influx_stop
sleep 5
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
ls "$TMP/spool"/* >/dev/null 2>&1 || fail "no spool directory was written"
gathered=$(grep -c . "$TMP/spool.lp")
cp "$TMP/spool.lp" "$TMP/before-kill.lp"
influx_start
agent_start "$TMP/spool.yaml"
WAIT_SECS=30 wait_for python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/before-kill.lp" "$INFLUX_URL" hg_spool ||
	{ python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/before-kill.lp" "$INFLUX_URL" hg_spool; fail "points gathered before kill -9 were lost"; }
grep -q "from the disk buffer .* will be written first" "$TMP/agent.log" || fail "restart did not report the spooled metrics"
agent_stop || fail "agent exit status after SIGTERM"
n=$(grep -c . "$TMP/spool.lp")
python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/spool.lp" "$INFLUX_URL" hg_spool --expect-count "$n" || fail "final comparison"

# SIGTERM while InfluxDB is down: the disk buffer keeps everything, so the
# agent stops at once instead of retrying until shutdown_timeout, and the
# next start writes it all.
influx_stop
: >"$TMP/agent.log"
agent_start "$TMP/spool.yaml"
WAIT_SECS=15 wait_for grep -q "write of .* failed" "$TMP/agent.log" || fail "no failed write while InfluxDB is down"
sleep 2
cp "$TMP/spool.lp" "$TMP/before-term.lp"
t0=$(date +%s)
agent_stop || fail "agent exit status after SIGTERM with InfluxDB down"
[ $(($(date +%s) - t0)) -le 5 ] || fail "SIGTERM waited for a failing output although its disk buffer keeps the data"
grep -q "stay in the disk buffer for the next start" "$TMP/agent.log" || fail "the kept metrics were not reported"
influx_start
agent_start "$TMP/spool.yaml"
WAIT_SECS=30 wait_for python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/before-term.lp" "$INFLUX_URL" hg_spool ||
	fail "points kept in the disk buffer at SIGTERM were not written after the restart"
agent_stop || fail "agent exit status"
echo "disk buffer: $gathered points gathered before kill -9, all $n written; SIGTERM during an outage kept its points"
