#!/usr/bin/env bash
# InfluxDB stopped for 30 s and started again: the agent keeps what it
# gathered meanwhile and writes it all, with the original timestamps.
# Then SIGTERM with a full buffer (flush interval of an hour) loses nothing.
source "$TESTLIB"
influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE hg_outage' >/dev/null

cat >"$TMP/outage.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: outage-host}
inputs:
  - cpu: {percpu: false}
  - mem: {}
outputs:
  - file: {files: ["$TMP/outage.lp"]}
  - influxdb: {urls: ["$INFLUX_URL"], database: hg_outage, timeout: 2s}
CONF
agent_start "$TMP/outage.yaml"
sleep 3
influx_stop
sleep 30
influx_start
# The backoff is capped at 30 s: within 40 s everything must be written.
deadline=$(($(date +%s) + 40))
while :; do
	sleep 2
	n=$(grep -c . "$TMP/outage.lp")
	if python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/outage.lp" "$INFLUX_URL" hg_outage >/dev/null 2>&1; then
		break
	fi
	[ "$(date +%s)" -lt "$deadline" ] || {
		python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/outage.lp" "$INFLUX_URL" hg_outage || true
		fail "points gathered during the outage were not all written after InfluxDB came back"
	}
done
agent_stop || fail "agent exit status after SIGTERM"
n=$(grep -c . "$TMP/outage.lp")
python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/outage.lp" "$INFLUX_URL" hg_outage --expect-count "$n" ||
	fail "points lost over the outage"
grep -q "write of .* failed" "$TMP/agent.log" || fail "the outage was not logged as failed writes"
[ "$n" -gt 60 ] || fail "expected over 60 points across the outage, got $n"

# SIGTERM with everything still buffered: the final flush writes it all.
cat >"$TMP/term.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1h, metric_batch_size: 100000, metric_buffer_limit: 100000, hostname: term-host}
inputs:
  - cpu: {percpu: true}
  - mem: {}
outputs:
  - file: {files: ["$TMP/term.lp"], metric_batch_size: 1}
  - influxdb: {urls: ["$INFLUX_URL"], database: hg_outage}
CONF
agent_start "$TMP/term.yaml"
sleep 3
[ "$(influx_query hg_outage "SELECT count(*) FROM mem WHERE host='term-host'" | json_get "len(d['results'][0].get('series',[]))")" = 0 ] ||
	fail "points were written before the flush interval; the test would prove nothing"
agent_stop || fail "agent exit status after SIGTERM with a full buffer"
n=$(grep -c . "$TMP/term.lp")
python3 "$(dirname "$TESTLIB")/lpcompare.py" "$TMP/term.lp" "$INFLUX_URL" hg_outage --expect-count "$n" ||
	fail "SIGTERM lost buffered points"
echo "outage: $n points kept over shutdown; outage test passed"
