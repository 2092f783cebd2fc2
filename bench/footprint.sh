#!/usr/bin/env bash
# Footprint of the agent next to collectd and node_exporter, in one run on this machine.
#
#   bench/footprint.sh [minutes=10] [interval_seconds=10]
#
# Starts the agent (bench/agent-footprint.yaml, writing to a file), the same agent with only its
# internal input, the same agent writing to InfluxDB instead (when influxd is installed: a
# private influxd on 127.0.0.1, whose own cost is not reported),
# collectd (bench/collectd.conf.in, foreground, own config, csv output) and node_exporter
# (127.0.0.1, a free port, scraped by curl every interval), samples each process's CPU time and
# memory every SAMPLE_SECONDS, stops them and prints a markdown report. All files go to a temp
# dir on tmpfs (/dev/shm), removed at exit unless KEEP=1. See bench/README.md.
#
# Environment: AGENT (default build-bench/agent), COLLECTD, NODE_EXPORTER, INFLUXD (binaries;
# INFLUXD= leaves the InfluxDB variant out),
# NODE_EXPORTER_ARGS (default: the collectors matching the agent's inputs), SAMPLE_SECONDS (2),
# KEEP=1 (keep the temp dir and print its path).
set -uo pipefail

MINUTES=${1:-10}
INTERVAL=${2:-10}
case "$MINUTES$INTERVAL" in *[!0-9]*|'') echo "usage: $0 [minutes] [interval_seconds]" >&2; exit 2;; esac
if [ "$MINUTES" -lt 1 ] || [ "$INTERVAL" -lt 1 ]; then
	echo "usage: $0 [minutes>=1] [interval_seconds>=1]" >&2; exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
AGENT=${AGENT:-$ROOT/build-bench/agent}
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
INFLUXD=${INFLUXD-$(command -v influxd)}
# The collectors reporting what the agent's inputs gather (cpu, memory, swap, load, context
# switches, forks, processes running/blocked, boot time, entropy, interfaces but lo, /proc/vmstat,
# file systems, disk I/O, /proc/net/{snmp,netstat,snmp6}, TCP states, file handles); its own
# go_*/process_* metrics are left out so that samples per scrape count node values only.
NODE_EXPORTER_ARGS=${NODE_EXPORTER_ARGS:---collector.disable-defaults --collector.cpu --collector.meminfo --collector.loadavg --collector.stat --collector.vmstat --collector.entropy --collector.time --collector.netdev --collector.netdev.device-exclude=^lo$ --collector.filesystem --collector.diskstats --collector.netstat --collector.tcpstat --collector.filefd --web.disable-exporter-metrics}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-2}
TICK=$(getconf CLK_TCK)
HEAD_AT_START=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')

