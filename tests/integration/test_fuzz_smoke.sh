#!/usr/bin/env bash
# Every libFuzzer target in fuzz/ still builds (clang, -fsanitize=fuzzer)
# and runs its seed corpus for a second without a finding. The real
# fuzzing runs are fuzz/run.sh with a longer time (numbers in bench/RESULTS.md).
source "$TESTLIB"
root=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
command -v clang >/dev/null || fail "clang not installed (bash .ci/deps.sh --test installs it)"
sh "$root/fuzz/run.sh" 1 "$TMP/build-fuzz" >"$TMP/fuzz.out" 2>&1 || { cat "$TMP/fuzz.out"; fail "a fuzz target failed to build or found something"; }
cat "$TMP/fuzz.out"
n=$(grep -c "execs in 1s, exit 0" "$TMP/fuzz.out")
want=$(ls "$root"/fuzz/fuzz_*.c | wc -l)
[ "$n" = "$want" ] || fail "$n of $want fuzz targets ran"
echo "fuzz smoke: $n targets built and ran"
