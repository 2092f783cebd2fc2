#!/usr/bin/env bash
# The agent against a real Prometheus (Debian's prometheus and promtool):
# - /metrics passes `promtool check metrics`, with aliases holding a double
#   quote, a backslash and a newline escaped as the text format wants, and
#   two unaliased instances of one plugin told apart by an instance label;
#   Prometheus scrapes it (up 1) and keeps one series per instance;
# - prometheus_remote_write: two points of one series posted newest first
#   in one request both reach Prometheus (the request is ordered by time).
source "$TESTLIB"
PROM=$(command -v prometheus || true)
[ -n "$PROM" ] && command -v promtool >/dev/null || fail "prometheus not installed (apt-get install prometheus)"
PP=$(free_port)
HP=$(free_port)
LP=$(free_port)
P="http://127.0.0.1:$PP"

cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: prom-host
  health_listen: "127.0.0.1:$HP"
inputs:
  - mem: {}
  - mem: {}
  - mem: {alias: "quote\"back\\\\slash"}
  - mem: {alias: "new\nline"}
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
outputs:
  - prometheus_remote_write: {url: "$P/api/v1/write", namepass: ["ooo"]}
  - file: {files: ["$TMP/a.lp"]}
  - file: {files: ["$TMP/b.lp"]}
CONF
cat >"$TMP/prometheus.yml" <<CONF
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: agent
    static_configs: [{targets: ["127.0.0.1:$HP"]}]
CONF
"$PROM" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" --web.listen-address="127.0.0.1:$PP" \
	--web.enable-remote-write-receiver --log.level=warn >>"$TMP/prometheus.log" 2>&1 &
PIDS+=("$!")
agent_start "$TMP/agent.yaml"
WAIT_SECS=60 wait_for curl -sf "$P/-/ready" || fail "prometheus did not start"
wait_for curl -sf "http://127.0.0.1:$HP/metrics" || fail "health endpoint did not start"

# The exposition: exact escaped labels, then promtool's verdict.
curl -sf "http://127.0.0.1:$HP/metrics" >"$TMP/metrics" || fail "GET /metrics failed"
for want in 'heliograph_gather_duration_seconds{input="inputs.mem",instance="1"} ' \
	'heliograph_gather_duration_seconds{input="inputs.mem",instance="2"} ' \
	'heliograph_gather_duration_seconds{input="inputs.mem::quote\"back\\slash"} ' \
	'heliograph_gather_duration_seconds{input="inputs.mem::new\nline"} ' \
	'heliograph_gather_duration_seconds{input="inputs.influxdb_listener"} ' \
	'heliograph_output_buffer_size{output="outputs.file",instance="1"} ' \
	'heliograph_output_buffer_size{output="outputs.file",instance="2"} ' \
	'heliograph_output_write_errors_total{output="outputs.prometheus_remote_write"} '; do
	grep -qF "$want" "$TMP/metrics" || fail "/metrics lacks $want: $(grep -F "${want%%\{*}" "$TMP/metrics")"
done
promtool check metrics <"$TMP/metrics" >"$TMP/promtool.log" 2>&1 || fail "promtool check metrics: $(cat "$TMP/promtool.log")"

# Prometheus takes the scrape and keeps every instance's series.
pq() { curl -sf -G "$P/api/v1/query" --data-urlencode "query=$1" | json_get "$2"; }
scraped() { [ "$(pq "$1" '[r["value"][1] for r in d["data"]["result"]]')" = "['$2']" ]; }
wait_for scraped 'up{job="agent"}' 1 || fail "prometheus could not scrape /metrics: $(pq up 'd')"
wait_for scraped 'count(heliograph_gather_duration_seconds)' 5 ||
	fail "series of inputs in Prometheus: $(pq heliograph_gather_duration_seconds 'd["data"]["result"]')"
scraped 'count(heliograph_output_buffer_size)' 3 || fail "series of outputs in Prometheus: $(pq heliograph_output_buffer_size 'd')"

# Remote write: newest first in one listener request, so in one batch.
now=$(date +%s)
t1=$(((now - 20) * 1000000000))
t2=$(((now - 10) * 1000000000))
printf 'ooo,src=x v=2 %s\nooo,src=x v=1 %s\n' "$t2" "$t1" >"$TMP/ooo.lp"
got=$(curl -s -o "$TMP/body" -w '%{http_code}' -XPOST "http://127.0.0.1:$LP/write" --data-binary "@$TMP/ooo.lp") || true
[ "$got" = 204 ] || fail "listener answered $got: $(cat "$TMP/body")"
samples() { pq 'ooo_v{src="x"}[10m]' '[[int(t), v] for r in d["data"]["result"] for t, v in r["values"]]'; }
want="[[$((now - 20)), '1'], [$((now - 10)), '2']]"
have_all() { [ "$(samples)" = "$want" ]; }
WAIT_SECS=30 wait_for have_all || fail "Prometheus holds $(samples), expected $want"
if grep -qi 'out of order' "$TMP/prometheus.log"; then fail "Prometheus logged out-of-order samples"; fi

agent_stop || fail "agent exited non-zero after SIGTERM"
echo "prometheus: /metrics escaped and unique (promtool clean, 5+3 series scraped), remote write in time order"
