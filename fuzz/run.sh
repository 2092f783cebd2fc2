#!/bin/sh
# Runs every libFuzzer target (fuzz/fuzz_*.c) for N seconds each, seeded from
# tests/fixtures and the committed corpus fuzz/corpus/NAME, and prints the
# executions per target.
#   fuzz/run.sh [SECONDS=60] [BUILD_DIR=build-fuzz] [TARGET...]
# With TARGET names (e.g. fuzz_lp) only those run.
#   FUZZ_RUNS=N    also stop a target after N executions (-runs), whichever
#                  of the two comes first
#   FUZZ_MERGE=1   afterwards, minimise everything the target has seen (the
#                  committed corpus, the seeds, this run's finds) into
#                  fuzz/corpus/NAME (-merge=1), for committing: later runs and
#                  test_fuzz_smoke start from where this one ended
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
	CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DHG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

# Writes, for each file and each flag byte (decimal), DIR/<file>.<byte>:
# the byte then the file (the targets read their options from byte 0).
prefixed() {
	out=$1 bytes=$2
	shift 2
	for f in "$@"; do
		[ -f "$f" ] || continue
		for b in $bytes; do
			{ printf "\\$(printf %03o "$b")"; cat "$f"; } >"$out/$(basename "$f").$b"
		done
	done
}

# Allocation bound per target (MB; -malloc_limit_mb): the kube parsers keep
# at most one object, so anything near this is a leak or a runaway buffer.
malloc_limit() {
	case $1 in
	fuzz_kubelet_* | fuzz_kube_* | fuzz_kobj | fuzz_kubeconfig | fuzz_jsonq | fuzz_influx_answer) echo 256 ;;
	*) echo 2048 ;;
	esac
}

# Seeds: the fixtures a target reads, small files only (libFuzzer sizes its
# inputs after the largest seed).
seeds_for() {
	name=$1 dir=$2
	mkdir -p "$dir"
	case $name in
	fuzz_lp | fuzz_otlp_encode)
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
		if [ "$name" = fuzz_otlp_encode ]; then
			# the metric types: prometheus v1 gauge, counter, untyped,
			# histogram, summary; the input counters
			printf '%s\n' 'go_goroutines,url=u gauge=42 1' 'x_total,url=u counter=7 2' 'up value=1 3' \
				'h,url=u 0.1=1,0.5=2,1=3,+Inf=4,count=4,sum=1.5 4' 'h2 1=5,2=3,+Inf=9,count=9i,sum=0 5' \
				's 0.5=0.2,0.99=0.4,count=10,sum=3 6' 'b count=2,sum=0.5 7' >"$dir/otlp-prometheus-v1"
			printf '%s\n' 'cpu,cpu=cpu-total time_user=10.5,usage_user=1.5 1' \
				'net,interface=eth0 bytes_sent=100u,speed=1000i 1' 'system load1=0.5,uptime=3600u 1' \
				'interrupts,cpu=cpu0 count=5i 1' 'prometheus,le=+Inf x_bucket=3 1' 'x gauge=2 9' >"$dir/otlp-counters"
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
	fuzz_proc_irq_conntrack)
		# the byte picks the file (mod 4: interrupts softirqs nf_conntrack nf_conntrack_count);
		# one byte per source directory, whose files share their names
		fx="$root/tests/fixtures/proc"
		prefixed "$dir" "0" "$fx"/node_exporter/proc__interrupts*
		prefixed "$dir" "4" "$fx"/procfs/proc__interrupts
		prefixed "$dir" "8" "$fx"/captured/proc__interrupts
		prefixed "$dir" "1" "$fx"/node_exporter/proc__softirqs
		prefixed "$dir" "5" "$fx"/procfs/proc__softirqs
		prefixed "$dir" "9" "$fx"/captured/proc__softirqs
		prefixed "$dir" "2" "$fx"/node_exporter/proc__net__stat__nf_conntrack
		prefixed "$dir" "6" "$fx"/captured/proc__net__stat__nf_conntrack
		prefixed "$dir" "3" "$fx"/node_exporter/proc__sys__net__netfilter__nf_conntrack_count
		prefixed "$dir" "7" "$fx"/captured/proc__sys__net__netfilter__nf_conntrack_count
		src=/nonexistent ;;
	fuzz_float)
		# edge values as text (strtod) and as 8 bytes of bits
		for t in 0 -0 0.1 0.30000000000000004 1e23 5e-324 2.2250738585072014e-308 \
			2.2250738585072009e-308 9007199254740993 1.7976931348623157e308 123456 1e-5; do
			printf %s "$t" >"$dir/text$t"
		done
		python3 - "$dir" <<'PY'
import struct, sys
for i, v in enumerate([0.1, 1e21, 5e-324, 1.7976931348623157e308, 2.0 ** -1022, 2.0 ** 60, -6632243.0]):
    open(f"{sys.argv[1]}/bits{i}", "wb").write(struct.pack("<d", v))
