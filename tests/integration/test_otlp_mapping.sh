#!/usr/bin/env bash
# The opentelemetry output's metric types, end to end and decoded by an
# independent decoder: the agent (--once) scrapes real Prometheus text
# expositions (prometheus input, metric_version 1) and reads cpu, net and
# system counters from fixture /proc and /sys files; the requests it sends
# are decoded by protoc with the official opentelemetry-proto files
# (tests/fixtures/opentelemetry-proto), not by the agent's own subset.
# Asserted: influx2otel's names and types for every series of the files
# (Sum cumulative and monotonic for counters, Histogram bounds and
# per-bucket counts, count, sum, Summary quantiles, untyped as <name>_value),
# exact values; cpu time_*, net and system uptime as Sums, the gauges of the
# same inputs as Gauges.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
command -v protoc >/dev/null || fail "protoc not installed (Debian protobuf-compiler; .ci/deps.sh --test)"

python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
url="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"

prom_dir="$FIXTURES/prometheus-text"
pp=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$prom_dir" "$pp" >"$TMP/http.log" 2>&1 &
PIDS+=("$!")
files=(promtool-metrics-test.prom node_exporter-textfile/different_metric_types.prom
	expfmt-prometheus1x-server-text.prom textparse-alltypes-237mfs.prom)
wait_for curl -sf -o /dev/null "http://127.0.0.1:$pp/${files[0]}" || fail "fixture server did not start"

# The node's files: /proc/stat of node_exporter's fixtures, one interface.
mkdir -p "$TMP/proc/1/net" "$TMP/sys/class/net/eth0" "$TMP/var" "$TMP/run"
cp "$FIXTURES/proc/node_exporter/proc__stat" "$TMP/proc/stat"
cp "$FIXTURES/proc/procfs/proc__net__dev" "$TMP/proc/1/net/dev"
cp "$FIXTURES/proc/node_exporter/proc__loadavg" "$TMP/proc/loadavg"
cp "$FIXTURES/proc/procfs/proc__cpuinfo" "$TMP/proc/cpuinfo"
echo "3600.52 7000.00" >"$TMP/proc/uptime"
echo 0x1003 >"$TMP/sys/class/net/eth0/flags"
echo 1000 >"$TMP/sys/class/net/eth0/speed"

urls="" checks=()
for f in "${files[@]}"; do
	urls+="\"http://127.0.0.1:$pp/$f\", "
	checks+=("http://127.0.0.1:$pp/$f=$prom_dir/$f")
done
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 10s, omit_hostname: true, metric_batch_size: 1000}
inputs:
  - prometheus: {urls: [${urls%, }], format: text}
  - cpu: {percpu: false, totalcpu: true, collect_cpu_time: true}
  - net: {interfaces: [eth0]}
  - system: {}
outputs:
  - opentelemetry: {url: "$url/v1/metrics", compression: none}
CONF
HOST_PROC="$TMP/proc" HOST_SYS="$TMP/sys" HOST_VAR="$TMP/var" HOST_RUN="$TMP/run" \
	timeout 60 "$AGENT" --config "$TMP/agent.yaml" --once >>"$TMP/agent.log" 2>&1 || fail "agent --once failed"
if grep -E "type conflict|not sent|dropped" "$TMP/agent.log"; then fail "the agent left points out"; fi
curl -sf "$url/_ctl/requests" >"$TMP/requests.json"

python3 "$here/otlp_mapping_check.py" "$TMP/requests.json" "$FIXTURES/opentelemetry-proto" "${checks[@]}" ||
	fail "OTLP requests differ from the prometheus-v1 mapping of the expositions"

# The node inputs: name -> type, temporality, monotonic, [[attrs, values]].
node() { json_get "$1" <"$TMP/requests.json.node.json"; }
cumulative_sum() { # NAME
	[ "$(node "d['$1']['type'], d['$1']['temporality'], d['$1']['monotonic']")" = \
		"sum AGGREGATION_TEMPORALITY_CUMULATIVE True" ] || fail "$1 is not a cumulative monotonic Sum: $(node "d.get('$1')")"
}
for n in cpu_time_user cpu_time_system cpu_time_idle cpu_time_steal net_bytes_recv net_bytes_sent net_packets_recv \
	net_packets_sent net_err_in net_drop_out net_speed system_uptime; do
	cumulative_sum "$n"
done
for n in system_load1 system_load15 system_n_cpus; do
	[ "$(node "d['$n']['type']")" = gauge ] || fail "$n is not a Gauge: $(node "d.get('$n')")"
done
# /proc/stat "cpu  301854 612 111922 8979004 ...": ticks / USER_HZ (100)
[ "$(node "d['cpu_time_system']['points']")" = "[[{'cpu': 'cpu-total'}, [1119.22]]]" ] ||
	fail "cpu_time_system: $(node "d['cpu_time_system']['points']")"
[ "$(node "d['cpu_time_idle']['points']")" = "[[{'cpu': 'cpu-total'}, [89790.04]]]" ] ||
	fail "cpu_time_idle: $(node "d['cpu_time_idle']['points']")"
# net/dev "eth0: 874354587 1036395 ... 563352563 732147"
[ "$(node "d['net_bytes_recv']['points'], d['net_packets_sent']['points'], d['net_speed']['points']")" = \
	"[[{'interface': 'eth0'}, [874354587]]] [[{'interface': 'eth0'}, [732147]]] [[{'interface': 'eth0'}, [1000]]]" ] ||
	fail "net values: $(node "d['net_bytes_recv'], d['net_packets_sent'], d['net_speed']")"
[ "$(node "d['system_uptime']['points']")" = "[[{}, [3600]]]" ] || fail "system_uptime: $(node "d['system_uptime']")"
# No name keeps a v1 field name, no input counter is a gauge.
[ "$(node "sorted(k for k in d if k.startswith('cpu_time_') and d[k]['type'] != 'sum')")" = "[]" ] ||
	fail "cpu time fields as gauges"
echo "node counters: cpu time_*, net, system uptime as cumulative monotonic Sums with exact values"
