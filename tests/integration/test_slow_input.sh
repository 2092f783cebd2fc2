#!/usr/bin/env bash
# A slow input never delays another: a prometheus scrape that takes 2.5 s
# at a 1 s interval skips its ticks (counted as gather_timeouts), while mem,
# on the same loop, still gathers every second.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
port=$(awk '{print $2}' "$TMP/fault.port")
body='# TYPE slow_metric gauge\nslow_metric 1\n'
curl -sf -XPOST "http://127.0.0.1:$port/_ctl/script" -d "$(python3 -c "
import json; print(json.dumps([{'path': '/metrics', 'status': 200, 'delay': 2.5, 'content_type': 'text/plain; version=0.0.4', 'body': '$body'.replace('\\\\n', '\n')}] * 20))")" >/dev/null
cat >"$TMP/slow.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, round_interval: false, omit_hostname: true}
inputs:
  - prometheus: {urls: ["http://127.0.0.1:$port/metrics"], response_timeout: 5s}
  - mem: {}
  - internal: {collect_process: false}
outputs:
  - file: {files: ["$TMP/slow.lp"]}
CONF
agent_start "$TMP/slow.yaml"
sleep 6.5
agent_stop || fail "agent exit status"
mem=$(grep -c '^mem ' "$TMP/slow.lp")
slow=$(grep -c '^slow_metric' "$TMP/slow.lp" || true)
[ "$mem" -ge 6 ] || fail "mem gathered $mem times in 6.5 s next to a slow input; expected at least 6"
[ "$slow" -ge 1 ] && [ "$slow" -le 3 ] || fail "the slow input completed $slow scrapes; expected 1 to 3"
timeouts=$(grep '^internal_gather,input=prometheus' "$TMP/slow.lp" | tail -1 | sed 's/.*gather_timeouts=\([0-9]*\)i.*/\1/')
[ "${timeouts:-0}" -ge 2 ] || fail "skipped ticks of the slow input not counted (gather_timeouts=$timeouts)"
echo "slow input: mem $mem gathers, slow input $slow scrapes, $timeouts ticks skipped"
