#!/bin/bash
# agentctl convert-telegraf on real Telegraf configs (Telegraf's own sample
# and the Helm chart's rendered telegraf-ds config): what cannot be carried
# is listed with its line, the YAML loads, and the agent run with it (--test,
# the inputs that need no cluster) emits the measurements the Telegraf config
# asked for.
source "$TESTLIB"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
TG="$FIXTURES/telegraf"

# Telegraf's measurement per input is the input's name for every plugin both
# have (the net input adds netstat, which is extra here, not expected).
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
	sleep 3.5
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
grep -q 'telegraf.conf:64: agent.precision' "$TMP/report" || fail "precision \"\" not reported"
grep -q '^  - influxdb:' "$TMP/agent.yaml" || fail "influxdb output not converted"
grep -q 'urls: \["http://localhost:8086"\]' "$TMP/agent.yaml" || fail "influxdb urls not carried"

# The Helm chart's config: kubernetes needs a kubelet (converted, not run).
check_config "$TG/helm-telegraf-ds.conf" kubernetes $skip_diskio
grep -q 'helm-telegraf-ds.conf:49: \[\[inputs.docker\]\]' "$TMP/report" || fail "docker not reported"
grep -q 'url: "https://${HOSTIP}:10250"' "$TMP/agent.yaml" || fail "\$HOSTIP not turned into \${HOSTIP}"

# --strict fails when anything was left out; stdin works; a parse error is
# reported with its line and exit 1; usage errors exit 2.
rc=0; "$AGENTCTL" convert-telegraf --strict - <"$TG/helm-telegraf-ds.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "--strict exited $rc"
printf '[[inputs.mem]]\nx = \n' >"$TMP/bad.conf"
rc=0; "$AGENTCTL" convert-telegraf "$TMP/bad.conf" >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad TOML exited $rc"
grep -q "bad.conf:2: expected a value" "$TMP/err" || fail "parse error without its line: $(cat "$TMP/err")"
rc=0; "$AGENTCTL" convert-telegraf >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "no argument exited $rc"
"$AGENTCTL" convert-telegraf --help | grep -q -- '--strict' || fail "--help lacks --strict"
echo "PASS"