PY
		src=/nonexistent ;;
	fuzz_kubelet_summary)
		prefixed "$dir" "0 7 63 255" "$root"/tests/fixtures/kubelet-summary/*.json
		src=/nonexistent ;;
	fuzz_kubelet_pods)
		prefixed "$dir" "1 3 30 255" "$root"/tests/fixtures/kubelet-pods/*.json
		src=/nonexistent ;;
	fuzz_kube_watch)
		# WATCH streams (even flag byte) and LIST bodies (odd)
		prefixed "$dir" "0 2 40" "$root"/tests/fixtures/k8s-api/watch/*.jsonl
		prefixed "$dir" "1 3 41" "$root"/tests/fixtures/k8s-api/deployments/*.json \
			"$root"/tests/fixtures/k8s-api/misc/*.json
		src=/nonexistent ;;
	fuzz_kube_inventory)
		# the byte picks the kind (mod 5: daemonsets deployments nodes pods statefulsets)
		prefixed "$dir" "1 16" "$root"/tests/fixtures/k8s-api/deployments/*.json
		prefixed "$dir" "2 27" "$root"/tests/fixtures/k8s-api/misc/honeycomb-baremetal-nodelist.json
		prefixed "$dir" "3 33" "$root"/tests/fixtures/kubelet-pods/*.json
		src=/nonexistent ;;
	fuzz_kobj)
		# Rollouts are YAML in the fixtures: the JSON seeds are the
		# DeploymentList's items, one per kind byte
		if command -v python3 >/dev/null; then
			python3 - "$root/tests/fixtures/k8s-api/deployments" "$dir" <<'PY'
import glob, json, sys
n = 0
for f in glob.glob(sys.argv[1] + "/*.json"):
    for it in json.load(open(f)).get("items", []):
        for kind in range(4):
            open(f"{sys.argv[2]}/obj{n}", "wb").write(bytes([kind]) + json.dumps(it).encode())
            n += 1
PY
		fi
		src=/nonexistent ;;
	fuzz_kubeconfig)
		prefixed "$dir" "0 1" "$root"/tests/fixtures/k8s-api/auth/*.yaml
		src=/nonexistent ;;
	fuzz_kube_exec)
		prefixed "$dir" "0 1" "$root"/tests/fixtures/k8s-api/auth/*.json
		src=/nonexistent ;;
	fuzz_kube_status)
		prefixed "$dir" "0 1 2 3 4 5" "$root"/tests/fixtures/k8s-api/status/*.json
		src=/nonexistent ;;
	fuzz_setup_log)
		# The influxdb-setup log shapes (k8s-manifests/20-stack-config.yaml setup.sh).
		printf '\100ts=1 lvl=info msg=x\nreport\tinfluxdb user admin (admin)\tcreated\nreport\tinfluxdb database heliograph\tunchanged\r\n' >"$dir/report"
		printf '\020ts=1 lvl=info msg=x\ninfluxdb-setup: InfluxDB does not accept the admin password\nts=2\n' >"$dir/failed"
		printf '\0031\n2\n3\n4\n5\n6\n7\n' >"$dir/lines"
		src=/nonexistent ;;
	fuzz_jsonq)
		prefixed "$dir" "0" "$root"/tests/fixtures/k8s-api/status/*.json \
			"$root"/tests/fixtures/k8s-api/discovery/*.json
		src=/nonexistent ;;
	*) src="$root/tests/fixtures" ;;
	esac
	find "$src" -type f -size -64k ! -name '*.json' -exec cp {} "$dir/" \; 2>/dev/null || true
}

# UBSan only reports and goes on by default: a finding must stop the run
# and leave a reproducer like an ASan one.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

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
	committed="$root/fuzz/corpus/$name"
	[ -d "$committed" ] || committed=""
	log="$build/fuzz-$name.log"
	rc=0
	# New inputs go to the first directory only: the committed corpus is read, never written.
	"$build/fuzz/$name" -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len=8192 \
		-print_final_stats=1 -malloc_limit_mb="$(malloc_limit "$name")" \
		-artifact_prefix="$crashes/" "$work" $committed "$seeds" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p' "$log" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	echo "$name: ${execs:-?} execs in ${took:-$secs}s${cov:+, $cov}, exit $rc (log: $log)"
	if [ "$rc" -eq 0 ] && [ "${FUZZ_MERGE:-0}" = 1 ]; then
		merged="$build/fuzz-merged/$name"
		rm -rf "$merged"
		mkdir -p "$merged"
		if "$build/fuzz/$name" -merge=1 -max_len=8192 -malloc_limit_mb="$(malloc_limit "$name")" \
			"$merged" $committed "$work" "$seeds" >"$build/fuzz-$name.merge.log" 2>&1; then
			rm -rf "$root/fuzz/corpus/$name"
			mkdir -p "$root/fuzz/corpus"
			cp -r "$merged" "$root/fuzz/corpus/$name"
			echo "$name: corpus of $(ls "$merged" | wc -l) inputs ($(du -sk "$merged" | cut -f1) KiB) in fuzz/corpus/$name"
		else
			echo "$name: merge failed (see $build/fuzz-$name.merge.log)"
			total=1
		fi
	fi
	if [ "$rc" -ne 0 ]; then
		grep -m5 -E 'ERROR|assertion|SUMMARY' "$log" || true
		total=1
	fi
done
exit $total
