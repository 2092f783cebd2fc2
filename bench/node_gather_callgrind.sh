#!/usr/bin/env bash
# Instructions per gather of the whole node input set, agent next to collectd, counted by
# callgrind (instruction counts are stable; wall and CPU time of a ~1 ms gather are not).
#
#   bench/node_gather_callgrind.sh [short_seconds=5] [long_seconds=25]
#
# Runs, at the same time and each under `valgrind --tool=callgrind`:
#   - the agent (AGENT, default build-bench/agent: a Release build) with bench/agent-footprint.yaml
#     and --input-filter set to every node input (its internal input left out), 1 s interval,
#     line protocol to a file on tmpfs;
#   - collectd (COLLECTD) with bench/collectd.conf.in (the matching plugins, csv output), 1 s.
# Each peer runs twice, for short_seconds and for long_seconds, and is stopped with SIGTERM.
# Start-up and shutdown cost the same in both runs, so
#   instructions per gather = (Ir(long) - Ir(short)) / (gathers(long) - gathers(short))
#   instructions per value  = (Ir(long) - Ir(short)) / (values(long) - values(short))
# with gathers and values counted in each peer's own output (agent: `mem` points and fields of
# every node line; collectd: rows of load.csv and values of every csv row). Whole-process counts:
# they include the scheduler, serializing and writing the output, i.e. what a gather costs.
# Prints a markdown report; KEEP=1 keeps the temp dir (with the callgrind.out files).
set -uo pipefail

