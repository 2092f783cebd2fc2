#!/usr/bin/env bash
# Listener -> InfluxDB relay throughput, beside influxd's own ingest limit
# measured in the same run by posting the same points straight to influxd,
# and the agent alone (listener -> file output to /dev/null).
#   AGENT=build-bench/agent bench/listener_relay.sh [POINTS=1000000] [BATCH=5000] [CONNS=4] [IN_FLIGHT="1 4"]
# The relay runs once per max_in_flight value in IN_FLIGHT, each into its
# own database, every point counted back. Prints a markdown table: points/s
# end to end, CPU seconds of the agent and of influxd, agent CPU per million
# points and points per agent CPU-second (points/s per core), and the
# agent's peak RSS per relay run.
here=$(cd "$(dirname "$0")" && pwd)
export TESTLIB="$here/../tests/integration/lib.sh"
: "${AGENT:=$here/../build-bench/agent}"
export AGENT
source "$TESTLIB"
N=${1:-1000000}
BATCH=${2:-5000}
CONNS=${3:-4}
IN_FLIGHT=${4:-"1 4"}
influx_start
for db in direct $(for k in $IN_FLIGHT; do echo "relay$k"; done); do
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $db" >/dev/null
done

run_agent() { # OUTPUT_YAML
	LP=$(free_port) HP=$(free_port)
	cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 10s
  flush_interval: 1s
  metric_batch_size: $BATCH
  metric_buffer_limit: $((N + BATCH))
  omit_hostname: true
  health_listen: "127.0.0.1:$HP"
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP", max_connections: $((CONNS + 4))}
outputs:
$1
CONF
	agent_start "$TMP/agent.yaml"
	wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent did not start"
	sleep 0.5
}

row() { # NAME JSON AGENT_PID|- INFLUX_PID|-
	python3 - "$@" <<'PY'
import json, sys
name, j, ap, ip = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
a = j["cpu_s"].get(ap) if ap != "-" else None
i = j["cpu_s"].get(ip) if ip != "-" else None
f = lambda v, fmt: (fmt % v) if v is not None else "—"
per_m = a / j["points"] * 1e6 if a else None
per_core = j["points"] / a if a else None
print(f"| {name} | {j['points']} | {j['seconds']:.2f} | {j['points_per_s']:,} | {f(a, '%.2f')} | {f(per_m, '%.2f')} | "
      f"{f(per_core, '%.0f')} | {f(i, '%.2f')} | {j['errors']} |")
PY
}

echo "| path | points | seconds | points/s end to end | agent CPU s | agent CPU s per 1M points | points per agent CPU-second | influxd CPU s | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
j=$(python3 "$here/listener_relay.py" "$INFLUX_URL/write?db=direct" "$N" "$BATCH" "$CONNS" --pids "$INFLUX_PID")
row "client -> influxd (its ingest limit)" "$j" - "$INFLUX_PID"

rss_notes=""
for k in $IN_FLIGHT; do
	run_agent "  - influxdb: {urls: [\"$INFLUX_URL\"], database: relay$k, content_encoding: identity, max_in_flight: $k}"
	j=$(python3 "$here/listener_relay.py" "http://127.0.0.1:$LP/write?db=relay$k" "$N" "$BATCH" "$CONNS" \
		--pids "$AGENT_PID,$INFLUX_PID" --written-url "http://127.0.0.1:$HP/metrics" --written-min "$N")
	row "client -> agent listener -> influxd, max_in_flight $k" "$j" "$AGENT_PID" "$INFLUX_PID"
	rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status")
	agent_stop || true
	n=$(influx_query "relay$k" 'SELECT count(value) FROM relay' | json_get 'd["results"][0]["series"][0]["values"][0][1]')
	[ "$n" = "$N" ] || fail "influxd holds $n points relayed with max_in_flight $k, expected $N"
	rss_notes="$rss_notes; max_in_flight $k: $n points queried back, agent peak RSS $rss kB"
done

run_agent "  - file: {files: [\"/dev/null\"]}"
j=$(python3 "$here/listener_relay.py" "http://127.0.0.1:$LP/write" "$N" "$BATCH" "$CONNS" \
	--pids "$AGENT_PID" --written-url "http://127.0.0.1:$HP/metrics" --written-min "$N")
row "client -> agent listener -> file (/dev/null)" "$j" "$AGENT_PID" -
agent_stop || true
echo
echo "relay runs (buffer limit $((N + BATCH)) metrics)${rss_notes}"
echo "machine: $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); influxd $(influxd version 2>/dev/null | head -1)"