for bin in "$AGENT" "$COLLECTD" "$NODE_EXPORTER"; do
	[ -x "$bin" ] || { echo "missing $bin (build the agent: see bench/README.md)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "curl is needed to scrape node_exporter" >&2; exit 2; }

# tmpfs, so that writing the agent's file and collectd's csv costs no disk I/O for either.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	WORK=$(mktemp -d /dev/shm/hg-footprint.XXXXXX)
else
	WORK=$(mktemp -d)
fi

PIDS=()      # peer pids, in the order of NAMES
NAMES=()
SCRAPER=''

stop_all() {
	local pid i
	[ -n "$SCRAPER" ] && kill "$SCRAPER" 2>/dev/null && wait "$SCRAPER" 2>/dev/null
	SCRAPER=''
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for i in $(seq 100); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	PIDS=()
}
cleanup() {
	stop_all
	[ -n "${INFLUX_SINK:-}" ] && kill "$INFLUX_SINK" 2>/dev/null && wait "$INFLUX_SINK" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # [first=19100]: the first free port from first to 19199
	local p
	for p in $(seq "${1:-19100}" 19199); do
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then echo "$p"; return 0; fi
	done
	return 1
}

now_ns() { date +%s%N; }

# ---- start the peers --------------------------------------------------------------------
HG_BENCH_INTERVAL=${INTERVAL}s HG_BENCH_OUT=$WORK/agent.lp \
	"$AGENT" --config "$HERE/agent-footprint.yaml" --output-filter file >"$WORK/agent.out" 2>&1 &
PIDS+=($!); NAMES+=("agent")
HG_BENCH_INTERVAL=${INTERVAL}s HG_BENCH_OUT=$WORK/agent-internal.lp \
	"$AGENT" --config "$HERE/agent-footprint.yaml" --output-filter file --input-filter internal >"$WORK/agent-internal.out" 2>&1 &
PIDS+=($!); NAMES+=("agent-internal")

# The same agent writing to a real InfluxDB: what a DaemonSet does. It loads libcurl (and the
# libraries Debian's libcurl brings) at its first request; the file variants never do.
INFLUX_SINK=''
if [ -n "$INFLUXD" ] && [ -x "$INFLUXD" ]; then
	IPORT=$(free_port) && RPORT=$(free_port $((IPORT + 1))) || { echo "no free ports for influxd" >&2; exit 1; }
	mkdir -p "$WORK/influxdb"
	"$ROOT/scripts/influxd-conf.sh" "$WORK/influxdb" "$IPORT" "$RPORT" >"$WORK/influxdb.conf"
	"$INFLUXD" -config "$WORK/influxdb.conf" >"$WORK/influxd.out" 2>&1 &
	INFLUX_SINK=$!
	INFLUX_URL="http://127.0.0.1:$IPORT"
	for i in $(seq 100); do curl -fs -o /dev/null "$INFLUX_URL/ping" && break; sleep 0.1; done
	HG_BENCH_INTERVAL=${INTERVAL}s HG_BENCH_INFLUX_URL=$INFLUX_URL \
		"$AGENT" --config "$HERE/agent-footprint.yaml" --output-filter influxdb >"$WORK/agent-influxdb.out" 2>&1 &
	PIDS+=($!); NAMES+=("agent-influxdb")
fi

mkdir -p "$WORK/collectd" "$WORK/csv"
sed -e "s|@DIR@|$WORK|g" -e "s|@INTERVAL@|$INTERVAL|g" "$HERE/collectd.conf.in" >"$WORK/collectd.conf"
"$COLLECTD" -f -C "$WORK/collectd.conf" -P "$WORK/collectd.pid" >"$WORK/collectd.out" 2>&1 &
PIDS+=($!); NAMES+=("collectd")

PORT=$(free_port) || { echo "no free port in 19100-19199" >&2; exit 1; }
# shellcheck disable=SC2086 # NODE_EXPORTER_ARGS is a list of flags
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$PORT" $NODE_EXPORTER_ARGS >"$WORK/node_exporter.out" 2>&1 &
PIDS+=($!); NAMES+=("node_exporter")

URL="http://127.0.0.1:$PORT/metrics"
for i in $(seq 50); do curl -fs -o /dev/null "$URL" && break; sleep 0.1; done
sleep 0.5
for i in "${!PIDS[@]}"; do
	kill -0 "${PIDS[$i]}" 2>/dev/null || { echo "${NAMES[$i]} did not start:" >&2; cat "$WORK/${NAMES[$i]}.out" >&2; exit 1; }
done

# Scrapes on a fixed schedule (start + k * interval) so that a slow scrape does not drift it;
# each line: epoch seconds of the scrape, samples (non-comment lines) in the body.
(
	start=$(now_ns); k=0
	while :; do
		if curl -fs -m 5 -o "$WORK/scrape.txt" "$URL"; then
			echo "$(date +%s) $(grep -vc '^#' "$WORK/scrape.txt")" >>"$WORK/scrapes"
		fi
		k=$((k + 1))
		wait_ns=$((start + k * INTERVAL * 1000000000 - $(now_ns)))
		[ $wait_ns -gt 0 ] && sleep "$(printf '%d.%09d' $((wait_ns / 1000000000)) $((wait_ns % 1000000000)))"
	done
) &
SCRAPER=$!

# ---- sample ---------------------------------------------------------------------------
# One line per process per sample: epoch name cpu_ticks VmRSS RssAnon RssFile VmHWM Pss USS
# run_ns (memory in kB; USS = Private_Clean + Private_Dirty, what killing the process would
# free; run_ns = on-CPU time of its live threads from schedstat, as CPU ticks are too coarse
# for an agent that uses a few ms a minute).
sample() {
	local name=$1 pid=$2 line rest k v rss=0 anon=0 file=0 hwm=0 pss=0 priv=0 ns=0 f
	read -r line <"/proc/$pid/stat" 2>/dev/null || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086 # split the fields after "(comm) "
	set -- $rest
	local ticks=$((${12} + ${13}))     # utime + stime: fields 14 and 15 of stat
	while read -r k v _; do
		case $k in
		VmRSS:) rss=$v;; RssAnon:) anon=$v;; RssFile:) file=$v;; VmHWM:) hwm=$v;;
		esac
	done <"/proc/$pid/status"
	while read -r k v _; do
		case $k in
		Pss:) pss=$v;; Private_Clean:|Private_Dirty:) priv=$((priv + v));;
		esac
	done <"/proc/$pid/smaps_rollup"
	for f in /proc/"$pid"/task/*/schedstat; do
		read -r v _ <"$f" 2>/dev/null && ns=$((ns + v))
	done
	echo "$(date +%s.%N) $name $ticks $rss $anon $file $hwm $pss $priv $ns"
}

sample_all() {
	local i
	for i in "${!PIDS[@]}"; do
		sample "${NAMES[$i]}" "${PIDS[$i]}" >>"$WORK/samples" || { echo "${NAMES[$i]} exited early" >&2; exit 1; }
	done
}

echo "footprint: ${MINUTES} min at ${INTERVAL} s, sampling every ${SAMPLE_SECONDS} s, in $WORK" >&2
END=$(($(now_ns) + MINUTES * 60 * 1000000000))
while [ "$(now_ns)" -lt $END ]; do
	sample_all
	sleep "$SAMPLE_SECONDS"
done
sample_all

# Where the agent's resident pages are, by mapping, just before it stops.
awk '
	/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(".*/", "", name); next }
	$1 == "Rss:" { rss[name] += $2 } $1 == "Pss:" { pss[name] += $2 }
	$1 == "Anonymous:" { an[name] += $2 }
	END { for (n in rss) if (rss[n] > 0) printf "%s %d %d %d\n", n, rss[n], pss[n], an[n] }
