#!/usr/bin/env bash
# Runs the whole test suite RUNS times in a row while a CPU hog keeps every
# core busy, to find the tests that fail only now and then (a test that fails
# once in twenty runs blocks a later submission at random). Not part of CI:
# it takes RUNS times the suite's time, and more under the hog.
#
#   tests/stress.sh [RUNS=5] [BUILD_DIR=build-test]
#
# BUILD_DIR is a configured and built test build (the README's test command
# makes build-test). The hog is stress-ng when installed (Debian stress-ng),
# else one busy shell loop per core; it is stopped on exit, however the script
# ends. Each run's ctest output goes to BUILD_DIR/stress/run-N.log; the summary
# (one line per run: failed tests, wall time, load average) to
# BUILD_DIR/stress/summary.txt. Exits 1 when any run had a failure.
set -uo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-test}
[ -f "$build/CTestTestfile.cmake" ] || { echo "stress: $build is not a built test build (run the README's test command first)" >&2; exit 2; }
out="$build/stress"
mkdir -p "$out"
cores=$(nproc)

hog_pids=()
stop_hog() {
	[ ${#hog_pids[@]} -gt 0 ] && kill "${hog_pids[@]}" 2>/dev/null
	wait "${hog_pids[@]}" 2>/dev/null
	hog_pids=()
}
trap stop_hog EXIT
trap 'exit 130' INT TERM
if command -v stress-ng >/dev/null; then
	stress-ng --cpu "$cores" --quiet &
	hog_pids+=($!)
	hog="stress-ng --cpu $cores"
else
	for _ in $(seq "$cores"); do
		bash -c 'while :; do :; done' &
		hog_pids+=($!)
	done
	hog="$cores busy shell loops"
fi

: >"$out/summary.txt"
bad=0
for i in $(seq "$runs"); do
	t0=$(date +%s)
	ctest --test-dir "$build" --output-on-failure -j2 --timeout 300 >"$out/run-$i.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	failed=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' "$out/run-$i.log" | tr '\n' ' ')
	total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 of \2 failed/p' "$out/run-$i.log")
	line="run $i/$runs: ${total:-ctest exit $rc} in ${secs}s, load $load (hog: $hog)${failed:+: $failed}"
	echo "$line" | tee -a "$out/summary.txt"
	[ "$rc" -eq 0 ] || bad=1
done
exit $bad
