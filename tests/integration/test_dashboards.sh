#!/usr/bin/env bash
# The Grafana dashboards on real data: a real influxd filled by the agent
# (node inputs, internal, and the kubernetes input against the fixture-backed
# test kubelet) and by `agentctl deploy-event` (every strategy and phase, a
# failure and its restore) and `agentctl deploy-check` (verdicts judged on
# pod data written as the agents write it: deploy_check_data.py); then every panel target and annotation query,
# with $timeFilter, $__interval and the template variables substituted as
# Grafana does, must return data (dashboards_check.py). The JSON files must
# be what gen.py writes, and carry the fields Grafana requires.
#
# The kube_inventory input (restarts_total, state, requests/limits of every
# container) reads the test API server, seeded with the same pods as the
# test kubelet serves (and the fixtures test_input_kube_inventory uses).
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

python3 "$SRC/grafana-dashboards/gen.py" --check || fail "grafana-dashboards/*.json differ from gen.py's output"

influx_start
DB=heliograph

# ---- the test kubelet over HTTPS, serving a captured summary and pod list ----
command -v openssl >/dev/null || fail "openssl not installed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$TMP/openssl.log" || fail "openssl req"
echo "tok-$RANDOM-$RANDOM" >"$TMP/token"
python3 "$(dirname "$TESTLIB")/test_kubelet_server.py" --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
	--token-file "$TMP/token" --port-file "$TMP/port" \
	--summary "$FIXTURES/kubelet-summary/honeycomb-baremetal-docker-calico-summary.json" \
	--pods "$FIXTURES/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json" >"$TMP/kubelet.log" 2>&1 &
PIDS+=($!)
wait_for test -s "$TMP/port" || fail "test kubelet did not start"

# PSI needs a kernel with CONFIG_PSI (4.20+) and psi not disabled at boot;
# without it the three pressure panels can only be checked for valid InfluxQL.
# ---- the test API server for kube_inventory, with the same pods ----
kube_start --controller-delay 0.3
kube_config "$TMP/kubeconfig"
for f in kubelet-pods/honeycomb-baremetal-docker-calico-pods.json kubelet-pods/nri-minikube-k8s1.35-containerd2.2-pods.json \
	k8s-api/misc/honeycomb-baremetal-nodelist.json k8s-api/deployments/kind-v1.36-deploymentlist-kube-system.json; do
	curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$FIXTURES/$f" >/dev/null ||
		fail "seeding $f"
done

PSI="collect: [psi]"
EMPTY_OK=()
if ! cat /proc/pressure/memory >/dev/null 2>&1; then
	echo "note: no /proc/pressure here: PSI panels checked for valid InfluxQL only"
	PSI=""
	for p in "CPU pressure (PSI some, avg10)" "Memory pressure (PSI)" "I/O pressure (PSI)"; do
		EMPTY_OK+=(--may-be-empty "heliograph-node:$p")
	done
fi
cat >"$TMP/agent.yaml" <<CONF
agent: {hostname: dash-node, interval: 1s, flush_interval: 1s}
inputs:
  - cpu: {percpu: false, totalcpu: true}
  - mem: {}
  - disk: {}
  - diskio: {}
  - net: {}
  - system: {}
  - processes: {}
  - kernel: {$PSI}
  - internal: {collect_process: true}
  - kubernetes: {url: "https://127.0.0.1:$(cat "$TMP/port")", bearer_token: "$TMP/token", tls_ca: "$TMP/cert.pem"}
  - kube_inventory: {kubeconfig: "$TMP/kubeconfig", namespace: "", leader_election: false}
outputs:
  - influxdb: {urls: ["$INFLUX_URL"], database: $DB}
CONF

T_FROM=$(($(date +%s) - 3600))
# --once several times: counters (network, disk I/O, kubelet) get rates.
for i in 1 2 3; do
	"$AGENT" --config "$TMP/agent.yaml" --once >>"$TMP/agent.log" 2>&1 || fail "agent --once run $i failed"
	sleep 1.1
done
# usage_* of cpu, io_util, cpu_usage of the agent need two gathers in one
# process: a short continuous run gives them.
agent_start "$TMP/agent.yaml"
sleep 3.5
agent_stop || fail "agent exited non-zero after SIGTERM"
grep -q 'E!' "$TMP/agent.log" && fail "agent errors: $(grep 'E!' "$TMP/agent.log" | head -5)"

