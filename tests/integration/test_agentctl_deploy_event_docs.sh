#!/usr/bin/env bash
# The deploy-event examples of README.md and docs/pipelines.md, extracted
# and run as printed:
# - README's pipeline snippet against a fresh influxd as the README's local
#   set-up has it (no database yet; then the agent with etc/heliograph.yaml +
#   etc/output-influxdb.yaml): it succeeds, and the deploy lands in the
#   database the agent and its dashboards use (telegraf). The influxd listens
#   on a free port, given as HELIOGRAPH_INFLUX_URL/INFLUXDB_URL, not 8086.
# - docs/pipelines.md's bash deploy.sh, with a kubectl stand-in that only
#   records its arguments: it passes when InfluxDB is up (points written) or
#   unreachable (exit 3 tolerated), and fails on a usage error (2) and when
#   agentctl is missing (127), before kubectl runs.
# - the Jenkins example's one-line `sh` steps, run by sh -xe as Jenkins does:
#   exit 3 passes, 2 and 127 fail; no `|| true` is left. Its deploy-check
#   gate step, and deploy.sh's, run too: with no pod metrics, 3, no rollback;
#   deploy.sh's on pods that restart after the deploy: 1, rollout undo,
#   rolled_back recorded.
source "$TESTLIB"
SRC=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
unset HELIOGRAPH_DEPLOY_STARTED HELIOGRAPH_INFLUX_URL HELIOGRAPH_INFLUX_DATABASE HELIOGRAPH_INFLUX_USERNAME \
	HELIOGRAPH_INFLUX_PASSWORD HELIOGRAPH_INFLUX_TOKEN HELIOGRAPH_INFLUX_ORG HELIOGRAPH_INFLUX_BUCKET HELIOGRAPH_CLUSTER \
	INFLUXDB_URL INFLUXDB_DATABASE BUILD_URL NAMESPACE

# PATH with agentctl, and with the kubectl stand-in (a plain recorder: it runs nothing).
mkdir -p "$TMP/bin" "$TMP/kbin" "$TMP/run"
ln -s "$(cd "$(dirname "$AGENTCTL")" && pwd)/$(basename "$AGENTCTL")" "$TMP/bin/agentctl"
cat >"$TMP/kbin/kubectl" <<'SH'
#!/bin/sh
printf '%s\n' "$*" >>"$KUBECTL_LOG"
exit "${KUBECTL_RC:-0}"
SH
chmod +x "$TMP/kbin/kubectl"
BASE_PATH=/usr/local/bin:/usr/bin:/bin
if PATH=$TMP/kbin:$BASE_PATH command -v agentctl >/dev/null; then
	fail "an agentctl is installed in $BASE_PATH: the missing-agentctl case cannot be run here"
fi

# block FILE HEADING LANG: the first ```LANG block after the line HEADING.
block() {
	awk -v h="$2" -v open="\`\`\`$3" '$0 == h {on = 1; next} on && !inb && $0 == open {inb = 1; next}
		inb && $0 == "```" {exit} inb' "$1"
}

influx_start
R=$(curl -sf -G "$INFLUX_URL/query" --data-urlencode 'q=SHOW DATABASES')
json_get "[v[0] for v in d['results'][0]['series'][0].get('values', [])]" <<<"$R" | grep -q telegraf &&
	fail "the fresh influxd has a telegraf database already: $R"

# ---- README: the pipeline snippet, then the agent of the local set-up ----
block "$SRC/README.md" "## Deploy events from pipelines" sh >"$TMP/run/readme.sh"
grep -q 'agentctl deploy-event' "$TMP/run/readme.sh" || fail "README's pipeline snippet not found: $(cat "$TMP/run/readme.sh")"
printf '#!/bin/sh\necho deployed >"%s/deployed"\n' "$TMP" >"$TMP/run/deploy.sh"
chmod +x "$TMP/run/deploy.sh"
rc=0
(cd "$TMP/run" && PATH=$TMP/bin:$BASE_PATH HELIOGRAPH_INFLUX_URL=$INFLUX_URL bash -euo pipefail readme.sh) \
	>"$TMP/readme.out" 2>"$TMP/readme.log" || rc=$?
