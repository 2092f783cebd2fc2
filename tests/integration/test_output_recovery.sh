#!/usr/bin/env bash
# What a transient fault must not cost, the agent against the fault server:
# - a 413 storm (ten requests refused, then everything taken) leaves the
#   influxdb and opentelemetry outputs writing full batches again, with no
#   line lost (it used to leave one line per request for good, one line dropped);
# - SIGTERM during an outage (502 with a 10-minute Retry-After): the agent
#   tries again at once and keeps trying until shutdown_timeout, so lines
#   reach a server that recovers meanwhile; one that does not gets the exact
#   number of lines lost in the log.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
url="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
lp=$(free_port)

# N lines "recov,i=K v=Ki T" for K in 0..N-1, posted to the agent's listener.
post_lines() {
	python3 -c "import sys
n = int(sys.argv[1])
sys.stdout.write(''.join('recov,i=%d v=%di %d\n' % (k, k, 1700000000000000000 + k) for k in range(n)))" "$1" >"$TMP/lines.lp"
	curl -sf -XPOST "http://127.0.0.1:$lp/write?db=x" --data-binary @"$TMP/lines.lp" || fail "listener refused the lines"
}

# counts PATH -> "accepted points sum distinct after_last_refusal"
counts() {
	curl -sf "$url/_ctl/requests" >"$TMP/requests.json"
	python3 "$here/otlp_points.py" "$TMP/requests.json" "$1"
}

all_arrived() { # PATH N
	read -r _ points _ _ _ < <(counts "$1")
	[ "$points" -ge "$2" ]
}

storm() { # NAME PATH OUTPUT_YAML
	local name=$1 path=$2
	curl -sf -XPOST "$url/_ctl/reset" >/dev/null
	curl -sf -XPOST "$url/_ctl/script" -d "$(python3 -c "import json,sys; print(json.dumps([{'path': sys.argv[1], 'status': 413, 'body': 'request entity too large'}] * 10))" "$path")" >/dev/null
	cat >"$TMP/$name.yaml" <<CONF
agent: {interval: 1h, flush_interval: 1s, metric_batch_size: 1000, metric_buffer_limit: 10000, omit_hostname: true}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$lp"}
outputs:
  - $3
CONF
	: >"$TMP/agent.log"
	agent_start "$TMP/$name.yaml"
	wait_for curl -s -o /dev/null "http://127.0.0.1:$lp/ping" || fail "$name: listener did not start"
	post_lines 6000
	WAIT_SECS=60 wait_for all_arrived "$path" 6000 || fail "$name: not every line arrived: $(counts "$path")"
	agent_stop || fail "$name: agent exit status"
	read -r accepted points sum distinct after < <(counts "$path")
	[ "$points" = 6000 ] && [ "$distinct" = 6000 ] && [ "$sum" = 17997000 ] ||
		fail "$name: lines lost or written twice: $points points, $distinct distinct, sum $sum"
	# 1000, 500, ..., 3 lines refused, then one line refused once; after the
	# storm the batch doubles back from one line: 1+2+...+512 = 1023 lines in
	# 10 writes, the other 4977 in 5 batches (the bug took 5,999 requests).
	[ "$after" -le 17 ] || fail "$name: $after requests for 6000 lines after the 413 storm"
	refused=$(python3 -c "import json; print(sum(1 for r in json.load(open('$TMP/requests.json')) if r['answer'] == 413))")
	[ "$refused" = 10 ] || fail "$name: $refused requests refused, the script has 10"
	if grep -E "dropped|lost" "$TMP/agent.log"; then fail "$name: the agent dropped something"; fi
	grep -q "writing batches of 1000 again" "$TMP/agent.log" || fail "$name: growing back not logged"
	echo "$name: 413 x10 then 6000 lines in $after requests, none lost"
}

# One writer (opentelemetry has only one), so that the ten refusals take
# the batch down to one line.
storm influxdb /write "influxdb: {urls: [\"$url\"], database: x, skip_database_creation: true, max_in_flight: 1}"
storm opentelemetry /v1/metrics "opentelemetry: {url: \"$url/v1/metrics\"}"

# SIGTERM during an outage whose next retry is due long after
# shutdown_timeout: the agent tries at once and goes on trying.
outage() { # NAME SHUTDOWN_TIMEOUT
	curl -sf -XPOST "$url/_ctl/reset" >/dev/null
	curl -sf -XPOST "$url/_ctl/script" -d "$(python3 -c "import json; print(json.dumps([{'path': '/write', 'status': 502, 'headers': {'Retry-After': '600'}, 'body': 'bad gateway'}] * 1000))")" >/dev/null
	cat >"$TMP/$1.yaml" <<CONF
agent: {interval: 1h, flush_interval: 1s, metric_batch_size: 1000, metric_buffer_limit: 10000, omit_hostname: true, shutdown_timeout: $2}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$lp"}
outputs:
  - influxdb: {urls: ["$url"], database: x, skip_database_creation: true}
CONF
	: >"$TMP/agent.log"
	agent_start "$TMP/$1.yaml"
	wait_for curl -s -o /dev/null "http://127.0.0.1:$lp/ping" || fail "$1: listener did not start"
	post_lines 3000
	WAIT_SECS=30 wait_for grep -q "retrying in 600000 ms" "$TMP/agent.log" || fail "$1: no failed write before SIGTERM"
	before=$(curl -sf "$url/_ctl/requests" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
	kill -TERM "$AGENT_PID"
}

outage recovers 20s
# The try at SIGTERM comes at once, not after the 10 minutes asked for.
WAIT_SECS=5 wait_for bash -c "[ \$(curl -sf $url/_ctl/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -gt $before ]" ||
	fail "no write tried at SIGTERM"
curl -sf -XPOST "$url/_ctl/unscript" >/dev/null # the server is back
t0=$(date +%s)
wait "$AGENT_PID" || fail "agent exit status after SIGTERM"
read -r _ points sum distinct _ < <(counts /write)
[ "$points" = 3000 ] && [ "$distinct" = 3000 ] || fail "shutdown: $points of 3000 lines arrived ($distinct distinct)"
[ $(($(date +%s) - t0)) -le 10 ] || fail "shutdown took the whole shutdown_timeout though the server came back"
if grep -q "lost" "$TMP/agent.log"; then fail "shutdown: lines reported lost though all arrived"; fi
echo "shutdown: 3000 lines written after SIGTERM when the server recovered"

outage stays_down 3s
t0=$(date +%s)
wait "$AGENT_PID" || fail "agent exit status after SIGTERM"
[ $(($(date +%s) - t0)) -le 8 ] || fail "shutdown took longer than shutdown_timeout allows"
grep -q "3000 metrics lost: they could not be written before shutdown" "$TMP/agent.log" ||
	fail "the lines lost at shutdown are not stated exactly"
tries=$(curl -sf "$url/_ctl/requests" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
[ "$tries" -ge $((before + 3)) ] || fail "only $((tries - before)) tries in the 3 s of shutdown_timeout"
echo "shutdown: 3000 lines lost and logged as such when the server stayed down ($((tries - before)) tries)"
echo "output recovery: passed"