# ---- deploys of every strategy, one failing and restored ----
now=$(date +%s)
ev() { # ev SECONDS_AGO SERVICE STRATEGY PHASE VERSION [args]
	local ago=$1 svc=$2 strat=$3 phase=$4 ver=$5
	shift 5
	"$AGENTCTL" deploy-event --url "$INFLUX_URL" --database $DB --namespace nginx --cluster test \
		--service "$svc" --strategy "$strat" --phase "$phase" --version "$ver" --time "$((now - ago))s" "$@" \
		>>"$TMP/deploy.out" 2>>"$TMP/deploy.log" || fail "deploy-event $svc $strat $phase: $(cat "$TMP/deploy.log")"
}
ev 1500 cart bigbang started 1.0
ev 1440 cart bigbang completed 1.0 --started-at "$((now - 1500))s"
ev 1200 web rolling started 2.0
ev 1150 web rolling completed 2.0 --duration 50
ev 1000 web canary started 2.1
ev 900 web canary failed 2.1 --started-at "$((now - 1000))s" --message "canary error rate 5%"
ev 600 web canary started 2.2
ev 480 web canary completed 2.2 --started-at "$((now - 600))s"
ev 400 api bluegreen started 7
ev 380 api bluegreen completed 7 --duration 20
ev 300 api bluegreen started 8
ev 290 api bluegreen failed 8 --duration 10
ev 100 api bluegreen completed 8.1 --duration 15
# ---- deploy-check verdicts: pods as the agents write them (deploy_check_data.py),
# judged and recorded by agentctl deploy-check: one verified rolling deploy,
# one degraded rolling (restarts), one degraded canary (OOMKilled) ----
START=$((now - 1000))
python3 "$(dirname "$TESTLIB")/deploy_check_data.py" "$START" healthy restarts canary >"$TMP/pods.lp"
curl -sf -XPOST "$INFLUX_URL/write?db=$DB&precision=ns" --data-binary "@$TMP/pods.lp" || fail "writing pod data"
check() { # check RC NAMESPACE [args]
	local want=$1 ns=$2 rc=0
	shift 2
	"$AGENTCTL" deploy-check --url "$INFLUX_URL" --database $DB --namespace "$ns" --service shop --window 5m \
		--started-at "${START}s" --time "$((START + 60))s" --version 3.0 "$@" >>"$TMP/check-verdicts.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "deploy-check $ns exited $rc: $(cat "$TMP/check-verdicts.out")"
}
check 0 healthy
check 1 restarts
check 1 canary --canary-workload shop-canary --stable-workload shop
T_TO=$(($(date +%s) + 60))

# panel_query TITLE: the deploys dashboard's query of that panel, as Grafana
# sends it with every variable at "All".
panel_query() {
	python3 - "$SRC/grafana-dashboards/deploys.json" "$1" "$T_FROM" "$T_TO" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
q = [t["query"] for p in d["panels"] if p["title"] == sys.argv[2] for t in p["targets"]][0]
for v in ("source", "strategy", "namespace", "service"):
    q = q.replace("$" + v, ".*")
print(q.replace("$timeFilter", "time >= %s000ms and time <= %s000ms" % (sys.argv[3], sys.argv[4])))
PY
}
# Restore times: web failed 900 s ago, restored 480 s ago (420 s); api 290 -> 100 (190 s).
R=$(influx_query $DB "$(panel_query "Time to restore after a failed deploy")")
got=$(json_get "sorted((s['tags']['name'], [r[1] for r in s['values']]) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('api', [190]), ('web', [420])]" ] || fail "time to restore: $got"
R=$(influx_query $DB "$(panel_query "Median time to restore per strategy")")
got=$(json_get "sorted((s['tags']['strategy'], s['values'][0][1]) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('bluegreen', 190), ('canary', 420)]" ] || fail "median time to restore: $got"
# Failures over failures + completions: canary 1 of 2, bluegreen 1 of 3.
R=$(influx_query $DB "$(panel_query "Failure rate per strategy")")
got=$(json_get "sorted((s['tags']['strategy'], round(s['values'][0][1])) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('bigbang', 0), ('bluegreen', 33), ('canary', 50), ('rolling', 0)]" ] || fail "failure rate: $got"
# Median duration of completed deploys: bigbang 60, rolling 50, canary 120, bluegreen median(20, 15).
R=$(influx_query $DB "$(panel_query "Median duration per strategy")")
got=$(json_get "sorted((s['tags']['strategy'], s['values'][0][1]) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('bigbang', 60), ('bluegreen', 17.5), ('canary', 120), ('rolling', 50)]" ] || fail "median duration: $got"
# Verdicts: degraded rolling 1 (of 2 checked), canary 1 (of 1).
R=$(influx_query $DB "$(panel_query "Degraded deploys per strategy")")
got=$(json_get "sorted((s['tags']['strategy'], s['values'][0][1]) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('canary', 1), ('rolling', 1)]" ] || fail "degraded deploys per strategy: $got"
R=$(influx_query $DB "$(panel_query "Degraded share of checked deploys per strategy")")
got=$(json_get "sorted((s['tags']['strategy'], round(s['values'][0][1])) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('canary', 100), ('rolling', 50)]" ] || fail "degraded share: $got"
R=$(influx_query $DB "$(panel_query "Recent deploys")")
got=$(json_get "sorted((s['tags']['namespace'], s['tags']['phase'], v[2], v[3]) for s in d['results'][0]['series'] for v in s['values'] if v[2])" <<<"$R")
[ "$got" = "[('canary', 'degraded', 'degraded', 'restarts,oom_killed'), ('healthy', 'verified', 'healthy', ''), ('restarts', 'degraded', 'degraded', 'restarts')]" ] ||
	fail "verdict column: $got"
