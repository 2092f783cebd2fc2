#!/usr/bin/env python3
"""The test API server's LIST under kube_inventory's first list: the server
(tests/servers/kube_api_server.py of --tree, default this source tree) holding
a kube_scale.py cluster of --pods pods (P/10 Deployments, P/5 ReplicaSets,
P/10 Services, P/50 Nodes), then --rounds times the five paged LISTs the
plugin makes at once (pods, nodes, deployments, daemonsets, statefulsets;
pages of --limit). Prints each round's wall time. The client reads only each
page's continue token, so the time is the server's (and TLS's), not a parser's.

  python3 bench/kube_api_list.py [--pods 5000] [--limit 250] [--rounds 3] [--tree DIR]"""
import argparse
import http.client
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PATHS = ["/api/v1/pods", "/api/v1/nodes", "/apis/apps/v1/deployments", "/apis/apps/v1/daemonsets",
         "/apis/apps/v1/statefulsets"]
CONTINUE = re.compile(rb'"continue": "([^"]*)"')


def list_all(port, ctx, path, limit, out):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    cont, n, t0 = "", 0, time.time()
    while True:
        c.request("GET", "%s?limit=%d%s" % (path, limit, "&continue=" + cont if cont else ""),
                  headers={"Authorization": "Bearer tok"})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("%s: HTTP %d" % (path, r.status))
        n += len(body)
        m = CONTINUE.search(body[:1024])  # metadata comes before the items
        cont = m.group(1).decode() if m else ""
        if not cont:
            break
    out[path] = (time.time() - t0, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--limit", type=int, default=250)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tree", default=os.path.dirname(HERE))
    a = ap.parse_args()
    servers, fixtures = os.path.join(a.tree, "tests", "servers"), os.path.join(HERE, "..", "tests", "fixtures")
    with tempfile.TemporaryDirectory() as d:
        srv = subprocess.Popen([sys.executable, os.path.join(servers, "kube_api_server.py"), "--tls-dir", d,
                                "--discovery", os.path.join(fixtures, "k8s-api", "discovery"), "--token", "tok",
                                "--bookmark-interval", "60"], stdout=subprocess.PIPE, text=True)
        try:
            port = int(srv.stdout.readline().split()[1])
            p = a.pods
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "servers", "kube_scale.py"),
                            "https://127.0.0.1:%d" % port, "--ca", os.path.join(d, "ca.crt"), "--pods", str(p),
                            "--deployments", str(p // 10), "--replicasets", str(p // 5), "--services", str(p // 10),
                            "--nodes", str(max(p // 50, 1))], check=True)
            ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
            for i in range(a.rounds):
                out = {}
                t0 = time.time()
                ts = [threading.Thread(target=list_all, args=(port, ctx, path, a.limit, out)) for path in PATHS]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                print("round %d: five lists at once %.2f s wall (pods %.2f s, %d bytes)"
                      % (i + 1, time.time() - t0, out["/api/v1/pods"][0], out["/api/v1/pods"][1]), flush=True)
        finally:
            srv.terminate()
            srv.wait()


if __name__ == "__main__":
    main()
