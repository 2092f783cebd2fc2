#!/bin/bash
# agentctl convert-telegraf on real Telegraf configs (Telegraf's own sample,
# the Helm chart's rendered telegraf-ds config, Telegraf's 2016 loader test
# config): what cannot be carried is listed with its line, the YAML loads,
# the agent run with it (--test, the inputs that need no cluster) emits the
# measurements the Telegraf config asked for, and the agent started with the
# converted outputs (--test never starts them) writes to a real influxd,
# where the points are queried back.
source "$TESTLIB"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
TG="$FIXTURES/telegraf"

# Telegraf's measurement per input is the input's name for every plugin both
# have (the net input adds netstat, which is extra here, not expected).

# all_measurements FILE: every measurement of $WANT has a line in FILE.
all_measurements() {
	[ -s "$1" ] || return 1
	local m
	for m in $WANT; do
		awk -v m="$m" 'BEGIN { r = 1 } { split($1, a, ","); if (a[1] == m) { r = 0; exit } } END { exit r }' "$1" || return 1
	done
}
check_config() { # check_config FILE SKIP_INPUTS...
	local conf=$1 rc=0
	shift
	"$AGENTCTL" convert-telegraf "$conf" >"$TMP/agent.yaml" 2>"$TMP/report" || rc=$?
	[ "$rc" -eq 0 ] || fail "convert-telegraf $conf exited $rc: $(cat "$TMP/report")"
	# The inputs the Telegraf config enables (uncommented [[inputs.X]]).
	sed -n 's/^[[:space:]]*\[\[inputs\.\([a-z_0-9]*\)\]\].*/\1/p' "$conf" | sort -u >"$TMP/asked"
	[ -s "$TMP/asked" ] || fail "no inputs found in $conf"
	local want=() filter=()
	while read -r name; do
		if grep -q "Heliograph has no input plugin \"$name\"" "$TMP/report"; then
			# Left out: the report names its line.
			line=$(grep -n "^[[:space:]]*\[\[inputs\.$name\]\]" "$conf" | head -1 | cut -d: -f1)
			grep -q "^$conf:$line: \[\[inputs.$name\]\]" "$TMP/report" || fail "$name reported without its line $line"
			continue
		fi
		grep -q "^  - $name:" "$TMP/agent.yaml" || fail "input $name neither converted nor reported"
		case " $* " in *" $name "*) continue ;; esac
		want+=("$name")
		filter+=("$name")
	done <"$TMP/asked"
	local f
	f=$(IFS=:; echo "${filter[*]}")
	"$AGENT" --config "$TMP/agent.yaml" --test --input-filter "$f" >"$TMP/lp" 2>"$TMP/agent.log" ||
		fail "agent --test with the converted $conf failed: $(tail -5 "$TMP/agent.log")"
	[ -s "$TMP/lp" ] || fail "agent --test printed nothing"
	# cpu reports usage from the difference of two gathers (as Telegraf's
	# does), so the agent runs for a few 1 s intervals, writing to a file:
	# the converted config plus an override, and only that output.
	rm -f "$TMP/out.lp"
	cat >"$TMP/override.yaml" <<YAML
agent: {interval: 1s, flush_interval: 1s, round_interval: false}
outputs:
  - file: {files: ["$TMP/out.lp"], alias: e2e}
YAML
	"$AGENT" --config "$TMP/agent.yaml" --config "$TMP/override.yaml" --input-filter "$f" --output-filter file \
		>"$TMP/run.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	WANT="${want[*]}" wait_for all_measurements "$TMP/out.lp" ||
		fail "not every measurement of $conf came out within 20 s: $(cut -d' ' -f1 "$TMP/out.lp" 2>/dev/null | cut -d, -f1 | sort -u | tr '\n' ' ')"
	kill -TERM "$pid"
	wait "$pid" || fail "agent exited non-zero after SIGTERM: $(tail -5 "$TMP/run.log")"
	cut -d' ' -f1 "$TMP/out.lp" | cut -d, -f1 | sort -u >"$TMP/got"
	for m in "${want[@]}"; do
		grep -qx "$m" "$TMP/got" || fail "measurement $m asked for by $conf did not come out (got: $(tr '\n' ' ' <"$TMP/got"))"
	done
	echo "$(basename "$conf"): ${#want[@]} inputs, measurements: ${want[*]}; left out: $(grep -c ': ' "$TMP/report" || true) lines"
}

