#!/bin/bash
# Exec credential plugins that misbehave cost their own requests, never the
# agent (issue 16). Four kube_inventory inputs against the test API server,
# one per kubeconfig: a plugin that hangs holding stdout, one that exits
# non-zero, one that prints garbage, and one that works. While the hanging
# plugin runs, the agent gathers its mem input and the working
# kube_inventory, /healthz answers, the failing inputs report clear errors
# and run their plugins again at the next gathers; the hanging plugin is
# stopped at its 30 s bound and run again; SIGTERM stops the agent (and the
# plugin) promptly. agentctl with the hanging plugin ends with the timeout
# error naming the plugin, never its env; Ctrl-C ends agentctl and its plugin. Waits for events, not times.
# mode: list, so that each gather sends a request bounded by
# response_timeout (watch mode's first list waits the plugin's 30 s).
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

kube_start
kube_config "$TMP/kc-token"

# plugin NAME BODY: $TMP/NAME.sh, counting its runs in $TMP/NAME.runs, and
# a kubeconfig $TMP/kc-NAME running it with a secret in its env.
plugin() {
	printf '#!/bin/sh\necho $$ >>"%s/%s.runs"\n%s\n' "$TMP" "$1" "$2" >"$TMP/$1.sh"
	chmod +x "$TMP/$1.sh"
	sed "s|^    token: .*|    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: $TMP/$1.sh\n      env:\n      - {name: PLUGIN_SECRET, value: s3cret-in-env}|" \
		"$TMP/kc-token" >"$TMP/kc-$1"
	grep -q "command: $TMP/$1.sh" "$TMP/kc-$1" || fail "kubeconfig for $1 not written"
}
plugin hang 'exec sleep 1000'
plugin fails 'echo "fails.sh: cannot reach the identity provider" >&2; exit 3'
plugin garbage 'echo "<html>s3cret-in-output</html>"'
plugin ok "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"%s\"}}\n' \"$KUBE_TOKEN\""

hport=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: h
  shutdown_timeout: 1s
  health_listen: "127.0.0.1:$hport"
inputs:
  - mem: {}
  - kube_inventory: {alias: hang, kubeconfig: "$TMP/kc-hang", mode: list, leader_election: false, resource_include: [nodes], response_timeout: 2s}
  - kube_inventory: {alias: fails, kubeconfig: "$TMP/kc-fails", mode: list, leader_election: false, resource_include: [nodes]}
  - kube_inventory: {alias: garbage, kubeconfig: "$TMP/kc-garbage", mode: list, leader_election: false, resource_include: [nodes]}
  - kube_inventory: {alias: ok, kubeconfig: "$TMP/kc-ok", mode: list, leader_election: false, resource_include: [nodes]}
outputs:
  - file: {files: ["$TMP/out.lp"]}
CONF
agent_start "$TMP/agent.yaml"
LOG=$TMP/agent.log
runs() { [ -f "$TMP/$1.runs" ] && wc -l <"$TMP/$1.runs" || echo 0; }
# ran NAME N: the plugin NAME ran at least N times (evaluated at each try).
ran() { [ "$(runs "$1")" -ge "$2" ]; }
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }

# The hanging plugin is running: everything else goes on.
wait_for test -s "$TMP/hang.runs" || fail "the hanging plugin never ran"
hang1=$(head -1 "$TMP/hang.runs")
kill -0 "$hang1" || fail "the hanging plugin is not running"
mem0=$(count '^mem,' "$TMP/out.lp")
mem_grew() { [ "$(count '^mem,' "$TMP/out.lp")" -ge $((mem0 + 3)) ]; }
WAIT_SECS=30 wait_for mem_grew ||
	fail "the mem input stopped gathering while the plugin hung"
kill -0 "$hang1" || fail "the hanging plugin ended before the checks"
curl -sf --max-time 5 "http://127.0.0.1:$hport/healthz" >/dev/null || fail "/healthz did not answer while the plugin hung"
WAIT_SECS=30 wait_for grep -q '^kubernetes_node,.*node_count=' "$TMP/out.lp" ||
	fail "the working plugin's input gathered nothing: $(grep kube_inventory "$LOG")"

# The hanging plugin's gather ends at its own response_timeout, in words.
WAIT_SECS=30 wait_for grep -q "E! \[inputs.kube_inventory::hang\] list nodes: no credentials: the exec plugin \"$TMP/hang.sh\" has not answered within the request's timeout" "$LOG" ||
	fail "no error for the hanging plugin: $(grep 'kube_inventory::hang' "$LOG")"
