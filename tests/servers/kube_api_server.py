#!/usr/bin/env python3
"""Test stand-in for kube-apiserver (no Debian package provides one).

HTTPS on 127.0.0.1, a free port. Prints one line "PORT <n>" on stdout once it
listens. With --tls-dir DIR it first writes, with openssl, a CA (ca.crt), a
server certificate for 127.0.0.1 signed by it (server.crt/key) and a client
certificate (client.crt/key, CN=heliograph-test) that the server accepts.

Auth: "Authorization: Bearer <token>" for a token from --token (full access)
or --readonly-token (get/list/watch only, 403 otherwise), or the client
certificate. Anything else is 401.

Serves discovery from --discovery (a copy of fixtures k8s-api/discovery),
objects in memory with server-side apply (managedFields per field manager,
conflicts, removal of fields a manager stops applying), GET/LIST (label and
field selectors; a meta.k8s.io Table when kubectl asks for one, kube_table.py)
/WATCH (chunked JSON lines, bookmarks, 410 after a simulated compaction)
/POST/DELETE, Status errors shaped like the real ones, and a
controller that makes Deployments and DaemonSets available after
--controller-delay seconds, or with --scheduler the scheduler, controllers,
PV provisioning and kubelets of kube_sched.py instead (its control API is in
its docstring).

Test-only control endpoints (no auth, under /_control/):
  POST /_control/tokens   {"tokens": [...], "readonly": [...]} replaces the accepted tokens
  POST /_control/objects  an object, a list of objects or a captured ...List, stored as they are (nodes, pods ...)
  POST /_control/proxy    {"NS/SERVICE:PORT": "http://127.0.0.1:P"}: where the service proxy
                          (/api/v1/namespaces/NS/services/SERVICE:PORT/proxy/...) forwards to
  POST /_control/delete   an object or a list of them ({apiVersion, kind, metadata: {name, namespace}}):
                          deleted (DELETED events), in one request however many
  POST /_control/fail     scripted Status failures of matching requests (see kube_faults.py); a
                          "cut" rule on a watch cuts its first event (not bookmark) after that many bytes
  POST /_control/release  {"hold": NAME}: lets the requests a "hold" fault rule holds go on
  POST /_control/controller {"paused": true|false}: the --controller-delay controller writes no
                          status while paused (a rollout that waits until the test says)
  POST /_control/compact  forgets the watch history and ends open watches (resuming
                          from any resourceVersion handed out so far gets 410 Gone)
  POST /_control/end_watches  ends open watches, history kept (clients resume where they were)
  POST /_control/list     {"inconsistent_continue": false}: a 410 for an expired continue token
                          offers no token for the rest (as older servers), so only a new list helps
  POST/GET /_control/behaviour  with --scheduler: failures of the simulated cluster (see kube_sched.py)
  GET  /_control/requests the requests seen: [{"method","path","query","auth","content_type","bytes"}]
                          (bytes: of the response body so far; a watch's grows with each event)
  POST /_control/quit
"""
import argparse
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_faults  # noqa: E402
import orphan_guard  # noqa: E402
import request_body  # noqa: E402
import kube_proxy  # noqa: E402
import kube_store  # noqa: E402
import kube_table  # noqa: E402
from kube_store import ApiError  # noqa: E402

POD_LOG = __import__("re").compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$")

try:
    import yaml  # apply bodies may be YAML; kubectl and our client send JSON
except ImportError:  # pragma: no cover
    yaml = None


