#!/usr/bin/env bash
# Parallel writes (max_in_flight) end to end, with the fault server deciding
# the order of the answers by events (held answers, released by the test):
#  1. answers out of order and one batch of several failing: every line is
#     accepted exactly once, the failed batch is retried after the output's
#     one backoff, counted as one failure;
#  2. kill -9 with several batches in flight and a disk buffer, the fault
#     server passing writes on to a real influxd: after a restart writing
#     straight to influxd, influxd holds every point once (what the crash
#     left unacknowledged is written again; InfluxDB absorbs the repeats);
#  3. SIGTERM with several batches in flight: the agent waits for them and
#     writes the rest within shutdown_timeout.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
fs="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
ctl() { curl -sf -XPOST "$fs/_ctl/$1" -d "${2:-}" >/dev/null; }

# lines FROM TO: line protocol, one point per line, distinct timestamps.
lines() {
	# (the timestamp as text: mawk's %d stops at 2^31)
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i < b; i++) printf "inflight,src=t value=%di 1700000000000000%03d\n", i, i }'
}

# config NAME URL EXTRA: listener in, one influxdb output with 4 writers.
config() {
	LP=$(free_port) HP=$(free_port)
	cat >"$TMP/$1.yaml" <<CONF
agent: {interval: 10s, flush_interval: 1s, metric_batch_size: 10, omit_hostname: true,
        health_listen: "127.0.0.1:$HP", shutdown_timeout: ${SHUTDOWN:-10s}}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
outputs:
  - influxdb: {alias: main, urls: ["$2"], database: ${DB:-inflight}, skip_database_creation: true,
               content_encoding: identity, max_in_flight: 4${3:-}}
CONF
}

post() { # FROM TO
	lines "$1" "$2" >"$TMP/post.lp"
	curl -sf -XPOST "http://127.0.0.1:$LP/write" --data-binary @"$TMP/post.lp" || fail "listener refused the post"
}

requests() { curl -sf "$fs/_ctl/requests" >"$TMP/requests.json"; }

# writes_seen N [HELD]: the fault server has N /write requests, HELD of them held unanswered.
writes_seen() {
	requests
	python3 - "$TMP/requests.json" "$1" "${2:-}" <<'PY'
import json, sys
w = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write"]
held = [r for r in w if "answered" not in r]
sys.exit(0 if len(w) >= int(sys.argv[2]) and (not sys.argv[3] or len(held) == int(sys.argv[3])) else 1)
PY
}

# --- 1. out of order, one of several failing -------------------------------
ctl script '[{"path": "/write", "hold": "first", "status": 204},
             {"path": "/write", "status": 503, "body": "{\"error\":\"overloaded\"}"}]'
config ooo "$fs"
agent_start "$TMP/ooo.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent did not start"
post 0 100
# Four batches went out at once: the first is held, the second failed, the
# third and fourth were answered before the first.
wait_for writes_seen 4 1 || fail "four writes in flight, the first held, not seen"
WAIT_SECS=10 wait_for grep -q "HTTP 503" "$TMP/agent.log" || fail "the 503 was not logged"
ctl release '{"hold": "first"}'
accepted_all() {
	requests
	python3 - "$TMP/requests.json" <<'PY'
import json, sys
w = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write" and r.get("answer") == 204 and "answered" in r]
sys.exit(0 if sum(len([l for l in r["body"].split("\n") if l]) for r in w) >= 100 else 1)
PY
}
WAIT_SECS=30 wait_for accepted_all || fail "not every line was accepted"
agent_stop || fail "agent exit status after SIGTERM"
requests
lines 0 100 >"$TMP/sent.lp"
python3 - "$TMP/requests.json" "$TMP/sent.lp" <<'PY' || fail "out-of-order answers or the failed batch lost or duplicated lines"
import json, sys
w = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/write"]
sent = [l for l in open(sys.argv[2]).read().split("\n") if l]
body = lambda r: [l for l in r["body"].split("\n") if l]
assert len(w) == 11, "expected 10 batches and one retry, got %d writes" % len(w)
# (found by what they were answered: two requests arriving together may
# take the scripted answers in either order)
first = [r for r in w if r.get("held") == "first"][0]
failed = [r for r in w if r["answer"] == 503][0]
before = [r for r in w if r is not first and r["answered"] < first["answered"]]
assert len(before) >= 3, "the held answer did not come after the other three: not in flight together"
assert sum(1 for r in w if r["received"] < first["answered"]) >= 4, "fewer than four writes overlapped"
accepted = [l for r in w if r["answer"] == 204 for l in body(r)]
assert sorted(accepted) == sorted(sent), "accepted %d lines, %d distinct, of %d sent" % (
    len(accepted), len(set(accepted)), len(sent))
