#!/usr/bin/env bash
# The health endpoint under slowloris (issue 16), configured from the agent
# section: with health_max_connections 4 and health_header_timeout 1s, four
# connections trickling a request head (a byte every 100 ms, so the 20 s
# idle timeout never fires) neither keep /healthz from answering nor
# outlive the 1 s head deadline. The attack stops itself after 6 s.
source "$TESTLIB"

hport=$(free_port)
cat >"$TMP/agent.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, health_listen: "127.0.0.1:$hport",
        health_max_connections: 4, health_header_timeout: 1s, health_idle_timeout: 20s}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/out.lp"]}}]
CONF
agent_start "$TMP/agent.yaml"
wait_for curl -sf "http://127.0.0.1:$hport/healthz" || fail "/healthz never answered"

python3 - "$hport" >"$TMP/attack.log" 2>&1 <<'PY' || fail "attack: $(cat "$TMP/attack.log")"
import select, socket, sys, time
port = int(sys.argv[1])
head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100 + b"\r\n\r\n"
def dial():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s
slow = [dial() for _ in range(4)]
t_conn = [time.monotonic() for _ in slow]
sent = [0] * 4
got = [b""] * 4
closed = [None] * 4
t0 = time.monotonic()
next_tick = t0
probe = None
while None in closed and time.monotonic() - t0 < 6:
    now = time.monotonic()
    if now >= next_tick:
        for i, s in enumerate(slow):
            if closed[i] is None:
                try:
                    s.send(head[sent[i]:sent[i] + 1]); sent[i] += 1
                except OSError:
                    pass
        next_tick += 0.1
    if probe is None and now - t0 >= 0.3:
        p0 = time.monotonic()
        p = dial()
        p.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = b""
        while True:
            b = p.recv(4096)
            if not b:
                break
            resp += b
        probe = time.monotonic() - p0
        p.close()
        assert resp.startswith(b"HTTP/1.1 200 OK\r\n"), resp
        assert resp.endswith(b"\r\n\r\nok\n"), resp
    r, _, _ = select.select([s for i, s in enumerate(slow) if closed[i] is None], [], [], max(0, next_tick - time.monotonic()))
    for s in r:
        i = slow.index(s)
        try:
            b = s.recv(4096)
        except ConnectionResetError:
            b = b""
        if b:
            got[i] += b
        else:
            closed[i] = time.monotonic()
print("probe answered in %.3f s" % probe)
for i in range(4):
    print("conn %d: sent %d bytes, closed after %s s: %r" % (i, sent[i], closed[i] and round(closed[i] - t_conn[i], 3), got[i][:30]))
assert probe is not None and probe < 1.5, probe
assert None not in closed, closed
# the oldest was shed for the probe, the others hit the 1 s head deadline
assert got[0] == b"" and closed[0] < min(closed[1:]), (got[0], closed)
for i in range(1, 4):
    assert got[i].startswith(b"HTTP/1.1 408 Request Timeout\r\n"), got[i]
    assert 0.9 <= closed[i] - t_conn[i] < 3.0, closed[i] - t_conn[i]
    assert 5 <= sent[i] < len(head), sent[i]
PY
cat "$TMP/attack.log"
m=$(curl -sf "http://127.0.0.1:$hport/metrics") || fail "/metrics"
grep -qx 'heliograph_health_connections_shed_total 1' <<<"$m" || fail "shed total: $(grep health_conn <<<"$m")"
grep -qx 'heliograph_health_connections_rejected_total 0' <<<"$m" || fail "rejected total: $(grep health_conn <<<"$m")"
grep -qx 'heliograph_health_request_timeouts_total 3' <<<"$m" || fail "timeouts: $(grep timeouts <<<"$m")"
agent_stop || fail "agent exit status after SIGTERM"
echo "health_slowloris: passed"
