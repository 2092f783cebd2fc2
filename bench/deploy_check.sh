#!/usr/bin/env bash
# What one `agentctl deploy-check` costs the pipeline and InfluxDB: wall time,
# peak RSS, the bytes of InfluxDB's answers, for a service of PODS pods of 3
# containers gathered every 10 s (both inputs, as the agents write them), with
# windows of WINDOW minutes. Data in the past: the check does not wait.
#   AGENTCTL=build-rel/agentctl bench/deploy_check.sh [PODS="10 100"] [WINDOWS="5 60"]
# Prints a markdown table.
here=$(cd "$(dirname "$0")" && pwd)
export TESTLIB="$here/../tests/integration/lib.sh"
: "${AGENTCTL:=$here/../build-rel/agentctl}"
AGENT=$AGENTCTL
export AGENT
source "$TESTLIB"
PODS=${1:-"10 100"}
WINDOWS=${2:-"5 60"}
influx_start
echo "| pods | window | points read | answers (bytes) | wall s | peak RSS kB | exit |"
echo "|---|---|---|---|---|---|---|"
for pods in $PODS; do
	for win in $WINDOWS; do
		db="b${pods}_$win"
		curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $db" >/dev/null
		start=$(($(date +%s) - 4 * win * 60 - 600))
		# Old pods from 2 windows before the start, new ones from the start: both
		# inputs' kubernetes_pod_container points, every 10 s.
		python3 - "$start" "$pods" "$win" >"$TMP/data.lp" <<'PY'
import random, sys
start, pods, win = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) * 60
rng = random.Random(1)
out = sys.stdout
for gen, a, b in (("7d9f8b6c5", start - 2 * win, start), ("5c8d7e9f4", start, start + 60 + win + 30)):
    for i in range(pods):
        pod = "svc-%s-p%04d" % (gen, i)
        for t in range(a, b, 10):
            for c in ("app", "proxy", "log"):
                out.write("kubernetes_pod_container,container_name=%s,namespace=bench,node_name=n%d,pod_name=%s "
                          "cpu_usage_nanocores=%di,memory_working_set_bytes=%di %d\n"
                          % (c, i % 20, pod, rng.randint(10**7, 2 * 10**8), rng.randint(5 * 10**7, 3 * 10**8), t * 10**9))
                out.write("kubernetes_pod_container,container_name=%s,namespace=bench,node_name=n%d,phase=Running,"
                          "pod_name=%s,readiness=ready,state=running restarts_total=0i,state_code=0i %d\n"
                          % (c, i % 20, pod, (t + 3) * 10**9))
PY
		split -l 50000 "$TMP/data.lp" "$TMP/part."
		for f in "$TMP"/part.*; do
			curl -sf -XPOST "$INFLUX_URL/write?db=$db&precision=ns" --data-binary "@$f" || fail "write"
			rm -f "$f"
		done
		points=$(python3 -c "print($pods * 3 * 2 * 2 * $win * 6)")
		rc=0
		/usr/bin/time -f "%e %M" -o "$TMP/time" "$AGENTCTL" deploy-check --url "$INFLUX_URL" --database "$db" \
			--namespace bench --service svc --window "${win}m" --started-at "${start}s" --time "$((start + 60))s" \
			--no-record --show-queries >"$TMP/out" 2>"$TMP/err" || rc=$?
		bytes=0
		while IFS= read -r q; do
			n=$(curl -s -XPOST "$INFLUX_URL/query" --data-urlencode "db=$db" --data-urlencode epoch=ns \
				--data-urlencode "q=$q" | wc -c)
			bytes=$((bytes + n))
		done < <(sed -n 's/^query: //p' "$TMP/err")
		read -r wall rss <"$TMP/time"
		echo "| $pods | ${win}m | ~$points | $bytes | $wall | $rss | $rc |"
	done
done