# /proc/diskstats may list no disk in a container: diskio then emits nothing.
skip_diskio=""
grep -qE ' (sd|vd|xvd|nvme|hd)[a-z0-9]* ' /proc/diskstats 2>/dev/null || skip_diskio=diskio

check_config "$TG/telegraf.conf" $skip_diskio
grep -q '^agent:' "$TMP/agent.yaml" || fail "no agent section"
# precision = "" is Telegraf's default: nothing to carry, nothing to report.
! grep -q 'precision' "$TMP/report" || fail "precision \"\" reported: $(grep precision "$TMP/report")"
grep -q '^  - influxdb:' "$TMP/agent.yaml" || fail "influxdb output not converted"
grep -q 'urls: \["http://localhost:8086"\]' "$TMP/agent.yaml" || fail "influxdb urls not carried"

# The Helm chart's config: kubernetes needs a kubelet (converted, not run).
check_config "$TG/helm-telegraf-ds.conf" kubernetes $skip_diskio
grep -q 'helm-telegraf-ds.conf:49: \[\[inputs.docker\]\]' "$TMP/report" || fail "docker not reported"
# $HOSTIP as Telegraf reads it: the value when set, else "$HOSTIP" literally.
grep -q 'url: "https://${HOSTIP-$HOSTIP}:10250"' "$TMP/agent.yaml" || fail "\$HOSTIP not turned into \${HOSTIP-\$HOSTIP}"
# username = "" and password = "" are Telegraf's "unset": not written, not reported.
! grep -qE 'username|password' "$TMP/agent.yaml" "$TMP/report" || fail "empty username/password carried or reported"

# Telegraf's 2016 config-loader test config: its second influxdb output
# writes to udp://, which the agent cannot: left out, named with its line.
TG16="$TG/telegraf-agent-2016.toml"
"$AGENTCTL" convert-telegraf "$TG16" >"$TMP/agent.yaml" 2>"$TMP/report" || fail "convert $TG16: $(cat "$TMP/report")"
grep -q "telegraf-agent-2016.toml:52: \[\[outputs.influxdb\]\]: the agent cannot write to any of its URLs (udp://localhost:8089" \
	"$TMP/report" || fail "udp:// output not reported with its line: $(cat "$TMP/report")"
[ "$(grep -c '^  - influxdb:' "$TMP/agent.yaml")" -eq 1 ] || fail "not exactly the http influxdb output converted"
grep -q '      fielddrop: \["cpu_time"\]' "$TMP/agent.yaml" || fail "pre-0.10.4 drop not carried as fielddrop"

# Started for real: each converted config, with its own outputs, against a
# real influxd. The URL is the only change to the Telegraf file (the Helm
# one through an environment variable, as a DaemonSet would give it); an
# override shortens the 10 s intervals. The points are read back.
influx_start
cat >"$TMP/fast.yaml" <<YAML
agent: {interval: 1s, flush_interval: 1s, round_interval: false}
YAML
# run_real TOML INPUTS QUERY EXPECT [ENV=VALUE...]: converts TOML, runs the
# agent until QUERY on database telegraf prints a line matching EXPECT.
run_real() {
	local toml=$1 inputs=$2 query=$3 expect=$4 rc=0
	shift 4
	"$AGENTCTL" convert-telegraf "$toml" >"$TMP/real.yaml" 2>"$TMP/real.report" ||
		fail "convert $toml: $(cat "$TMP/real.report")"
	env "$@" "$AGENT" --config "$TMP/real.yaml" --config "$TMP/fast.yaml" --input-filter "$inputs" \
		>"$TMP/real-agent.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	found() { influx_query telegraf "$query" | grep -q -- "$expect"; }
	wait_for found || fail "$(basename "$toml"): no points for $query within 20 s: $(influx_query telegraf "$query" || true)"
	kill -0 "$pid" || fail "the agent with the converted $(basename "$toml") exited"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "agent with the converted $(basename "$toml") exited $rc after SIGTERM"
	! grep -qiE 'error|out of memory' "$TMP/real-agent.log" || fail "agent logged errors: $(grep -iE 'error|out of memory' "$TMP/real-agent.log" | head -3)"
	echo "$(basename "$toml"): ran with its converted outputs; $query -> $expect"
}
sed "s|http://localhost:8086|$INFLUX_URL|" "$TG16" >"$TMP/telegraf-agent-2016.toml"
# dc = "us-east-1" from [global_tags]; hostname = "" is the OS's.
run_real "$TMP/telegraf-agent-2016.toml" cpu:mem:swap:system \
	"SELECT last(used) FROM mem WHERE dc = 'us-east-1' AND time > now() - 1m" '"last"'
