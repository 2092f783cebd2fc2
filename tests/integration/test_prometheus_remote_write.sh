#!/usr/bin/env bash
# The agent writes to a real VictoriaMetrics through prometheus_remote_write
# (also copying every point to a file output in the same run); every numeric
# field is queried back by series name, labels, value and millisecond
# timestamp. VictoriaMetrics starts only after the agent has been failing to
# reach it for a while: the retried batches must all arrive.
source "$TESTLIB"
VM=$(command -v victoria-metrics || command -v victoriametrics || true)
[ -n "$VM" ] || fail "victoria-metrics not installed (apt-get install victoria-metrics)"
VM_PORT=$(free_port)
VM_URL="http://127.0.0.1:$VM_PORT"

vm_start() {
	# latencyOffset=0: samples are searchable as soon as they are flushed.
	"$VM" -storageDataPath="$TMP/vm" -httpListenAddr="127.0.0.1:$VM_PORT" -search.latencyOffset=0 \
		-loggerLevel=ERROR >>"$TMP/vm.log" 2>&1 &
	VM_PID=$!
	PIDS+=("$VM_PID")
	wait_for curl -sf "$VM_URL/health" || fail "victoria-metrics did not start"
}

cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: test-host
global_tags: {env: "ci"}
inputs:
  - internal: {}
  - cpu: {percpu: true, totalcpu: true}
  - mem: {}
outputs:
  - file: {files: ["$TMP/out.lp"]}
  - prometheus_remote_write:
      url: "$VM_URL/api/v1/write"
      timeout: 2s
CONF
agent_start "$TMP/agent.yaml"
sleep 2.5 # writes fail: nothing listens yet
vm_start
sleep 3
agent_stop || fail "agent exited non-zero after SIGTERM"
grep -q 'connection\|Couldn' "$TMP/agent.log" || fail "expected failed writes while VictoriaMetrics was down"
[ -s "$TMP/out.lp" ] || fail "no points written to the file output"
# Accepted samples become searchable only after VictoriaMetrics flushes its
# in-memory parts (about a second): ask it to flush, and wait a bounded time.
vm_has_all() {
	curl -sf "$VM_URL/internal/force_flush" >/dev/null &&
		python3 "$(dirname "$TESTLIB")/prw_compare.py" "$TMP/out.lp" "$VM_URL" >"$TMP/compare.txt" 2>&1
}
WAIT_SECS=15 wait_for vm_has_all ||
	fail "samples in VictoriaMetrics differ from the agent's output: $(cat "$TMP/compare.txt")"
# A few series by their exact mapped names and labels.
for q in 'cpu_usage_idle{cpu="cpu-total",host="test-host",env="ci"}' 'mem_used_percent{host="test-host"}' \
	'internal_agent_gather_errors'; do
	n=$(curl -sf "$VM_URL/api/v1/export" --data-urlencode "match[]=$q" | grep -c . || true)
	[ "$n" -ge 1 ] || fail "series $q missing"
done
echo "prometheus_remote_write: $(cat "$TMP/compare.txt") in VictoriaMetrics, retried across its outage"
