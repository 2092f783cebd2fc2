"""PersistentVolumeClaims in the simulated cluster (kube_sched.py): the
persistentvolume-controller (static binding, default class, the events while
waiting) and an external CSI provisioner for drivers that have a CSIDriver
object, plus the VolumeBinding checks the scheduler makes.

Facts (kubernetes/kubernetes pkg/controller/volume/persistentvolume, the
scheduler's VolumeBinding plugin, kubernetes-csi/external-provisioner; the
ProvisioningFailed text from kubernetes-sigs/aws-ebs-csi-driver issues
#963/#1449 (aws-sdk-go v1 wording) and jpweber/cole#13 (a 2024 driver, aws-sdk-go
v2 wording "operation error EC2: CreateVolume, https response error StatusCode:
403, RequestID: ..., api error ...", used here)):
- A claim without storageClassName gets the default class (annotation
  storageclass.kubernetes.io/is-default-class "true"), also after creation.
  With no class at all and no matching PV: Normal FailedBinding "no persistent
  volumes available for this claim and no storage class is set".
- A PV pre-bound to the claim by claimRef binds at once, even under
  WaitForFirstConsumer.
- WaitForFirstConsumer: Normal WaitForFirstConsumer "waiting for first consumer
  to be created before binding" until the scheduler picks a node for a pod and
  annotates the claim volume.kubernetes.io/selected-node.
- Provisioning: Normal ExternalProvisioning from persistentvolume-controller
  "Waiting for a volume to be created either by the external provisioner 'P'
  or manually by the system administrator. If volume creation is delayed,
  please verify that the provisioner is running and correctly registered."
  (the in-tree kubernetes.io/aws-ebs of EKS's gp2 class is migrated to
  ebs.csi.aws.com); then, when the driver has a CSIDriver object and one of its
  controller pods is ready (if the cluster has any), by that controller: Normal Provisioning
  'External provisioner is provisioning volume for claim "NS/NAME"' and Normal
  ProvisioningSucceeded "Successfully provisioned volume pvc-UID"; the EBS PV
  carries node affinity topology.kubernetes.io/zone In [the node's zone].
- The EBS driver without IAM permissions: Warning ProvisioningFailed 'failed to
  provision volume with StorageClass "C": rpc error: code = Internal desc =
  Could not create volume "pvc-UID": could not create volume in EC2: operation
  error EC2: CreateVolume, https response error StatusCode: 403, RequestID: ...,
  api error UnauthorizedOperation: You are not authorized to perform this
  operation. ...'; the provisioner drops selected-node and the scheduler reports
  'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed
  for PVC "NAME"' on the pod, then tries again.
"""
import copy
import hashlib
import uuid

import kube_sched_predicates as pred
from kube_sched_api import labels

PV_CTRL = "persistentvolume-controller"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
MIGRATED = {"kubernetes.io/aws-ebs": "ebs.csi.aws.com"}
NO_PROVISIONER = "kubernetes.io/no-provisioner"
ZONE = "topology.kubernetes.io/zone"
UNAUTHORIZED = ('failed to provision volume with StorageClass "%s": rpc error: code = Internal desc = Could not '
                'create volume "%s": could not create volume in EC2: operation error EC2: CreateVolume, https '
                'response error StatusCode: 403, RequestID: %s, api error UnauthorizedOperation: You are not '
                'authorized to perform this operation. User: arn:aws:sts::111122223333:assumed-role/'
                'eks-node-role/%s is not authorized to perform: ec2:CreateVolume on resource: '
                'arn:aws:ec2:us-east-1:111122223333:volume/* because no identity-based policy allows the '
                'ec2:CreateVolume action. Encoded authorization failure message: %s')


def default_class(classes):
    for sc in sorted(classes, key=lambda s: s["metadata"]["name"]):
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true":
            return sc
    return None