sed 's|http://influxdb.monitoring.svc:8086|$INFLUX_URL|' "$TG/helm-telegraf-ds.conf" >"$TMP/helm-telegraf-ds.conf"
grep -q '"\$INFLUX_URL"' "$TMP/helm-telegraf-ds.conf" || fail "helm URL not replaced"
# hostname = "$HOSTNAME", username = "", password = "" as the chart renders them.
run_real "$TMP/helm-telegraf-ds.conf" cpu:mem:system:processes \
	"SHOW TAG VALUES FROM processes WITH KEY = host" '"hg-helm-node"' HOSTNAME=hg-helm-node INFLUX_URL="$INFLUX_URL"

# --strict fails when anything was left out; stdin works; a parse error is
# reported with its line and exit 1; usage errors exit 2.
rc=0; "$AGENTCTL" convert-telegraf --strict - <"$TG/helm-telegraf-ds.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "--strict exited $rc"
printf '[[inputs.mem]]\nx = \n' >"$TMP/bad.conf"
rc=0; "$AGENTCTL" convert-telegraf "$TMP/bad.conf" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad TOML exited $rc"
grep -q "bad.conf:2: expected a value" "$TMP/err" || fail "parse error without its line: $(cat "$TMP/err")"
# Errors point at the TOML: bad encodings name the file and line, and show
# no raw byte; a file name with a newline cannot break a YAML comment.
printf '[agent]\n  hostname = "caf\351"\n' >"$TMP/latin1.conf"
rc=0; "$AGENTCTL" convert-telegraf "$TMP/latin1.conf" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "latin-1 TOML exited $rc"
grep -q "latin1.conf:2: invalid UTF-8 (byte 0xE9 at column 18)" "$TMP/err" || fail "invalid UTF-8 without its line: $(cat "$TMP/err")"
! LC_ALL=C grep -q $'\351' "$TMP/err" || fail "raw byte in the message"
printf '[[inputs.mem]]\n' | iconv -f UTF-8 -t UTF-16 >"$TMP/utf16.conf"
rc=0; "$AGENTCTL" convert-telegraf "$TMP/utf16.conf" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "UTF-16 TOML exited $rc"
grep -q "utf16.conf:1: the file is UTF-16" "$TMP/err" || fail "UTF-16 not named: $(cat "$TMP/err")"
nl_name="$TMP/a
agent: {interval: 1ms}
.conf"
printf '[[inputs.mem]]\n' >"$nl_name"
"$AGENTCTL" convert-telegraf -o "$TMP/nl.yaml" "$nl_name" 2>"$TMP/err" || fail "file name with a newline: $(cat "$TMP/err")"
! grep -q '^agent:' "$TMP/nl.yaml" || fail "the file name broke out of a YAML comment"
"$AGENT" --config "$TMP/nl.yaml" --test --input-filter mem >"$TMP/lp" 2>"$TMP/nl.log" || fail "YAML converted from a file named with a newline does not load: $(cat "$TMP/nl.log")"
# A duplicate sub-table is named in full.
printf '[[inputs.cpu]]\n  [inputs.cpu.tags]\n    a = "1"\n  [inputs.cpu.tags]\n' >"$TMP/dup.conf"
rc=0; "$AGENTCTL" convert-telegraf "$TMP/dup.conf" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "duplicate table exited $rc"
grep -q "dup.conf:4: table \[inputs.cpu.tags\] is already defined at line 2" "$TMP/err" || fail "duplicate table not named in full: $(cat "$TMP/err")"
# port = ${PORT} unquoted, as Telegraf's docs write numbers: converted.
printf '[agent]\n  metric_batch_size = ${BATCH}\n[[inputs.mem]]\n' >"$TMP/unquoted.conf"
BATCH=200 "$AGENTCTL" convert-telegraf --strict "$TMP/unquoted.conf" >"$TMP/unquoted.yaml" 2>"$TMP/err" ||
	fail "unquoted \${BATCH} not converted: $(cat "$TMP/err")"
grep -q 'metric_batch_size: "${BATCH-$${BATCH}}"' "$TMP/unquoted.yaml" || fail "unquoted reference: $(cat "$TMP/unquoted.yaml")"

rc=0; "$AGENTCTL" convert-telegraf >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "no argument exited $rc"
"$AGENTCTL" convert-telegraf --help | grep -q -- '--strict' || fail "--help lacks --strict"
echo "PASS"
