#!/bin/sh
# Runs every libFuzzer target (fuzz/fuzz_*.c) for N seconds each, seeded from
# tests/fixtures, and prints the executions per target.
#   fuzz/run.sh [SECONDS=60] [BUILD_DIR=build-fuzz] [TARGET...]
# With TARGET names (e.g. fuzz_lp) only those run.
# Builds BUILD_DIR with clang and -DHG_FUZZ=ON when needed. The working
# corpus of each target is kept in BUILD_DIR/fuzz-corpus/NAME between runs;
# crashes are written to BUILD_DIR/fuzz-crashes/NAME/.
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
[ $# -ge 2 ] && shift 2 || shift $#
only="$*"

if [ ! -f "$build/CMakeCache.txt" ]; then
	CC=clang cmake -S "$root" -B "$build" -DHG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

# Seeds: the fixtures a target reads, small files only (libFuzzer sizes its
# inputs after the largest seed).
seeds_for() {
	name=$1 dir=$2
	mkdir -p "$dir"
	case $name in
	fuzz_lp)
		src="$root/tests/fixtures/influxdb"
		# every decode input of the InfluxData corpus, one file each
		if command -v python3 >/dev/null && [ -f "$src/line-protocol-corpus.json" ]; then
			python3 - "$src/line-protocol-corpus.json" "$dir" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
for k, v in d["decode"].items():
    t = v["input"]["text"]
    b = base64.b64decode(t["binary"]) if isinstance(t, dict) else t.encode()
    open(f"{sys.argv[2]}/{k}", "wb").write(b)
PY
		fi
		;;
	fuzz_influxdb_listener)
		# whole requests (the first byte picks the read size): v1 and v2
		# writes, plain and gzip, good, partial and pipelined
		src=/nonexistent
		python3 - "$dir" <<'PY'
import gzip, sys
lines = [b"cpu,host=a,zone=b usage=1.5,n=3i 1700000000000000000\n",
         b"m v=1\nbad line\nq,t=1 s=\"x\\\"y\",u=5u 17\n",
         b"# c\n\nw\\ x,t\\=k=v\\,1 f=t 1\r\n"]
n = 0
for body in lines:
    for target in (b"/write?db=d&rp=r&precision=s", b"/api/v2/write?org=o&bucket=b&precision=ms"):
        for gz in (False, True):
            b = gzip.compress(body) if gz else body
            h = b"POST " + target + b" HTTP/1.1\r\nHost: x\r\n"
            if gz:
                h += b"Content-Encoding: gzip\r\n"
            req = h + b"Content-Length: %d\r\n\r\n" % len(b) + b
            open(f"{sys.argv[1]}/req{n}", "wb").write(bytes([n * 7 % 64]) + req + req)
            n += 1
PY
		;;
	*) src="$root/tests/fixtures" ;;
	esac
	find "$src" -type f -size -64k ! -name '*.json' -exec cp {} "$dir/" \; 2>/dev/null || true
}

total=0
for src in "$root"/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	if [ -n "$only" ]; then
		case " $only " in *" $name "*) ;; *) continue ;; esac
	fi
	if ! cmake --build "$build" --target "$name" -j2 >"$build/fuzz-$name.build.log" 2>&1; then
		echo "$name: build failed (see $build/fuzz-$name.build.log)"
		total=1
		continue
	fi
	work="$build/fuzz-corpus/$name"
	seeds="$build/fuzz-seeds/$name"
	crashes="$build/fuzz-crashes/$name"
	mkdir -p "$work" "$crashes"
	[ -d "$seeds" ] || seeds_for "$name" "$seeds"
	log="$build/fuzz-$name.log"
	rc=0
	"$build/fuzz/$name" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	echo "$name: ${execs:-?} execs in ${secs}s, exit $rc (log: $log)"
	if [ "$rc" -ne 0 ]; then
		grep -m5 -E 'ERROR|assertion|SUMMARY' "$log" || true
		total=1
	fi
done
exit $total
