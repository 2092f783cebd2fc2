"""Service proxy of the test API server:
/api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH is forwarded, as
kube-apiserver does, to an endpoint of the Service. There are no pods here,
so the endpoints are given by the test: --service-proxy NS/NAME:PORT=URL or
POST /_control/proxy {"NS/NAME:PORT": "http://127.0.0.1:P"} (null removes)."""
import http.client
import re
import threading
import urllib.parse

from kube_store import ApiError

PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy(/.*)?$")


class Proxies:
    def __init__(self, specs):
        self.lock = threading.Lock()
        self.targets = {}
        for s in specs:
            key, url = s.split("=", 1)
            self.targets[key] = url

    def update(self, d):
        with self.lock:
            for k, v in d.items():
                if v is None:
                    self.targets.pop(k, None)
                else:
                    self.targets[k] = v

    def target(self, key):
        with self.lock:
            return self.targets.get(key)


def match(path):
    return PATH.match(path)


def forward(handler, store, proxies, m, method, raw_query, body, who):
    """Answers one proxied request; raises ApiError for the apiserver's own errors."""
    ns, svc, rest = m.group(1), m.group(2), m.group(3) or "/"
    # "name:port", or "scheme:name:port" as the apiserver also accepts
    parts = svc.split(":")
    if len(parts) == 3:
        parts = parts[1:]
    name, port = parts[0], parts[1] if len(parts) > 1 else ""
    with store.lock:
        svc_obj = store.objects.get(("services", "", ns, name))
    if who == "ro" and method != "GET":
        raise ApiError(403, "Forbidden",
                       'services "%s" is forbidden: User "system:serviceaccount:test:readonly" cannot create '
                       'resource "services/proxy" in API group "" in the namespace "%s"' % (name, ns),
                       {"name": name, "kind": "services"})
    if svc_obj is None:
        raise ApiError(404, "NotFound", 'services "%s" not found' % name, {"name": name, "kind": "services"})
    ports = (svc_obj.get("spec") or {}).get("ports") or []
    found = [p for p in ports if not port or str(p.get("port")) == port or p.get("name") == port]
    if not found:
        raise ApiError(503, "ServiceUnavailable", 'no endpoints available for service "%s:%s"' % (name, port))
    url = proxies.target("%s/%s:%s" % (ns, name, found[0].get("port")))
    if url is None:
        raise ApiError(503, "ServiceUnavailable", 'no endpoints available for service "%s"' % name)
    u = urllib.parse.urlsplit(url)
    headers = {k: v for k, v in handler.headers.items()
               if k.lower() in ("content-type", "accept", "content-encoding")}
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request(method, rest + ("?" + raw_query if raw_query else ""), body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        ctype = resp.getheader("Content-Type", "application/octet-stream")
        conn.close()
    except OSError as e:
        raise ApiError(503, "ServiceUnavailable", "error trying to reach service: %s" % e)
    handler.send_response(resp.status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
