#!/usr/bin/env bash
# One gather bigger than metric_buffer_limit (kube_inventory on a cluster of
# thousands of pods) is not dropped: the output's buffer grows to hold two
# gathers of its largest input. A prometheus scrape of 500 series with
# metric_buffer_limit 100 while InfluxDB is down: once it is back, all 500
# are written, none dropped, and the raise is logged and reported by
# internal_write's buffer_limit.
source "$TESTLIB"
influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE hg_fit' >/dev/null
influx_stop

mkdir -p "$TMP/www"
python3 -c '
for i in range(500):
    print("fit_series{i=\"%d\"} %d" % (i, i))' >"$TMP/www/metrics"
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$TMP/www" >"$TMP/http.log" 2>&1 &
PIDS+=("$!")
wait_for curl -sf "http://127.0.0.1:$port/metrics" || fail "metrics server did not start"

cat >"$TMP/fit.yaml" <<CONF
agent: {interval: 1h, flush_interval: 1s, round_interval: false, hostname: fit-host,
        metric_batch_size: 50, metric_buffer_limit: 100}
inputs:
  - prometheus: {urls: ["http://127.0.0.1:$port/metrics"]}
  - internal: {collect_process: false, interval: 1s}
outputs:
  - influxdb: {urls: ["$INFLUX_URL"], database: hg_fit, timeout: 2s, skip_database_creation: true,
               namepass: ["fit_series"]}
  - file: {files: ["$TMP/internal.lp"], namepass: ["internal_write"]}
CONF
agent_start "$TMP/fit.yaml"
wait_for grep -q "buffer limit raised to 1000 metrics (metric_buffer_limit 100): two gathers of inputs.prometheus, 500 metrics each" "$TMP/agent.log" ||
	fail "the raise of the buffer limit was not logged"
grep -q "outputs.file. buffer limit raised" "$TMP/agent.log" && fail "the file output, which takes none of the scrape, was raised"
wait_for grep -q "write of 50 metrics failed, 500 buffered" "$TMP/agent.log" ||
	fail "the buffer does not hold the whole gather while InfluxDB is down"
influx_start
wait_for grep -q '^internal_write,.*output=influxdb,.* buffer_limit=1000i,' "$TMP/internal.lp" ||
	fail "internal_write does not report the raised buffer_limit"
count() {
	influx_query hg_fit "SELECT count(value) FROM fit_series" | json_get "d['results'][0]['series'][0]['values'][0][1]"
}
all_written() { [ "$(count)" = 500 ]; }
WAIT_SECS=90 wait_for all_written || fail "$(count) of 500 points of one gather written after the outage"
# Everything is written: nothing was dropped on the way.
wait_for grep -q '^internal_write,.*output=influxdb,.*,metrics_dropped=0i,.*,metrics_written=500i,' "$TMP/internal.lp" ||
	fail "internal_write: $(grep 'output=influxdb' "$TMP/internal.lp" | tail -1)"
agent_stop || fail "agent exit status"
