#!/usr/bin/env bash
# agentctl deploy-event posting to the agent's line-protocol listener
# (inputs.influxdb_listener) instead of InfluxDB: v1 /write without and with
# basic auth, v2 /api/v2/write with a token; the deploy lines come out of the
# agent's file output with their tags, fields and the event's own time;
# wrong credentials exit 1 without printing them.
source "$TESTLIB"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
unset HELIOGRAPH_DEPLOY_STARTED HELIOGRAPH_INFLUX_URL HELIOGRAPH_INFLUX_DATABASE HELIOGRAPH_INFLUX_USERNAME \
	HELIOGRAPH_INFLUX_PASSWORD HELIOGRAPH_INFLUX_TOKEN HELIOGRAPH_INFLUX_ORG HELIOGRAPH_INFLUX_BUCKET HELIOGRAPH_CLUSTER

LP=$(free_port)
LA=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: node-a}
inputs:
  - influxdb_listener: {service_address: "127.0.0.1:$LP"}
  - influxdb_listener:
      alias: auth
      service_address: "127.0.0.1:$LA"
      basic_username: pipeline
      basic_password: "pipe-s3cret"
      token: "tok-s3cret"
outputs:
  - file: {files: ["$TMP/out.lp"]}
CONF
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$LP/health" || fail "listener did not start: $(cat "$TMP/agent.log")"
wait_for curl -sf "http://127.0.0.1:$LA/health" || fail "auth listener did not start"

ev() { # ev RC ARGS...: agentctl deploy-event; output in $TMP/ev.out/err
	local want=$1 rc=0
	shift
	"$AGENTCTL" deploy-event --namespace shop --cluster c1 "$@" >"$TMP/ev.out" 2>"$TMP/ev.err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "deploy-event $* exited $rc, expected $want: $(cat "$TMP/ev.err")"
}
# deploy_line PHASE NAME: the file output's deploy line of that phase and service.
deploy_line() { grep "^deploy,.*name=$2,.*phase=$1," "$TMP/out.lp"; }
wait_line() { WAIT_SECS=10 wait_for grep -q "^deploy,.*name=$2,.*phase=$1," "$TMP/out.lp" || fail "no $1 line for $2 in the file output: $(cat "$TMP/out.lp" 2>/dev/null)"; }

# ---- v1 /write on the plain listener: started, then completed with its duration ----
T0=$(($(date +%s) - 30))
ev 0 --url "http://127.0.0.1:$LP" --service web --strategy canary --phase started --version 2.1 \
	--image registry/web:2.1 --time "${T0}s"
started=$(sed -n 's/^HELIOGRAPH_DEPLOY_STARTED=//p' "$TMP/ev.out")
[ "$started" = "${T0}000000000" ] || fail "started printed '$started'"
ev 0 --url "http://127.0.0.1:$LP/" --service web --strategy canary --phase completed --version 2.1 \
	--started-at "$started" --time "$((T0 + 42))s" --message "all green"
wait_line started web
wait_line completed web
l=$(deploy_line started web)
for kv in cluster=c1 host=node-a kind=Deployment name=web namespace=shop phase=started source=pipeline strategy=canary; do
	[[ "$l" == *",$kv"[,\ ]* ]] || fail "started line lacks $kv: $l"
done
[[ "$l" == *'version="2.1"'* && "$l" == *'image="registry/web:2.1"'* ]] || fail "started fields: $l"
[ "${l##* }" = "${T0}000000000" ] || fail "started line time: $l"
l=$(deploy_line completed web)
[[ "$l" == *"duration_s=42"[,\ ]* && "$l" == *'message="all green"'* ]] || fail "completed fields: $l"
[ "${l##* }" = "$((T0 + 42))000000000" ] || fail "completed line time: $l"

# ---- v1 with basic auth (credentials from the environment), wrong password refused ----
HELIOGRAPH_INFLUX_USERNAME=pipeline HELIOGRAPH_INFLUX_PASSWORD=pipe-s3cret \
	ev 0 --url "http://127.0.0.1:$LA" --service api --strategy bluegreen --phase started --version 8
wait_line started api
HELIOGRAPH_INFLUX_USERNAME=pipeline HELIOGRAPH_INFLUX_PASSWORD=wrong-pass-42 \
	ev 1 --url "http://127.0.0.1:$LA" --service api --strategy bluegreen --phase failed --version 8
grep -q "401" "$TMP/ev.err" || fail "401 not reported: $(cat "$TMP/ev.err")"
! grep -q "wrong-pass-42" "$TMP/ev.err" "$TMP/ev.out" || fail "password printed"

# ---- v2 /api/v2/write with a token ----
HELIOGRAPH_INFLUX_TOKEN=tok-s3cret ev 0 --url "http://127.0.0.1:$LA" --org o --bucket heliograph \
	--service cart --strategy bigbang --phase failed --version 1.0 --duration 7
wait_line failed cart
[[ "$(deploy_line failed cart)" == *"duration_s=7"[,\ ]* ]] || fail "v2 line: $(deploy_line failed cart)"

agent_stop || fail "agent exited non-zero"
grep -q 'E!' "$TMP/agent.log" && fail "agent errors: $(grep 'E!' "$TMP/agent.log")"
[ "$(grep -c '^deploy,' "$TMP/out.lp")" -eq 4 ] || fail "deploy lines: $(grep '^deploy,' "$TMP/out.lp")"
! grep -q "phase=failed,.*name=api\|name=api,.*phase=failed" "$TMP/out.lp" || fail "the refused event was relayed"
echo "ok"
