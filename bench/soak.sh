#!/usr/bin/env bash
# Soak run (not in CI): the agent at a 1 s interval with every node input,
# internal and an influxdb_listener fed at a modest rate, writing to a real
# influxd, for DURATION seconds; RSS sampled every 10 s. Prints whether RSS
# is flat: the mean of the first 10% of samples (after a 60 s warm-up)
# against the last 10%.
#
#   AGENT=build-asan/agent bench/soak.sh 3600            # an ASan build: ASan/LSan report at exit
#   AGENT=build/agent bench/soak.sh 3600 --valgrind      # a plain build under valgrind memcheck
#
# LINES_PER_S (default 500) sets the listener feed. Exit status 1 when RSS
# grew, the agent reported a sanitizer or valgrind error, or the points fed
# to the listener did not all reach influxd.
set -euo pipefail
DURATION=${1:?usage: soak.sh DURATION_SECONDS [--valgrind]}
MODE=${2:-}
AGENT=${AGENT:-$(dirname "$0")/../build/agent}
LINES_PER_S=${LINES_PER_S:-500}
WARMUP=60
T=$(mktemp -d /tmp/hg-soak.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IP=$(port) RP=$(port) LP=$(port)
"$(dirname "$0")/../scripts/influxd-conf.sh" "$T/influxdb" "$IP" "$RP" >"$T/influxdb.conf"
influxd -config "$T/influxdb.conf" >"$T/influxd.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$IP/ping" && break; sleep 0.2; done
cat >"$T/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, metric_batch_size: 1000, metric_buffer_limit: 10000}
inputs:
  - cpu: {percpu: true, totalcpu: true}
  - mem: {}
  - swap: {}
  - system: {}
  - kernel: {}
  - processes: {}
  - disk: {}
  - diskio: {}
  - kernel_vmstat: {}
  - linux_sysctl_fs: {}
  - net: {}
  - netstat: {}
  - nstat: {}
  - internal: {}
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
outputs:
  - influxdb: {urls: ["http://127.0.0.1:$IP"], database: soak}
CONF
# A small ASan quarantine so RSS measures what the agent holds, not what
# ASan keeps from reuse; leak detection stays on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
if [ "$MODE" = --valgrind ]; then
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file="$T/valgrind.log" \
		"$AGENT" --config "$T/agent.yaml" >"$T/agent.log" 2>&1 &
else
	"$AGENT" --config "$T/agent.yaml" >"$T/agent.log" 2>&1 &
fi
APID=$!
PIDS+=("$APID")
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$LP/ping" >/dev/null && break; sleep 0.2; done

# The feed: LINES_PER_S lines once a second, each with its own timestamp.
python3 - "$LP" "$LINES_PER_S" "$DURATION" >"$T/feed.out" 2>&1 <<'PY' &
import http.client, sys, time
port, n, dur = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
t0, k, sent = time.time(), 0, 0
while time.time() - t0 < dur - 5:
    body = "".join(f"soak,app=a{i % 20} value={k * n + i}i,text=\"x\" {1700000000000000000 + k * n + i}\n" for i in range(n))
    c.request("POST", "/write", body.encode())
    r = c.getresponse(); r.read()
    if r.status == 204:
        sent += n
    k += 1
    time.sleep(max(0, t0 + k - time.time()))
print(sent)
PY
FEED=$!
PIDS+=("$FEED")

: >"$T/rss"
start=$(date +%s)
while [ $(($(date +%s) - start)) -lt "$DURATION" ]; do
	sleep 10
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$APID/status" 2>/dev/null) || { echo "agent died" >&2; tail "$T/agent.log" >&2; exit 1; }
	echo "$(($(date +%s) - start)) $rss" >>"$T/rss"
done
wait "$FEED"
fed=$(cat "$T/feed.out")
sleep 3
kill -TERM "$APID"
rc=0
wait "$APID" || rc=$?
stored=$(curl -sf -G "http://127.0.0.1:$IP/query" --data-urlencode db=soak --data-urlencode 'q=SELECT count(value) FROM soak' |
	python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["results"][0].get("series"); print(s[0]["values"][0][1] if s else 0)')
gathers=$(curl -sf -G "http://127.0.0.1:$IP/query" --data-urlencode db=soak --data-urlencode 'q=SELECT count(usage_idle) FROM cpu WHERE cpu = '"'"'cpu-total'"'" |
	python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["results"][0].get("series"); print(s[0]["values"][0][1] if s else 0)')

flat=0
python3 - "$T/rss" "$WARMUP" <<'PY' | tee "$T/verdict" || flat=1
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
warm = [r for t, r in s if t > int(sys.argv[2])] or [r for _, r in s]
k = max(1, len(warm) // 10)
first, last = sum(warm[:k]) / k, sum(warm[-k:]) / k
grow = last - first
# Flat: the last 10% within 1 MiB or 2% of the first 10%.
flat = grow <= max(1024, first * 0.02)
print("samples %d (every 10 s, %d after warm-up); RSS min %d max %d kB; first 10%% mean %.0f kB, last 10%% mean %.0f kB, growth %+.0f kB: %s"
      % (len(s), len(warm), min(warm), max(warm), first, last, grow, "FLAT" if flat else "GROWING"))
sys.exit(0 if flat else 1)
PY
echo "agent exit status $rc; listener lines fed $fed, in influxd $stored; cpu-total points $gathers in ${DURATION}s"
bad=0
[ "$rc" = 0 ] || bad=1
[ "$fed" = "$stored" ] || bad=1
if grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$T/agent.log"; then echo "sanitizer report in the agent log:"; grep -m5 "ERROR\|runtime error" "$T/agent.log"; bad=1; fi
if [ "$MODE" = --valgrind ]; then grep "ERROR SUMMARY\|definitely lost" "$T/valgrind.log" || true; fi
echo "error lines in the agent log: $(grep -c "E!" "$T/agent.log" || true)"
exit $((bad || flat))
