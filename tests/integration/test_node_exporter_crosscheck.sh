#!/usr/bin/env bash
# The agent and a real node_exporter read the same kernel in one run: their
# values agree (constants exactly, gauges and counters within the
# tolerances stated in node_crosscheck.py).
source "$TESTLIB"
NE=$(command -v prometheus-node-exporter || true)
[ -n "$NE" ] || fail "prometheus-node-exporter not installed (apt-get install prometheus-node-exporter)"
port=$(free_port)
"$NE" --web.listen-address="127.0.0.1:$port" >"$TMP/node_exporter.log" 2>&1 &
PIDS+=("$!")
wait_for curl -sf "http://127.0.0.1:$port/metrics" || fail "node_exporter did not start"
inputs="  - cpu: {percpu: false, totalcpu: true, collect_cpu_time: true}
  - mem: {}
  - swap: {}
  - system: {}
  - kernel: {}"
for extra in net disk; do
	[ -d "$(dirname "$TESTLIB")/../../plugins/inputs/$extra" ] && inputs="$inputs
  - $extra: {}"
done
printf 'agent: {omit_hostname: true}\ninputs:\n%s\n' "$inputs" >"$TMP/node.yaml"
"$AGENT" --config "$TMP/node.yaml" --test >"$TMP/agent.lp" 2>"$TMP/agent.log" || fail "agent --test"
curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/ne.txt" || fail "scrape node_exporter"
python3 "$(dirname "$TESTLIB")/node_crosscheck.py" "$TMP/agent.lp" "$TMP/ne.txt" || fail "agent and node_exporter disagree"
