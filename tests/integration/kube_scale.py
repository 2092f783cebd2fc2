#!/usr/bin/env python3
"""A cluster of a given size for the test API server, made from real captured
objects (the honeycomb home-lab PodList and NodeList, kind's coredns
Deployment): each generated object is a copy of one of them with its name,
namespace, node and uid changed, so sizes and shapes are those of a real
cluster. ReplicaSets and Services have no captured sample here; they are
written from the Deployment's spec as the controllers would.

  kube_scale.py URL --pods N [--deployments N --replicasets N --services N --nodes N]
      POSTs the objects to URL/_control/objects in batches (no auth needed);
      --ca the test server's ca.crt. With --touch K --round R: only K of the
      pods (from R*K on, wrapping), their restartCount raised by R+1: a round
      of churn (K MODIFIED events).
As a module: objects(pods, deployments, replicasets, services, nodes) -> list."""
import argparse
import copy
import json
import os
import ssl
import sys
import urllib.request

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def load(rel):
    with open(os.path.join(FIX, rel)) as f:
        return json.load(f)


def _clean(o, kind, api):
    o = copy.deepcopy(o)
    o["kind"], o["apiVersion"] = kind, api
    m = o["metadata"]
    for k in ("uid", "resourceVersion", "selfLink", "managedFields", "ownerReferences", "generateName"):
        m.pop(k, None)
    return o


def objects(pods, deployments=0, replicasets=0, services=0, nodes=1, namespaces=10):
    pod_t = [_clean(p, "Pod", "v1") for p in load("kubelet-pods/honeycomb-baremetal-docker-calico-pods.json")["items"]]
    node_t = [_clean(n, "Node", "v1") for n in load("k8s-api/misc/honeycomb-baremetal-nodelist.json")["items"]]
    dep_t = _clean(load("k8s-api/deployments/kind-v1.36-deploymentlist-kube-system.json")["items"][0],
                   "Deployment", "apps/v1")
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scale-%d" % i}} for i in range(namespaces)]
    node_names = []
    for i in range(max(nodes, 1)):
        n = copy.deepcopy(node_t[i % len(node_t)])
        n["metadata"]["name"] = "node-%04d" % i
        n["metadata"].setdefault("labels", {})["kubernetes.io/hostname"] = n["metadata"]["name"]
        node_names.append(n["metadata"]["name"])
        out.append(n)
    for i in range(deployments):
        d = copy.deepcopy(dep_t)
        d["metadata"]["name"] = "app-%04d" % i
        d["metadata"]["namespace"] = "scale-%d" % (i % namespaces)
        d["spec"]["selector"]["matchLabels"] = {"app": d["metadata"]["name"]}
        d["spec"]["template"]["metadata"]["labels"] = {"app": d["metadata"]["name"]}
        out.append(d)
    for i in range(replicasets):
        d = copy.deepcopy(dep_t)
        dn = "app-%04d" % (i % max(deployments, 1))
        out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": "%s-%08x" % (dn, i * 2654435761 % (1 << 32)),
                                 "namespace": "scale-%d" % (i % max(deployments, 1) % namespaces),
                                 "labels": {"app": dn},
                                 "annotations": {"deployment.kubernetes.io/revision": str(1 + i // max(deployments, 1))}},
                    "spec": {"replicas": d["spec"].get("replicas", 1), "selector": {"matchLabels": {"app": dn}},
                             "template": d["spec"]["template"]},
                    "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}})
    for i in range(services):
        out.append({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "svc-%04d" % i, "namespace": "scale-%d" % (i % namespaces),
                                 "labels": {"app": "app-%04d" % i}},
                    "spec": {"type": "ClusterIP", "clusterIP": "10.96.%d.%d" % (i // 250, i % 250 + 1),
                             "clusterIPs": ["10.96.%d.%d" % (i // 250, i % 250 + 1)], "selector": {"app": "app-%04d" % i},
                             "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                             "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"},
                    "status": {"loadBalancer": {}}})
    for i in range(pods):
        p = copy.deepcopy(pod_t[i % len(pod_t)])
        p["metadata"]["name"] = "%s-%05d" % (p["metadata"]["name"][:40], i)
        p["metadata"]["namespace"] = "scale-%d" % (i % namespaces)
        p["spec"]["nodeName"] = node_names[i % len(node_names)]
        out.append(p)
    return out


def post(url, ca, objs, batch=500):
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
    for i in range(0, len(objs), batch):
        body = json.dumps(objs[i:i + batch]).encode()
        rq = urllib.request.Request(url + "/_control/objects", data=body, method="POST",
                                    headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(rq, context=ctx) as r:
            r.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--ca")
    ap.add_argument("--pods", type=int, required=True)
    ap.add_argument("--deployments", type=int, default=0)
    ap.add_argument("--replicasets", type=int, default=0)
    ap.add_argument("--services", type=int, default=0)
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("--touch", type=int, default=0)
    ap.add_argument("--round", type=int, default=0)
    a = ap.parse_args()
    objs = objects(a.pods, a.deployments, a.replicasets, a.services, a.nodes)
    if a.touch:
        pods = [o for o in objs if o["kind"] == "Pod"]
        objs = [pods[(a.round * a.touch + i) % len(pods)] for i in range(a.touch)]
        for o in objs:
            for cs in o.get("status", {}).get("containerStatuses", []):
                cs["restartCount"] = cs.get("restartCount", 0) + a.round + 1
    post(a.url, a.ca, objs)
    print("%d objects" % len(objs), file=sys.stderr)


if __name__ == "__main__":
    main()
