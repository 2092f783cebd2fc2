#!/usr/bin/env bash
# The agent's RBAC, as `agentctl render` ships it, against what the shipped
# agent calls: the rendered DaemonSet config runs (daemonset_pod.py, as in
# test_daemonset_spool) against the test API server with the Argo Rollouts
# CRD installed, until each cluster input has done its work (deploy_events'
# watches listed, a kube_inventory gather written, a Lease released at
# SIGTERM). Then every request it made must be allowed by the ClusterRole and
# Role bound to its ServiceAccount, and every rule (group, resource, verb) must
# have been used: nothing granted that the code does not call. nodes/stats is
# the kubelet's (the kubernetes input's /stats/summary), not the API server's.
source "$TESTLIB"
source "$(dirname "$TESTLIB")/kube_lib.sh"
FIXTURES_SAVED=$FIXTURES
kube_argo_discovery
kube_start
FIXTURES=$FIXTURES_SAVED
kube_config "$TMP/kubeconfig"
ctl objects '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}'
# In a pod the Leases' namespace is the pod's (the service account's namespace file); here the context's.
sed -i 's/^    user: test-user$/    user: test-user\n    namespace: monitoring/' "$TMP/kubeconfig"
grep -q '^    namespace: monitoring$' "$TMP/kubeconfig" || fail "kubeconfig namespace"
# The influxdb output writes nowhere: this test is about the Kubernetes API.
daemonset_config "http://127.0.0.1:$(free_port)" rbac-node \
	'shutdown_timeout: 20s'=$'shutdown_timeout: 2s\n  debug: true'
daemonset_agent "$TMP/agent.log"
PID=$AGENT_PID
for w in services replicasets deployments rollouts; do
	wait_for grep -q "\[inputs.deploy_events\] .*/$w listed: watching" "$TMP/agent.log" ||
		fail "deploy_events' $w watch did not list: $(grep -E 'E!|W!' "$TMP/agent.log" | head -5)"
done
WAIT_SECS=60 wait_for grep -q '^kubernetes_node,' "$TMP/gathered.lp" || fail "no kube_inventory gather: $(tail -5 "$TMP/agent.log")"
kill -TERM "$PID"
wait "$PID" || fail "the agent exited with $?"

ctl_get requests >"$TMP/requests.json" || fail "requests"
python3 - "$TMP/render.yaml" "$TMP/requests.json" <<'PY' || fail "RBAC and the agent's calls differ"
import json, sys, urllib.parse, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
sa = ("monitoring", "heliograph-agent")
roles = {}
for d in docs:
    if d["kind"] in ("ClusterRoleBinding", "RoleBinding") and any(
            s.get("kind") == "ServiceAccount" and (s.get("namespace"), s["name"]) == sa for s in d["subjects"]):
        ref = d["roleRef"]
        ns = d["metadata"].get("namespace") if d["kind"] == "RoleBinding" else None
        roles[(ref["kind"], ref["name"], ns)] = True
rules = []  # (group, resource, verb, names, namespace or None)
for d in docs:
    if d["kind"] not in ("ClusterRole", "Role"):
        continue
    ns = d["metadata"].get("namespace") if d["kind"] == "Role" else None
    if (d["kind"], d["metadata"]["name"], ns) not in roles:
        continue
    for r in d["rules"]:
        for g in r["apiGroups"]:
            for res in r["resources"]:
                for v in r["verbs"]:
                    rules.append((g, res, v, tuple(r.get("resourceNames") or ()), ns))

def request_attrs(q):
    """(group, resource, verb, name, namespace) of an API request, or None for discovery."""
    p = q["path"].split("?")[0].strip("/").split("/")
    query = urllib.parse.parse_qs(q.get("query") or "")
    if p[0] == "api" and len(p) > 2:
        group, rest = "", p[2:]
    elif p[0] == "apis" and len(p) > 3:
        group, rest = p[1], p[3:]
    else:
        return None  # /api, /apis, /apis/G/V: discovery, open to every authenticated user
    ns = None
    if rest[0] == "namespaces" and len(rest) > 2:
        ns, rest = rest[1], rest[2:]
    res = rest[0]
    name = rest[1] if len(rest) > 1 else None
    if len(rest) > 2:
        res += "/" + rest[2]
    m = q["method"]
    if m == "GET":
        verb = "get" if name else ("watch" if query.get("watch", ["0"])[0] in ("1", "true") else "list")
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[m]
    return group, res, verb, name, ns

def allowed(a):
    g, res, verb, name, ns = a
    for rg, rres, rverb, names, rns in rules:
        if (rg, rres, rverb) == (g, res, verb) and (rns is None or rns == ns) and (not names or name in names):
            return True
    return False

bad, used = [], set()
reqs = [q for q in json.load(open(sys.argv[2])) if not q["path"].startswith("/_control")]
for q in reqs:
    a = request_attrs(q)
    if a is None:
        continue
    if not allowed(a):
        bad.append("%s %s?%s (%s)" % (q["method"], q["path"], q.get("query", ""), a))
    used.add(a[:3])
unused = sorted({r[:3] for r in rules} - used - {("", "nodes/stats", "get")})
for b in bad:
    print("not granted:", b)
for u in unused:
    print("granted, never called:", u)
print("%d API requests, %d (group, resource, verb) used: %s" % (len(reqs), len(used), sorted(used)))
sys.exit(1 if bad or unused else 0)
PY
# nodes/stats: the one kubelet path the shipped config reads.
grep -q 'url: "https://${NODE_IP}:10250"' "$TMP/render.yaml" || fail "the kubernetes input no longer reads the kubelet"
echo "ok: every call granted, every grant called"
