"""Attacks on the agent's HTTP servers, as issue 16's review ran them: bounded
loops on loopback that stop by themselves and print numbers as JSON for the
calling test to assert on.

  listener_attack.py wrongpass PORT CONNS MIB    CONNS connections POST a MIB
      body each with a wrong password; prints each one's status and when it
      came (seconds after the head), and how many body bytes went out before.
  listener_attack.py gzipbomb PORT HEALTHPORT CONNS PROBES
      CONNS connections POST gzip bombs (64 KiB inflating to 64 MiB, past
      any max_body_size) in a loop while /healthz is probed PROBES times, 20 ms
      apart; prints the probes' latencies and the bombs' statuses.
  listener_attack.py bigbodies PORT HEALTHPORT CONNS PROBES
      CONNS connections POST 7 MiB bodies of 174,000 lines (token secret)
      back to back while /healthz is probed PROBES times, 20 ms apart;
      prints the probes' latencies and the writes' statuses (503: the body
      did not fit max_body_memory then).
  listener_attack.py budget PORT N MIB
      N authenticated POSTs of MIB MiB, heads first (see budget()).
  listener_attack.py slowheads PORT N SECS
      N connections trickle heads while writes come on new connections.
  listener_attack.py slowbodies PORT N SECS
      N authenticated connections trickle bodies while writes come on new
      connections.
  listener_attack.py slowreaders PORT CONNS PROBES
      CONNS connections pipeline GET /metrics requests and never read, while
      /healthz is probed PROBES times on new connections; prints the probes'
      outcomes.
"""
import gzip, json, select, socket, subprocess, sys, threading, time


def dial(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, deadline):
    """The status and the whole response (head and Content-Length body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        b = s.recv(65536)
        if not b:
            break
        buf += b
    if b"\r\n\r\n" not in buf:
        return 0, buf
    head, _, body = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        b = s.recv(65536)
        if not b:
            break
        body += b
    return int(head.split(b" ")[1]), head + b"\r\n\r\n" + body


def probe(port, path="/healthz", timeout=5):
    t = time.monotonic()
    try:
        s = dial(port, timeout)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, _ = read_response(s, t + timeout)
        s.close()
    except OSError:
        st = 0
    return st, time.monotonic() - t


def wrongpass(port, conns, mib):
    """Each connection sends a head with a wrong token and a MIB MiB
    Content-Length, then its body as fast as the server takes it, until an
    answer comes; then it stops sending, as a client should, and reads on
    to see the server end the connection."""
    size = mib << 20
    head = ("POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token wrong\r\n"
            "Content-Length: %d\r\n\r\n" % size).encode()
    chunk = b"m v=1 1\n" * 8192  # 64 KiB
    res = [None] * conns

    def one(i):
        s = dial(port)
        s.sendall(head)
        t0 = time.monotonic()
        sent, got, eof = 0, b"", False
        s.setblocking(False)
        deadline = t0 + 30
        while time.monotonic() < deadline and b"\r\n\r\n" not in got:
            r, w, _ = select.select([s], [s] if sent < size else [], [], 0.5)
            if r:
                try:
                    b = s.recv(65536)
                except OSError:
                    b = b""
                if not b:
                    eof = True
                    break
                got += b
            elif w:
                try:
                    sent += s.send(chunk[: min(len(chunk), size - sent)])
                except BlockingIOError:
                    pass
                except OSError:
                    break
        after = time.monotonic() - t0 if b"\r\n\r\n" in got else None
        while not eof and time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], 0.5)
            if r:
                try:
                    b = s.recv(65536)
                except OSError:
                    b = b""
                if not b:
                    eof = True
                got += b
        ended = time.monotonic() - t0 if eof else None
        status = int(got.split(b" ")[1]) if got.startswith(b"HTTP/1.1 ") else 0
        res[i] = {"status": status, "after": after and round(after, 3), "sent": sent,
                  "ended": ended and round(ended, 3)}
        s.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(res))


def flood_and_probe(port, hport, conns, nprobes, request, started, window):
    """conns threads send request back to back while /healthz is probed
    nprobes times, starting once started(statuses) holds (so every probe
    meets the attack) and for at most window seconds. The probes' latencies
    and the flood's answer statuses."""
    done = threading.Event()
    statuses = {}
    lock = threading.Lock()

    def one():
        while not done.is_set():
            try:
                s = dial(port)
                s.sendall(request)
                st, _ = read_response(s, time.monotonic() + 30)
                s.close()
            except OSError:
                st = 0
            with lock:
                statuses[st] = statuses.get(st, 0) + 1

    ts = [threading.Thread(target=one) for _ in range(conns)]
    for t in ts:
        t.start()
    lat, bad = [], 0
    t0 = time.monotonic()
    while not started(statuses) and time.monotonic() - t0 < 30:
        time.sleep(0.01)
    while len(lat) < nprobes and time.monotonic() - t0 < window:
        st, dt = probe(hport)
        if st != 200:
            bad += 1
        lat.append(dt)
        time.sleep(0.02)
    done.set()
    for t in ts:
        t.join()
    lat.sort()
    return lat, bad, {str(k): v for k, v in statuses.items()}