# The failing ones say why, and run again at the next gathers.
WAIT_SECS=30 wait_for ran fails 3 || fail "the failing plugin was not run again: $(runs fails) runs"
WAIT_SECS=30 wait_for ran garbage 3 || fail "the garbage plugin was not run again: $(runs garbage) runs"
grep -q "E! \[inputs.kube_inventory::fails\] list nodes: exec plugin \"$TMP/fails.sh\" failed (exit status 3)" "$LOG" ||
	fail "no clear error for the failing plugin: $(grep 'kube_inventory::fails' "$LOG")"
grep -q "fails.sh: cannot reach the identity provider" "$LOG" || fail "the plugin's own message is missing"
grep -q "E! \[inputs.kube_inventory::garbage\] list nodes: exec plugin \"$TMP/garbage.sh\": its output is not a JSON ExecCredential" "$LOG" ||
	fail "no clear error for the garbage plugin: $(grep 'kube_inventory::garbage' "$LOG")"
! grep -q "s3cret" "$LOG" || fail "a plugin's env or output reached the log"

# At its 30 s bound the hanging plugin is stopped (SIGTERM) and a later
# gather runs it again.
WAIT_SECS=60 wait_for ran hang 2 || fail "the hanging plugin was not run again after its bound"
WAIT_SECS=10 wait_for sh -c "! kill -0 $hang1" || fail "the first hanging plugin ($hang1) is still running"
hang2=$(sed -n 2p "$TMP/hang.runs")
kill -0 "$hang2" || fail "the second hanging plugin is not running"

# SIGTERM while it hangs: the agent ends promptly, and so does the plugin.
kill -TERM "$AGENT_PID"
WAIT_SECS=15 wait_for sh -c "! kill -0 $AGENT_PID" || fail "the agent did not stop within 15 s of SIGTERM"
wait "$AGENT_PID" || fail "the agent exited with $? after SIGTERM"
WAIT_SECS=10 wait_for sh -c "! kill -0 $hang2" || fail "the plugin outlived the agent"

# agentctl: its own loop, the same bound, an error naming the plugin only.
rc=0
timeout 120 "$AGENTCTL" status --kubeconfig "$TMP/kc-hang" >"$TMP/ctl.out" 2>"$TMP/ctl.err" || rc=$?
[ "$rc" != 124 ] || fail "agentctl status hung with the hanging plugin"
[ "$rc" != 0 ] || fail "agentctl status succeeded without credentials"
grep -q "exec plugin \"$TMP/hang.sh\" did not answer within 30 s; stopped it" "$TMP/ctl.err" ||
	fail "agentctl status (exit $rc) did not name the timeout: $(cat "$TMP/ctl.err")"
! grep -q "s3cret" "$TMP/ctl.err" "$TMP/ctl.out" || fail "agentctl showed the plugin's env"
hang3=$(tail -1 "$TMP/hang.runs")
WAIT_SECS=10 wait_for sh -c "! kill -0 $hang3" || fail "agentctl left its plugin running"

# Ctrl-C (SIGINT) while agentctl waits for the hanging plugin: agentctl ends
# by the signal, and its plugin, in a session of its own where the
# terminal's SIGINT does not reach it, ends with it.
n_before=$(wc -l <"$TMP/hang.runs")
# (A background job of a script starts with SIGINT ignored, as agentctl
# leaves it then: restore the terminal's default first.)
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
	"$AGENTCTL" status --kubeconfig "$TMP/kc-hang" >"$TMP/int.out" 2>"$TMP/int.err" &
ctl=$!
WAIT_SECS=30 wait_for sh -c "[ \$(wc -l <'$TMP/hang.runs') -gt $n_before ]" || fail "agentctl did not run the plugin"
hang4=$(tail -1 "$TMP/hang.runs")
kill -0 "$hang4" || fail "the plugin agentctl runs is not running"
kill -INT "$ctl"
rc=0
wait "$ctl" || rc=$?
[ "$rc" = 130 ] || fail "agentctl exited with $rc after SIGINT, not by the signal (130)"
WAIT_SECS=10 wait_for sh -c "! kill -0 $hang4" || fail "agentctl's plugin ($hang4) outlived its Ctrl-C"

# The working plugin with agentctl.
"$AGENTCTL" status --kubeconfig "$TMP/kc-ok" >"$TMP/ok.out" 2>"$TMP/ok.err" || true
grep -q "^Heliograph stack in namespace" "$TMP/ok.out" || fail "agentctl status with the working plugin: $(cat "$TMP/ok.err")"

echo PASS