def gen_certs(d):
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=heliograph-test-ca",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(f"{d}/server.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    with open(f"{d}/client.ext", "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for who, subj in (("server", "/CN=127.0.0.1"), ("client", "/CN=heliograph-test/O=system:masters")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", subj, "-keyout", f"{d}/{who}.key", "-out",
            f"{d}/{who}.csr")
        run("x509", "-req", "-in", f"{d}/{who}.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{d}/{who}.ext", "-out", f"{d}/{who}.crt")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "heliograph-test-apiserver"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("kube_api_server: " + (fmt % args) + "\n")

    # ---- plumbing ----
    def body(self):
        return request_body.read(self)

    cut = None  # a "cut" fault rule for this request's response (kube_faults.py)

    def send_json(self, code, obj):
        self.send_json_bytes(code, json.dumps(obj).encode())

    def send_json_bytes(self, code, data):
        if self.rec is not None:
            self.rec["bytes"] += len(data)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.cut is None:
            self.wfile.write(data)
            return
        rule, self.cut = self.cut, None
        self.wfile.write(data[:int(rule["cut"])])
        self.wfile.flush()
        if rule.get("cut_hold"):
            self.server.faults.hold_event(rule["cut_hold"]).wait(60)
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def send_error_status(self, e):
        self.send_json(e.code, e.status())

    def auth(self):
        """Returns 'rw', 'ro' or None."""
        st = self.server.store
        h = self.headers.get("Authorization", "")
        if h.startswith("Bearer "):
            tok = h[7:]
            with st.lock:
                if tok in st.tokens:
                    return "rw"
                if tok in st.readonly_tokens:
                    return "ro"
            return None
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            cert = None
        return "rw" if cert else None

    rec = None  # this request's entry in /_control/requests; "bytes" counts the body sent

    def record(self, method, path, query, who):
        with self.server.store.lock:
            self.rec = {"bytes": 0}
            self.server.store.requests.append(self.rec)
            self.rec.update({
                "method": method, "path": path, "query": query, "auth": who or "",
                "content_type": self.headers.get("Content-Type", ""),
                "accept": self.headers.get("Accept", ""),
                "user_agent": self.headers.get("User-Agent", ""),
            })

    # ---- verbs ----
    def do_GET(self):
        self.handle_verb("GET")

    def do_POST(self):
        self.handle_verb("POST")

    def do_PATCH(self):
        self.handle_verb("PATCH")

    def do_PUT(self):
        self.handle_verb("PUT")

    def do_DELETE(self):
        self.handle_verb("DELETE")

    def handle_verb(self, method):
        self.rec = None
        u = urllib.parse.urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        body = self.body() if method in ("POST", "PATCH", "PUT", "DELETE") else b""
        if path.startswith("/_control/"):
            return self.control(method, path, body)
        who = self.auth()
        self.record(method, path, u.query, who)
        try:
            if who is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            self.cut = self.server.faults.check(method, path, u.query)
            pm = kube_proxy.match(path)
            if pm:
                return kube_proxy.forward(self, self.server.store, self.server.proxies, pm, method, u.query, body, who)
            self.route(method, path, q, body, who)
        except ApiError as e:
            self.send_error_status(e)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def pod_log(self, ns, name, q):
        """GET pods/NAME/log: what a container run for real (kube_sched_run.py) printed."""
        st = self.server.store
        with st.lock:
            pod = st.objects.get(("pods", "", ns, name))
        if pod is None:
            raise ApiError(404, "NotFound", 'pods "%s" not found' % name, {"name": name, "kind": "pods"})
        names = [c["name"] for k in ("initContainers", "containers") for c in pod["spec"].get(k) or []]
        c = q.get("container") or (names[0] if len(names) == 1 else None)
        if c is None:
            raise ApiError(400, "BadRequest", "a container name must be specified for pod %s, choose one of: [%s]"
                           % (name, " ".join(names)))
        if c not in names:
            raise ApiError(400, "BadRequest", "container %s is not valid for pod %s" % (c, name))
        sim = self.server.sim
        data = sim.kubelets.runner.log(ns, name, c, q.get("previous") == "true") if sim else None
        if data is None:
            data = b"" if q.get("previous") != "true" else None
        if data is None:
            raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod "%s" not found' % (c, name))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def control(self, method, path, body):
        st = self.server.store
        if path == "/_control/tokens":
            d = json.loads(body or b"{}")
            with st.lock:
                st.tokens = set(d.get("tokens", []))
                st.readonly_tokens = set(d.get("readonly", []))
            return self.send_json(200, {})
        if path == "/_control/objects":
            d = json.loads(body)
            if isinstance(d, dict) and d.get("kind", "").endswith("List") and "items" in d:
                # A captured List: its items carry no kind/apiVersion of their own.
                d = [dict(o, kind=o.get("kind") or d["kind"][:-4], apiVersion=o.get("apiVersion") or d["apiVersion"])
                     for o in d["items"]]
            for o in d if isinstance(d, list) else [d]:
                st.put_raw(o)
            return self.send_json(200, {})
        if path == "/_control/delete":
            d = json.loads(body)
            for o in d if isinstance(d, list) else [d]:
                st.delete_raw(o)
            return self.send_json(200, {})
        if path == "/_control/fail":
            self.server.faults.set(json.loads(body or b"[]"))
            return self.send_json(200, {})
        if path == "/_control/release":
            self.server.faults.release(json.loads(body or b"{}").get("hold", ""))
            return self.send_json(200, {})
        if path == "/_control/controller":
            with st.lock:
                st.controller_paused = bool(json.loads(body or b"{}").get("paused"))
            return self.send_json(200, {})
        if path == "/_control/proxy":
            self.server.proxies.update(json.loads(body or b"{}"))
            return self.send_json(200, {})
        if path == "/_control/list":
            with st.lock:
                st.inconsistent_continue = bool(json.loads(body or b"{}").get("inconsistent_continue", True))
            return self.send_json(200, {})
        if path == "/_control/end_watches":
            st.end_watches()
            return self.send_json(200, {})
        if path == "/_control/compact":
            st.compact()
            return self.send_json(200, {})
        if path == "/_control/behaviour":
            sim = self.server.sim
            if sim is None:
                return self.send_json(404, {"message": "started without --scheduler"})
            if method == "POST":
                return self.send_json(200, sim.set_behaviour(json.loads(body or b"{}")))
            return self.send_json(200, sim.get_behaviour())
        if path == "/_control/requests":
            with st.lock:
                return self.send_json(200, list(st.requests))
        if path == "/_control/quit":
            self.send_json(200, {})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return None
        return self.send_json(404, {})

    def route(self, method, path, q, body, who):
        st = self.server.store
        disc = st.discovery_doc(path)
        if disc is not None:
            return self.send_json(200, disc)
        if path in ("/version", "/healthz", "/readyz", "/livez"):
            return self.send_json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-heliograph-test",
                                        "platform": "linux/amd64"} if path == "/version" else "ok")
        if path.startswith("/openapi/"):
            doc = st.openapi_v3(path)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.send_json(200, doc)
        lm = POD_LOG.match(path)
        if lm and method == "GET":
            return self.pod_log(lm.group(1), lm.group(2), q)
        r = st.parse_path(path)
        if r is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if who == "ro" and method not in ("GET",):
            verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}[method]
            raise st.forbidden(r, verb)
        if method == "GET":
            if r.name is None and q.get("watch") in ("true", "1"):
                return self.watch(r, q)
            if kube_table.wants_table(self.headers.get("Accept")):
                if r.name is None:
                    lst = st.list(r, q)
                    items = [dict(o, kind=r.res.kind, apiVersion=lst["apiVersion"]) for o in lst["items"]]
                    tab = kube_table.table(r.res, items, lst["metadata"], q.get("includeObject"))
                else:
                    one = st.get(r)
                    tab = kube_table.table(r.res, [one], {"resourceVersion": one["metadata"]["resourceVersion"]},
                                           q.get("includeObject"))
                if tab is not None:
                    return self.send_json(200, tab)
            if r.name is None:
                return self.send_json_bytes(200, st.list_json(r, q))
            return self.send_json(200, st.get(r))
        if method == "DELETE":
            return self.send_json(200, st.delete(r))
        obj = self.parse_body(body)
        if method == "POST":
            if r.name is not None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return self.send_json(201, st.create(r, obj, q))
        if method == "PATCH":
            ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ct == "application/apply-patch+yaml":
                code, out = st.apply(r, obj, q)
                return self.send_json(code, out)
            if ct in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                return self.send_json(200, st.merge_patch(r, obj, q))
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                                                        f"accepted media types include: application/apply-patch+yaml, "
                                                        f"application/merge-patch+json")
        if method == "PUT":
            return self.send_json(200, st.replace(r, obj, q))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def parse_body(self, body):
        try:
            return json.loads(body)
        except ValueError:
            if yaml is None:
                raise ApiError(400, "BadRequest", "the request body is not JSON")
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as e:
                raise ApiError(400, "BadRequest", f"error decoding YAML: {e}")

    def client_gone(self):
        """True once the client closed its connection: a watch thread that only
        wrote on events would otherwise outlive kubectl until its timeout."""
        try:
            if not select.select([self.connection], [], [], 0)[0]:
                return False
            return self.connection.recv(1) == b""
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (OSError, ValueError):
            return True

    def watch(self, r, q):
        st = self.server.store
        rv = q.get("resourceVersion", "")
        timeout = float(q.get("timeoutSeconds") or 1800)
        bookmarks = q.get("allowWatchBookmarks") == "true"
        initial = q.get("sendInitialEvents") == "true"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        # kubectl get -w asks for Tables: each event's object becomes a one-row Table,
        # the column definitions only in the first, as the apiserver sends them.
        tables = kube_table.wants_table(self.headers.get("Accept")) and kube_table.printable(r.res)
        first = [True]

        def emit(ev):
            if tables and ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                o = ev["object"]
                tab = kube_table.table(r.res, [o], {"resourceVersion": o["metadata"].get("resourceVersion", "")},
                                       q.get("includeObject"))
                if not first[0]:
                    tab["columnDefinitions"] = []
                first[0] = False
                ev = {"type": ev["type"], "object": tab}
            data = (json.dumps(ev) + "\n").encode()
            self.rec["bytes"] += len(data)
            if self.cut is not None and ev.get("type") != "BOOKMARK":
                # A stream cut in the middle of an event (bookmarks aside, so a
                # test knows which): part of it, then the connection goes.
                part = data[:max(1, min(len(data) - 1, int(self.cut["cut"])))]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                raise ConnectionResetError("cut")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        try:
            for ev in st.watch_events(r, q, rv, timeout, bookmarks, initial, self.server.opts.bookmark_interval,
                                      lambda: not self.client_gone()):
                emit(ev)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls-dir", required=True, help="where ca.crt, server.* and client.* are (generated unless present)")
    ap.add_argument("--discovery", required=True, help="directory of discovery JSON (fixtures k8s-api/discovery)")
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--readonly-token", action="append", default=[])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--controller-delay", type=float, default=1.0)
    ap.add_argument("--bookmark-interval", type=float, default=2.0)
    ap.add_argument("--seed", action="append", default=[], help="JSON/YAML file of objects stored at start")
    ap.add_argument("--service-proxy", action="append", default=[],
                    help="NS/SERVICE:PORT=URL: where the service proxy forwards (repeatable)")
    ap.add_argument("--scheduler", action="store_true",
                    help="simulate scheduler, controllers, volumes and kubelets (kube_sched.py) instead of "
                         "the plain --controller-delay controller")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()
    orphan_guard.exit_with_parent()

    if not os.path.exists(os.path.join(opts.tls_dir, "server.crt")):
        gen_certs(opts.tls_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(opts.tls_dir, "server.crt"), os.path.join(opts.tls_dir, "server.key"))
    ctx.load_verify_locations(os.path.join(opts.tls_dir, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])

    store = kube_store.Store(opts.discovery, set(opts.token), set(opts.readonly_token))
    for path in opts.seed:
        with open(path) as f:
            text = f.read()
        docs = [json.loads(text)] if text.lstrip().startswith(("{", "[")) else list(yaml.safe_load_all(text))
        for d in docs:
            for o in d if isinstance(d, list) else d.get("items", [d]) if d else []:
                store.put_raw(o)

    srv = Server(("127.0.0.1", opts.port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.opts = opts
    srv.store = store
    srv.proxies = kube_proxy.Proxies(opts.service_proxy)
    srv.faults = kube_faults.Faults()
    srv.sim = None
    if opts.scheduler:
        import kube_sched
        import kube_sched_run
        srv.sim = kube_sched.start(store, os.path.join(opts.tls_dir, "ca.crt"))
        kube_sched_run.install_exit_handlers()
    else:
        kube_store.start_controller(store, opts.controller_delay)
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    store.stop()


if __name__ == "__main__":
    main()