retry = [r for r in w if r is not failed and set(body(failed)) <= set(body(r))]
assert len(retry) == 1, "the failed batch was not retried whole, once"
# The output's one backoff: the retry no sooner than 1 s after the 503.
assert retry[0]["received"] >= failed["answered"] + 0.9, "retried %.2f s after the 503" % (
    retry[0]["received"] - failed["answered"])
print("out of order: %d writes, held answer last, 503 batch retried after %.1f s" % (
    len(w), retry[0]["received"] - failed["answered"]))
PY
n=$(grep -c "retrying in 1000 ms" "$TMP/agent.log" || true)
[ "$n" = 1 ] || fail "expected one failure logged with a 1 s backoff, got $n"

# --- 2. kill -9 with batches in flight and a disk buffer -----------------
influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE inflight" >/dev/null
ctl reset
# Two writes pass straight on to influxd; the next ones are held (and then
# also passed on, should they ever be released).
ctl script "[{\"path\": \"/write\", \"forward\": \"$INFLUX_URL\"}, {\"path\": \"/write\", \"forward\": \"$INFLUX_URL\"},
             $(python3 -c "print(','.join(['{\"path\": \"/write\", \"hold\": \"k9\", \"forward\": \"$INFLUX_URL\"}'] * 20))")]"
config k9 "$fs" ", buffer: {type: disk, path: \"$TMP/spool\"}"
: >"$TMP/agent.log"
agent_start "$TMP/k9.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent (spool) did not start"
post 0 100
wait_for writes_seen 4 2 || fail "two writes passed on and two held not seen"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
# count DB: points in measurement inflight of DB (0 when there is none).
count() { influx_query "$1" 'SELECT count(value) FROM inflight' | json_get 'd["results"][0].get("series", [{"values": [[0, 0]]}])[0]["values"][0][1]'; }
points() { [ "$(count "$1")" = "$2" ]; }
n=$(count inflight)
[ "$n" -gt 0 ] && [ "$n" -lt 100 ] || fail "before the restart influxd should hold part of the points, holds $n"
# Restart writing straight to influxd, same output alias: same spool.
config k9b "$INFLUX_URL" ", buffer: {type: disk, path: \"$TMP/spool\"}"
agent_start "$TMP/k9b.yaml"
WAIT_SECS=30 wait_for points inflight 100 || fail "after kill -9 and restart influxd does not hold the 100 points"
WAIT_SECS=10 wait_for grep -q "metrics from the disk buffer" "$TMP/agent.log" || fail "the restart did not replay the disk buffer"
agent_stop || fail "agent exit status after SIGTERM (spool)"
influx_query inflight 'SELECT value FROM inflight' >"$TMP/points.json"
python3 - "$TMP/points.json" <<'PY' || fail "influxd holds wrong points after kill -9"
import json, sys
vals = sorted(v[1] for v in json.load(open(sys.argv[1]))["results"][0]["series"][0]["values"])
assert vals == list(range(100)), "values %s..." % vals[:5]
print("kill -9: influxd holds each of the 100 points once")
PY

# --- 3. SIGTERM with batches in flight -----------------------------------
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE term" >/dev/null
ctl reset
ctl script "[$(python3 -c "print(','.join(['{\"path\": \"/write\", \"hold\": \"term\", \"forward\": \"$INFLUX_URL\"}'] * 4 + ['{\"path\": \"/write\", \"forward\": \"$INFLUX_URL\"}'] * 20))")]"
DB=term SHUTDOWN=15s config term "$fs"
: >"$TMP/agent.log"
agent_start "$TMP/term.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "agent (term) did not start"
post 0 100
wait_for writes_seen 4 4 || fail "four held writes not seen"
t0=$(date +%s)
kill -TERM "$AGENT_PID"
wait_for grep -q "received SIGTERM" "$TMP/agent.log" || fail "SIGTERM not logged"
ctl release '{"hold": "term"}'
rc=0
wait "$AGENT_PID" || rc=$?
[ "$rc" = 0 ] || fail "agent exit status $rc after SIGTERM with writes in flight"
[ $(($(date +%s) - t0)) -lt 15 ] || fail "the shutdown flush took longer than shutdown_timeout"
if grep -q "could not be written before shutdown\|shutdown timeout reached" "$TMP/agent.log"; then
	fail "metrics left unwritten at shutdown"
fi
points term 100 || fail "after SIGTERM influxd holds $(count term) points, not 100"
echo "output_inflight: passed"
