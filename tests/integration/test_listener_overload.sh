#!/usr/bin/env bash
# Overload: the listener is fed about 10x what its output can write (an
# influxdb output with 4 writers against a test server that takes 2 s per
# batch of 1000). Memory must stay within a bound derived from metric_buffer_limit,
# and every line must be accounted for: added = written + dropped + still
# buffered (internal_write), with the drops also in /metrics.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
LIMIT=5000
BATCH=1000
REQUESTS=200 # of $BATCH lines each, at 20 requests/s: 20000 lines/s for 10 s
RATE=20

python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
FPORT=$(awk '/PORT/ {print $2}' "$TMP/fault.port")
F="http://127.0.0.1:$FPORT"
python3 - "$F" <<'PY' || fail "could not script the fault server"
import json, sys, urllib.request
script = [{"path": "/write", "status": 204, "delay": 2.0} for _ in range(400)]
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_ctl/script", json.dumps(script).encode(), method="POST"))
PY

LP=$(free_port)
HP=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  metric_batch_size: $BATCH
  metric_buffer_limit: $LIMIT
  omit_hostname: true
  health_listen: "127.0.0.1:$HP"
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP", max_connections: 4}
  - internal: {}
outputs:
  - influxdb: {urls: ["$F"], database: slow, namedrop: ["internal*"], timeout: 30s, max_in_flight: 4}
  - file: {files: ["$TMP/internal.lp"], namepass: ["internal_write"]}
CONF
# A small ASan quarantine, so freed memory is reused as it would be without
# the sanitizer and RSS measures what the agent holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "listener did not start"
sleep 1
rss_kb() { awk "/^$1:/ {print \$2}" "/proc/$AGENT_PID/status"; }
base=$(rss_kb VmRSS)

# Lines of about 400 bytes; sent sequentially on one connection at a fixed pace.
python3 - "http://127.0.0.1:$LP" "$REQUESTS" "$BATCH" "$RATE" >"$TMP/feed.out" <<'PY' || fail "feeding failed: $(cat "$TMP/feed.out")"
import http.client, sys, time, urllib.parse
url, nreq, batch, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
fields = ",".join(f"field_{i:02d}={i}.123456789" for i in range(20))
t0, sent, nbytes = time.time(), 0, 0
for r in range(nreq):
    ts = 1700000000000000000 + r * batch
    body = "".join(f"overload,pod=pod-{i % 50:03d},namespace=default {fields} {ts + i}\n" for i in range(batch)).encode()
    c.request("POST", "/write?db=x", body)
    resp = c.getresponse()
    resp.read()
    if resp.status != 204:
        print("status", resp.status)
        sys.exit(1)
    sent += batch
    nbytes += len(body)
    wait = t0 + (r + 1) / rate - time.time()
    if wait > 0:
        time.sleep(wait)
print(sent, nbytes, len(body) // batch, f"{time.time() - t0:.1f}")
PY
read -r sent nbytes line_bytes secs <"$TMP/feed.out"
[ "$sent" -eq $((REQUESTS * BATCH)) ] || fail "sent $sent"
sleep 2.5 # two internal gathers after the feed
peak=$(rss_kb VmHWM)
metrics=$(curl -sf "http://127.0.0.1:$HP/metrics") || fail "/metrics"
agent_stop || true

# The bound: the buffer full twice over (the buffer and the batches in
# flight, which stay within the limit plus one batch), one request body per connection in use, and 16 MiB for the
# allocator's slack. Unbounded, the feed alone would be $nbytes bytes.
bound=$((base + 2 * LIMIT * line_bytes / 1024 + 4 * 512 + 16 * 1024))
echo "fed $sent lines ($((nbytes / 1048576)) MiB) in ${secs}s; RSS $base kB at start, peak $peak kB, bound $bound kB"
[ "$peak" -le "$bound" ] || fail "peak RSS $peak kB over the bound $bound kB"
[ $((nbytes / 1024)) -gt $((bound - base)) ] || fail "the feed is too small to test the bound"

# The last internal_write of the slow output: every line accounted for.
last=$(grep '^internal_write,' "$TMP/internal.lp" | grep 'output=influxdb' | tail -1)
[ -n "$last" ] || fail "no internal_write for the influxdb output"
field() { sed -n "s/.*[ ,]$1=\([0-9]*\)i.*/\1/p" <<<"$last"; }
added=$(field metrics_added) written=$(field metrics_written) dropped=$(field metrics_dropped) buffered=$(field buffer_size)
echo "internal_write: added=$added written=$written dropped=$dropped buffered=$buffered"
[ "$added" -eq "$sent" ] || fail "metrics_added $added, sent $sent"
[ "$dropped" -gt $((sent / 2)) ] || fail "metrics_dropped $dropped: expected most of the 10x feed dropped"
[ $((written + dropped + buffered)) -eq "$added" ] || fail "written+dropped+buffered != added"
# buffer_size counts the batches in flight: at most the limit plus one batch.
[ "$buffered" -le $((LIMIT + BATCH)) ] || fail "buffer_size $buffered over the limit $LIMIT plus a batch"
mdrop=$(awk '/^heliograph_metrics_dropped_total / {print $2}' <<<"$metrics")
[ "${mdrop:-0}" -ge "$dropped" ] || fail "/metrics dropped ${mdrop:-none} < internal_write's $dropped"
echo "listener overload: memory bounded, drops counted"
