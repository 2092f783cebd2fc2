#!/usr/bin/env python3
"""Deployment + Service + ReplicaSet churn against kube_api_server.py, through
its REST API as kubectl and the deployment controller would write them.

  deploy_churn.py URL CA TOKEN create FROM N    N sets, names churn-FROM.., left in place
  deploy_churn.py URL CA TOKEN churn FROM N     N sets, each created then deleted
  deploy_churn.py URL CA TOKEN marker STEP      STEP 1: a blue-green pair (Service selecting
                                                blue); 2: green rolled out, the Service switched
                                                to it (points from the Deployment and Service watches)
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

NS = "shop"


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Api:
    def __init__(self, url, ca, token):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.token = token
        self.c = None

    def req(self, method, path, obj=None, ok=(200, 201)):
        body = json.dumps(obj).encode() if obj is not None else None
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
            try:
                self.c.request(method, path, body=body, headers={
                    "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
                r = self.c.getresponse()
                data = r.read()
                if r.status not in ok:
                    sys.exit("%s %s: %d %s" % (method, path, r.status, data[:300]))
                return json.loads(data) if data else None
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = None
                if attempt:
                    raise
        return None


def labels(name, extra=None):
    d = {"app": name, "app.kubernetes.io/part-of": "churn"}
    d.update(extra or {})
    return d


def deployment(name, image, lab=None):
    lab = lab or labels(name)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "labels": lab},
            "spec": {"replicas": 2, "selector": {"matchLabels": lab},
                     "template": {"metadata": {"labels": lab},
                                  "spec": {"containers": [{"name": "app", "image": image},
                                                          {"name": "log-shipper", "image": "fluent/fluent-bit:3.0"}]}}}}


def service(name, selector):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}}


def replicaset(name, owner, uid, image):
    lab = labels(owner, {"pod-template-hash": "5d8f6c7b9"})
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS, "labels": lab,
                         "annotations": {"deployment.kubernetes.io/revision": "1"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner,
                                              "uid": uid, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": 2, "selector": {"matchLabels": lab},
                     "template": {"metadata": {"labels": lab},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


D = "/apis/apps/v1/namespaces/%s/deployments" % NS
S = "/api/v1/namespaces/%s/services" % NS
R = "/apis/apps/v1/namespaces/%s/replicasets" % NS


def create_set(api, i):
    name = "churn-app-%04d" % i
    image = "registry.example.com/shop/churn-app:1.0.%d" % i
    api.req("POST", S, service(name, {"app": name}))
    d = api.req("POST", D, deployment(name, image))
    api.req("POST", R, replicaset(name + "-5d8f6c7b9", name, d["metadata"]["uid"], image))
    return name


def delete_set(api, name):
    # The garbage collector's order: the ReplicaSet goes with its Deployment; then the Service.
    api.req("DELETE", D + "/" + name)
    api.req("DELETE", R + "/" + name + "-5d8f6c7b9")
    api.req("DELETE", S + "/" + name)


def main():
    url, ca, token, what = sys.argv[1:5]
    api = Api(url, ca, token)
    if what == "create":
        frm, n = int(sys.argv[5]), int(sys.argv[6])
        for i in range(frm, frm + n):
            create_set(api, i)
    elif what == "churn":
        # Sets in 8 connections at once: one request waits ~40 ms on the server's
        # separate header and body writes (Nagle against delayed ACK).
        frm, n = int(sys.argv[5]), int(sys.argv[6])
        errs = []

        def run(k):
            a = Api(url, ca, token)
            try:
                for i in range(frm + k, frm + n, 8):
                    delete_set(a, create_set(a, i))
            except BaseException as e:  # SystemExit from req() included
                errs.append(e)

        ts_ = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in ts_:
            t.start()
        for t in ts_:
            t.join()
        if errs:
            sys.exit("churn: %s" % errs[0])
    elif what == "marker" and sys.argv[5] == "1":
        api.req("POST", S, service("mark", {"app": "mark", "color": "blue"}))
        api.req("POST", D, deployment("mark-blue", "shop/mark:1.0", {"app": "mark", "color": "blue"}))
    elif what == "marker":
        api.req("POST", D, deployment("mark-green", "shop/mark:2.0", {"app": "mark", "color": "green"}))
        s = api.req("GET", S + "/mark")
        s["spec"]["selector"]["color"] = "green"
        api.req("PUT", S + "/mark", s)
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