SHORT=${1:-5}
LONG=${2:-25}
case "$SHORT$LONG" in *[!0-9]*|'') echo "usage: $0 [short_seconds] [long_seconds]" >&2; exit 2;; esac
[ "$LONG" -gt $((SHORT + 5)) ] || { echo "long_seconds must exceed short_seconds by more than 5" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
AGENT=${AGENT:-$ROOT/build-bench/agent}
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
NODE_INPUTS=cpu:mem:swap:system:kernel:processes:disk:diskio:kernel_vmstat:linux_sysctl_fs:net:netstat:nstat
for bin in "$AGENT" "$COLLECTD"; do
	[ -x "$bin" ] || { echo "missing $bin (see bench/README.md)" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }

if [ -d /dev/shm ] && [ -w /dev/shm ]; then WORK=$(mktemp -d /dev/shm/hg-callgrind.XXXXXX); else WORK=$(mktemp -d); fi
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

VG=(valgrind --tool=callgrind --quiet)

# run_pair LABEL SECONDS: starts both peers under callgrind, stops them after SECONDS.
run_pair() {
	local label=$1 secs=$2 d=$WORK/$1 p
	mkdir -p "$d/collectd" "$d/csv"
	HG_BENCH_INTERVAL=1s HG_BENCH_OUT=$d/agent.lp \
		"${VG[@]}" --callgrind-out-file="$d/agent.callgrind" \
		"$AGENT" --config "$HERE/agent-footprint.yaml" --output-filter file --input-filter "$NODE_INPUTS" >"$d/agent.out" 2>&1 &
	PIDS=($!)
	sed -e "s|@DIR@|$d|g" -e "s|@INTERVAL@|1|g" "$HERE/collectd.conf.in" >"$d/collectd.conf"
	"${VG[@]}" --callgrind-out-file="$d/collectd.callgrind" \
		"$COLLECTD" -f -C "$d/collectd.conf" -P "$d/collectd.pid" >"$d/collectd.out" 2>&1 &
	PIDS+=($!)
	sleep "$secs"
	# Half a second off the 1 s ticks, so that no gather is cut by the signal.
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p"; done
	PIDS=()
	for p in agent collectd; do
		[ -s "$d/$p.callgrind" ] || { echo "$label: no callgrind output for $p:" >&2; cat "$d/$p.out" >&2; exit 1; }
	done
}

ir() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

# Line protocol fields: the comma-separated part after the first unescaped space (commas in
# quoted strings excepted).
lp_fields() {
	awk '{
		n = length($0); esc = 0
		for (i = 1; i <= n; i++) { c = substr($0, i, 1); if (esc) { esc = 0; continue }
			if (c == "\\") esc = 1; else if (c == " ") break }
		f = 1; q = 0; esc = 0
		for (i++; i <= n; i++) { c = substr($0, i, 1); if (esc) { esc = 0; continue }
			if (c == "\\") esc = 1; else if (c == "\"") q = !q
			else if (!q && c == ",") f++; else if (!q && c == " ") break }
		t += f
	} END { print t + 0 }' "$1"
}
agent_gathers() { awk '/^mem[ ,]/ { n++ } END { print n + 0 }' "$1"; }
csv_values() { find "$1" -type f -name '*-*' -exec awk -F, 'FNR > 1 { t += NF - 1 } END { print t + 0 }' {} + | awk '{ t += $1 } END { print t + 0 }'; }
collectd_gathers() { cat "$1"/*/load/load-* 2>/dev/null | awk -F, '$1 + 0 > 0 { n++ } END { print n + 0 }'; }

echo "callgrind: agent and collectd, ${SHORT} s then ${LONG} s at 1 s, in $WORK" >&2
run_pair short "$SHORT"
run_pair long "$LONG"

declare -A IR G V
for r in short long; do
	IR[agent-$r]=$(ir "$WORK/$r/agent.callgrind")
	G[agent-$r]=$(agent_gathers "$WORK/$r/agent.lp")
	V[agent-$r]=$(lp_fields "$WORK/$r/agent.lp")
	IR[collectd-$r]=$(ir "$WORK/$r/collectd.callgrind")
	G[collectd-$r]=$(collectd_gathers "$WORK/$r/csv")
	V[collectd-$r]=$(csv_values "$WORK/$r/csv")
done

agent_ver=$("$AGENT" --version 2>&1 | head -1)
collectd_ver=$("$COLLECTD" -h 2>&1 | awk '/^collectd [0-9]/ { sub(",$", "", $2); print $2 }')
cat <<EOF
### Callgrind run: ${SHORT} s and ${LONG} s at 1 s

\`bench/node_gather_callgrind.sh $SHORT $LONG\` (agent \`$AGENT\`)

Machine: $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'); $(valgrind --version).
Versions: $agent_ver (binary built $(date -u -r "$AGENT" '+%Y-%m-%d %H:%M UTC'), HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')); collectd $collectd_ver.
Agent inputs: ${NODE_INPUTS//:/, }. collectd plugins: $(awk '/^LoadPlugin/ && $2 != "logfile" && $2 != "csv" { printf "%s%s", s, $2; s = ", " }' "$HERE/collectd.conf.in") (+ csv).

| peer | Ir short run | Ir long run | gathers (short / long) | values (short / long) | values per gather | Ir per gather | Ir per value |
|---|---|---|---|---|---|---|---|
EOF
for p in agent collectd; do
	awk -v p="$p" -v is="${IR[$p-short]}" -v il="${IR[$p-long]}" -v gs="${G[$p-short]}" -v gl="${G[$p-long]}" \
		-v vs="${V[$p-short]}" -v vl="${V[$p-long]}" 'BEGIN {
		dg = gl - gs; dv = vl - vs; di = il - is
		vpg = "?"; ipg = "?"; ipv = "?"
		if (dg > 0) { vpg = sprintf("%.1f", dv / dg); ipg = sprintf("%.0f", di / dg) }
		if (dv > 0) ipv = sprintf("%.0f", di / dv)
		# %.0f: mawk prints %d through a C int.
		printf "| %s | %.0f | %.0f | %d / %d | %d / %d | %s | %s | %s |\n", p, is, il, gs, gl, vs, vl, vpg, ipg, ipv }'
done
awk -v a="${IR[agent-long]}" -v as="${IR[agent-short]}" -v c="${IR[collectd-long]}" -v cs="${IR[collectd-short]}" \
	-v av="$((V[agent-long] - V[agent-short]))" -v cv="$((V[collectd-long] - V[collectd-short]))" 'BEGIN {
	if (av > 0 && cv > 0 && c > cs)
		printf "\nAgent Ir per value / collectd Ir per value: %.3f (goal: at most 0.5)\n", ((a - as) / av) / ((c - cs) / cv) }'

# Where the agent's instructions go in the long run: inclusive cost of each input's gather.
if command -v callgrind_annotate >/dev/null; then
	echo
	echo "Agent, long run, inclusive Ir of the functions named *gather* (callgrind_annotate --inclusive=yes):"
	echo
	echo '```'
	callgrind_annotate --inclusive=yes --threshold=100 "$WORK/long/agent.callgrind" 2>/dev/null |
		grep -E '[a-z_]*gather[a-z_]*' | grep -v '^--' | head -25
	echo '```'
	echo
	echo "collectd, long run, inclusive Ir of the plugins' read and write callbacks:"
	echo
	echo '```'
	callgrind_annotate --inclusive=yes --threshold=100 "$WORK/long/collectd.callgrind" 2>/dev/null |
		grep -E ':[a-z0-9_]+_(read|write)[a-z0-9_]* .*collectd' | head -25
	echo '```'
fi
cat <<EOF

Callgrind counts user-space instructions only: the kernel's work behind each read() of /proc
and /sys (formatting the text, walking sockets and processes) is not in these figures; the
CPU time per gather in the footprint table (schedstat: user + kernel) includes it.
EOF
exit 0
