#!/usr/bin/env bash
# What parallel writes cost the agent: memory and CPU with max_in_flight 1
# against N, at a paced feed the output keeps up with, so the buffer stays
# small and the difference is the writers themselves (a connection, a gzip
# stream and buffer each). The feed goes to the influxdb_listener, the
# output (gzip, as by default) to a real influxd; every point is counted
# back.
#   AGENT=build-bench/agent bench/inflight_cost.sh [IN_FLIGHT="1 4"] [REQUESTS=60] [BATCH=5000] [RATE=10]
# Prints a markdown table: peak and final RSS, agent CPU seconds, points/s.
here=$(cd "$(dirname "$0")" && pwd)
export TESTLIB="$here/../tests/integration/lib.sh"
: "${AGENT:=$here/../build-bench/agent}"
export AGENT
source "$TESTLIB"
IN_FLIGHT=${1:-"1 4"}
REQUESTS=${2:-60}
BATCH=${3:-5000}
RATE=${4:-10}
N=$((REQUESTS * BATCH))
influx_start

cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / t }' "/proc/$1/stat"; }
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
written() { curl -sf "http://127.0.0.1:$HP/metrics" | awk '/^heliograph_metrics_written_total / {print $2}'; }

echo "| max_in_flight | points | feed | agent peak RSS kB | agent RSS at the end kB | agent CPU s | agent CPU s per 1M points |"
echo "|---|---|---|---|---|---|---|"
for k in $IN_FLIGHT; do
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE cost$k" >/dev/null
	LP=$(free_port) HP=$(free_port)
	cat >"$TMP/agent$k.yaml" <<CONF
agent: {interval: 10s, flush_interval: 1s, metric_batch_size: $BATCH, metric_buffer_limit: $((20 * BATCH)),
        omit_hostname: true, health_listen: "127.0.0.1:$HP"}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
outputs:
  - influxdb: {urls: ["$INFLUX_URL"], database: cost$k, max_in_flight: $k}
CONF
	agent_start "$TMP/agent$k.yaml"
	wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent did not start"
	c0=$(cpu_s "$AGENT_PID")
	python3 - "http://127.0.0.1:$LP" "$REQUESTS" "$BATCH" "$RATE" <<'PY' || fail "feed failed"
import http.client, sys, time, urllib.parse
url, nreq, batch, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
t0 = time.time()
for r in range(nreq):
    base = r * batch
    body = "".join(f"cost,host=node-{i % 100:03d},region=r{i % 7} value={i * 0.25},count={i}i,ok=true "
                   f"{1700000000000000000 + base + i}\n" for i in range(base, base + batch)).encode()
    c.request("POST", "/write", body)
    resp = c.getresponse()
    resp.read()
    assert resp.status == 204, resp.status
    wait = t0 + (r + 1) / rate - time.time()
    if wait > 0:
        time.sleep(wait)
PY
	WAIT_SECS=120 wait_for bash -c "[ \"\$(curl -sf http://127.0.0.1:$HP/metrics | awk '/^heliograph_metrics_written_total / {print \$2}')\" -ge $N ]" ||
		fail "max_in_flight $k: not everything written"
	c1=$(cpu_s "$AGENT_PID")
	peak=$(rss_kb "$AGENT_PID" VmHWM) now=$(rss_kb "$AGENT_PID" VmRSS)
	agent_stop || true
	n=$(influx_query "cost$k" 'SELECT count(value) FROM cost' | json_get 'd["results"][0]["series"][0]["values"][0][1]')
	[ "$n" = "$N" ] || fail "influxd holds $n points for max_in_flight $k, expected $N"
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	echo "| $k | $n | $REQUESTS x $BATCH at $RATE/s | $peak | $now | $cpu | $(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.2f", c / n * 1e6 }') |"
done
echo
echo "machine: $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); influxd $(influxd version 2>/dev/null | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
