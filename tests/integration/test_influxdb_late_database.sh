#!/usr/bin/env bash
# The influxdb output against a real influxd whose database is missing, then appears:
# - skip_database_creation (someone else creates it, e.g. agentctl deploy-event): while
#   it is missing, the write is retried every flush interval, not with the exponential
#   backoff, so once it appears the metrics land within about one flush interval
#   (before: after 5 failures the next retry was 16 s away);
# - the database dropped while the agent runs: the output creates it and sends the same
#   batch again at once; the runner never sees a failure, so there is no backoff.
source "$TESTLIB"
influx_start
FLUSH_S=1
now() { date +%s.%N; }
elapsed_ok() { # t0 t1 bound_s
	python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print('%.2f' % d); sys.exit(0 if d <= float(sys.argv[3]) else 1)" "$@"
}
count_in() { # db: number of mem points (fails while there are none or the db is missing)
	local n
	n=$(influx_query "$1" 'SELECT count(used) FROM mem' | json_get 'd["results"][0]["series"][0]["values"][0][1]') || return 1
	[ "$n" -gt "${2:-0}" ]
}
create_db() { curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $1" >/dev/null; }
drop_db() { curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=DROP DATABASE $1" >/dev/null; }

cat >"$TMP/late.yaml" <<CONF
agent: {interval: 1s, flush_interval: ${FLUSH_S}s, hostname: late-host, debug: true}
inputs:
  - mem: {}
outputs:
  - influxdb:
      urls: ["$INFLUX_URL"]
      database: hg_late
      skip_database_creation: true
  - influxdb:
      alias: recreate
      urls: ["$INFLUX_URL"]
      database: hg_drop
CONF
agent_start "$TMP/late.yaml"
fails() { [ "$(grep -c 'database "hg_late" not found and skip_database_creation is set' "$TMP/agent.log")" -ge "$1" ]; }
WAIT_SECS=30 wait_for fails 5 || fail "fewer than 5 failed writes to the missing hg_late"
# Each retry is due within the flush interval.
awk '/hg_late/ && /retrying in/ { for (i = 1; i <= NF; i++) if ($i == "in" && $(i+2) == "ms:" && $(i+1) > '"$((FLUSH_S * 1000))"') bad = 1 }
	END { exit bad }' "$TMP/agent.log" || fail "a retry was scheduled beyond the flush interval: $(grep 'retrying in' "$TMP/agent.log" | tail -3)"
t0=$(now)
create_db hg_late || fail "CREATE DATABASE hg_late"
WAIT_SECS=30 wait_for count_in hg_late || fail "nothing written to hg_late after it was created"
t1=$(now)
took=$(elapsed_ok "$t0" "$t1" $((3 * FLUSH_S + 2))) ||
	fail "hg_late: the first point landed $(elapsed_ok "$t0" "$t1" 999) s after the database appeared (bound $((3 * FLUSH_S + 2)) s)"
echo "hg_late: first point ${took} s after CREATE DATABASE (flush interval ${FLUSH_S} s)"

# The database the output created disappears while the agent runs.
WAIT_SECS=30 wait_for count_in hg_drop || fail "nothing written to hg_drop"
before=$(grep -c . "$TMP/agent.log")
t0=$(now)
drop_db hg_drop || fail "DROP DATABASE hg_drop"
WAIT_SECS=30 wait_for count_in hg_drop || fail "nothing written to hg_drop after it was dropped"
t1=$(now)
took=$(elapsed_ok "$t0" "$t1" $((3 * FLUSH_S + 2))) ||
	fail "hg_drop: the first point landed $(elapsed_ok "$t0" "$t1" 999) s after the drop (bound $((3 * FLUSH_S + 2)) s)"
echo "hg_drop: points again ${took} s after DROP DATABASE"
tail -n +"$((before + 1))" "$TMP/agent.log" >"$TMP/after_drop.log"
grep -q 'outputs.influxdb::recreate\] .*database "hg_drop" not found, creating it' "$TMP/after_drop.log" ||
	fail "the recreation is not logged: $(cat "$TMP/after_drop.log")"
! grep -q 'recreate\].*failed' "$TMP/after_drop.log" || fail "the recreated database cost a failed write: $(grep failed "$TMP/after_drop.log")"
agent_stop || fail "agent exited non-zero"
echo PASS
