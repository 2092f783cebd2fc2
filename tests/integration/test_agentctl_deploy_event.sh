#!/usr/bin/env bash
# agentctl deploy-event as a pipeline runs it: the `deploy` point read back
# from a real influxd (tags, field types, time), started -> completed
# duration through HELIOGRAPH_DEPLOY_STARTED, v1 basic auth and v2 token
# requests as a scripted server sees them, exit codes 0/1/2/3 (3, and only
# 3, for a server unreachable, timed out or unavailable), a missing database
# created unless --skip-database-creation, typed strategy names written as
# the canonical tag, and the password or token never printed, whatever the
# server answers.
source "$TESTLIB"
here=$(dirname "$TESTLIB")
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
unset HELIOGRAPH_DEPLOY_STARTED HELIOGRAPH_INFLUX_URL HELIOGRAPH_INFLUX_DATABASE HELIOGRAPH_INFLUX_USERNAME \
	HELIOGRAPH_INFLUX_PASSWORD HELIOGRAPH_INFLUX_TOKEN HELIOGRAPH_INFLUX_ORG HELIOGRAPH_INFLUX_BUCKET HELIOGRAPH_CLUSTER

expect_rc() { # expect_rc RC CMD...: output in $TMP/out, $TMP/err
	local want=$1 rc=0
	shift
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "$* exited $rc, expected $want: $(cat "$TMP/err")"
}

# ---- help and usage errors (2), nothing sent ----
expect_rc 0 "$AGENTCTL" help deploy-event
cp "$TMP/out" "$TMP/help"
expect_rc 0 "$AGENTCTL" deploy-event --help
cmp -s "$TMP/out" "$TMP/help" || fail "deploy-event --help differs from help deploy-event"
for flag in service strategy version phase namespace cluster message started-at duration url database username \
	password token org bucket skip-database-creation; do
	grep -q -- "--$flag " "$TMP/out" || fail "deploy-event --help lacks --$flag"
done
"$AGENTCTL" --help | grep -q '^  deploy-event ' || fail "agentctl --help does not list deploy-event"

BASE=(--url http://127.0.0.1:9 --service web --strategy rolling --version 1.0)
expect_rc 2 "$AGENTCTL" deploy-event
expect_rc 2 "$AGENTCTL" deploy-event --strategy rolling --version 1 --phase started
grep -q -- '--service is required' "$TMP/err" || fail "missing --service: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-event --service web --version 1 --phase started
expect_rc 2 "$AGENTCTL" deploy-event --service web --strategy rolling --phase started
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}"
grep -q -- '--phase is required' "$TMP/err" || fail "missing --phase: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --strategy blue
grep -q "expected bigbang, rolling, canary or bluegreen" "$TMP/err" || fail "bad strategy: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --token t --bucket b --skip-database-creation
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase done
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --duration 5
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase completed --duration -1
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase completed --started-at yesterday
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase completed --started-at 2000000000s --time 1000000000s
HELIOGRAPH_DEPLOY_STARTED=junk expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase failed
grep -q "HELIOGRAPH_DEPLOY_STARTED 'junk'" "$TMP/err" || fail "bad env started: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --token t
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --bucket b
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --token t --bucket b --username u --password p
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --username u
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --url ftp://x
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started extra
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --passwrd=SeCrEt-typo
grep -q SeCrEt "$TMP/err" && fail "unknown option echoed its value: $(cat "$TMP/err")"
expect_rc 2 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --password
# Unreachable server: 3, with the URL and without the password.
expect_rc 3 "$AGENTCTL" deploy-event "${BASE[@]}" --phase started --username u --password PaSs-unreach
grep -q 'not recorded: http://127.0.0.1:9/write' "$TMP/err" || fail "unreachable: $(cat "$TMP/err")"
grep -q PaSs "$TMP/err" "$TMP/out" && fail "password printed"
[ -s "$TMP/out" ] && fail "started printed $(cat "$TMP/out") although nothing was recorded"

# ---- a real influxd: the point as written ----
influx_start
DB=deploys
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $DB" >/dev/null
export HELIOGRAPH_INFLUX_URL=$INFLUX_URL HELIOGRAPH_INFLUX_DATABASE=$DB
MSG='build #42: "ok", a=b, c\d'
expect_rc 0 "$AGENTCTL" deploy-event --service shop-web --strategy canary --version 2.1.0 --phase started \
	--namespace shop --cluster eks-1 --image registry/shop-web:2.1.0 --message "$MSG"
grep -Eq '^HELIOGRAPH_DEPLOY_STARTED=[0-9]{19}$' "$TMP/out" || fail "started output: $(cat "$TMP/out")"
[ "$(wc -l <"$TMP/out")" = 1 ] || fail "started printed more than one line"
started=$(cat "$TMP/out")
export "$started"
sleep 1.2
HELIOGRAPH_CLUSTER=eks-1 expect_rc 0 "$AGENTCTL" deploy-event --service shop-web --strategy canary --version 2.1.0 \
	--phase completed --namespace shop
