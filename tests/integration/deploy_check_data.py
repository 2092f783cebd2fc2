#!/usr/bin/env python3
"""Line protocol for test_agentctl_deploy_check.sh: a service's pods as the
agent writes them, with the kubernetes input's and kube_inventory's names
(measurement kubernetes_pod_container, their tags and fields: see
plugins/inputs/kubernetes/README.md and kube_inventory/README.md; the
prometheus input's v1 counters for an error rate), every 10 s, one scenario
per namespace.

  deploy_check_data.py START_S [NAMESPACE...] > lines
                                   (the deploy's start, seconds; only those scenarios)

Times: before window [START-300, START), the deploy done at START+60, after
window [START+60, START+360). The kubelet's points and kube_inventory's carry
their own gather times (3 s apart), as on a real node."""
import random
import sys

START = int(sys.argv[1])
W = 300
DONE = START + 60
STEP = 10
MI = 1048576
out = []


def kubelet(ns, pod, container, t, cpu_m, mem):
    out.append(
        "kubernetes_pod_container,container_name=%s,namespace=%s,node_name=node-1,pod_name=%s "
        "cpu_usage_core_nanoseconds=%di,cpu_usage_nanocores=%di,logsfs_used_bytes=4096i,"
        "memory_rss_bytes=%di,memory_usage_bytes=%di,memory_working_set_bytes=%di,rootfs_used_bytes=8192i %d"
        % (container, ns, pod, t * 1000, int(cpu_m * 1e6), int(mem * 0.9), int(mem * 1.1), int(mem), t * 10**9))


def inventory(ns, pod, container, t, restarts, state="running", ready=True, reason=None):
    code = {"running": 0, "terminated": 1, "waiting": 2}[state]
    fields = "resource_requests_memory_bytes=%di,restarts_total=%di,state_code=%di" % (128 * MI, restarts, code)
    if reason:
        fields += ',state_reason="%s"' % reason
        if state == "terminated":
            fields += ',terminated_reason="%s"' % reason
    out.append(
        "kubernetes_pod_container,container_name=%s,namespace=%s,node_name=node-1,phase=Running,pod_name=%s,"
        "readiness=%s,state=%s %s %d"
        % (container, ns, pod, "ready" if ready else "unready", state, fields, (t + 3) * 10**9))


def span(a, b):
    return range(a, b, STEP)


OLD = ["shop-7d9f8b6c5-abcde", "shop-7d9f8b6c5-fghij"]
NEW = ["shop-5c8d7e9f4-klmno", "shop-5c8d7e9f4-pqrst"]
# Same namespace, other workloads: must never be read as the service's pods.
OTHERS = ["shop-canary-6f7b8c9d4-xyz12", "shopping-cart-7c8d9f6b5-qwert"]


def usage_noise(rng, base, rel=0.05):
    return base * (1 + rng.uniform(-rel, rel))


