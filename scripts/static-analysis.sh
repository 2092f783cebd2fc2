#!/usr/bin/env bash
# Runs both static analysers over what the programs are built from (agent,
# agentctl and the libraries they link: agent/, kube/, agentctl/, plugins/;
# not tests, bench or fuzz) and prints each one's count of findings. Exits 0
# only when both report none, 1 on any finding, 2 when an analyser cannot run.
#
#   scripts/static-analysis.sh            # fresh build, the full count (minutes)
#   HG_SA_BUILD=/tmp/sa scripts/static-analysis.sh
#       reuses that build directory: only files rebuilt since the last run are
#       analysed again, so its count covers changed files only (quick, for
#       checking a fix; the full count needs a fresh directory).
#
# Needs clang-tools-14 (scan-build-14) and cppcheck (Debian packages; see
# .ci/deps.sh --analyze).
#
# scan-build: the default checkers (core, unix, deadcode, security.insecureAPI
# subset, nullability) on a Debug build, so assert() states contracts the
# analyser sees.
# cppcheck: --enable=warning,performance,portability, and always its errors.
# "style" is left out: its checks (variable scope, const parameters, shadowed
# names) are taste, not defects, and would bury the findings that are.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
jobs=${HG_SA_JOBS:-2}
for tool in scan-build-14 cppcheck cmake; do
	command -v "$tool" >/dev/null || { echo "static-analysis: $tool not found (.ci/deps.sh --analyze)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=${HG_SA_BUILD:-$tmp/build}

# --- clang static analyzer ---
if [ ! -f "$build/CMakeCache.txt" ]; then
	scan-build-14 cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug >"$tmp/configure.log" 2>&1 ||
		{ cat "$tmp/configure.log" >&2; echo "static-analysis: configure failed" >&2; exit 2; }
fi
scan-build-14 -o "$tmp/reports" cmake --build "$build" --target agent agentctl -j"$jobs" >"$tmp/scan.log" 2>&1
build_rc=$?
grep -E 'warning: .*\[[a-zA-Z.]+\]$' "$tmp/scan.log" | sort -u >"$tmp/scan.txt"
summary=$(grep -E '^scan-build: (No bugs found|[0-9]+ bugs? found)' "$tmp/scan.log" | tail -n 1)
case "$summary" in
"scan-build: No bugs found."*) scan_n=0 ;;
"scan-build: "*) scan_n=$(echo "$summary" | sed -E 's/^scan-build: ([0-9]+).*/\1/') ;;
*) scan_n="" ;;
esac
# Without --status-bugs scan-build exits as the build did: non-zero is a
# build that failed (findings are counted from its summary line).
if [ "$build_rc" -ne 0 ] || [ -z "$scan_n" ]; then
	grep -E ': error: |Error [0-9]+' "$tmp/scan.log" >&2 || tail -n 30 "$tmp/scan.log" >&2
	echo "static-analysis: the build under scan-build failed" >&2
	exit 2
fi
cat "$tmp/scan.txt"
echo "scan-build: $scan_n finding(s)"

# --- cppcheck ---
# The definitions CMake passes, so every file is checked in the
# configuration it is built in (curl_lazy.c and snappy_lazy.c stop with
# #error without theirs). System headers are not given: cppcheck's own
# library knowledge stands in for them.
mapfile -t files < <(find agent kube agentctl plugins -name '*.c' | sort)
cppcheck --quiet --std=c11 --enable=warning,performance,portability -j"$jobs" \
	-D_GNU_SOURCE -DHG_VERSION='"0"' -DHG_AGENT_IMAGE='"x"' -DHG_CURL_SONAME='"x"' -DHG_SNAPPY_SONAME='"x"' \
	-I agent -I kube -I agentctl \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	"${files[@]}" >"$tmp/cppcheck.txt" 2>&1
cpp_n=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: ' "$tmp/cppcheck.txt")
cat "$tmp/cppcheck.txt"
echo "cppcheck: $cpp_n finding(s)"

total=$((scan_n + cpp_n))
echo "static-analysis: $total finding(s)"
[ "$total" -eq 0 ]
