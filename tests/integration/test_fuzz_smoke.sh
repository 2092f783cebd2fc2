#!/usr/bin/env bash
# Every libFuzzer target in fuzz/ still builds (clang, -fsanitize=fuzzer),
# replays its committed corpus (fuzz/corpus/NAME, minimised from the long
# runs) and its seeds, and fuzzes for a second, without a finding. The real
# fuzzing runs are fuzz/run.sh with a longer time (numbers in bench/RESULTS.md).
source "$TESTLIB"
root=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
command -v clang >/dev/null || fail "clang not installed (bash .ci/deps.sh --test installs it)"
sh "$root/fuzz/run.sh" 1 "$TMP/build-fuzz" >"$TMP/fuzz.out" 2>&1 || { cat "$TMP/fuzz.out"; fail "a fuzz target failed to build or found something"; }
cat "$TMP/fuzz.out"
n=$(grep -cE "^fuzz_[a-z_]+: [0-9]+ execs in [0-9]+s.*, exit 0 " "$TMP/fuzz.out")
want=$(ls "$root"/fuzz/fuzz_*.c | wc -l)
[ "$n" = "$want" ] || fail "$n of $want fuzz targets ran"
# Each committed corpus was read whole (libFuzzer names the count it found per directory).
replayed=0
for dir in "$root"/fuzz/corpus/fuzz_*; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	files=$(ls "$dir" | wc -l)
	grep -Eq "INFO: +$files files found in $dir\$" "$TMP/build-fuzz/fuzz-$name.log" ||
		fail "$name did not replay its $files committed inputs: $(grep 'files found' "$TMP/build-fuzz/fuzz-$name.log")"
	replayed=$((replayed + files))
done
ncorp=$(ls -d "$root"/fuzz/corpus/fuzz_* 2>/dev/null | wc -l)
[ "$ncorp" = "$want" ] || fail "$ncorp of $want fuzz targets have a committed corpus (FUZZ_MERGE=1 fuzz/run.sh makes them)"
echo "fuzz smoke: $replayed committed corpus inputs replayed"
echo "fuzz smoke: $n targets built and ran"
