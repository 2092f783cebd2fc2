#!/usr/bin/env bash
# buffer: {type: disk} against a dead InfluxDB: the influxdb_listener is fed
# 200k lines (~80 MB). Memory stays flat (the second 100k lines add nothing
# to RSS; the peak is far under what was fed) while the spool fills the
# disk up to max_size + one segment, the oldest records going first and
# counted in internal_write.metrics_dropped. When InfluxDB comes up, what is
# written is the newest lines fed (and the batch that was in flight), each
# once, in order (one writer, max_in_flight: 1: parallel writers may land
# batches out of order; test_output_inflight.sh covers them with a spool),
# and added = written + dropped. Then a kill -9 while the batch in flight
# exists only in memory (max_size took its segment): the next start counts
# it as dropped.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
MAX=4194304 # max_size 4 MiB: segments of max_size/16 = 256 KiB
SEG=$((MAX / 16))
BATCH=1000
IPORT=$(free_port) # nothing listens here until the end
LP=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, metric_batch_size: $BATCH, omit_hostname: true}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
  - internal: {}
outputs:
  - influxdb:
      urls: ["http://127.0.0.1:$IPORT"]
      database: bound
      skip_database_creation: true
      timeout: 2s
      max_in_flight: 1
      namedrop: ["internal*"]
      buffer: {type: disk, path: "$TMP/spool", max_size: $MAX}
  - file: {files: ["$TMP/internal.lp"], namepass: ["internal_write"]}
CONF
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "listener did not start"
rss_kb() { awk "/^$1:/ {print \$2}" "/proc/$AGENT_PID/status"; }

# feed FIRST_REQUEST N: N requests of $BATCH lines (~400 bytes each), with
# increasing timestamps so the order of what survives can be checked.
feed() {
	python3 - "http://127.0.0.1:$LP" "$1" "$2" "$BATCH" <<'PY' || fail "feeding failed"
import http.client, sys, urllib.parse
url, first, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
fields = ",".join(f"field_{i:02d}={i}.123456789" for i in range(20))
for r in range(first, first + n):
    ts = 1700000000000000000 + r * batch
    body = "".join(f"bound,pod=pod-{i % 50:03d} {fields} {ts + i}\n" for i in range(batch)).encode()
    c.request("POST", "/write?db=x", body)
    resp = c.getresponse()
    resp.read()
    assert resp.status == 204, resp.status
PY
}
sleep 1
base=$(rss_kb VmRSS)
t0=$(date +%s)
feed 0 100
sleep 1.5
rss1=$(rss_kb VmRSS)
feed 100 100
sleep 2.5 # the last gather and two internal gathers
rss2=$(rss_kb VmRSS)
peak=$(rss_kb VmHWM)
spool=$(du -sb "$TMP/spool" | cut -f1)
echo "fed 200000 lines in $(($(date +%s) - t0)) s; RSS $base kB at start, $rss1 kB after 100k, $rss2 kB after 200k, peak $peak kB; spool $spool bytes (max_size $MAX)"
# Flat: the second 100k lines (40 MB) may not grow RSS by more than 4 MiB,
# and the peak stays within 32 MiB of the start whatever was fed.
[ $((rss2 - rss1)) -le 4096 ] || fail "RSS grew by $((rss2 - rss1)) kB over the second 100k lines"
[ $((peak - base)) -le 32768 ] || fail "peak RSS $peak kB is more than 32 MiB over the start ($base kB)"
[ "$spool" -le $((MAX + SEG)) ] || fail "spool $spool bytes over max_size + one segment ($((MAX + SEG)))"
[ "$spool" -ge $((MAX / 2)) ] || fail "spool only $spool bytes: the disk buffer was not used"

last=$(grep '^internal_write,' "$TMP/internal.lp" | grep 'output=influxdb' | tail -1)
get() { sed -n "s/.*[ ,]$1=\([0-9]*\)i.*/\1/p" <<<"$last"; }
added=$(get metrics_added) dropped=$(get metrics_dropped)
echo "internal_write while down: added=$added dropped=$dropped"
[ "$added" -eq 200000 ] || fail "metrics_added $added, fed 200000"
[ "$dropped" -ge 150000 ] || fail "metrics_dropped $dropped: the spool cannot hold most of 80 MB in 4 MiB"