[ "$rc" = 0 ] || fail "README's snippet exited $rc: $(cat "$TMP/readme.log")"
[ -f "$TMP/deployed" ] || fail "README's snippet did not run ./deploy.sh"
R=$(influx_query telegraf 'SELECT "version", "duration_s", "strategy", "phase", "name" FROM "deploy"')
got=$(json_get "[(v[1], v[2] is not None and v[2] > 0, v[3], v[4], v[5]) for v in d['results'][0]['series'][0]['values']]" <<<"$R")
[ "$got" = "[('1.4.2', False, 'canary', 'started', 'api'), ('1.4.2', True, 'canary', 'completed', 'api')]" ] ||
	fail "README's snippet wrote: $got ($R)"
INFLUXDB_URL=$INFLUX_URL "$AGENT" --config "$SRC/etc/heliograph.yaml" --config "$SRC/etc/output-influxdb.yaml" --once \
	>"$TMP/agent.out" 2>"$TMP/agent.log" || fail "the local set-up's agent --once failed"
R=$(influx_query telegraf 'SHOW MEASUREMENTS')
got=$(json_get "sorted(v[0] for v in d['results'][0]['series'][0]['values'] if v[0] in ('deploy', 'mem', 'system'))" <<<"$R")
[ "$got" = "['deploy', 'mem', 'system']" ] || fail "deploys and the agent's metrics are not in one database: $R"

# ---- docs/pipelines.md: the bash deploy.sh ----
block "$SRC/docs/pipelines.md" '## bash: wrap `kubectl apply`' bash >"$TMP/run/deploy-example.sh"
grep -q 'agentctl deploy-event' "$TMP/run/deploy-example.sh" || fail "docs/pipelines.md's bash example not found"
grep -q '|| true' "$TMP/run/deploy-example.sh" && fail "the bash example still swallows every failure (|| true)"
export KUBECTL_LOG=$TMP/kubectl.log
# The example's gate (deploy-check) judges a 1 s window here: this influxd has
# no pod metrics, so it says "not enough data" (3) and the example carries on.
export CHECK_WINDOW=1s
example() { # example WANT_RC PATH [ENV=VALUE...] -- ARGS: runs deploy.sh
	local want=$1 path=$2 rc=0
	shift 2
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	: >"$KUBECTL_LOG"
	(cd "$TMP/run" && env PATH="$path" "${envs[@]}" bash deploy-example.sh "$@") >"$TMP/ex.out" 2>"$TMP/ex.log" || rc=$?
	[ "$rc" = "$want" ] || fail "deploy.sh $* (${envs[*]}) exited $rc, expected $want: $(cat "$TMP/ex.log")"
}
WITH=$TMP/kbin:$TMP/bin:$BASE_PATH
# InfluxDB up: started and completed recorded, with the duration; the typed strategy as its tag.
example 0 "$WITH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" HELIOGRAPH_INFLUX_DATABASE=pipes -- shop 2.0 Blue-Green
grep -q '^-n default apply -f k8s/shop/$' "$KUBECTL_LOG" && grep -q '^-n default rollout status deployment/shop' "$KUBECTL_LOG" ||
	fail "kubectl calls: $(cat "$KUBECTL_LOG")"
grep -q 'deploy-check could not judge shop 2.0' "$TMP/ex.log" && grep -q 'not enough data' "$TMP/ex.out" ||
	fail "the gate did not run, or said nothing: $(cat "$TMP/ex.out" "$TMP/ex.log")"