[ -s "$TMP/out" ] && fail "completed printed: $(cat "$TMP/out")"

R=$(influx_query $DB 'SELECT * FROM "deploy" GROUP BY *')
python3 - "$R" "${started#*=}" "$MSG" <<'PY' || fail "points read back differ: $R"
import json, sys
r = json.loads(sys.argv[1]); t0 = int(sys.argv[2]); msg = sys.argv[3]
series = r["results"][0]["series"]
rows = []
for s in series:
    for v in s["values"]:
        row = dict(zip(s["columns"], v)); row.update(s["tags"]); rows.append(row)
rows.sort(key=lambda x: x["time"])
assert len(rows) == 2, rows
tags = {"namespace": "shop", "name": "shop-web", "kind": "Deployment", "strategy": "canary", "source": "pipeline",
        "cluster": "eks-1"}
for row, phase in zip(rows, ("started", "completed")):
    for k, v in tags.items():
        assert row[k] == v, (k, row)
    assert row["phase"] == phase, row
    assert row["version"] == "2.1.0", row
assert set(series[0]["tags"]) == set(tags) | {"phase"}, series[0]["tags"]
a, b = rows
assert a["time"] == t0, (a["time"], t0)
assert a["message"] == msg and a["image"] == "registry/shop-web:2.1.0", a
assert a["duration_s"] is None, a
assert b["message"] is None and b["image"] is None, b
d = b["duration_s"]
assert abs(d - (b["time"] - t0) / 1e9) < 1e-6 and 1.2 <= d < 10, (d, b["time"] - t0)
PY
R=$(influx_query $DB 'SHOW FIELD KEYS FROM "deploy"')
got=$(json_get "sorted(tuple(v) for v in d['results'][0]['series'][0]['values'])" <<<"$R")
[ "$got" = "[('duration_s', 'float'), ('image', 'string'), ('message', 'string'), ('version', 'string')]" ] ||
	fail "field types: $got"
R=$(influx_query $DB 'SHOW TAG KEYS FROM "deploy"')
got=$(json_get "sorted(v[0] for v in d['results'][0]['series'][0]['values'])" <<<"$R")
[ "$got" = "['cluster', 'kind', 'name', 'namespace', 'phase', 'source', 'strategy']" ] || fail "tag keys: $got"

# Every strategy and phase; --time and --duration as given; seconds with 's'.
for s in bigbang rolling canary bluegreen; do
	for p in started completed failed; do
		extra=()
		[ $p = started ] || extra=(--duration 12.5)
		expect_rc 0 "$AGENTCTL" deploy-event --service "svc-$s" --strategy $s --version 1 --phase $p \
			--time "1700000000s" "${extra[@]}"
	done
done
R=$(influx_query $DB "SELECT count(\"version\"), sum(\"duration_s\") FROM \"deploy\" WHERE time = 1700000000s GROUP BY \"strategy\", \"phase\"")
got=$(json_get "sorted((s['tags']['strategy'], s['tags']['phase'], s['values'][0][1], s['values'][0][2]) for s in d['results'][0]['series'])" <<<"$R")
want="[('bigbang', 'completed', 1, 12.5), ('bigbang', 'failed', 1, 12.5), ('bigbang', 'started', 1, None), ('bluegreen', 'completed', 1, 12.5), ('bluegreen', 'failed', 1, 12.5), ('bluegreen', 'started', 1, None), ('canary', 'completed', 1, 12.5), ('canary', 'failed', 1, 12.5), ('canary', 'started', 1, None), ('rolling', 'completed', 1, 12.5), ('rolling', 'failed', 1, 12.5), ('rolling', 'started', 1, None)]"
[ "$got" = "$want" ] || fail "strategies x phases: $got"
# --started-at wins over the environment; the printed time is the --time.
expect_rc 0 "$AGENTCTL" deploy-event --service w --strategy rolling --version 1 --phase failed \
	--time 1700000100000000000 --started-at 1700000040s
R=$(influx_query $DB "SELECT \"duration_s\" FROM \"deploy\" WHERE \"name\" = 'w'")
[ "$(json_get "d['results'][0]['series'][0]['values']" <<<"$R")" = "[[1700000100000000000, 60]]" ] ||
	fail "--started-at duration: $R"
# A missing database with --skip-database-creation: 1 (a fix, not a wait, is needed), with InfluxDB's
# reason and the flag and variable that name another database; nothing created.
expect_rc 1 "$AGENTCTL" deploy-event --service w --strategy rolling --version 1 --phase started --database nope \
	--skip-database-creation
