#!/usr/bin/env python3
"""Scriptable HTTP server for the C tests of the HTTP client and the outputs.

Binds 127.0.0.1 on a free port (or the port given as its argument) and prints "PORT <n>" on stdout. Every request
to a path not under /_ctl/ is recorded and answered by the first scripted
response whose "path" (a prefix, optional) matches, or by the default
response (204, empty) when none is left.

Control endpoints (JSON bodies):
  POST /_ctl/script    append responses: [{"status": 500, "headers": {"Retry-After": "7"},
                       "body": "...", "body_size": N, "delay": 0.5, "close": true,
                       "path": "/write", "chunk": 4096}, ...]
                       body_size sends N bytes of a-z instead of body; delay waits
                       before answering; close drops the connection without a
                       response; chunk sends the body chunked in pieces of that size;
                       "hold": "name" answers only after POST /_ctl/release of that
                       name (so a test decides the order of answers by events);
                       "forward": "http://host:port" sends the request on to that
                       server (same path, query, body, Content-Type and
                       Content-Encoding), after any hold, and answers with its
                       status and body ("forwarded": its status in the record):
                       a real InfluxDB behind scripted timing.
  POST /_ctl/release   {"hold": "name"}: lets the requests held under that name answer
                       (also those that arrive later); reset and quit release all
  POST /_ctl/reset     forget the script and the recorded requests
  POST /_ctl/unscript  forget the script only (back to the default answer)
  GET  /_ctl/requests  the recorded requests: [{"method", "path", "query" (raw),
                       "params" {name: [values]}, "headers" {lower-case name: value},
                       "body" (decompressed when Content-Encoding: gzip), "body_hex"
                       (the same bytes in hex, for binary bodies), "raw_len",
                       "answer" (the scripted status, or "close"), "delay",
                       "received", "answered" (epoch seconds)}]
  POST /_ctl/quit      stops the server
"""
import gzip
import http.client
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orphan_guard
import request_body

lock = threading.Lock()
script = []
recorded = []
holds = {}  # name -> threading.Event


def hold_event(name):
    with lock:
        return holds.setdefault(name, threading.Event())


def release_all():
    with lock:
        for e in holds.values():
            e.set()
        holds.clear()


def pop_response(path):
    with lock:
        for i, r in enumerate(script):
            if path.startswith(r.get("path", "")):
                return script.pop(i)
    return {"status": 204}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        return request_body.read(self)

    def reply(self, status, body=b"", headers=None, ctype="application/json"):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(body)

    def control(self, path, raw):
        global script, recorded
        if path == "/_ctl/script":
            with lock:
                script.extend(json.loads(raw or b"[]"))
            return self.reply(200, b"{}")
        if path == "/_ctl/unscript":
            with lock:
                script = []
            return self.reply(200, b"{}")
        if path == "/_ctl/reset":
            release_all()
            with lock:
                script, recorded = [], []
            return self.reply(200, b"{}")
        if path == "/_ctl/release":
            hold_event(json.loads(raw or b"{}").get("hold", "")).set()
            return self.reply(200, b"{}")
        if path == "/_ctl/requests":
            with lock:
                body = json.dumps(recorded).encode()
            return self.reply(200, body)
        if path == "/_ctl/quit":
            release_all()
            self.reply(200, b"{}")
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return None
        return self.reply(404, b'{"error":"unknown control path"}')

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        raw = self.read_body()
        if url.path.startswith("/_ctl/"):
            return self.control(url.path, raw)
        body = raw
        if self.headers.get("Content-Encoding", "").lower() == "gzip" and raw:
            try:
                body = gzip.decompress(raw)
            except OSError as e:
                body = ("<bad gzip: %s>" % e).encode()
        rec = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "params": urllib.parse.parse_qs(url.query, keep_blank_values=True),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "body_hex": body.hex(),
            "raw_len": len(raw),
            "received": time.time(),
        }
        with lock:
            recorded.append(rec)
        r = pop_response(url.path)
        with lock:
            rec["answer"] = "close" if r.get("close") else r.get("status", 200)
            rec["delay"] = r.get("delay", 0)
        if r.get("delay"):
            time.sleep(r["delay"])
        if r.get("hold"):
            with lock:
                rec["held"] = r["hold"]
            hold_event(r["hold"]).wait()
        with lock:
            rec["answered"] = time.time()
        if r.get("close"):
            self.close_connection = True
            return None
        if r.get("forward"):
            status, out = self.forward(r["forward"], raw)
            with lock:
                rec["forwarded"] = status
            return self.reply(status, out)
        if "body_size" in r:
            n = r["body_size"]
            out = (b"abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]
        else:
            out = r.get("body", "").encode()
        chunk = r.get("chunk")
        if chunk:
            self.send_response(r.get("status", 200))
            for k, v in r.get("headers", {}).items():
                self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(out), chunk):
                part = out[i:i + chunk]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return None
        return self.reply(r.get("status", 200), out, r.get("headers"),
                          r.get("content_type", "application/json"))

    def forward(self, upstream, raw):
        up = urllib.parse.urlsplit(upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {k: self.headers[k] for k in ("Content-Type", "Content-Encoding") if self.headers.get(k)}
        try:
            conn.request(self.command, self.path, body=raw, headers=headers)
            resp = conn.getresponse()
            status, body = resp.status, resp.read()
        except OSError as e:
            status, body = 502, json.dumps({"error": "forward: %s" % e}).encode()
        finally:
            conn.close()
        return status, body

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that time out or abort on purpose are part of the tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    orphan_guard.exit_with_parent()
    srv = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