' "/proc/${PIDS[0]}/smaps" | sort -k2,2nr >"$WORK/agent-smaps"

stop_all

# ---- report ---------------------------------------------------------------------------
# Values per interval: the most frequent count over intervals (the first gather of the agent's
# cpu input and of collectd's cpu/rate values emits less, the last one may be cut).
mode() { sort -n | uniq -c | sort -k1,1nr -k2,2nr | awk 'NR == 1 { print $2 }'; }

# Line protocol: fields are the comma-separated part after the first unescaped space, commas
# inside quoted string values excepted; the timestamp is the last token.
lp_fields() {
	awk -v iv="$INTERVAL" '
	{
		n = length($0); i = 1; esc = 0
		for (; i <= n; i++) { c = substr($0, i, 1); if (esc) { esc = 0; continue }
			if (c == "\\") esc = 1; else if (c == " ") break }
		f = 1; q = 0; esc = 0
		for (i++; i <= n; i++) { c = substr($0, i, 1); if (esc) { esc = 0; continue }
			if (c == "\\") esc = 1; else if (c == "\"") q = !q
			else if (!q && c == ",") f++; else if (!q && c == " ") break }
		t = $NF / 1e9
		if (NR == 1) t0 = t - iv / 2
		cnt[int((t - t0) / iv)] += f
	}
	END { for (b in cnt) print cnt[b] }' "$1" | mode
}

csv_values() {
	find "$WORK/csv" -type f -exec awk -F, 'FNR > 1 { print $1, NF - 1 }' {} + | sort -n |
		awk -v iv="$INTERVAL" 'NR == 1 { t0 = $1 - iv / 2 } { cnt[int(($1 - t0) / iv)] += $2 }
			END { for (b in cnt) print cnt[b] }' | mode
}