grep -q 'HTTP 404: database not found: "nope" (--skip-database-creation is set); name the database with --database or HELIOGRAPH_INFLUX_DATABASE' \
	"$TMP/err" || fail "404 message: $(cat "$TMP/err")"
R=$(influx_query $DB 'SHOW DATABASES')
json_get "[v[0] for v in d['results'][0]['series'][0]['values']]" <<<"$R" | grep -q nope &&
	fail "--skip-database-creation created the database: $R"
# Without the flag the database is created, and the point lands in it. Strategy names as typed are
# written as the canonical tag values.
i=0
for typed in blue-green Blue-Green BLUE_GREEN blueGreen big-bang Big-Bang recreate RollingUpdate Canary; do
	i=$((i + 1))
	expect_rc 0 "$AGENTCTL" deploy-event --service "typed$i" --strategy "$typed" --version 1 --phase started \
		--database fresh
	created=0
	grep -q '^agentctl deploy-event: created database "fresh"$' "$TMP/err" && created=1
	[ "$created" = $((i == 1)) ] || fail "call $i: created=$created: $(cat "$TMP/err")"
done
R=$(influx_query fresh 'SELECT "version", "strategy" FROM "deploy" GROUP BY "name"')
got=$(json_get "sorted((s['tags']['name'], s['values'][0][2]) for s in d['results'][0]['series'])" <<<"$R")
want="[('typed1', 'bluegreen'), ('typed2', 'bluegreen'), ('typed3', 'bluegreen'), ('typed4', 'bluegreen'), ('typed5', 'bigbang'), ('typed6', 'bigbang'), ('typed7', 'bigbang'), ('typed8', 'rolling'), ('typed9', 'canary')]"
[ "$got" = "$want" ] || fail "typed strategies: $got"
unset HELIOGRAPH_INFLUX_URL HELIOGRAPH_INFLUX_DATABASE HELIOGRAPH_DEPLOY_STARTED

# ---- the requests on the wire (scripted server): v1 basic auth, v2 token ----
python3 "$here/../servers/http_fault_server.py" >"$TMP/fault.port" 2>"$TMP/fault.log" &
PIDS+=("$!")
wait_for grep -q PORT "$TMP/fault.port" || fail "fault server did not start"
url="http://127.0.0.1:$(awk '{print $2}' "$TMP/fault.port")"
PW='pw-Zq9#secret'
HELIOGRAPH_INFLUX_USERNAME=ci HELIOGRAPH_INFLUX_PASSWORD=$PW expect_rc 0 "$AGENTCTL" deploy-event --url "$url/" \
	--service web --strategy bluegreen --version 3 --phase started --time 1700000000s
TOK='tok-Zq9-secret'
HELIOGRAPH_INFLUX_TOKEN=$TOK expect_rc 0 "$AGENTCTL" deploy-event --url "$url" --org acme --bucket ops/autogen \
	--service web --strategy bluegreen --version 3 --phase completed --time 1700000060s --duration 60
curl -sf "$url/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$PW" "$TOK" <<'PY' || fail "requests on the wire: $(cat "$TMP/requests.json")"
import base64, json, sys
reqs = json.load(open(sys.argv[1])); pw, tok = sys.argv[2], sys.argv[3]
assert len(reqs) == 2, reqs
a, b = reqs
assert a["method"] == "POST" and a["path"] == "/write", a
assert a["params"] == {"db": ["telegraf"], "precision": ["ns"]}, a["params"]
assert a["headers"]["authorization"] == "Basic " + base64.b64encode(("ci:" + pw).encode()).decode(), a["headers"]
assert a["body"] == ("deploy,kind=Deployment,name=web,namespace=default,phase=started,source=pipeline,"
                     "strategy=bluegreen version=\"3\" 1700000000000000000\n"), a["body"]
assert b["path"] == "/api/v2/write", b
assert b["params"] == {"org": ["acme"], "bucket": ["ops/autogen"], "precision": ["ns"]}, b["params"]
assert b["headers"]["authorization"] == "Token " + tok, b["headers"]
assert b["body"] == ("deploy,kind=Deployment,name=web,namespace=default,phase=completed,source=pipeline,"
                     "strategy=bluegreen version=\"3\",duration_s=60 1700000060000000000\n"), b["body"]