R=$(influx_query $DB "$(panel_query "Deploy verdicts: before and after")")
got=$(json_get "sorted((s['tags']['namespace'], v[2], v[5], v[6]) for s in d['results'][0]['series'] for v in s['values'])" <<<"$R")
[ "$got" = "[('canary', 'degraded', 0, 2), ('healthy', 'healthy', 0, 0), ('restarts', 'degraded', 0, 3)]" ] ||
	fail "verdicts table (namespace, verdict, restarts before/after): $got"

python3 "$(dirname "$TESTLIB")/dashboards_check.py" --url "$INFLUX_URL" --db $DB \
	--from "${T_FROM}000" --to "${T_TO}000" --interval 1s \
	"${EMPTY_OK[@]}" \
	"$SRC"/grafana-dashboards/*.json >"$TMP/check.out" 2>"$TMP/check.err" ||
	{ cat "$TMP/check.out" "$TMP/check.err" >&2; fail "dashboard queries"; }
tail -n 1 "$TMP/check.out"
# The restarts panel shows the fixture pods' restart counts, as the API
# server has them: one series per container, the highest count as in the fixture.
R=$(influx_query $DB "SELECT max(\"restarts_total\") FROM \"kubernetes_pod_container\" WHERE time >= ${T_FROM}000ms AND \"namespace\" !~ /^(healthy|restarts|canary)\$/ GROUP BY \"namespace\", \"pod_name\", \"container_name\"")
want=$(python3 -c '
import json, sys
n = 0
for f in sys.argv[1:]:
    for p in json.load(open(f))["items"]:
        n += len(p["spec"]["containers"])
print(n)' "$FIXTURES/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json" "$FIXTURES/kubelet-pods/nri-minikube-k8s1.35-containerd2.2-pods.json")
got=$(json_get "len(d['results'][0]['series'])" <<<"$R")
[ "$got" = "$want" ] || fail "restarts_total series: $got, expected one per fixture container ($want)"
want=$(python3 -c '
import json, sys
print(max(s.get("restartCount", 0) for f in sys.argv[1:] for p in json.load(open(f))["items"]
          for s in p["status"].get("containerStatuses", [])))' \
	"$FIXTURES/kubelet-pods/honeycomb-baremetal-docker-calico-pods.json" "$FIXTURES/kubelet-pods/nri-minikube-k8s1.35-containerd2.2-pods.json")
got=$(json_get "max(s['values'][0][1] for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "$want" ] || fail "max restarts_total $got, the fixtures' highest restartCount is $want"
! grep -q "empty (allowed) heliograph-kubernetes" "$TMP/check.out" || fail "a Kubernetes panel was empty"

# The check must be able to fail: a misspelt field (no data) and a syntax
# error are both reported.
sed 's/mean(\\"used_percent\\")/mean(\\"used_prcent\\")/; s/\\"n_cpus\\") FROM/\\"n_cpus\\") FRM/' \
	"$SRC/grafana-dashboards/node.json" >"$TMP/broken.json"
cmp -s "$TMP/broken.json" "$SRC/grafana-dashboards/node.json" && fail "mutation did not apply"
if python3 "$(dirname "$TESTLIB")/dashboards_check.py" --url "$INFLUX_URL" --db $DB \
	--from "${T_FROM}000" --to "${T_TO}000" "$TMP/broken.json" >"$TMP/broken.out" 2>"$TMP/broken.err"; then
	fail "a broken dashboard passed the check"
fi
grep -q 'heliograph-node:Memory used \[A\]: no data' "$TMP/broken.err" || fail "misspelt field not reported: $(cat "$TMP/broken.err")"
grep -q 'heliograph-node:CPUs \[A\]: HTTP 400: .*error parsing query' "$TMP/broken.err" || fail "syntax error not reported: $(cat "$TMP/broken.err")"
# ... and an annotation that no longer selects the verdict's signals.
sed 's/, \\"degraded_signals\\" FROM/ FROM/' "$SRC/grafana-dashboards/node.json" >"$TMP/broken2.json"
cmp -s "$TMP/broken2.json" "$SRC/grafana-dashboards/node.json" && fail "annotation mutation did not apply"
if python3 "$(dirname "$TESTLIB")/dashboards_check.py" --url "$INFLUX_URL" --db $DB \
	--from "${T_FROM}000" --to "${T_TO}000" "$TMP/broken2.json" >"$TMP/broken2.out" 2>"$TMP/broken2.err"; then
	fail "an annotation without its verdict column passed the check"
fi
grep -q 'annotation Deploys \[-\]: column degraded_signals of textColumn/tagsColumn is not selected' "$TMP/broken2.err" ||
	fail "annotation column not reported: $(cat "$TMP/broken2.err")"
echo "PASS test_dashboards"
