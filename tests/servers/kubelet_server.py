#!/usr/bin/env python3
"""A stand-in kubelet for the kubernetes input's tests: HTTPS with the
certificate the test generated, bearer token required, /stats/summary and
/pods served from real captured files, and scriptable failures.

  kubelet_server.py --cert C --key K --token-file F --summary S --pods P --port-file PF [--host ::1]

The expected token is read from --token-file on every request, so a test
rotates it by rewriting that file. Failures are set per path through an
unauthenticated control endpoint on the same server:

  GET /_control?path=/stats/summary&mode=MODE[&delay=SECONDS]
      MODE: ok | 401 | 403 | 500 | slow | truncated | cutjson
  GET /_stats   -> JSON {"/stats/summary": n, "/pods": n, "unauthorized": n}

slow waits delay seconds before answering; truncated promises the whole
body in Content-Length, sends half and closes (a transfer error);
cutjson sends a complete 200 response whose JSON stops half-way.
"""
import argparse
import json
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
modes = {}  # path -> (mode, delay)
counts = {"/stats/summary": 0, "/pods": 0, "unauthorized": 0}
args = None

FORBIDDEN = {
    "/stats/summary": "Forbidden (user=system:serviceaccount:monitoring:heliograph, verb=get, resource=nodes, subresource=stats)",
    "/pods": "Forbidden (user=system:serviceaccount:monitoring:heliograph, verb=get, resource=nodes, subresource=proxy)",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send_text(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_control":
            q = urllib.parse.parse_qs(url.query)
            with lock:
                modes[q["path"][0]] = (q.get("mode", ["ok"])[0], float(q.get("delay", ["0"])[0]))
            return self.send_text(200, "ok")
        if url.path == "/_stats":
            with lock:
                return self.send_text(200, json.dumps(counts))
        files = {"/stats/summary": args.summary, "/pods": args.pods}
        if url.path not in files:
            return self.send_text(404, "404 page not found")
        with open(args.token_file) as f:
            token = f.read().strip()
        if self.headers.get("Authorization") != "Bearer " + token:
            with lock:
                counts["unauthorized"] += 1
            return self.send_text(401, "Unauthorized")
        with lock:
            counts[url.path] += 1
            mode, delay = modes.get(url.path, ("ok", 0))
        if mode in ("401", "403", "500"):
            text = {"401": "Unauthorized", "403": FORBIDDEN[url.path], "500": "Internal Error: summary not ready"}[mode]
            return self.send_text(int(mode), text)
        if mode == "slow":
            time.sleep(delay)
        with open(files[url.path], "rb") as f:
            body = f.read()
        half = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(half) if mode == "cutjson" else len(body)))
        self.end_headers()
        if mode in ("truncated", "cutjson"):
            self.wfile.write(half)
            self.wfile.flush()
            self.close_connection = True
            return
        # Several writes, so the client sees the body in chunks.
        for i in range(0, len(body), 16384):
            self.wfile.write(body[i : i + 16384])


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--pods", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (::1: an IPv6 node IP)")
    args = p.parse_args()

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

    srv = Server((args.host, 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    # Renamed into place: the test never reads a half-written port.
    import os

    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