def before_after(ns, mem_after=200 * MI, restarts_after=None, samples_after=None, cpu_after=100, seed=1):
    """Old pods before the deploy, new pods after it, app + proxy containers."""
    rng = random.Random(seed)
    for t in span(START - 2 * W, START + 40):  # old pods, until the rollout replaced them
        for p in OLD:
            for c, share in (("app", 0.8), ("proxy", 0.2)):
                kubelet(ns, p, c, t, usage_noise(rng, 100) * share, usage_noise(rng, 200 * MI) * share)
                inventory(ns, p, c, t, 2 if c == "app" else 0)  # restarts from long ago, unchanged
    times = list(span(START + 20, DONE + W + 30))
    if samples_after is not None:
        times = [t for t in times if t < DONE] + [t for t in times if t >= DONE][:samples_after]
    for i, t in enumerate(times):
        for p in NEW:
            for c, share in (("app", 0.8), ("proxy", 0.2)):
                kubelet(ns, p, c, t, usage_noise(rng, cpu_after) * share, usage_noise(rng, mem_after) * share)
                n = restarts_after(p, c, t) if restarts_after else 0
                inventory(ns, p, c, t, n)
    for t in span(START - 2 * W, DONE + W + 30):
        for p in OTHERS:  # a neighbour crashing and growing all along
            kubelet(ns, p, "app", t, 900, (500 + (t - START)) * MI)
            inventory(ns, p, "app", t, (t - START + 2 * W) // 10, "waiting", False, "CrashLoopBackOff")


def restarting(p, c, t):
    # klmno's app restarts three times after the deploy: 0 -> 1 -> 2 -> 3.
    if p != NEW[0] or c != "app":
        return 0
    return sum(1 for k in (DONE + 60, DONE + 150, DONE + 240) if t >= k)


def canary(ns, stable, canary_pods, seed=2):
    """Stable and canary pods over the same span; the canary's app is
    OOMKilled twice (seen terminated at a gather) and restarts."""
    rng = random.Random(seed)
    for t in span(DONE - W, DONE + W + 30):
        for p in stable:
            kubelet(ns, p, "app", t, usage_noise(rng, 100), usage_noise(rng, 200 * MI))
            inventory(ns, p, "app", t, 1)
        for p in canary_pods:
            if t < START:
                continue
            kubelet(ns, p, "app", t, usage_noise(rng, 100), usage_noise(rng, 200 * MI))
            kills = [k for k in (DONE + 100, DONE + 200) if t >= k]
            if t in (DONE + 100, DONE + 200):
                inventory(ns, p, "app", t, len(kills) - 1, "terminated", False, "OOMKilled")
            else:
                inventory(ns, p, "app", t, len(kills))


def flapping(ns, seed=3):
    """Per-pod memory and CPU jumping between two levels, the same mean before
    and after: 29 of 60 samples high before, 31 of 60 after, so the plain
    median jumps from the low level to the high one."""
    rng = random.Random(seed)
    n_before = len(list(span(START - W, START)))
    n_after = len(list(span(DONE, DONE + W)))

    def levels(n, high):
        v = [True] * high + [False] * (n - high)
        rng.shuffle(v)
        return v

    for pods, a, b, high in ((OLD, START - W, START, 29), (NEW, DONE, DONE + W, 31)):
        n = len(list(span(a, b)))
        for p_i, p in enumerate(pods):
            lv = levels(n, high // 2 + (high % 2 if p_i == 0 else 0))
            for t, h in zip(span(a, b), lv):
                kubelet(ns, p, "app", t, 150 if h else 50, (300 if h else 100) * MI)
                inventory(ns, p, "app", t, 0)
    assert n_before == n_after == 30


def prometheus(ns, pods, a, b, rps, err_share):
    """The prometheus input's v1 counters (measurement = metric family,
    field counter) of pod targets: tags url, address, namespace, pod_name."""
    for i, p in enumerate(pods):
        ok = err = 0.0
        for t in span(a, b):
            ok += rps * STEP * (1 - err_share)
            err += rps * STEP * err_share
            for code, v in (("200", ok), ("503", err)):
                out.append('http_requests_total,address=10.0.0.%d,code=%s,namespace=%s,pod_name=%s,'
                           'url=http://10.0.0.%d:9102/metrics counter=%s %d' % (i + 1, code, ns, p, i + 1, v, t * 10**9))


SCENARIOS = {
    "healthy": lambda: (before_after("healthy"), prometheus("healthy", OLD, START - W, START, 5, 0.001),
                        prometheus("healthy", NEW, DONE, DONE + W, 5, 0.001)),
    "restarts": lambda: before_after("restarts", restarts_after=restarting),
    "memory": lambda: before_after("memory", mem_after=300 * MI),
    "sparse": lambda: before_after("sparse", samples_after=3),
    "errors": lambda: (before_after("errors"), prometheus("errors", OLD, START - W, START, 5, 0.001),
                       prometheus("errors", NEW, DONE, DONE + W, 5, 0.08)),
    "canary": lambda: canary("canary", ["shop-7d9f8b6c5-abcde", "shop-7d9f8b6c5-fghij"],
                             ["shop-canary-5c8d7e9f4-klmno"]),
    # Argo Rollouts: one Rollout's pods, told apart by their pod template hash.
    "argo": lambda: canary("argo", ["shop-77c9d8b6f4-aaaaa", "shop-77c9d8b6f4-bbbbb"], ["shop-5d4f6b7c8-ccccc"]),
    "flapping": lambda: flapping("flapping"),
}
for name in sys.argv[2:] or SCENARIOS:
    SCENARIOS[name]()
sys.stdout.write("\n".join(out) + "\n")
