#!/usr/bin/env bash
# agentctl deploy-check against a real influxd (authentication on) filled as
# the agents fill it: the kubernetes input's and kube_inventory's
# kubernetes_pod_container points and the prometheus input's counters, with
# their names (deploy_check_data.py; the lines are checked against the
# plugin READMEs). Timestamps are in the past, so --started-at/--time and a
# window that has already passed: nothing waits.
#   healthy deploy -> 0, restarts -> 1 naming the container, memory growth
#   -> 1, a canary OOMKilled while stable pods are not -> 1 (track-labelled
#   Deployments and Argo Rollouts hashes), too little data -> 3 naming what
#   is missing, flapping around an unchanged mean -> 0 (although its plain
#   median jumps), an error-rate rise -> 1; the verdict recorded as a
#   `deploy` point; every query checked against the plugins' schema.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
SRC=$(cd "$here/../.." && pwd)
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
unset HELIOGRAPH_DEPLOY_STARTED HELIOGRAPH_INFLUX_URL HELIOGRAPH_INFLUX_DATABASE HELIOGRAPH_INFLUX_USERNAME \
	HELIOGRAPH_INFLUX_PASSWORD HELIOGRAPH_INFLUX_TOKEN HELIOGRAPH_INFLUX_ORG HELIOGRAPH_INFLUX_BUCKET HELIOGRAPH_CLUSTER

expect_rc() { # expect_rc RC CMD...: output in $TMP/out, $TMP/err
	local want=$1 rc=0
	shift
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "$* exited $rc, expected $want: $(cat "$TMP/out" "$TMP/err")"
}

# ---- help and usage errors (2) ----
expect_rc 0 "$AGENTCTL" help deploy-check
cp "$TMP/out" "$TMP/help"
expect_rc 0 "$AGENTCTL" deploy-check --help
cmp -s "$TMP/out" "$TMP/help" || fail "deploy-check --help differs from help deploy-check"
for flag in service namespace window started-at time pods canary-workload stable-workload canary-hash stable-hash \
	max-restarts max-oom max-not-ready max-cpu-increase max-memory-increase max-p95-increase min-samples \
	error-rate output no-record url database username password token; do
	grep -q -- "--$flag " "$TMP/out" || fail "deploy-check --help lacks --$flag"
done
"$AGENTCTL" --help | grep -q '^  deploy-check ' || fail "agentctl --help does not list deploy-check"
# docs/deploy-check.md names only flags the command has (deploy-event's aside).
for flag in $(grep -o -- '--[a-z][a-z0-9-]*' "$SRC/docs/deploy-check.md" | sort -u); do
	case $flag in --phase) continue ;; esac
	grep -q -- "$flag\b" "$TMP/help" || fail "docs/deploy-check.md names $flag, which deploy-check --help lacks"
