#!/bin/bash
# TLS verification turned off is said once, naming the plugin (issue 16):
# an input and an output with insecure_skip_verify: true, and kube_inventory
# with a kubeconfig whose cluster sets insecure-skip-tls-verify, each log
# one warning at start, under their own name, and no more while the agent
# gathers again and again; a plugin that verifies logs none. agentctl warns
# once on stderr for such a kubeconfig. Waits for events, not times.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

kube_start
KC="$TMP/kubeconfig"
kube_config "$KC"
sed -i "/certificate-authority:/d; s|    server: .*|&\n    insecure-skip-tls-verify: true|" "$KC"
grep -q "insecure-skip-tls-verify: true" "$KC" || fail "kubeconfig not written"
DEAD=$(free_port)

cat >"$TMP/agent.yaml" <<CONF
agent:
  interval: 1s
  flush_interval: 1s
  hostname: h
  shutdown_timeout: 1s
inputs:
  - prometheus:
      urls: ["https://127.0.0.1:$DEAD/metrics"]
      insecure_skip_verify: true
  - prometheus:
      alias: verified
      urls: ["https://127.0.0.1:$DEAD/metrics"]
  - kube_inventory:
      kubeconfig: "$KC"
      resource_include: [nodes]
outputs:
  - influxdb:
      urls: ["https://127.0.0.1:$DEAD"]
      insecure_skip_verify: true
  - file: {files: ["$TMP/out.lp"]}
CONF

# count PATTERN FILE: lines matching
count() { grep -c -- "$1" "$2" || true; }
check_once() { # check_once FILE WHAT
	local f=$1 what=$2
	[ "$(count 'W! \[inputs.prometheus\] .*insecure_skip_verify is set: TLS certificates are not verified' "$f")" = 1 ] ||
		fail "$what: inputs.prometheus warned $(count 'W! \[inputs.prometheus\] .*insecure_skip_verify' "$f") times: $(cat "$f")"
	[ "$(count 'W! \[outputs.influxdb\] .*insecure_skip_verify is set' "$f")" = 1 ] ||
		fail "$what: outputs.influxdb did not warn once: $(cat "$f")"
	[ "$(count "W! \[inputs.kube_inventory\] the kubeconfig's cluster \"test\" sets insecure-skip-tls-verify" "$f")" = 1 ] ||
		fail "$what: inputs.kube_inventory did not warn once about the kubeconfig: $(cat "$f")"
	[ "$(count 'verified\].*insecure' "$f")" = 0 ] || fail "$what: the verifying input warned: $(cat "$f")"
	[ "$(count 'insecure' "$f")" = 3 ] || fail "$what: other insecure warnings: $(cat "$f")"
}

# --test: one gather, the warnings at start.
"$AGENT" --config "$TMP/agent.yaml" --test >"$TMP/test.out" 2>"$TMP/test.err" || true
check_once "$TMP/test.err" "--test"

# Running: still once after several gathers (each fails to reach $DEAD and
# says so; the third failure of the verifying input is the event waited for).
agent_start "$TMP/agent.yaml"
failures() { [ "$(count 'prometheus::verified\] error making HTTP request' "$TMP/agent.log")" -ge 3 ]; }
WAIT_SECS=30 wait_for failures || fail "the agent did not gather three times: $(cat "$TMP/agent.log")"
agent_stop || true
check_once "$TMP/agent.log" "running"

# agentctl: once on stderr, naming the cluster; the secret token not with it.
"$AGENTCTL" status --kubeconfig "$KC" >"$TMP/ctl.out" 2>"$TMP/ctl.err" || true
[ "$(count "agentctl status: warning: the kubeconfig's cluster \"test\" sets insecure-skip-tls-verify" "$TMP/ctl.err")" = 1 ] ||
	fail "agentctl did not warn once: $(cat "$TMP/ctl.err")"
grep -q "^Heliograph stack in namespace" "$TMP/ctl.out" || fail "agentctl status did not run: $(cat "$TMP/ctl.err")"

echo PASS