grep -q 'rollout undo' "$KUBECTL_LOG" && fail "not enough data rolled back: $(cat "$KUBECTL_LOG")"
# The rollout fails: its exit code, and a failed point with the reason.
example 7 "$WITH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" HELIOGRAPH_INFLUX_DATABASE=pipes KUBECTL_RC=7 -- cart 3.1 canary
R=$(influx_query pipes 'SELECT "phase", "strategy", "version", "duration_s", "message" FROM "deploy" GROUP BY "name"')
got=$(json_get "sorted((s['tags']['name'], v[1], v[2], v[3], v[4] is not None, v[5]) for s in d['results'][0]['series'] for v in s['values'])" <<<"$R")
want="[('cart', 'failed', 'canary', '3.1', True, 'kubectl exited 7'), ('cart', 'started', 'canary', '3.1', False, 'manual'), ('shop', 'completed', 'bluegreen', '2.0', True, None), ('shop', 'started', 'bluegreen', '2.0', False, 'manual')]"
[ "$got" = "$want" ] || fail "bash example's points: $got"
# The gate says degraded (1): rolled back, recorded, and the script fails. The
# pods' kube_inventory points (one a second, future ones too) restart 20 s and
# 25 s after X, the moment before the script starts: the span before the
# deploy (30 s before its start) has none of them, the 30 s window after it
# both, as long as the script reaches the check within 20 s of X.
X=$(date +%s)
python3 - "$X" >"$TMP/gate.lp" <<'PY'
import sys
x = int(sys.argv[1])
for t in range(x - 60, x + 70):
    n = (t >= x + 20) + (t >= x + 25)
    print("kubernetes_pod_container,container_name=app,namespace=gate,node_name=n1,phase=Running,"
          "pod_name=shop-5c8d7e9f4-klmno,readiness=ready,state=running restarts_total=%di,state_code=0i %d" % (n, t * 10**9))
PY
curl -sf -XPOST "$INFLUX_URL/write?db=pipes&precision=ns" --data-binary "@$TMP/gate.lp" || fail "writing the gate's pods"
example 1 "$WITH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" HELIOGRAPH_INFLUX_DATABASE=pipes NAMESPACE=gate CHECK_WINDOW=30s \
	-- shop 2.4 rolling
[ $(($(date +%s) - X)) -lt 70 ] || fail "the gate example took longer than its data"
grep -q '^restarts .* degraded: shop-5c8d7e9f4-klmno/app +2$' "$TMP/ex.out" || fail "gate: $(cat "$TMP/ex.out")"
grep -q '^-n gate rollout undo deployment/shop$' "$KUBECTL_LOG" && grep -c 'rollout status' "$KUBECTL_LOG" | grep -q 2 ||
	fail "no rollback: $(cat "$KUBECTL_LOG")"
R=$(influx_query pipes "SELECT \"version\", \"message\", \"degraded_signals\" FROM \"deploy\" WHERE \"namespace\" = 'gate' GROUP BY \"phase\"")
got=$(json_get "sorted((s['tags']['phase'], v[1], v[2], v[3]) for s in d['results'][0]['series'] for v in s['values'])" <<<"$R")
want="[('completed', '2.4', None, None), ('degraded', '2.4', None, 'restarts'), ('rolled_back', '2.4', 'deploy-check: degraded', None), ('started', '2.4', 'manual', None)]"
[ "$got" = "$want" ] || fail "gate's points: $got"
# Big bang deletes first.
example 0 "$WITH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" HELIOGRAPH_INFLUX_DATABASE=pipes -- old 1 big-bang
head -n1 "$KUBECTL_LOG" | grep -q '^-n default delete -f k8s/old/ --ignore-not-found --wait$' ||
	fail "big-bang: $(cat "$KUBECTL_LOG")"
# InfluxDB unreachable: the deploy goes on (agentctl exits 3, tolerated).
DOWN=http://127.0.0.1:$(free_port)
example 0 "$WITH" HELIOGRAPH_INFLUX_URL="$DOWN" -- shop 2.1 rolling
grep -q 'not recorded' "$TMP/ex.log" || fail "unreachable: agentctl said nothing: $(cat "$TMP/ex.log")"
grep -q 'rollout status' "$KUBECTL_LOG" || fail "unreachable InfluxDB stopped the deploy"
# A usage error: 2, and nothing deployed.
example 2 "$WITH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" -- shop 2.2 blue-ish
[ -s "$KUBECTL_LOG" ] && fail "a usage error still deployed: $(cat "$KUBECTL_LOG")"
# No agentctl: 127, and nothing deployed.
example 127 "$TMP/kbin:$BASE_PATH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" -- shop 2.3 rolling
[ -s "$KUBECTL_LOG" ] && fail "a missing agentctl still deployed: $(cat "$KUBECTL_LOG")"