PY
# A server that echoes the credentials in its error: 1, and they are scrubbed.
curl -sf -XPOST "$url/_ctl/script" -d "[
 {\"path\": \"/write\", \"status\": 401, \"body\": \"{\\\"error\\\":\\\"authorization failed for ci:$PW\\\"}\"},
 {\"path\": \"/api/v2/write\", \"status\": 401, \"body\": \"{\\\"message\\\":\\\"bad token $TOK\\\"}\"}]" >/dev/null
HELIOGRAPH_INFLUX_USERNAME=ci HELIOGRAPH_INFLUX_PASSWORD=$PW expect_rc 1 "$AGENTCTL" deploy-event --url "$url" \
	--service web --strategy bluegreen --version 3 --phase started
grep -q 'HTTP 401: authorization failed for ci:\*\*\*' "$TMP/err" || fail "401 message: $(cat "$TMP/err")"
grep -qF -e "$PW" "$TMP/err" "$TMP/out" && fail "password printed: $(cat "$TMP/err")"
expect_rc 1 "$AGENTCTL" deploy-event --url "$url" --token "$TOK" --bucket b \
	--service web --strategy bluegreen --version 3 --phase started
grep -q 'HTTP 401: bad token \*\*\*' "$TMP/err" || fail "v2 401 message: $(cat "$TMP/err")"
grep -qF -e "$TOK" "$TMP/err" "$TMP/out" && fail "token printed: $(cat "$TMP/err")"
# 5xx, 429 and a server that closes: 3. A 400 (the server refuses what was sent): 1.
curl -sf -XPOST "$url/_ctl/script" -d '[{"path": "/write", "status": 503, "body": "overloaded"},
 {"path": "/write", "status": 429, "body": "slow down"}, {"path": "/write", "close": true},
 {"path": "/write", "status": 400, "body": "{\"error\":\"unable to parse\"}"}]' >/dev/null
expect_rc 3 "$AGENTCTL" deploy-event --url "$url" --service web --strategy rolling --version 3 --phase started
grep -q 'HTTP 503: overloaded' "$TMP/err" || fail "503 message: $(cat "$TMP/err")"
expect_rc 3 "$AGENTCTL" deploy-event --url "$url" --service web --strategy rolling --version 3 --phase started
grep -q 'HTTP 429: slow down' "$TMP/err" || fail "429 message: $(cat "$TMP/err")"
expect_rc 3 "$AGENTCTL" deploy-event --url "$url" --service web --strategy rolling --version 3 --phase started
expect_rc 1 "$AGENTCTL" deploy-event --url "$url" --service web --strategy rolling --version 3 --phase started
grep -q 'HTTP 400: unable to parse' "$TMP/err" || fail "400 message: $(cat "$TMP/err")"
# A database the server will not create (a write-only user, as install-stack's influxdb-agent): 1, naming
# the flag and variable; the CREATE was sent to /query with the user's credentials, then nothing more.
curl -sf -XPOST "$url/_ctl/reset" >/dev/null
curl -sf -XPOST "$url/_ctl/script" -d '[{"path": "/write", "status": 404, "body": "{\"error\":\"database not found: \\\"telegraf\\\"\"}"},
 {"path": "/query", "status": 403, "body": "{\"error\":\"error authorizing query: ci not authorized to execute statement, requires admin privilege\"}"}]' >/dev/null
HELIOGRAPH_INFLUX_USERNAME=ci HELIOGRAPH_INFLUX_PASSWORD=$PW expect_rc 1 "$AGENTCTL" deploy-event --url "$url" \
	--service web --strategy rolling --version 3 --phase started
grep -q 'database "telegraf" not found, and CREATE DATABASE failed (HTTP 403: error authorizing query: ci not authorized.*): name the database with --database or HELIOGRAPH_INFLUX_DATABASE (default telegraf, the local set-up.s; install-stack.s InfluxDB uses heliograph)' \
	"$TMP/err" || fail "create refused: $(cat "$TMP/err")"
curl -sf "$url/_ctl/requests" >"$TMP/requests.json"
python3 - "$TMP/requests.json" "$PW" <<'PY' || fail "create on the wire: $(cat "$TMP/requests.json")"
import base64, json, sys, urllib.parse
reqs = json.load(open(sys.argv[1])); pw = sys.argv[2]
assert [r["path"] for r in reqs] == ["/write", "/query"], reqs
q = reqs[1]
assert urllib.parse.parse_qs(q["body"]) == {"q": ['CREATE DATABASE "telegraf"']}, q["body"]
assert q["headers"]["authorization"] == "Basic " + base64.b64encode(("ci:" + pw).encode()).decode(), q["headers"]
assert "p=" not in q["query"] and "u=" not in q["query"], q["query"]
PY
# A slow server: --timeout bounds the wait.
curl -sf -XPOST "$url/_ctl/script" -d '[{"path": "/write", "status": 204, "delay": 5}]' >/dev/null
t0=$(date +%s%N)
expect_rc 3 "$AGENTCTL" deploy-event --url "$url" --timeout 0.5 --service web --strategy rolling --version 3 --phase started
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] || fail "--timeout 0.5 took $ms ms"
echo "PASS test_agentctl_deploy_event"