def request_bytes(c):
    return pred.quantity((((c.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage"))


def pv_node_ok(pv, node):
    req = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    return not req or pred.selector_terms_match(req.get("nodeSelectorTerms"), node)


def pv_available(pv):
    return (pv.get("status") or {}).get("phase", "Available") == "Available" and not pv["metadata"].get(
        "deletionTimestamp")


def pv_matches(pv, c, node=None):
    """pv could be bound to claim c (class, size, access modes, node)."""
    spec = pv.get("spec") or {}
    ref = spec.get("claimRef")
    if ref and (ref.get("name"), ref.get("namespace")) != (c["metadata"]["name"], c["metadata"]["namespace"]):
        return False
    if not pv_available(pv) and not ref:
        return False
    if (spec.get("storageClassName") or "") != (c["spec"].get("storageClassName") or ""):
        return False
    if pred.quantity((spec.get("capacity") or {}).get("storage")) < request_bytes(c):
        return False
    if not set(c["spec"].get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    return node is None or pv_node_ok(pv, node)


def prebound_pv(cl, c):
    for pv in cl.list("PersistentVolume"):
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if (ref.get("name"), ref.get("namespace")) == (c["metadata"]["name"], c["metadata"]["namespace"]) \
                and (not ref.get("uid") or ref["uid"] == c["metadata"]["uid"]) and pv_matches(pv, c):
            return pv
    name = (c.get("spec") or {}).get("volumeName")
    if name:
        pv = cl.get("PersistentVolume", None, name)
        if pv is not None and pv_matches(pv, c):
            return pv
    return None


def provisioner_of(sc):
    p = sc.get("provisioner") or ""
    return MIGRATED.get(p, p)


class Volumes:
    def __init__(self, cl, behaviour):
        self.cl = cl
        self.behaviour = behaviour
        self.instance = {}   # driver -> the provisioner's identity in event sources
        self.failed = set()  # claim uids whose last provisioning attempt failed

    # ---- scheduler side ----
    def claims_of(self, pod):
        ns = pod["metadata"]["namespace"]
        for v in (pod.get("spec") or {}).get("volumes") or []:
            name = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if name:
                yield name, self.cl.get("PersistentVolumeClaim", ns, name)

    def wffc(self, c):
        sc = self.cl.get("StorageClass", None, c["spec"].get("storageClassName") or "", "storage.k8s.io")
        return sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer", sc

    def prefilter(self, pod):
        """VolumeBinding PreFilter: the pod-wide failure, or None."""
        for name, c in self.claims_of(pod):
            if c is None:
                return 'persistentvolumeclaim "%s" not found' % name
            if c["metadata"].get("deletionTimestamp"):
                return 'persistentvolumeclaim "%s" is being deleted' % name
            if (c.get("status") or {}).get("phase") == "Bound":
                continue
            if not self.wffc(c)[0]:
                return pred.MSG_UNBOUND_IMMEDIATE
        return None

    def node_check(self, pod, node):
        """VolumeBinding Filter for one node: a reason, or None."""
        for _, c in self.claims_of(pod):
            if c is None:
                continue
            if (c.get("status") or {}).get("phase") == "Bound":
                pv = self.cl.get("PersistentVolume", None, c["spec"].get("volumeName") or "")
                if pv is not None and not pv_node_ok(pv, node):
                    return pred.MSG_VOLUME_CONFLICT
                continue
            pv = prebound_pv(self.cl, c)
            if pv is not None:
                if not pv_node_ok(pv, node):
                    return pred.MSG_VOLUME_CONFLICT
                continue
            ok, sc = self.wffc(c)
            if ok and provisioner_of(sc) == NO_PROVISIONER:
                if not any(pv_matches(pv, c, node) for pv in self.cl.list("PersistentVolume")):
                    return pred.MSG_NO_PV
        return None

    def reserve(self, pod, node):
        """The scheduler chose node: start binding the pod's unbound claims
        (selected-node for provisioning, claimRef for a static PV)."""
        for _, c in self.claims_of(pod):
            if c is None or (c.get("status") or {}).get("phase") == "Bound" or prebound_pv(self.cl, c):
                continue
            ok, sc = self.wffc(c)
            if not ok:
                continue
            if provisioner_of(sc) == NO_PROVISIONER:
                for pv in sorted(self.cl.list("PersistentVolume"), key=lambda p: pred.quantity(
                        ((p.get("spec") or {}).get("capacity") or {}).get("storage"))):
                    if pv_matches(pv, c, node) and not (pv.get("spec") or {}).get("claimRef"):
                        new = copy.deepcopy(pv)
                        ref = self.claim_ref(c)
                        new["spec"]["claimRef"] = ref
                        self.cl.update("PersistentVolume", "", new, "kube-scheduler", {"spec": {"claimRef": ref}})
                        break
            elif (c["metadata"].get("annotations") or {}).get(SELECTED_NODE) != node["metadata"]["name"]:
                new = copy.deepcopy(c)
                ann = {SELECTED_NODE: node["metadata"]["name"]}
                new["metadata"].setdefault("annotations", {}).update(ann)
                self.cl.update("PersistentVolumeClaim", "", new, "kube-scheduler", {"metadata": {"annotations": ann}})
                self.failed.discard(c["metadata"]["uid"])

    def prebind(self, pod, node):
        """True when every claim is bound; raises ValueError with the PreBind
        error when a provisioning attempt failed."""
        done = True
        for name, c in self.claims_of(pod):
            if c is None:
                raise ValueError('persistentvolumeclaim "%s" not found' % name)
            if (c.get("status") or {}).get("phase") == "Bound":
                continue
            done = False
            if c["metadata"]["uid"] in self.failed and \
                    (c["metadata"].get("annotations") or {}).get(SELECTED_NODE) != node:
                raise ValueError('running PreBind plugin "VolumeBinding": binding volumes: provisioning failed '
                                 'for PVC "%s"' % name)
        return done

    # ---- persistentvolume-controller and the external provisioners ----
    def claim_ref(self, c):
        return {"kind": "PersistentVolumeClaim", "namespace": c["metadata"]["namespace"],
                "name": c["metadata"]["name"], "uid": c["metadata"]["uid"], "apiVersion": "v1",
                "resourceVersion": c["metadata"]["resourceVersion"]}

    def bind(self, c, pv, by_controller=True):
        pv_new = copy.deepcopy(pv)
        ref = self.claim_ref(c)
        pv_new["spec"]["claimRef"] = ref
        pv = self.cl.update("PersistentVolume", "", pv_new, PV_CTRL, {"spec": {"claimRef": ref}})
        pv = self.cl.set_status("PersistentVolume", "", pv, {"phase": "Bound"}, PV_CTRL)
        new = copy.deepcopy(c)
        ann = {"pv.kubernetes.io/bind-completed": "yes"}
        if by_controller:
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
        new["metadata"].setdefault("annotations", {}).update(ann)
        new["spec"]["volumeName"] = pv["metadata"]["name"]
        c = self.cl.update("PersistentVolumeClaim", "", new, PV_CTRL,
                           {"metadata": {"annotations": ann}, "spec": {"volumeName": 1}})
        self.cl.set_status("PersistentVolumeClaim", "", c, {
            "phase": "Bound", "accessModes": pv["spec"].get("accessModes") or [],
            "capacity": dict((pv["spec"].get("capacity") or {}))}, PV_CTRL)

    def sync(self):
        classes = self.cl.list("StorageClass", "storage.k8s.io")
        for c in sorted(self.cl.list("PersistentVolumeClaim"), key=lambda o: int(o["metadata"]["resourceVersion"])):
            if (c.get("status") or {}).get("phase") == "Bound" or c["metadata"].get("deletionTimestamp"):
                continue
            if not (c.get("status") or {}).get("phase"):
                c = self.cl.set_status("PersistentVolumeClaim", "", c, {"phase": "Pending"}, PV_CTRL)
            self.sync_claim(c, classes)

    def sync_claim(self, c, classes):
        spec = c.get("spec") or {}
        if spec.get("storageClassName") is None:
            d = default_class(classes)
            if d is not None:
                new = copy.deepcopy(c)
                new["spec"]["storageClassName"] = d["metadata"]["name"]
                c = self.cl.update("PersistentVolumeClaim", "", new, PV_CTRL, {"spec": {"storageClassName": 1}})
        pv = prebound_pv(self.cl, c)
        if pv is not None:
            self.bind(c, pv, by_controller=not c["spec"].get("volumeName"))
            return
        sc_name = c["spec"].get("storageClassName") or ""
        if not sc_name:
            match = [pv for pv in self.cl.list("PersistentVolume") if pv_matches(pv, c)]
            if match:
                self.bind(c, min(match, key=lambda p: pred.quantity(p["spec"]["capacity"].get("storage"))))
            else:
                self.cl.event(c, "Normal", "FailedBinding", "no persistent volumes available for this claim and no "
                              "storage class is set", PV_CTRL)
            return
        sc = next((s for s in classes if s["metadata"]["name"] == sc_name), None)
        if sc is None:
            self.cl.event(c, "Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "%s" not found' % sc_name,
                          PV_CTRL)
            return
        prov = provisioner_of(sc)
        node_name = (c["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not node_name:
            self.cl.event(c, "Normal", "WaitForFirstConsumer",
                          "waiting for first consumer to be created before binding", PV_CTRL)
            return
        if prov == NO_PROVISIONER:
            match = [pv for pv in self.cl.list("PersistentVolume") if pv_matches(pv, c)]
            if match:
                self.bind(c, match[0])
            elif sc.get("volumeBindingMode") != "WaitForFirstConsumer":
                self.cl.event(c, "Warning", "ProvisioningFailed", "no volume plugin matched name: " + NO_PROVISIONER,
                              PV_CTRL)
            return
        ann = c["metadata"].get("annotations") or {}
        if ann.get("volume.kubernetes.io/storage-provisioner") != prov:
            new = copy.deepcopy(c)
            a = {"volume.kubernetes.io/storage-provisioner": prov,
                 "volume.beta.kubernetes.io/storage-provisioner": prov}
            new["metadata"].setdefault("annotations", {}).update(a)
            c = self.cl.update("PersistentVolumeClaim", "", new, PV_CTRL, {"metadata": {"annotations": a}})
        self.cl.event(c, "Normal", "ExternalProvisioning",
                      "Waiting for a volume to be created either by the external provisioner '%s' or manually by the "
                      "system administrator. If volume creation is delayed, please verify that the provisioner is "
                      "running and correctly registered." % prov, PV_CTRL)
        if self.cl.get("CSIDriver", None, prov, "storage.k8s.io") is None or not self.controller_up(prov):
            return
        self.provision(c, sc, prov, node_name)

    def controllers(self, prov):
        return [p for p in self.cl.list("Pod", "", "kube-system")
                if "csi-controller" in p["metadata"]["name"] and prov.split(".")[0] in p["metadata"]["name"]]

    def controller_up(self, prov):
        """The driver's controller pods, when the cluster has them (eks_clusters.py
        does), must have one ready: its csi-provisioner sidecar does the work."""
        ctrl = self.controllers(prov)
        return not ctrl or any(c.get("type") == "Ready" and c.get("status") == "True"
                               for p in ctrl for c in (p.get("status") or {}).get("conditions") or [])

    def source(self, prov):
        if prov not in self.instance:
            ctrl = [p["metadata"]["name"] for p in self.controllers(prov)]
            who = sorted(ctrl)[0] if ctrl else prov.split(".")[0] + "-csi-controller-7b9c6d5f4d-x8k2m"
            self.instance[prov] = "%s_%s_%s" % (prov, who, uuid.uuid4())
        return self.instance[prov]

    def provision(self, c, sc, prov, node_name):
        src = self.source(prov)
        key = "%s/%s" % (c["metadata"]["namespace"], c["metadata"]["name"])
        self.cl.event(c, "Normal", "Provisioning", 'External provisioner is provisioning volume for claim "%s"' % key,
                      src)
        pv_name = "pvc-" + c["metadata"]["uid"]
        if prov == "ebs.csi.aws.com" and self.behaviour.get("ebsProvisioning") == "unauthorized":
            digest = hashlib.sha256(pv_name.encode()).hexdigest()
            req_id = "%s-%s-%s-%s-%s" % (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])
            self.cl.event(c, "Warning", "ProvisioningFailed", UNAUTHORIZED % (
                sc["metadata"]["name"], pv_name, req_id, "i-0" + digest[32:48], digest[:48]), src)
            self.failed.add(c["metadata"]["uid"])
            if node_name:
                # A final error under WaitForFirstConsumer: the provisioner gives the
                # node back (drops selected-node) so the scheduler tries again.
                new = copy.deepcopy(c)
                del new["metadata"]["annotations"][SELECTED_NODE]
                self.cl.update("PersistentVolumeClaim", "", new, src.split("_")[0], {})
            return
        node = self.cl.get("Node", None, node_name) if node_name else None
        if node is None:
            ready = sorted((n for n in self.cl.list("Node") if pred.node_ready(n) == "True"),
                           key=lambda n: n["metadata"]["name"])
            node = ready[0] if ready else None
        spec = {"capacity": {"storage": c["spec"]["resources"]["requests"]["storage"]},
                "accessModes": c["spec"].get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
                "storageClassName": sc["metadata"]["name"], "volumeMode": c["spec"].get("volumeMode") or "Filesystem",
                "csi": {"driver": prov, "fsType": (sc.get("parameters") or {}).get("csi.storage.k8s.io/fstype", "ext4"),
                        "volumeHandle": "vol-0" + hashlib.sha256(pv_name.encode()).hexdigest()[:16]}}
        zone = labels(node).get(ZONE) if node is not None else None
        if prov == "ebs.csi.aws.com" and zone:
            spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE, "operator": "In", "values": [zone]}]}]}}
        pv = self.cl.create("PersistentVolume", "", {
            "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": prov},
                         "finalizers": ["kubernetes.io/pv-protection"]},
            "spec": spec}, "csi-provisioner")
        pv = self.cl.set_status("PersistentVolume", "", pv, {"phase": "Available"}, "csi-provisioner")
        self.failed.discard(c["metadata"]["uid"])
        self.cl.event(c, "Normal", "ProvisioningSucceeded", "Successfully provisioned volume " + pv_name, src)
        self.bind(c, pv)
