#!/usr/bin/env bash
# What real clients send to inputs.influxdb_listener, relayed to a real
# influxd both byte for byte (an output without filter) and re-serialized
# (an output with a filter):
# - an explicit timestamp 0 stays 0 (1970-01-01), a negative one stays, in
#   ns and with a precision; the influx CLI's INSERT too;
# - lines with 64, 65 and 200 tags are taken and stored with every tag plus
#   the host tag, as influxd takes them; a line at METRIC_MAX_TAGS (16384)
#   is taken, and the host tag that no longer fits is counted and logged,
#   not dropped silently; one tag more is refused with 400;
# - a raw newline in a string field is escaped on relay (stored as the two
#   characters backslash and n: the listener README says why), and the line
#   after it arrives intact.
source "$TESTLIB"
command -v influx >/dev/null || fail "influx CLI not installed (apt-get install influxdb-client)"
influx_start
LP=$(free_port)
HP=$(free_port)
L="http://127.0.0.1:$LP"

cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: wire-host
  health_listen: "127.0.0.1:$HP"
inputs:
  - influxdb_listener:
      service_address: "127.0.0.1:$LP"
      max_line_size: 1MiB
      max_body_size: 4MiB
outputs:
  - influxdb: {alias: raw, urls: ["$INFLUX_URL"], database: wire_raw, namedrop: ["huge*"]}
  # namedrop matching nothing still makes the output filter: every line is re-serialized
  - influxdb: {alias: filtered, urls: ["$INFLUX_URL"], database: wire_filtered, namedrop: ["huge*", "nothing*"]}
  - file: {files: ["$TMP/huge.lp"], namepass: ["huge*"]}
CONF
agent_start "$TMP/agent.yaml"
wait_for curl -sf "$L/health" || fail "listener did not start"

post() { # post WANT_STATUS QUERY FILE
	local got
	got=$(curl -s -o "$TMP/body" -w '%{http_code}' -XPOST "$L/write?$2" --data-binary "@$3") || true
	[ "$got" = "$1" ] || fail "write?$2 answered $got, expected $1: $(head -c 300 "$TMP/body")"
}
tags_line() { # tags_line MEASUREMENT N: one line with N tags in key order
	python3 -c 'import sys; n=int(sys.argv[2]); print(sys.argv[1]+"".join(",t%05d=v" % i for i in range(n))+" v=1 1700000000000000000")' "$1" "$2"
}

printf 'zero_ts,src=x v=42 0\nneg_ts,src=x v=7 -5\n' >"$TMP/ts.lp"
post 204 "db=x" "$TMP/ts.lp"
printf 'zero_s,src=x v=1 0\nneg_s,src=x v=2 -3\n' >"$TMP/ts_s.lp"
post 204 "db=x&precision=s" "$TMP/ts_s.lp"
influx -host 127.0.0.1 -port "$LP" -database x -execute 'INSERT zero_cli,src=cli v=3 0' >"$TMP/cli.log" 2>&1 ||
	fail "influx CLI INSERT through the listener failed: $(cat "$TMP/cli.log")"
for n in 64 65 200; do
	tags_line "t$n" "$n" >"$TMP/t$n.lp"
	post 204 "db=x" "$TMP/t$n.lp"
done
tags_line huge_max 16384 >"$TMP/max.lp"
post 204 "db=x" "$TMP/max.lp"
tags_line huge_over 16385 >"$TMP/over.lp"
post 400 "db=x" "$TMP/over.lp"
grep -q 'more than 16384 tags' "$TMP/body" || fail "16385 tags refused without the reason: $(head -c 300 "$TMP/body")"
printf 'nl,src=x s="a\nb",n=1i 1700000000000000001\nafter_nl,src=x v=5 1700000000000000002\n' >"$TMP/nl.lp"
post 204 "db=x" "$TMP/nl.lp"

# Everything posted is in both databases once the last line is; then one
# python3 per database checks every point (fewer processes: the test also
# runs with both cores busy).
count_after() { influx_query "$1" 'SELECT count(v) FROM after_nl' | json_get 'len(d["results"][0].get("series",[]))'; }
arrived() { [ "$(count_after "$1")" = 1 ]; }
for db in wire_raw wire_filtered; do
	WAIT_SECS=30 wait_for arrived "$db" || fail "$db: after_nl never arrived"
	python3 - "$INFLUX_URL" "$db" >"$TMP/check.out" 2>&1 <<'PY' || fail "$(cat "$TMP/check.out")"
import json, sys, urllib.parse, urllib.request
url, db = sys.argv[1], sys.argv[2]
def q(stmt):
    qs = urllib.parse.urlencode({"db": db, "epoch": "ns", "q": stmt})
    return json.load(urllib.request.urlopen(url + "/query?" + qs))["results"][0]["series"][0]["values"]
bad = []
def expect(what, got, want):
    if got != want:
        bad.append(f"{db}: {what} is {got!r}, expected {want!r}")
# explicit timestamps, 0 and negative, in ns, s and from the influx CLI
for name, t, v in [("zero_ts", 0, 42), ("neg_ts", -5, 7), ("zero_s", 0, 1), ("neg_s", -3000000000, 2), ("zero_cli", 0, 3)]:
    expect(name, q(f"SELECT v FROM {name}"), [[t, v]])
# every tag kept, the host tag added
for n in (64, 65, 200):
    expect(f"t{n} tag keys", len(q(f"SHOW TAG KEYS FROM t{n}")), n + 1)
    expect(f"t{n} point", q(f"SELECT v FROM t{n} WHERE host='wire-host' AND t00000='v' AND t{n-1:05d}='v'"),
           [[1700000000000000000, 1]])
# the raw newline arrives escaped (backslash, n), the next field and line intact
expect("nl", q("SELECT s, n FROM nl"), [[1700000000000000001, "a\\nb", 1]])
expect("after_nl", q("SELECT v FROM after_nl"), [[1700000000000000002, 5]])
if bad:
    sys.exit("\n".join(bad))
PY
done

# The line at the tag limit: taken with all its own tags, the host tag that
# did not fit counted and logged.
wait_for test -s "$TMP/huge.lp" || fail "the 16384-tag line did not reach the file output"
grep -q 'huge_max' "$TMP/huge.lp" || fail "huge.lp has no huge_max"
got=$(awk '/^huge_max/ { print gsub(/,t[0-9]+=v/, "") }' "$TMP/huge.lp")
[ "$got" = 16384 ] || fail "huge_max written with $got tags, expected 16384"
if grep -q 'host=' "$TMP/huge.lp"; then fail "huge_max has a host tag beyond the limit"; fi
grep -q 'metric huge_max has more tags or fields than 16384' "$TMP/agent.log" || fail "the dropped host tag was not logged"
curl -sf "http://127.0.0.1:$HP/metrics" >"$TMP/metrics"
grep -qx 'heliograph_gather_errors_total 1' "$TMP/metrics" || fail "dropped tag not counted: $(grep gather_errors "$TMP/metrics")"

agent_stop || fail "agent exited non-zero after SIGTERM"
echo "listener wire: timestamps 0 and negative kept, 64/65/200 tags stored with host, 16384 logged, newline escaped"
