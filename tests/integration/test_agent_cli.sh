#!/usr/bin/env bash
# The agent's command line as a user meets it: --test, --once and its exit
# code, --input-filter, config errors with file:line:column and exit 2,
# --sample-config that loads, SIGHUP reload (a bad config keeps the running
# one), and the health endpoint.
source "$TESTLIB"

# --test prints line protocol for each input once, with the host tag.
cat >"$TMP/test.yaml" <<CONF
agent: {hostname: cli-host, omit_hostname: false}
global_tags: {team: "a b"}
inputs:
  - mem: {}
  - internal: {alias: self}
outputs:
  - file: {files: ["$TMP/never.lp"]}
CONF
"$AGENT" --config "$TMP/test.yaml" --test >"$TMP/test.out" 2>"$TMP/test.err" || fail "--test exit status"
grep -q '^mem,host=cli-host,team=a\\ b .*total=[0-9]*i' "$TMP/test.out" || fail "--test: no mem line with escaped global tag: $(head -2 "$TMP/test.out")"
grep -q '^internal_gather,alias=self,host=cli-host,input=internal' "$TMP/test.out" || fail "--test: alias tag missing"
[ ! -s "$TMP/never.lp" ] || fail "--test must not write to outputs"

# agent.precision rounds timestamps: 1s leaves whole seconds.
printf 'agent: {precision: 1s}\ninputs: [{mem: {}}]\n' >"$TMP/precision.yaml"
"$AGENT" --config "$TMP/precision.yaml" --test >"$TMP/precision.out" 2>/dev/null || fail "--test with precision"
grep -q ' [0-9]*000000000$' "$TMP/precision.out" || fail "precision 1s not applied: $(cat "$TMP/precision.out" | cut -c1-40)... $(awk '{print $NF}' "$TMP/precision.out")"

# --input-filter keeps only the named inputs.
"$AGENT" --config "$TMP/test.yaml" --test --input-filter internal >"$TMP/filter.out" 2>/dev/null
grep -q '^mem,' "$TMP/filter.out" && fail "--input-filter did not filter"
grep -q '^internal_agent,' "$TMP/filter.out" || fail "--input-filter dropped the selected input"

# --once writes and exits 0; with an unreachable InfluxDB it exits 1.
cat >"$TMP/once.yaml" <<CONF
agent: {hostname: once-host}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/once.lp"]}}]
CONF
"$AGENT" --config "$TMP/once.yaml" --once 2>"$TMP/once.err" || fail "--once exit status"
[ "$(grep -c '^mem,' "$TMP/once.lp")" = 1 ] || fail "--once wrote $(grep -c . "$TMP/once.lp") lines, expected 1 mem line"
dead=$(free_port)
cat >"$TMP/once-dead.yaml" <<CONF
inputs: [{mem: {}}]
outputs: [{influxdb: {urls: ["http://127.0.0.1:$dead"], skip_database_creation: true, timeout: 2s}}]
CONF
rc=0
"$AGENT" --config "$TMP/once-dead.yaml" --once 2>"$TMP/once-dead.err" || rc=$?
[ "$rc" = 1 ] || fail "--once with a dead InfluxDB exited $rc, expected 1"

# Config errors: file:line:column, exit 2, nothing else alarming.
printf 'agent:\n  interval: 10s\n  flush_intervall: 5s\n' >"$TMP/bad-key.yaml"
rc=0
"$AGENT" --config "$TMP/bad-key.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "unknown key: exit $rc, expected 2"
grep -q "bad-key.yaml:3:3: " "$TMP/bad.err" || fail "unknown key: no file:line:column in: $(cat "$TMP/bad.err")"
[ "$(grep -c . "$TMP/bad.err")" = 1 ] || fail "config error printed more than one line: $(cat "$TMP/bad.err")"
printf 'inputs:\n  - cpu: {percpu: maybe}\n' >"$TMP/bad-type.yaml"
rc=0
"$AGENT" --config "$TMP/bad-type.yaml" 2>"$TMP/bad2.err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad-type.yaml:2:" "$TMP/bad2.err" || fail "bad bool: exit $rc, $(cat "$TMP/bad2.err")"
printf 'inputs:\n  - cpu: {percpu: [true\n' >"$TMP/bad-yaml.yaml"
rc=0
"$AGENT" --config "$TMP/bad-yaml.yaml" 2>"$TMP/bad3.err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad-yaml.yaml:[0-9]*:[0-9]*: " "$TMP/bad3.err" || fail "YAML syntax: exit $rc, $(cat "$TMP/bad3.err")"

# --sample-config is a config the agent accepts. --test checks the outputs' options as the
# start does: influxdb_v2 (bucket, organization) and prometheus_remote_write (url) need values
# the sample cannot know, so it is checked with the outputs that need none.
"$AGENT" --sample-config >"$TMP/sample.yaml" || fail "--sample-config exit status"
grep -q "influxdb" "$TMP/sample.yaml" || fail "--sample-config lacks the influxdb output"
"$AGENT" --config "$TMP/sample.yaml" --test --input-filter mem --output-filter influxdb:file:opentelemetry >/dev/null \
	2>"$TMP/sample.err" || fail "--sample-config output does not load: $(cat "$TMP/sample.err")"

# Reload: a broken config is refused and the agent keeps writing; a good one
# takes effect. Health endpoint answers while it runs.
hport=$(free_port)
cat >"$TMP/run.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: before, health_listen: "127.0.0.1:$hport"}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/run.lp"]}}]
CONF
agent_start "$TMP/run.yaml"
wait_for grep -q 'host=before' "$TMP/run.lp" || fail "agent wrote nothing"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/healthz")" = 200 ] || fail "/healthz not 200"
curl -sf "http://127.0.0.1:$hport/metrics" | grep -q '^heliograph_metrics_gathered_total [1-9]' || fail "/metrics lacks gathered total"
cp "$TMP/run.yaml" "$TMP/run.good"
printf 'agent: {interval: 1s\n' >"$TMP/run.yaml"
kill -HUP "$AGENT_PID"
sleep 2
kill -0 "$AGENT_PID" || fail "agent died on a bad reload"
grep -q "reload failed, keeping the running config" "$TMP/agent.log" || fail "bad reload not logged"
sed 's/hostname: before/hostname: after/' "$TMP/run.good" >"$TMP/run.yaml"
kill -HUP "$AGENT_PID"
WAIT_SECS=10 wait_for grep -q 'host=after' "$TMP/run.lp" || fail "reload did not take effect"
agent_stop || fail "agent exit status after SIGTERM"
echo "cli: passed"