def gzipbomb(port, hport, conns, nprobes):
    bomb = gzip.compress(b"\0" * (64 << 20), 9)
    head = ("POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret\r\nContent-Encoding: gzip\r\n"
            "Content-Length: %d\r\n\r\n" % len(bomb)).encode()
    # Probe once bombs are being answered.
    lat, bad, statuses = flood_and_probe(port, hport, conns, nprobes, head + bomb, lambda st: st, 60)
    print(json.dumps({"probes": len(lat), "failed": bad, "max": round(lat[-1], 4),
                      "p50": round(lat[len(lat) // 2], 4), "p99": round(lat[int(len(lat) * 0.99)], 4),
                      "bomb_bytes": len(bomb), "statuses": statuses}))


def bigbodies(port, hport, conns, nprobes):
    body = b"".join(b"cpu,host=h%03d u=%d.5 %d\n" % (i % 1000, i, 1700000000000000000 + i)
                    for i in range(174000))
    head = ("POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)).encode()
    # Probe once a body has been written (204).
    lat, bad, statuses = flood_and_probe(port, hport, conns, nprobes, head + body, lambda st: st.get(204), 120)
    print(json.dumps({"probes": len(lat), "failed": bad, "max": round(lat[-1], 4),
                      "p50": round(lat[len(lat) // 2], 4), "p90": round(lat[int(len(lat) * 0.9)], 4),
                      "body_bytes": len(body), "statuses": statuses}))


def server_queues(port):
    """(Recv-Q, Send-Q) of each of the server's established sockets on
    port, from ss: Recv-Q > 0 with Send-Q > 0 is a connection whose
    requests the server no longer reads because its answers are not taken."""
    out = subprocess.run(["ss", "-tnH", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    return [(int(f[0]), int(f[1])) for f in (l.split() for l in out.splitlines()) if len(f) >= 2]


def reader_that_never_reads(port, nreq):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    try:
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * nreq)
    except OSError:
        pass
    return s


def slowreaders(port, conns, nprobes):
    """Fills every slot with connections whose clients send pipelined
    requests and never read the answers, waits (ss) until the server is
    stuck writing to every one of them, then probes /healthz NPROBES times
    on new connections (60 s at most), putting back each attack connection
    the server closed after each probe."""
    t0 = time.monotonic()
    socks = [reader_that_never_reads(port, 2000) for _ in range(conns)]
    stuck = 0
    while time.monotonic() - t0 < 60:
        stuck = sum(1 for r, w in server_queues(port) if r > 0 and w > 0)
        if stuck >= conns:
            break
        time.sleep(0.1)
    fill_secs = time.monotonic() - t0
    stop = time.monotonic() + 60
    probes, ok, worst, replaced = 0, 0, 0.0, 0
    while probes < nprobes and time.monotonic() < stop:
        st, dt = probe(port, timeout=5)
        probes += 1
        ok += st == 200
        worst = max(worst, dt)
        for i, s in enumerate(socks):
            # Closed by the server (shed, or its write deadline): with our
            # unread answers in its buffers that is a reset, seen on send.
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                dead = False
            except BlockingIOError:
                dead = False
            except OSError:
                dead = True
            if dead:
                s.close()
                socks[i] = reader_that_never_reads(port, 2000)
                replaced += 1
        time.sleep(0.1)
    for s in socks:
        s.close()
    print(json.dumps({"stuck": stuck, "fill_secs": round(fill_secs, 2), "probes": probes, "ok": ok,
                      "worst": round(worst, 4), "replaced": replaced}))


def budget(port, n, mib):
    """N authenticated POSTs declaring MIB MiB each, heads first, bodies
    held back: those that fit max_body_memory are admitted and wait for
    their body, the others are answered 503 at once. Then the admitted ones
    send their bodies (204 each), and one more POST of the same size shows
    the budget was given back."""
    size = mib << 20
    line = b"budget v=1i 1700000000000000000\n"
    body = line * (size // len(line)) + b"#" * (size % len(line))
    head = ("POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret\r\n"
            "Content-Length: %d\r\n\r\n" % size).encode()
    socks, refused, retry_after = [], [], []
    for i in range(n):
        s = dial(port)
        s.sendall(head)
        socks.append(s)
    # Every head gets an answer (503) or is waiting for its body; wait for
    # answers until none comes for 1 s after the last head was answered
    # (the admitted ones never answer before their body).
    pending = list(socks)
    while pending:
        r, _, _ = select.select(pending, [], [], 2.0)
        if not r:
            break
        for s in r:
            st, resp = read_response(s, time.monotonic() + 5)
            refused.append(st)
            for l in resp.split(b"\r\n"):
                if l.lower().startswith(b"retry-after:"):
                    retry_after.append(l.split(b":")[1].strip().decode())
            pending.remove(s)
            s.close()
    done = []
    for s in pending:
        s.sendall(body)
        st, _ = read_response(s, time.monotonic() + 30)
        done.append(st)
        s.close()
    s = dial(port)
    s.sendall(head + body)
    again, _ = read_response(s, time.monotonic() + 30)
    s.close()
    print(json.dumps({"admitted": done, "refused": refused, "retry_after": retry_after, "again": again}))


def timed_write(port):
    """One authenticated write on a new connection: its status (0 when the
    connection failed) and how long it took."""
    t = time.monotonic()
    try:
        w = dial(port)
        w.sendall(b"POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret\r\n"
                  b"Content-Length: 30\r\nConnection: close\r\n\r\nslow v=1i 1700000000000000000\n")
        st, _ = read_response(w, t + 5)
        w.close()
    except OSError:
        st = 0
    return st, time.monotonic() - t


def slowheads(port, n, secs):
    """N connections trickle a request head, a byte every 100 ms, while an
    authenticated write comes on a new connection every 300 ms."""
    head = b"POST /write?db=x HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n"
    slow = [dial(port) for _ in range(n)]
    sent = [0] * n
    stop = time.monotonic() + secs
    writes, worst = [], 0.0
    next_write = time.monotonic() + 0.5
    while time.monotonic() < stop:
        for i, s in enumerate(slow):
            try:
                s.send(head[sent[i] % len(head):][:1])
                sent[i] += 1
            except OSError:
                slow[i] = dial(port)  # shed or timed out: come back
                sent[i] = 0
        if time.monotonic() >= next_write:
            st, took = timed_write(port)
            writes.append(st)
            worst = max(worst, took)
            next_write = time.monotonic() + 0.3
        time.sleep(0.1)
    for s in slow:
        s.close()
    print(json.dumps({"writes": writes, "worst": round(worst, 4)}))


def slowbodies(port, n, secs):
    """N connections send a whole authenticated head declaring a 64 KiB
    body, then trickle the body a byte every 100 ms (holding a slot for its
    body deadline, 10 s, if nothing sheds them), while a write comes on a new
    connection every 300 ms; a shed one comes back at once."""
    head = (b"POST /write?db=x HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret\r\n"
            b"Content-Length: 65536\r\n\r\n")

    def fresh():
        s = dial(port)
        s.sendall(head)
        return s
    slow = [fresh() for _ in range(n)]
    stop = time.monotonic() + secs
    writes, worst, shed = [], 0.0, 0
    next_write = time.monotonic() + 1.5
    while time.monotonic() < stop:
        for i, s in enumerate(slow):
            try:
                s.send(b"x")
            except OSError:
                shed += 1
                try:
                    slow[i] = fresh()
                except OSError:
                    pass
        if time.monotonic() >= next_write:
            st, took = timed_write(port)
            writes.append(st)
            worst = max(worst, took)
            next_write = time.monotonic() + 0.3
        time.sleep(0.1)
    for s in slow:
        s.close()
    print(json.dumps({"writes": writes, "worst": round(worst, 4), "shed": shed}))


if __name__ == "__main__":
    mode, a = sys.argv[1], [int(x) for x in sys.argv[2:]]
    {"wrongpass": wrongpass, "gzipbomb": gzipbomb, "bigbodies": bigbodies, "slowreaders": slowreaders, "budget": budget,
     "slowheads": slowheads, "slowbodies": slowbodies}[mode](*a)
