#!/bin/bash
# agentctl and the pod next door (issue 16): what agentctl does with the
# secrets of a kubeconfig, against the test API server.
# - client-certificate-data / client-key-data (and certificate-authority-data)
#   are used from memory: nothing is created under TMPDIR while agentctl runs
#   (checked while the server holds its first request), none is left after
#   it finishes or is killed, and the client certificate is what
#   authenticated it (the kubeconfig has no token).
# - a server URL holding user:password@ is shown without it, in the status
#   and install-stack headers, the "cannot reach" error, and deploy-event's
#   refusal of a --url.
# Every step waits for an event, none for a time.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

kube_start
requests_seen() { ctl_get requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
more_requests_than() { [ "$(requests_seen)" -gt "$1" ]; }

# ---- client-key-data never reaches a file ----
KC="$TMP/kubeconfig-data"
kube_config "$KC" data
mkdir -m 700 "$TMP/tmpdir"
empty_tmpdir() { [ -z "$(ls -A "$TMP/tmpdir")" ]; }

# Run 1: held at its first request, TMPDIR is looked at while agentctl runs;
# released, it finishes authenticated by the client certificate.
ctl fail '{"method":"GET","path":"/api","hold":"first","times":1}'
n0=$(requests_seen)
TMPDIR="$TMP/tmpdir" "$AGENTCTL" status --kubeconfig "$KC" >"$TMP/out1" 2>"$TMP/err1" &
CTL_PID=$!
wait_for more_requests_than "$n0" || fail "agentctl status sent no request: $(cat "$TMP/err1")"
empty_tmpdir || fail "agentctl wrote under TMPDIR while running: $(ls -la "$TMP/tmpdir")"
ctl release '{"hold":"first"}'
RC=0
wait "$CTL_PID" || RC=$?
grep -q "^Heliograph stack in namespace monitoring" "$TMP/out1" || fail "status did not run: $(cat "$TMP/out1" "$TMP/err1")"
grep -qi "unauthorized\|401" "$TMP/out1" "$TMP/err1" && fail "the client certificate was not used: $(cat "$TMP/err1")"
ctl_get requests | python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = [x for x in r if x["path"].startswith("/api") and x["auth"] != "rw"]
sys.exit(1 if bad or not r else 0)' || fail "a request went without the client certificate"
empty_tmpdir || fail "agentctl left files under TMPDIR: $(ls -la "$TMP/tmpdir")"

# Run 2: killed (SIGKILL, nothing to clean up after itself) while held.
ctl fail '{"method":"GET","path":"/api","hold":"second","times":1}'
n0=$(requests_seen)
TMPDIR="$TMP/tmpdir" "$AGENTCTL" status --kubeconfig "$KC" >"$TMP/out2" 2>"$TMP/err2" &
CTL_PID=$!
wait_for more_requests_than "$n0" || fail "run 2 sent no request: $(cat "$TMP/err2")"
kill -KILL "$CTL_PID"
wait "$CTL_PID" 2>/dev/null || true
ctl release '{"hold":"second"}'
empty_tmpdir || fail "a killed agentctl left files under TMPDIR: $(ls -la "$TMP/tmpdir")"

# ---- a server URL's userinfo is never printed ----
PW=pw-$$-s3cret
kube_config "$TMP/kc-userinfo"
sed -i "s|server: https://|server: https://admin:$PW@|" "$TMP/kc-userinfo"
grep -q "admin:$PW@127.0.0.1" "$TMP/kc-userinfo" || fail "kubeconfig with userinfo not written"
"$AGENTCTL" status --kubeconfig "$TMP/kc-userinfo" >"$TMP/out3" 2>"$TMP/err3" || true
head -1 "$TMP/out3" | grep -qF "(context test, https://127.0.0.1:$KUBE_PORT)" ||
	fail "status header: $(head -1 "$TMP/out3")"
grep -q "$PW\|admin:" "$TMP/out3" "$TMP/err3" && fail "status printed the server's userinfo: $(cat "$TMP/out3" "$TMP/err3")"
# Nothing listens on a port that free_port just found free.
DEAD=$(free_port)
sed "s|127.0.0.1:$KUBE_PORT|127.0.0.1:$DEAD|" "$TMP/kc-userinfo" >"$TMP/kc-dead"
RC=0
"$AGENTCTL" status --kubeconfig "$TMP/kc-dead" >"$TMP/out4" 2>"$TMP/err4" || RC=$?
[ "$RC" -ne 0 ] || fail "status against a dead server exited 0"
grep -qF "cannot reach the API server https://127.0.0.1:$DEAD" "$TMP/out4" "$TMP/err4" ||
	fail "no 'cannot reach' naming the server: $(cat "$TMP/out4" "$TMP/err4")"
grep -q "$PW\|admin:" "$TMP/out4" "$TMP/err4" && fail "the error printed the server's userinfo: $(cat "$TMP/err4")"
RC=0
"$AGENTCTL" install-stack --dry-run --kubeconfig "$TMP/kc-dead" >"$TMP/out5" 2>"$TMP/err5" || RC=$?
grep -qF "would install the Heliograph stack in namespace monitoring (context test, https://127.0.0.1:$DEAD)" "$TMP/out5" ||
	fail "install-stack header: $(cat "$TMP/out5")"
grep -q "$PW\|admin:" "$TMP/out5" "$TMP/err5" && fail "install-stack printed the server's userinfo: $(cat "$TMP/out5" "$TMP/err5")"

# deploy-event's --url, refused for its scheme, is named without its userinfo.
RC=0
"$AGENTCTL" deploy-event --url "udp://admin:$PW@db.example:8089" --service s --strategy rolling --version 1 \
	--phase started >"$TMP/out6" 2>"$TMP/err6" || RC=$?
[ "$RC" -ne 0 ] || fail "deploy-event took a udp:// URL"
grep -qF -- "--url 'udp://db.example:8089': expected http://HOST:PORT" "$TMP/err6" ||
	fail "deploy-event's URL error: $(cat "$TMP/err6")"
grep -q "$PW" "$TMP/out6" "$TMP/err6" && fail "deploy-event printed the URL's password: $(cat "$TMP/err6")"

echo PASS
