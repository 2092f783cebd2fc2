#!/usr/bin/env bash
# Parallel writes against a server whose answer takes a fixed time and
# almost no CPU (the fault server answering every write after DELAY s): the
# time to drain a buffer of BATCHES batches with max_in_flight 1 against N.
# Unlike the relay to influxd this does not depend on how much CPU the
# server gets, so it shows the effect of the writers on a loaded machine;
# and, every writer having been busy, what they cost: the agent's peak RSS
# and its RSS once all is written (gzip, as by default: a deflate state and
# output buffer per writer).
#   AGENT=build-bench/agent bench/inflight_latency.sh [IN_FLIGHT="1 4"] [BATCHES=40] [BATCH=1000] [DELAY=0.1]
here=$(cd "$(dirname "$0")" && pwd)
export TESTLIB="$here/../tests/integration/lib.sh"
: "${AGENT:=$here/../build-bench/agent}"
export AGENT
source "$TESTLIB"
IN_FLIGHT=${1:-"1 4"}
BATCHES=${2:-40}
BATCH=${3:-1000}
DELAY=${4:-0.1}
N=$((BATCHES * BATCH))
python3 "$here/../tests/servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
fs="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "lat,host=h%d value=%di 1700000000000%06d\n", i % 50, i, i }' >"$TMP/feed.lp"

echo "| max_in_flight | points | batches | answer delay s | seconds to write all | points/s | writes seen | agent peak RSS kB | agent RSS at the end kB |"
echo "|---|---|---|---|---|---|---|---|---|"
for k in $IN_FLIGHT; do
	curl -sf -XPOST "$fs/_ctl/reset" >/dev/null
	curl -sf -XPOST "$fs/_ctl/script" -d "$(python3 -c "import json; print(json.dumps([{'path': '/write', 'status': 204, 'delay': $DELAY}] * ($BATCHES * 2)))")" >/dev/null
	LP=$(free_port) HP=$(free_port)
	cat >"$TMP/agent$k.yaml" <<CONF
agent: {interval: 10s, flush_interval: 1h, metric_batch_size: $BATCH, metric_buffer_limit: $((N + BATCH)),
        omit_hostname: true, health_listen: "127.0.0.1:$HP"}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
outputs:
  - influxdb: {urls: ["$fs"], database: lat, skip_database_creation: true, max_in_flight: $k}
CONF
	agent_start "$TMP/agent$k.yaml"
	wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent did not start"
	t0=$(date +%s.%N)
	curl -sf -XPOST "http://127.0.0.1:$LP/write" --data-binary @"$TMP/feed.lp" || fail "post failed"
	written() { [ "$(curl -sf "http://127.0.0.1:$HP/metrics" | awk '/^heliograph_metrics_written_total / {print $2}')" -ge "$N" ]; }
	WAIT_SECS=300 wait_for written || fail "max_in_flight $k: not everything written"
	t1=$(date +%s.%N)
	peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status") now=$(awk '/^VmRSS:/ {print $2}' "/proc/$AGENT_PID/status")
	agent_stop || true
	seen=$(curl -sf "$fs/_ctl/requests" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r['path'] == '/write'))")
	awk -v k="$k" -v n="$N" -v b="$BATCHES" -v d="$DELAY" -v a="$t0" -v z="$t1" -v s="$seen" -v p="$peak" -v r="$now" \
		'BEGIN { printf "| %s | %d | %d | %s | %.2f | %.0f | %s | %s | %s |\n", k, n, b, d, z - a, n / (z - a), s, p, r }'
done
echo
echo "(seconds include up to 0.2 s of polling /metrics) machine: $(nproc) CPU, load $(cut -d' ' -f1-3 /proc/loadavg)"
