"""What a pod refers to by name, in the simulated cluster (kube_sched.py): the
objects every namespace gets (ServiceAccount "default" from the serviceaccount
controller, ConfigMap kube-root-ca.crt from the root-ca-cert-publisher), and
the checks of a pod's references by the ServiceAccount admission plugin, the
kubelet's volume manager and its container config.

Facts (kubernetes/kubernetes plugin/pkg/admission/serviceaccount,
pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, pkg/volume/configmap
and secret, pkg/controller/replicaset "Error creating: %v"):
- A pod naming a ServiceAccount that does not exist is refused at creation:
  'pods "NAME-" is forbidden: error looking up service account NS/SA:
  serviceaccount "SA" not found'; the ReplicaSet/DaemonSet controller records
  Warning FailedCreate "Error creating: " + that, and tries again.
- A ConfigMap or Secret volume (also inside a projected volume) whose object
  is missing and not optional keeps the pod ContainerCreating: Warning
  FailedMount 'MountVolume.SetUp failed for volume "V" : configmap "X" not
  found' (secret "X" not found).
- An env var from a missing Secret/ConfigMap or key (not optional): the
  container waits with reason CreateContainerConfigError, message 'secret "X"
  not found' or "couldn't find key K in Secret NS/X" (ConfigMap likewise), and
  Warning Failed "Error: " + that message.
"""


def missing_service_account(cl, ns, spec, pod_prefix):
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if cl.get("ServiceAccount", ns, sa) is not None:
        return None
    return ('pods "%s" is forbidden: error looking up service account %s/%s: serviceaccount "%s" not found'
            % (pod_prefix, ns, sa, sa))


def sync_namespaces(cl, ca_pem):
    for n in cl.list("Namespace"):
        ns = n["metadata"]["name"]
        if n["metadata"].get("deletionTimestamp"):
            continue
        if cl.get("ServiceAccount", ns, "default") is None:
            cl.create("ServiceAccount", "", {"metadata": {"name": "default", "namespace": ns}},
                      "kube-controller-manager")
        if cl.get("ConfigMap", ns, "kube-root-ca.crt") is None:
            cl.create("ConfigMap", "", {"metadata": {"name": "kube-root-ca.crt", "namespace": ns, "annotations": {
                "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver "
                                             "when using internal endpoints such as the internal service IP or "
                                             "kubernetes.default.svc. No other usage is guaranteed across "
                                             "distributions of Kubernetes clusters."}},
                "data": {"ca.crt": ca_pem}}, "kube-controller-manager")


def seeded_service_accounts(cl, pods):
    """A pod that was already running when loaded (eks_clusters.py, a captured
    cluster) proves its ServiceAccount exists; seeds often leave it out, and the
    pod's replacement must not then be refused."""
    for p in pods:
        ns = p["metadata"].get("namespace")
        sa = (p.get("spec") or {}).get("serviceAccountName") or "default"
        if cl.get("ServiceAccount", ns, sa) is None and cl.get("Namespace", None, ns) is not None:
            cl.create("ServiceAccount", "", {"metadata": {"name": sa, "namespace": ns}}, "kube-controller-manager")


def _object(cl, kind, ns, name):
    return cl.get("ConfigMap" if kind == "configmap" else "Secret", ns, name)


def missing_volumes(cl, pod):
    """[(volume name, message)] of the pod's ConfigMap/Secret volumes that cannot be set up."""
    ns = pod["metadata"]["namespace"]
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        sources = []
        if v.get("configMap"):
            sources.append(("configmap", v["configMap"].get("name"), v["configMap"].get("optional")))
        if v.get("secret"):
            sources.append(("secret", v["secret"].get("secretName"), v["secret"].get("optional")))
        for s in (v.get("projected") or {}).get("sources") or []:
            if s.get("configMap"):
                sources.append(("configmap", s["configMap"].get("name"), s["configMap"].get("optional")))
            if s.get("secret"):
                sources.append(("secret", s["secret"].get("name"), s["secret"].get("optional")))
        for kind, name, optional in sources:
            if not optional and _object(cl, kind, ns, name) is None:
                out.append((v["name"], '%s "%s" not found' % (kind, name)))
                break
    return out


def _has_key(obj, key):
    return key in (obj.get("data") or {}) or key in (obj.get("stringData") or {}) or \
        key in (obj.get("binaryData") or {})


def env_error(cl, pod, c):
    """Why the container's environment cannot be made (CreateContainerConfigError), or None."""
    ns = pod["metadata"]["namespace"]
    for e in c.get("envFrom") or []:
        for kind, ref in (("configmap", e.get("configMapRef")), ("secret", e.get("secretRef"))):
            if ref and not ref.get("optional") and _object(cl, kind, ns, ref.get("name")) is None:
                return '%s "%s" not found' % (kind, ref.get("name"))
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        for kind, ref, word in (("configmap", vf.get("configMapKeyRef"), "ConfigMap"),
                                ("secret", vf.get("secretKeyRef"), "Secret")):
            if not ref or ref.get("optional"):
                continue
            obj = _object(cl, kind, ns, ref.get("name"))
            if obj is None:
                return '%s "%s" not found' % (kind, ref.get("name"))
            if not _has_key(obj, ref.get("key")):
                return "couldn't find key %s in %s %s/%s" % (ref.get("key"), word, ns, ref.get("name"))
    return None


def ca_pem(path):
    try:
        with open(path) as f:
            return f.read()
    except (OSError, TypeError):
        return ""