done
expect_rc 2 "$AGENTCTL" deploy-check
grep -q -- '--service is required' "$TMP/err" || fail "no --service: $(cat "$TMP/err")"
U=(--url http://127.0.0.1:9 --service shop --time 1000000000s)
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --window 0
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --window soon
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --output yaml
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --max-restarts -1
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --min-samples 1
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --started-at 1000000100s
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --canary-workload shop-canary
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --canary-hash abc --stable-hash def --canary-pods a --stable-pods b
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --error-rate 'errors{code=~5..} / requests'
grep -q 'must be in double quotes' "$TMP/err" || fail "bad --error-rate: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-check --url http://127.0.0.1:9 --service Shop_1 --time 1000000000s
expect_rc 2 "$AGENTCTL" deploy-check "${U[@]}" --password=SeCrEt-alone
grep -q SeCrEt "$TMP/err" && fail "usage error printed a password"
# Unreachable InfluxDB: 3, as for not enough data.
expect_rc 3 "$AGENTCTL" deploy-check "${U[@]}" --started-at 999999000s
grep -q 'cannot judge: http://127.0.0.1:9/query' "$TMP/err" || fail "unreachable: $(cat "$TMP/err")"

# ---- a real influxd with authentication, filled as the agents fill it ----
: "${INFLUX_PORT:=$(free_port)}" "${INFLUX_RPC_PORT:=$(free_port)}"
INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"
mkdir -p "$TMP/influxdb"
"$SRC/scripts/influxd-conf.sh" "$TMP/influxdb" "$INFLUX_PORT" "$INFLUX_RPC_PORT" auth >"$TMP/influxdb.conf"
influxd -config "$TMP/influxdb.conf" >>"$TMP/influxd.log" 2>&1 &
PIDS+=($!)
wait_for curl -sf "$INFLUX_URL/ping" || fail "influxd did not start"
ADMIN_PW="adm-$RANDOM$RANDOM"
PW="ci-$RANDOM$RANDOM"
DB=heliograph
iq() { curl -sf -u "admin:$ADMIN_PW" -XPOST "$INFLUX_URL/query" --data-urlencode "q=$1" >/dev/null || fail "influx: $1"; }
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE USER admin WITH PASSWORD '$ADMIN_PW' WITH ALL PRIVILEGES" \
	>/dev/null || fail "create admin"
iq "CREATE DATABASE $DB"
iq "CREATE USER ci WITH PASSWORD '$PW'"
iq "GRANT ALL ON $DB TO ci"

START=$(($(date +%s) - 7200)) # two hours ago: every window has passed
python3 "$here/deploy_check_data.py" "$START" >"$TMP/lines"
python3 "$here/deploy_check_schema.py" "$SRC" lines "$TMP/lines" || fail "the test's data is not the agent's schema"
curl -sf -u "admin:$ADMIN_PW" -XPOST "$INFLUX_URL/write?db=$DB&precision=ns" --data-binary "@$TMP/lines" ||
	fail "writing the data"

export HELIOGRAPH_INFLUX_URL=$INFLUX_URL HELIOGRAPH_INFLUX_DATABASE=$DB HELIOGRAPH_INFLUX_USERNAME=ci \
	HELIOGRAPH_INFLUX_PASSWORD=$PW HELIOGRAPH_DEPLOY_STARTED=${START}000000000
C=(--service shop --window 5m --time "$((START + 60))s" --show-queries)
: >"$TMP/queries"
check() { # check RC NAMESPACE [args...]: the table in $TMP/out, queries kept
	local want=$1 ns=$2
	shift 2
	expect_rc "$want" "$AGENTCTL" deploy-check "${C[@]}" --namespace "$ns" "$@"
	grep '^query: ' "$TMP/err" >>"$TMP/queries"
	grep -q "$PW" "$TMP/out" "$TMP/err" && fail "the password was printed"
	return 0
}
line() { grep "^$1 " "$TMP/out" || fail "no $1 line: $(cat "$TMP/out")"; }

# Healthy: every signal ok; the error rate too.
check 0 healthy --version 1.4.2 --error-rate 'http_requests_total{code=~"5.."} / http_requests_total'
for s in restarts oom_killed not_ready_pct cpu_median_millicores cpu_p95_millicores memory_median_bytes \
	memory_p95_bytes error_rate_pct; do
	line $s | grep -q ' ok$' || fail "healthy: $s not ok: $(cat "$TMP/out")"
	# Each signal has its row in the docs' table and its fields in the deploy_events schema.
	grep -q "^| \`$s\`" "$SRC/docs/deploy-check.md" || grep -q "^| \`[a-z_]*\`, \`$s\`" "$SRC/docs/deploy-check.md" ||
		fail "docs/deploy-check.md has no row for $s"
	grep -q "\`${s}_before\`" "$SRC/plugins/inputs/deploy_events/README.md" ||
		grep -q "\`${s}_before\`/" "$SRC/plugins/inputs/deploy_events/README.md" ||
		fail "deploy_events README lacks ${s}_before"
done
grep -q '^verdict: healthy$' "$TMP/out" || fail "healthy verdict: $(cat "$TMP/out")"
# Per pod: app + proxy summed (80 + 20 millicores, 160 + 40 Mi).
line cpu_median_millicores | grep -Eq ' (9[5-9]|10[0-5])m +(9[5-9]|10[0-5])m ' || fail "cpu per pod: $(line cpu_median_millicores)"
line memory_median_bytes | grep -Eq ' (19[0-9]|20[0-9])\.[0-9]Mi +(19[0-9]|20[0-9])\.[0-9]Mi ' ||
	fail "memory per pod: $(line memory_median_bytes)"
line restarts | grep -Eq '^restarts +0 +0 ' || fail "restarts (the old pods' earlier restarts are not new): $(line restarts)"

# Restarts after the deploy: 1, the container named.
check 1 restarts --no-record
line restarts | grep -Eq '^restarts +0 +3 +\+3 +degraded: shop-5c8d7e9f4-klmno/app \+3$' || fail "restarts: $(line restarts)"
grep -q '^verdict: degraded (restarts)$' "$TMP/out" || fail "restarts verdict: $(cat "$TMP/out")"
grep -q 'shop-canary\|shopping' "$TMP/out" && fail "another workload's pods were read: $(cat "$TMP/out")"

# Memory growth past the threshold (200 -> 300 Mi per pod).
check 1 memory --output json
python3 - "$(cat "$TMP/out")" <<'PY' || fail "memory json: $(cat "$TMP/out")"
import json, sys
d = json.loads(sys.argv[1])
assert d["verdict"] == "degraded" and d["exit_code"] == 1 and d["mode"] == "before_after", d
s = {x["name"]: x for x in d["signals"]}
m = s["memory_median_bytes"]
assert m["verdict"] == "degraded", m
assert 1.4 < m["after"] / m["before"] < 1.6, m
assert s["memory_p95_bytes"]["verdict"] == "degraded", s
for k in ("restarts", "oom_killed", "not_ready_pct", "cpu_median_millicores"):
    assert s[k]["verdict"] == "ok", s[k]
PY

# Canary: the canary Deployment's pod OOMKilled twice, the stable ones not.
check 1 canary --canary-workload shop-canary --stable-workload shop --version 2.0.0
line oom_killed | grep -Eq '^oom_killed +0 +1 +\+1 +degraded: shop-canary-5c8d7e9f4-klmno/app \+1$' ||
	fail "canary oom: $(cat "$TMP/out")"
grep -q 'canary pods /\^shop-canary-\[a-z0-9\]+-\[a-z0-9\]+\$/ against stable pods' "$TMP/out" ||
	fail "canary header: $(cat "$TMP/out")"
grep -Eq '^verdict: degraded \(.*oom_killed.*\)$' "$TMP/out" || fail "canary verdict: $(cat "$TMP/out")"
# Argo Rollouts: one Rollout's pods by pod template hash.
check 1 argo --canary-hash 5d4f6b7c8 --stable-hash 77c9d8b6f4 --no-record
line oom_killed | grep -q 'degraded: shop-5d4f6b7c8-ccccc/app +1' || fail "argo oom: $(cat "$TMP/out")"

# Too little data after the deploy (3 gathers): 3, saying what is missing.
check 3 sparse
grep -Eq '^cpu_median_millicores .*not enough data: 6 per-pod samples of kubernetes_pod_container cpu_usage_nanocores \(kubernetes input\) for pods /\^shop-\[a-z0-9\]\+-\[a-z0-9\]\+\$/ between .* 10 needed$' \
	"$TMP/out" || fail "sparse: $(cat "$TMP/out")"
grep -q '^verdict: not enough data' "$TMP/out" || fail "sparse verdict: $(cat "$TMP/out")"
# --min-samples is the knob: with 5 the same data is judged.
check 0 sparse --min-samples 5 --no-record

# Flapping between two levels, the mean unchanged: the plain median jumps
# (100 -> 300 Mi), the comparison does not call it a regression.
check 0 flapping --output json --no-record
python3 - "$(cat "$TMP/out")" <<'PY' || fail "flapping: $(cat "$TMP/out")"
import json, sys
d = json.loads(sys.argv[1])
s = {x["name"]: x for x in d["signals"]}
m = s["memory_median_bytes"]
assert m["after"] / m["before"] > 2.5, ("the test lost its point: medians", m)
assert m["verdict"] == "ok" and "within noise" in m["detail"], m
assert d["verdict"] == "healthy", d
PY

# Error rate 0.1 % -> 8 %: 1.
check 1 errors --no-record --error-rate 'http_requests_total{code=~"5.."} / http_requests_total'
line error_rate_pct | grep -Eq '^error_rate_pct +0\.1% +8\.0% .* degraded$' || fail "error rate: $(cat "$TMP/out")"

# A wrong password: refused, said, not printed; 2 (configuration), never 1,
# which would roll a healthy deploy back.
HELIOGRAPH_INFLUX_PASSWORD=wrong-$PW expect_rc 2 "$AGENTCTL" deploy-check "${C[@]}" --namespace healthy
grep -q 'HTTP 401' "$TMP/err" || fail "401: $(cat "$TMP/err")"
grep -q "$PW" "$TMP/err" "$TMP/out" && fail "password printed"

# A window that ends in 2 s: the command sleeps until then (at least 2 s),
# then judges (no pod data in this namespace: 3).
t0=$(date +%s%N)
now_s=$(date +%s)
expect_rc 3 "$AGENTCTL" deploy-check --service shop --namespace nowhere --window 5s --started-at "$((now_s - 10))s" \
	--time "$((now_s - 3))s"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 1000 ] || fail "the window had not passed: returned after $ms ms"
