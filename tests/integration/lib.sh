# Shared helpers for integration tests: free ports, a real influxd on
# 127.0.0.1 in a temp dir, the agent started with a generated config, and
# cleanup of everything a test started.
set -euo pipefail

TMP=$(mktemp -d /tmp/hg-test.XXXXXX)
PIDS=()

cleanup() {
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]:-}"; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
	done
	exit 1
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until "$@" succeeds, at most $WAIT_SECS (default 20) seconds.
wait_for() {
	local deadline=$(($(date +%s) + ${WAIT_SECS:-20}))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# Starts influxd with its data under $TMP/influxdb; sets INFLUX_PORT and
# INFLUX_URL. Call again after influx_stop to restart it on the same port.
influx_start() {
	command -v influxd >/dev/null || fail "influxd not installed (apt-get install influxdb)"
	: "${INFLUX_PORT:=$(free_port)}"
	: "${INFLUX_RPC_PORT:=$(free_port)}"
	INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"
	mkdir -p "$TMP/influxdb"
	"$(dirname "${BASH_SOURCE[0]}")/../../scripts/influxd-conf.sh" "$TMP/influxdb" "$INFLUX_PORT" "$INFLUX_RPC_PORT" >"$TMP/influxdb.conf"
	influxd -config "$TMP/influxdb.conf" >>"$TMP/influxd.log" 2>&1 &
	INFLUX_PID=$!
	PIDS+=("$INFLUX_PID")
	wait_for curl -sf "$INFLUX_URL/ping" || fail "influxd did not start"
}

influx_stop() {
	kill "$INFLUX_PID" 2>/dev/null || true
	wait "$INFLUX_PID" 2>/dev/null || true
}

# influx_query DB "InfluxQL" -> JSON on stdout (epoch=ns).
influx_query() {
	curl -sf -G "$INFLUX_URL/query" --data-urlencode "db=$1" --data-urlencode "epoch=ns" --data-urlencode "q=$2"
}

# Runs python3 with a JSON document on stdin and an expression over it
# named d; prints the result. Keeps assertions on query results readable.
json_get() {
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# agent_start CONFIG [args...]: runs the agent in the background; AGENT_PID.
agent_start() {
	local cfg=$1
	shift
	"$AGENT" --config "$cfg" "$@" >>"$TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
}

agent_stop() {
	kill -TERM "$AGENT_PID"
	local rc=0
	wait "$AGENT_PID" || rc=$?
	return $rc
}