T_FIRST=$(awk 'NR == 1 { print int($1) }' "$WORK/samples")
T_LAST=$(awk 'END { print int($1) }' "$WORK/samples")
# Gathers inside the sampled window, from each peer's own output.
agent_gathers() { awk -v a="$T_FIRST" -v b="$T_LAST" '/^mem[ ,]/ { t = $NF / 1e9; if (t > a && t <= b) n++ } END { print n + 0 }' "$WORK/agent.lp"; }
internal_gathers() { awk -v a="$T_FIRST" -v b="$T_LAST" '/^internal_agent[ ,]/ { t = $NF / 1e9; if (t > a && t <= b) n++ } END { print n + 0 }' "$WORK/agent-internal.lp"; }
collectd_gathers() { cat "$WORK"/csv/*/load/load-* | awk -F, -v a="$T_FIRST" -v b="$T_LAST" 'NR > 0 && $1 + 0 > a && $1 + 0 <= b { n++ } END { print n + 0 }'; }
# The InfluxDB variant's gathers: its mem points in the window, queried back.
influx_gathers() {
	curl -fs -G "$INFLUX_URL/query" --data-urlencode db=heliograph_bench \
		--data-urlencode "q=SELECT count(total) FROM mem WHERE time > ${T_FIRST}s AND time <= ${T_LAST}s" |
		python3 -c 'import json, sys; r = json.load(sys.stdin)["results"][0]; print(r["series"][0]["values"][0][1] if "series" in r else 0)' 2>/dev/null || echo 0
}
scrapes() { awk -v a="$T_FIRST" -v b="$T_LAST" '$1 > a && $1 <= b { n++ } END { print n + 0 }' "$WORK/scrapes"; }

declare -A VALUES GATHERS
# The agent's own statistics (internal_*) have no counterpart in the other two: shown apart.
grep -v '^internal_' "$WORK/agent.lp" >"$WORK/agent-node.lp"
VALUES[agent]="$(lp_fields "$WORK/agent.lp") ($(lp_fields "$WORK/agent-node.lp") node)";                   GATHERS[agent]=$(agent_gathers)
VALUES[agent-internal]=$(lp_fields "$WORK/agent-internal.lp"); GATHERS[agent-internal]=$(internal_gathers)
VALUES[collectd]=$(csv_values);                                GATHERS[collectd]=$(collectd_gathers)
VALUES[node_exporter]=$(awk '{ print $2 }' "$WORK/scrapes" | mode); GATHERS[node_exporter]=$(scrapes)
if [ -n "$INFLUX_SINK" ]; then VALUES[agent-influxdb]="as agent"; GATHERS[agent-influxdb]=$(influx_gathers); fi

agent_ver=$("$AGENT" --version 2>&1 | head -1)
collectd_ver=$("$COLLECTD" -h 2>&1 | awk '/^collectd [0-9]/ { sub(",$", "", $2); print $2 }')
ne_ver=$("$NODE_EXPORTER" --version 2>&1 | awk 'NR == 1 { print $3 }')

cat <<EOF
### Footprint run: ${MINUTES} min, ${INTERVAL} s interval

\`bench/footprint.sh $MINUTES $INTERVAL\` (agent \`$AGENT\`)

Machine: $(nproc) vCPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC').
Versions: $agent_ver (binary built $(date -u -r "$AGENT" '+%Y-%m-%d %H:%M UTC'), HEAD at the start of the run $HEAD_AT_START); collectd $collectd_ver; node_exporter $ne_ver. CLK_TCK $TICK: CPU times have a resolution of $((1000 / TICK)) ms.
Sampled every ${SAMPLE_SECONDS} s over $((T_LAST - T_FIRST)) s; memory figures are means of the samples except peak (VmHWM at the end).

| peer | CPU s (whole run) | CPU ms per gather | (from ticks) | gathers in window | VmRSS mean MiB | VmRSS peak MiB | RssAnon MiB | RssFile MiB | PSS MiB | USS MiB | values per interval |
|---|---|---|---|---|---|---|---|---|---|---|---|
EOF
for name in "${NAMES[@]}"; do
	awk -v n="$name" -v tick="$TICK" -v g="${GATHERS[$name]}" -v vals="${VALUES[$name]:-?}" '
		$2 != n { next }
		{ if (!seen++) { first = $3; ns0 = $10 }; last = $3; ns1 = $10
		  k++; rss += $4; an += $5; fi += $6; hwm = $7; pss += $8; uss += $9 }
		END {
			mib = 1024 * k
			perg = (g > 0) ? sprintf("%.3f", (ns1 - ns0) / 1e6 / g) : "?"
			pert = (g > 0) ? sprintf("%.2f", (last - first) * 1000 / tick / g) : "?"
			printf "| %s | %.2f | %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | %s |\n",
				n, last / tick, perg, pert, g, rss / mib, hwm / 1024, an / mib, fi / mib, pss / mib, uss / mib, vals
		}' "$WORK/samples"
done
echo "| Telegraf (cited, not measured) | | | | | ~70 | | | | | | |"
cat <<EOF

- CPU s (whole run): utime + stime from /proc/PID/stat at the last sample, start-up included. CPU ms per gather: on-CPU time (sum of /proc/PID/task/*/schedstat, ns) between the first and the last sample divided by the gathers (agent, collectd) or scrapes (node_exporter) in that window; "(from ticks)" is the same from utime + stime, at $((1000 / TICK)) ms resolution.
- agent-internal: the same agent binary and config with \`--input-filter internal\`: the idle agent of the stage target.
- agent-influxdb: the same agent and inputs writing to a private influxd on 127.0.0.1 instead of a file (what a DaemonSet does); it loads libcurl at its first request. Gathers counted from the mem points queried back. influxd's own cost is not in the table.
- node_exporter's CPU includes serving the scrapes (HTTP, text encoding); curl's own CPU is not counted. It runs the collectors $(echo "$NODE_EXPORTER_ARGS" | tr ' ' '\n' | grep -E '^--collector\.[a-z]+$' | grep -v disable | sed 's/--collector\.//' | paste -sd, -), and reports cpu per core and mode.
- Values per interval: agent, fields per gather in its line protocol; collectd, values per interval in its csv files; node_exporter, samples per scrape.

Agent resident memory by mapping at the end of the run (kB; top 15 of $(wc -l <"$WORK/agent-smaps")):

| mapping | Rss | Pss | Anonymous |
|---|---|---|---|
EOF
head -15 "$WORK/agent-smaps" | awk '{ printf "| %s | %d | %d | %d |\n", $1, $2, $3, $4 }'
awk '{ r += $2; p += $3; a += $4 } END { printf "| total | %d | %d | %d |\n", r, p, a }' "$WORK/agent-smaps"

# The floor under the agent's RSS: what merely linking libcurl (and initialising it, as the
# agent does at start) costs any program on this machine.
CC=${CC:-cc}
if command -v "$CC" >/dev/null && printf '#include <curl/curl.h>\n' | "$CC" -E - >/dev/null 2>&1; then
	cat >"$WORK/floor.c" <<'CSRC'
#include <curl/curl.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	(void)argv;
#ifdef WITH_CURL
	if (argc > 1)
		curl_global_init(CURL_GLOBAL_DEFAULT);
#else
	(void)argc;
#endif
	pause();
	return 0;
}
CSRC
	if "$CC" -O2 -o "$WORK/floor-plain" "$WORK/floor.c" &&
		"$CC" -O2 -DWITH_CURL -o "$WORK/floor-curl" "$WORK/floor.c" -lcurl; then
		printf '\nFloor: a program that only waits in `pause()` (%s -O2; kB, read after 1 s):\n\n' "$CC"
		echo "| program | VmRSS | RssAnon | RssFile | PSS |"
		echo "|---|---|---|---|---|"
		for v in "plain:floor-plain" "linked with libcurl:floor-curl" "libcurl + curl_global_init:floor-curl init"; do
			# shellcheck disable=SC2086 # the program and its argument
			"$WORK"/${v#*:} &
			pid=$!
			sleep 1
			awk -v l="${v%%:*}" -v pss="$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")" '
				/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 }
				END { printf "| %s | %d | %d | %d | %d |\n", l, r, a, f, pss }' "/proc/$pid/status"
			kill "$pid"; wait "$pid" 2>/dev/null
		done
	fi
fi
exit 0
