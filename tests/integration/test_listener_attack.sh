#!/usr/bin/env bash
# The listener attacked as issue 16's review did it, each attack a bounded
# loop on loopback that stops by itself (tests/integration/listener_attack.py):
#  1. 16 connections POST 30 MiB bodies with a wrong token: each gets 401 as
#     soon as its head is in, the bodies are not buffered (peak RSS grows by
#     less than 4 MiB; it grew by 491 MiB when bodies were read first).
#  2. max_body_memory bounds bodies across connections: of 8 heads
#     declaring 2 MiB each, 4 fit the 8 MiB and wait for their bodies (204),
#     the other 4 are answered 503 with Retry-After at once; then the budget
#     is free again.
#  3. 16 connections send gzip bombs (64 KiB inflating to 64 MiB) while
#     /healthz is probed 30 times: every probe answers, the slowest within
#     1.5 s even on a loaded machine (inflation runs in slices between the
#     loop's other work; in one go, probes timed out at 5 s).
#  4. 16 connections trickle request heads: writes on new connections are
#     still answered at once (the trickling ones are shed or time out).
#  5. 16 authenticated connections trickle bodies (a byte every 100 ms)
#     into every slot: writes on new connections are still answered at once,
#     the slowest body shed for each (it held its slot for the whole body
#     deadline before).
source "$TESTLIB"
here=$(dirname "$TESTLIB")
LP=$(free_port)
HP=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, omit_hostname: true, health_listen: "127.0.0.1:$HP"}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP", token: secret, report_stats: true}
outputs:
  - file: {files: ["$TMP/out.lp"]}
CONF
# A small ASan quarantine, so freed memory is reused as it would be without
# the sanitizer and RSS measures what the agent holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/ping" || fail "listener did not start"
wait_for curl -sf "http://127.0.0.1:$HP/healthz" || fail "health did not start"
rss_kb() { awk "/^$1:/ {print \$2}" "/proc/$AGENT_PID/status"; }
attack() { python3 "$here/listener_attack.py" "$@" >"$TMP/attack.json" 2>"$TMP/attack.log" || fail "attack $1: $(cat "$TMP/attack.log")"; cat "$TMP/attack.json"; }
check() { python3 -c "import json,sys; d=json.load(open('$TMP/attack.json')); assert $1, d" || fail "$2"; }

# 1. wrong credentials, 16 x 30 MiB
base=$(rss_kb VmHWM)
attack wrongpass "$LP" 16 30
peak=$(rss_kb VmHWM)
echo "wrongpass: peak RSS $base -> $peak kB"
check 'len(d) == 16 and all(r["status"] == 401 for r in d)' "not every wrong-token POST got 401"
check 'all(r["after"] is not None and r["after"] < 2 for r in d)' "401 not answered from the head"
check 'all(r["sent"] < 30 << 20 for r in d)' "a whole 30 MiB body was taken before the 401"
check 'all(r["ended"] is not None and r["ended"] < 5 for r in d)' "connections not ended after the 401"
[ $((peak - base)) -lt 4096 ] || fail "RSS grew by $((peak - base)) kB under wrong-token bodies"

# 2. the shared body budget
attack budget "$LP" 8 2
check 'd["admitted"] == [204] * 4' "admitted bodies"
check 'd["refused"] == [503] * 4 and d["retry_after"] == ["1"] * 4' "refused bodies: 503 + Retry-After"
check 'd["again"] == 204' "budget not given back"

# 3. gzip bombs against /healthz
attack gzipbomb "$LP" "$HP" 16 30
check 'd["probes"] == 30 and d["failed"] == 0' "/healthz failed under gzip bombs"
check 'd["max"] < 1.5' "/healthz delayed by gzip bombs"
check 'set(d["statuses"]) <= {"413", "503", "0"} and sum(d["statuses"].get(k, 0) for k in ("413", "503")) > 0' \
	"a bomb was taken"

# 4. trickled heads
attack slowheads "$LP" 16 3
check 'len(d["writes"]) >= 3 and d["writes"] == [204] * len(d["writes"])' "writes shut out by slow heads"
check 'd["worst"] < 1.5' "writes delayed by slow heads"

# 5. trickled bodies
attack slowbodies "$LP" 16 4
check 'len(d["writes"]) >= 3 and d["writes"] == [204] * len(d["writes"])' "writes shut out by slow bodies"
check 'd["worst"] < 1.5' "writes delayed by slow bodies"
check 'd["shed"] >= len(d["writes"]) // 2' "slow bodies not shed for the writes"

# The listener's counters: 16 wrong tokens, 4 bodies refused, the peak of
# bodies held within max_body_memory (8 MiB).
wait_for grep -q 'auth_failures=16i' "$TMP/out.lp" || fail "no report_stats line with the 16 wrong tokens"
stats=$(grep '^internal_influxdb_listener.*auth_failures=16i' "$TMP/out.lp" | tail -1)
echo "$stats"
field() { sed -n "s/.*[ ,]$1=\([0-9]*\)i.*/\1/p" <<<"$stats"; }
[ "$(field auth_failures)" -eq 16 ] || fail "auth_failures $(field auth_failures)"
[ "$(field bodies_refused)" -ge 4 ] || fail "bodies_refused $(field bodies_refused)"
[ "$(field body_bytes_peak)" -le $((8 << 20)) ] || fail "body_bytes_peak $(field body_bytes_peak) over 8 MiB"
[ "$(field body_bytes_peak)" -ge $((8 << 20)) ] || fail "body_bytes_peak $(field body_bytes_peak): the budget never filled"
agent_stop || fail "agent exit status after SIGTERM"
echo "listener_attack: passed"