grep -q 'waiting [0-9]* s, until .*, for the window to pass' "$TMP/err" || fail "no waiting message: $(cat "$TMP/err")"

# ---- the requests on the wire (scripted server) ----
python3 "$here/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
furl="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
# A 200 that is not InfluxDB's JSON: not judged (3), said; never 1.
curl -sf -XPOST "$furl/_ctl/script" -d '[{"path": "/query", "status": 200, "body": "<html>proxy login</html>"}]' >/dev/null
HELIOGRAPH_INFLUX_URL=$furl expect_rc 3 "$AGENTCTL" deploy-check "${C[@]}" --namespace healthy
grep -q 'cannot judge: InfluxDB: the answer is not JSON' "$TMP/err" || fail "not JSON: $(cat "$TMP/err")"
curl -sf "$furl/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$PW" <<'PY' || fail "requests on the wire: $(cat "$TMP/requests.json")"
import base64, json, sys, urllib.parse
reqs = json.load(open(sys.argv[1])); pw = sys.argv[2]
q = reqs[0]
assert q["method"] == "POST" and q["path"] == "/query" and q["query"] == "", q
assert q["headers"]["authorization"] == "Basic " + base64.b64encode(("ci:" + pw).encode()).decode(), q["headers"]
form = urllib.parse.parse_qs(q["body"])
assert form["db"] == ["heliograph"] and form["epoch"] == ["ns"], form
assert form["q"][0].startswith('SELECT last("restarts_total") FROM "kubernetes_pod_container"'), form
assert pw not in q["body"] and "u" not in form and "p" not in form, q
PY

