#!/usr/bin/env bash
# libcurl is loaded when a plugin first speaks HTTP, not at start: an agent gathering node
# metrics into a file never maps it (nor OpenSSL, GnuTLS... that Debian's libcurl brings), and
# says in its debug log that it trimmed its start-up pages; the same agent with an influxdb
# output maps libcurl after its first request and writes the points, which influxd holds.
# The agent is linked as a C program: its one C++ translation unit (base/float_shortest.cc,
# Dragonbox) must not make it load the C++ runtime.
source "$TESTLIB"

command -v readelf >/dev/null || fail "readelf (binutils) not installed"
readelf -d "$AGENT" >"$TMP/needed" || fail "readelf failed on $AGENT"
grep -q NEEDED "$TMP/needed" || fail "readelf listed no NEEDED entry"
grep -E 'NEEDED.*(libstdc\+\+|libgcc_s|libc\+\+)' "$TMP/needed" && fail "the agent links the C++ runtime"

mapped() { # mapped PID NAME: is a file whose name contains NAME mapped by PID?
	# One process, no pipe: under pipefail, `awk | grep -q` fails when grep exits on the first
	# match while awk still writes the rest of a long maps file (SIGPIPE; CI, 1 run).
	awk -v name="$2" 'index($6, name) { found = 1 } END { exit !found }' "/proc/$1/maps"
}

cat >"$TMP/file.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, debug: true, omit_hostname: true}
inputs:
  - mem: {}
  - cpu: {}
outputs:
  - file: {files: ["$TMP/out.lp"]}
CONF
"$AGENT" --config "$TMP/file.yaml" >"$TMP/file-agent.log" 2>&1 &
PIDS+=("$!")
pid=$!
wait_for grep -q '^mem ' "$TMP/out.lp" || fail "the file agent wrote no mem line"
wait_for grep -q 'rss_trim: [0-9]* file mappings' "$TMP/file-agent.log" || fail "no rss_trim line in the debug log"
mapped "$pid" libcurl && fail "the file agent mapped libcurl: $(grep -o '/[^ ]*libcurl[^ ]*' "/proc/$pid/maps" | head -1)"
mapped "$pid" libcrypto && fail "the file agent mapped libcrypto"
mapped "$pid" libsnappy && fail "the file agent mapped libsnappy"
grep -q 'loaded libcurl' "$TMP/file-agent.log" && fail "the file agent logged a libcurl load"
kill -TERM "$pid"
wait "$pid" || fail "the file agent exited non-zero"

influx_start
cat >"$TMP/http.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, debug: true, omit_hostname: true}
inputs:
  - mem: {fieldpass: [total]}
outputs:
  - influxdb: {urls: ["$INFLUX_URL"], database: lazy}
CONF
"$AGENT" --config "$TMP/http.yaml" >"$TMP/http-agent.log" 2>&1 &
PIDS+=("$!")
pid=$!
wait_for grep -q 'wrote batch' "$TMP/http-agent.log" || fail "the influxdb agent wrote nothing"
mapped "$pid" libcurl || fail "the influxdb agent does not map libcurl after writing"
grep -q 'loaded libcurl.so' "$TMP/http-agent.log" || fail "no 'loaded libcurl' line in the debug log"
kill -TERM "$pid"
wait "$pid" || fail "the influxdb agent exited non-zero"
got=$(influx_query lazy 'SELECT count(total) FROM mem' | json_get 'd["results"][0]["series"][0]["values"][0][1] if "series" in d["results"][0] else 0')
[ "$got" -ge 1 ] || fail "influxd holds $got mem points from the agent"
echo "PASS: file agent without libcurl; influxdb agent loaded it and wrote $got points"