# ---- docs/pipelines.md: the Jenkins example's sh steps ----
block "$SRC/docs/pipelines.md" '## Jenkins (declarative pipeline)' groovy >"$TMP/jenkins.groovy"
grep -q 'agentctl deploy-event' "$TMP/jenkins.groovy" || fail "docs/pipelines.md's Jenkins example not found"
grep -q '|| true' "$TMP/jenkins.groovy" && fail "the Jenkins example still swallows every failure (|| true)"
sed -n "s/^ *sh '\(agentctl deploy-event .*\)'$/\1/p" "$TMP/jenkins.groovy" >"$TMP/jenkins-steps"
[ "$(wc -l <"$TMP/jenkins-steps")" = 3 ] || fail "Jenkins one-line steps: $(cat "$TMP/jenkins-steps")"
while IFS= read -r step; do
	for c in "0 $TMP/bin:$BASE_PATH $INFLUX_URL" "0 $TMP/bin:$BASE_PATH $DOWN" "127 $BASE_PATH $INFLUX_URL"; do
		read -r want path url <<<"$c"
		rc=0
		env PATH="$path" HELIOGRAPH_INFLUX_URL="$url" HELIOGRAPH_INFLUX_DATABASE=jenkins SERVICE=web STRATEGY=canary \
			GIT_COMMIT=abc123 BUILD_URL=http://ci/1 sh -xe -c "$step" >"$TMP/j.out" 2>"$TMP/j.log" || rc=$?
		[ $(((rc == 0) == (want == 0))) = 1 ] ||
			fail "Jenkins step with $url, PATH $path exited $rc: $(cat "$TMP/j.log")"
	done
	# A usage error fails the step.
	rc=0
	env PATH="$TMP/bin:$BASE_PATH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" SERVICE=web STRATEGY=nonsense GIT_COMMIT=abc123 \
		BUILD_URL=http://ci/1 sh -xe -c "$step" >"$TMP/j.out" 2>"$TMP/j.log" || rc=$?
	[ "$rc" != 0 ] || fail "Jenkins step with a usage error passed: $(cat "$TMP/j.log")"
done <"$TMP/jenkins-steps"
R=$(influx_query jenkins 'SELECT count("version") FROM "deploy" GROUP BY "phase"')
got=$(json_get "sorted((s['tags']['phase'], s['values'][0][1]) for s in d['results'][0]['series'])" <<<"$R")
[ "$got" = "[('completed', 1), ('failed', 1), ('rolled_back', 1)]" ] || fail "Jenkins steps wrote: $got"
# The gate's step (returnStatus: its code picks the branch), on a 1 s window
# instead of 5m: no pod metrics here, so 3 (the build marked unstable).
sed -n "/returnStatus: true/,/''')/p" "$TMP/jenkins.groovy" | sed '1d;$d' >"$TMP/jenkins-gate"
grep -q 'agentctl deploy-check .*--window 5m' "$TMP/jenkins-gate" || fail "Jenkins gate step: $(cat "$TMP/jenkins-gate")"
rc=0
env PATH="$TMP/bin:$BASE_PATH" HELIOGRAPH_INFLUX_URL="$INFLUX_URL" HELIOGRAPH_INFLUX_DATABASE=jenkins SERVICE=web \
	STRATEGY=canary GIT_COMMIT=abc123 sh -xe -c "$(sed 's/--window 5m/--window 1s/' "$TMP/jenkins-gate")" \
	>"$TMP/j.out" 2>"$TMP/j.log" || rc=$?
[ "$rc" = 3 ] && grep -q 'not enough data' "$TMP/j.out" || fail "Jenkins gate exited $rc: $(cat "$TMP/j.out" "$TMP/j.log")"
echo "PASS test_agentctl_deploy_event_docs"