# InfluxDB comes up: the spool drains, newest lines only, each once.
python3 "$here/../servers/http_fault_server.py" "$IPORT" >"$TMP/fault.port" 2>"$TMP/fault-server.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
written_all() {
	local l
	l=$(grep '^internal_write,' "$TMP/internal.lp" | grep 'output=influxdb' | tail -1)
	[ "$(sed -n 's/.*[ ,]buffer_size=\([0-9]*\)i.*/\1/p' <<<"$l")" = 0 ] &&
		[ "$(sed -n 's/.*[ ,]metrics_written=\([0-9]*\)i.*/\1/p' <<<"$l")" -gt 0 ]
}
WAIT_SECS=40 wait_for written_all || fail "the spool did not drain once InfluxDB was up"
last=$(grep '^internal_write,' "$TMP/internal.lp" | grep 'output=influxdb' | tail -1)
written=$(get metrics_written) dropped=$(get metrics_dropped)
agent_stop || fail "agent exit status after SIGTERM"
curl -sf "http://127.0.0.1:$IPORT/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$written" "$dropped" <<'PY' || fail "what the spool kept is not the newest lines, once each"
import json, sys
written, dropped = int(sys.argv[2]), int(sys.argv[3])
ts = [int(l.rsplit(" ", 1)[1]) for r in json.load(open(sys.argv[1])) if r["path"] == "/write"
      for l in r["body"].split("\n") if l]
seq = [t - 1700000000000000000 for t in ts]
assert len(seq) == len(set(seq)), "%d line(s) written twice" % (len(seq) - len(set(seq)))
assert seq == sorted(seq), "lines written out of order"
assert seq[-1] == 199999, "the newest line fed was not written (last %d)" % seq[-1]
runs = []
for s in seq:
    if runs and s == runs[-1][1] + 1:
        runs[-1][1] = s
    else:
        runs.append([s, s])
print("runs written:", runs)
# The newest lines, in one run; before them at most the batch that was in
# flight when InfluxDB went away (held in memory, so written, not dropped).
assert runs[-1][1] == 199999, "the newest line fed was not written"
assert len(runs) <= 2, "more than the in-flight batch survived besides the newest lines: %s" % runs
assert len(runs) == 1 or runs[0][1] - runs[0][0] + 1 <= 1000, "the older run is more than one batch"
assert len(seq) == written, "server got %d lines, internal_write says %d written" % (len(seq), written)
assert written + dropped == 200000, "written %d + dropped %d != 200000 fed" % (written, dropped)
print("after recovery: the newest %d lines written in order, the oldest %d dropped" % (written, dropped))
PY

# kill -9 while the batch in flight is held in memory only (max_size removed
# its segment): the next start counts its lines as dropped, so added =
# written + dropped still holds across the crash.
IPORT2=$(free_port) # dead
sed -e "s|127.0.0.1:$IPORT|127.0.0.1:$IPORT2|" -e "s|$TMP/spool|$TMP/spool2|" -e "s|max_size: $MAX|max_size: 1048576|" \
	-e "s|$TMP/internal.lp|$TMP/internal2.lp|" "$TMP/agent.yaml" >"$TMP/agent2.yaml"
agent_start "$TMP/agent2.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "listener did not start (second agent)"
feed 200 20 # 8 MB through a 1 MiB spool: the first record, in flight (retried) from the first full batch, loses its segment
held=$(find "$TMP/spool2" -name held)
[ -n "$held" ] || fail "no held marker while the batch in flight has lost its segment"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
before=$(wc -l <"$TMP/internal2.lp")
agent_start "$TMP/agent2.yaml"
wait_for grep -q "$BATCH lines of a batch in flight, whose segment max_size had removed, were lost" "$TMP/agent.log" ||
	fail "the batch lost at the kill -9 was not reported at the next start"
restarted_dropped() {
	tail -n +"$((before + 1))" "$TMP/internal2.lp" | grep '^internal_write,' | grep 'output=influxdb' | tail -1 |
		sed -n 's/.*[ ,]metrics_dropped=\([0-9]*\)i.*/\1/p'
}
counted() { [ "$(restarted_dropped)" = "$BATCH" ]; }
wait_for counted || fail "after the kill -9, internal_write.metrics_dropped is '$(restarted_dropped)', not the $BATCH lines lost"
[ ! -e "$held" ] || fail "the held marker is still there after it was counted"
agent_stop || fail "agent exit status (restarted after kill -9)"
echo "disk buffer bound: passed"