# ---- the recorded verdicts ----
R=$(curl -sf -u "admin:$ADMIN_PW" -G "$INFLUX_URL/query" --data-urlencode "db=$DB" --data-urlencode epoch=ns \
	--data-urlencode 'q=SELECT * FROM "deploy" GROUP BY *')
python3 - "$R" "$START" <<'PY' || fail "recorded verdicts: $R"
import json, sys
r = json.loads(sys.argv[1]); start = int(sys.argv[2])
rows = []
for s in r["results"][0]["series"]:
    for v in s["values"]:
        row = dict(zip(s["columns"], v)); row.update(s["tags"]); rows.append(row)
by = {row["namespace"]: row for row in rows}
# Recorded: healthy, memory, canary; --no-record and "not enough data" wrote nothing.
assert sorted(by) == ["canary", "healthy", "memory"], sorted(by)
h, m, c = by["healthy"], by["memory"], by["canary"]
for row in rows:
    assert row["name"] == "shop" and row["source"] == "pipeline" and row["kind"] == "Deployment", row
    assert row["time"] == (start + 60 + 300) * 10**9, row
    assert row["window_s"] == 300, row
assert h["phase"] == "verified" and h["strategy"] == "rolling" and h["version"] == "1.4.2", h
assert h["degraded_signals"] == "" and h["comparison"] == "before_after" and h["verdict"] == "healthy", h
assert h["restarts_after"] == 0 and 0 < h["error_rate_pct_after"] < 1, h
assert m["phase"] == "degraded" and m["verdict"] == "degraded" and m["degraded_signals"] == "memory_median_bytes,memory_p95_bytes", m
assert 1.4 < m["memory_median_bytes_after"] / m["memory_median_bytes_before"] < 1.6, m
assert m["error_rate_pct_after"] is None, m
assert c["phase"] == "degraded" and c["strategy"] == "canary" and c["comparison"] == "canary", c
assert c["oom_killed_after"] == 1 and c["oom_killed_before"] == 0, c
assert "oom_killed" in c["degraded_signals"].split(","), c
PY

# ---- every query the command ran, against the plugins' schema ----
[ "$(grep -c . "$TMP/queries")" -ge 40 ] || fail "too few queries seen: $(cat "$TMP/queries")"
python3 "$here/deploy_check_schema.py" "$SRC" queries "$TMP/queries" || fail "a query is not the agent's schema"
# ... and a rename in a README is caught.
mkdir -p "$TMP/renamed/plugins/inputs"
cp -r "$SRC/plugins/inputs/kubernetes" "$SRC/plugins/inputs/kube_inventory" "$SRC/plugins/inputs/prometheus" \
	"$TMP/renamed/plugins/inputs/"
sed -i 's/| restarts_total |/| restart_count |/' "$TMP/renamed/plugins/inputs/kube_inventory/README.md"
python3 "$here/deploy_check_schema.py" "$TMP/renamed" queries "$TMP/queries" >"$TMP/renamed.out" 2>&1 &&
	fail "a renamed field went unnoticed"
grep -q 'no field restarts_total' "$TMP/renamed.out" || fail "rename: $(cat "$TMP/renamed.out")"
echo "PASS test_agentctl_deploy_check"
