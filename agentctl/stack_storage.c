/* Where the stack keeps its data (install-stack --storage auto|node|ebs).
 *
 * On EKS 1.23 and later EBS volumes, also of the in-tree gp2 class, are
 * provisioned by the EBS CSI driver, an add-on whose node pods take a pod
 * slot and a pod IP on every node: on micro nodes that is the slot the
 * stack needs. So without a usable CSI driver the volumes are hostPath
 * PersistentVolumes on the stack node's disk, pre-bound to the PVCs (no
 * driver pods). Auto, in order: volumes that exist (a re-run) keep their
 * class or node; a default class whose provisioner is installed; the EBS
 * CSI driver without a usable default class -> agentctl's encrypted gp3
 * class (EKS 1.30+ has no default class); else node storage. */
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "kube_util.h"
#include "stack.h"

#define EBS_CSI "ebs.csi.aws.com"
#define DEFAULT_ANNOTATION "storageclass.kubernetes.io/is-default-class"

static const char ebs_hint[] =
	"Install the EBS CSI driver add-on, then re-run: `aws eks create-addon --cluster-name CLUSTER "
	"--addon-name aws-ebs-csi-driver --service-account-role-arn ROLE_ARN` (or `eksctl create addon "
	"--name aws-ebs-csi-driver --cluster CLUSTER`); its role needs the AmazonEBSCSIDriverPolicy. Its "
	"ebs-csi-node then takes a pod slot and a pod IP on every node (on a micro node, the one the stack "
	"needs; the plan above shows what is free). Or keep the data on the stack node's disk: --storage node.";

static const char *const volumes[] = {"influxdb-data", "grafana-data"};

static bool is_ebs(const char *prov)
{
	return prov && (strcmp(prov, EBS_CSI) == 0 || strcmp(prov, "kubernetes.io/aws-ebs") == 0);
}

static int csi_driver(struct stack *s, const char *name, bool *present, char *err, size_t errlen)
{
	int rc = hg_kube_get(s->client, "storage.k8s.io/v1", "CSIDriver", NULL, name, NULL, err, errlen);
	*present = rc == 0;
	return rc == KUBE_ENOTFOUND ? 0 : rc;
}

/* Whether a class's provisioner can provision here: EBS (in-tree gp2 is
 * migrated to it) and other CSI drivers need their CSIDriver object; a
 * provisioner that is not CSI (kind's local-path) cannot be checked and is
 * trusted; kubernetes.io/no-provisioner provisions nothing. */
static int provisioner_installed(struct stack *s, const char *prov, bool *ok, char *err, size_t errlen)
{
	*ok = false;
	if (!prov || strcmp(prov, "kubernetes.io/no-provisioner") == 0)
		return 0;
	if (is_ebs(prov))
		return csi_driver(s, EBS_CSI, ok, err, errlen);
	bool csi;
	int rc = csi_driver(s, prov, &csi, err, errlen);
	*ok = true;
	return rc;
}

int hg_stack_default_class(struct stack *s, char **name, char **prov, char *err, size_t errlen)
{
	*name = *prov = NULL;
	yajl_val v;
	int rc = hg_stack_list(s, "storage.k8s.io/v1", "StorageClass", NULL, NULL, NULL, &v, err, errlen);
	if (rc != 0)
		return rc;
	yajl_val items = hg_jq_at(v, "items", JQ_END);
	for (size_t i = 0; i < hg_jq_len(items); i++) {
		yajl_val sc = hg_jq_item(items, i);
		const char *def = hg_jq_str(sc, "metadata", "annotations", DEFAULT_ANNOTATION, JQ_END);
		const char *beta = hg_jq_str(sc, "metadata", "annotations",
					  "storageclass.beta.kubernetes.io/is-default-class", JQ_END);
		if ((def && strcmp(def, "true") == 0) || (beta && strcmp(beta, "true") == 0)) {
			*name = hg_kube_strdup(hg_jq_str(sc, "metadata", "name", JQ_END));
			*prov = hg_kube_strdup(hg_jq_str(sc, "provisioner", JQ_END));
			break;
		}
	}
	yajl_tree_free(v);
	return 0;
}

/* Where a PersistentVolume's node affinity ties it: a node (local and
 * hostPath volumes) or a zone (EBS). */
static void pv_topology(yajl_val pv, struct stack_storage *st)
{
	yajl_val terms = hg_jq_at(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms", JQ_END);
	for (size_t t = 0; t < hg_jq_len(terms); t++) {
		yajl_val ex = hg_jq_at(hg_jq_item(terms, t), "matchExpressions", JQ_END);
		for (size_t i = 0; i < hg_jq_len(ex); i++) {
			const char *key = hg_jq_str(hg_jq_item(ex, i), "key", JQ_END), *op = hg_jq_str(hg_jq_item(ex, i), "operator", JQ_END);
			const char *val = hg_jq_str(hg_jq_item(hg_jq_at(hg_jq_item(ex, i), "values", JQ_END), 0), JQ_END);
			if (!key || !op || !val || strcmp(op, "In") != 0)
				continue;
			if (strcmp(key, "kubernetes.io/hostname") == 0)
				snprintf(st->vol_node, sizeof st->vol_node, "%s", val);
			else if (strstr(key, "zone"))
				snprintf(st->vol_zone, sizeof st->vol_zone, "%s", val);
		}
	}
}

/* Whether agentctl set the PVC's storageClassName (then it must keep
 * applying it: the field is immutable, and an apply without it would
 * remove it). */
static bool class_applied_by_us(yajl_val pvc)
{
	yajl_val mf = hg_jq_at(pvc, "metadata", "managedFields", JQ_END);
	for (size_t i = 0; i < hg_jq_len(mf); i++) {
		const char *m = hg_jq_str(hg_jq_item(mf, i), "manager", JQ_END);
		if (m && strcmp(m, "agentctl") == 0 &&
		    hg_jq_at(hg_jq_item(mf, i), "fieldsV1", "f:spec", "f:storageClassName", JQ_END))
			return true;
	}
	return false;
}

/* The volumes of an earlier install: their class, and where they are. */
static int existing(struct stack *s, struct stack_storage *st, bool *applied, char *err, size_t errlen)
{
	const char *ns = hg_stack_namespace(s);
	for (size_t i = 0; i < sizeof volumes / sizeof *volumes; i++) {
		char *body = NULL;
		int rc = hg_kube_get(s->client, "v1", "PersistentVolumeClaim", ns, volumes[i], &body, err, errlen);
		if (rc == KUBE_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		yajl_val pvc = hg_jq_parse(body, err, errlen);
		free(body);
		if (!pvc)
			return -1;
		const char *cls = hg_jq_str(pvc, "spec", "storageClassName", JQ_END);
		if (!st->exists && cls)
			snprintf(st->cls, sizeof st->cls, "%s", cls);
		st->exists = true;
		*applied |= class_applied_by_us(pvc);
		/* Its PV: the bound one, or for node storage the pre-bound one render names. */
		char pvname[320];
		const char *vn = hg_jq_str(pvc, "spec", "volumeName", JQ_END);
		if (vn)
			snprintf(pvname, sizeof pvname, "%s", vn);
		else
			snprintf(pvname, sizeof pvname, "heliograph-%s-%s", ns, volumes[i]);
		yajl_tree_free(pvc);
		rc = hg_kube_get(s->client, "v1", "PersistentVolume", NULL, pvname, &body, err, errlen);
		if (rc == KUBE_ENOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		yajl_val pv = hg_jq_parse(body, err, errlen);
		free(body);
		if (!pv)
			return -1;
		pv_topology(pv, st);
		yajl_tree_free(pv);
	}
	return 0;
}

static const char *param(const struct stack *s, const char *flag)
{
	int i = hg_render_param_find(flag);
	return i >= 0 ? s->rp.value[i] : NULL;
}

int hg_stack_storage_decide(struct stack *s, struct stack_storage *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	const char *want_class = param(s, "storage-class"), *want_node = param(s, "storage-node");
	bool applied = false, csi;
	int rc = existing(s, st, &applied, err, errlen);
	if (rc != 0)
		return rc;
	if (st->exists) {
		st->node = strcmp(st->cls, STACK_NODE_CLASS) == 0;
		st->keep_class = !st->node && (applied || strcmp(st->cls, STACK_GP3_CLASS) == 0);
		st->create_gp3 = strcmp(st->cls, STACK_GP3_CLASS) == 0;
		st->why = "the volumes exist from an earlier install; a re-run keeps them";
		if (!st->cls[0]) { /* made before admission named the default class */
			char *dname = NULL, *dprov = NULL;
			if ((rc = hg_stack_default_class(s, &dname, &dprov, err, errlen)) != 0)
				return rc;
			snprintf(st->cls, sizeof st->cls, "%s", dname ? dname : "(the default)");
			free(dname);
			free(dprov);
		}
		/* Volumes do not move: a flag asking for others is refused. */
		const char *asked = NULL;
		if (st->node && (s->storage == STACK_STORAGE_EBS || want_class))
			asked = want_class ? "--storage-class" : "--storage ebs";
		else if (!st->node && (s->storage == STACK_STORAGE_NODE || want_node))
			asked = want_node ? "--storage-node" : "--storage node";
		else if (!st->node && want_class && strcmp(want_class, st->cls) != 0)
			asked = "--storage-class";
		else if (st->node && want_node && st->vol_node[0] && strcmp(want_node, st->vol_node) != 0)
			asked = "--storage-node";
		if (asked) {
			snprintf(err, errlen,
				 "the volumes influxdb-data and grafana-data exist already (%s%s%s), and %s cannot move "
				 "them. Keep them (run without %s), or delete them first: agentctl uninstall-stack "
				 "--delete-data (this deletes the data).",
				 st->node ? "on the disk of node " : "StorageClass ", st->node ? st->vol_node : st->cls,
				 st->node && !st->vol_node[0] ? "?" : "", asked, asked);
			return -1;
		}
		return 0;
	}
	if (want_node) {
		st->node = true;
		snprintf(st->vol_node, sizeof st->vol_node, "%s", want_node);
		st->why = "--storage-node";
		return 0;
	}
	if (s->storage == STACK_STORAGE_NODE) {
		if (want_class) {
			snprintf(err, errlen, "--storage node and --storage-class exclude each other (node storage has its "
					      "own class %s)", STACK_NODE_CLASS);
			return -1;
		}
		st->node = true;
		st->why = "--storage node";
		return 0;
	}
	if (want_class) {
		char *body = NULL;
		snprintf(st->cls, sizeof st->cls, "%s", want_class);
		st->keep_class = true;
		st->why = "--storage-class";
		if (strcmp(want_class, STACK_GP3_CLASS) == 0) {
			st->create_gp3 = true;
			if ((rc = csi_driver(s, EBS_CSI, &csi, err, errlen)) != 0)
				return rc;
			if (!csi) {
				snprintf(err, errlen, "StorageClass %s needs the EBS CSI driver, which is not installed (no "
						      "CSIDriver %s): the volumes would stay Pending. %s",
					 STACK_GP3_CLASS, EBS_CSI, ebs_hint);
				return -1;
			}
			return 0;
		}
		rc = hg_kube_get(s->client, "storage.k8s.io/v1", "StorageClass", NULL, want_class, &body, err, errlen);
		if (rc == KUBE_ENOTFOUND) {
			snprintf(err, errlen,
				 "StorageClass \"%s\" (--storage-class) does not exist: the volumes influxdb-data and "
				 "grafana-data would stay Pending. `kubectl get storageclass` lists the classes.",
				 want_class);
			return -1;
		}
		if (rc != 0)
			return rc;
		yajl_val v = hg_jq_parse(body, err, errlen);
		free(body);
		if (!v)
			return -1;
		char prov[256];
		snprintf(prov, sizeof prov, "%s", hg_jq_str(v, "provisioner", JQ_END) ? hg_jq_str(v, "provisioner", JQ_END) : "");
		yajl_tree_free(v);
		bool ok;
		if ((rc = provisioner_installed(s, prov, &ok, err, errlen)) != 0)
			return rc;
		if (!ok && is_ebs(prov)) {
			snprintf(err, errlen,
				 "the EBS CSI driver is not installed (no CSIDriver %s), and StorageClass \"%s\" "
				 "(provisioner %s) needs it on EKS 1.23 and later: the volumes influxdb-data and "
				 "grafana-data would stay Pending. %s",
				 EBS_CSI, want_class, prov, ebs_hint);
			return -1;
		}
		return 0;
	}
	char *dname = NULL, *dprov = NULL;
	if ((rc = hg_stack_default_class(s, &dname, &dprov, err, errlen)) != 0)
		return rc;
	bool def_ok = false;
	rc = dname ? provisioner_installed(s, dprov, &def_ok, err, errlen) : 0;
	if (rc == 0)
		rc = csi_driver(s, EBS_CSI, &csi, err, errlen);
	if (rc == 0 && s->storage == STACK_STORAGE_EBS) {
		if (!csi) {
			snprintf(err, errlen, "--storage ebs: the EBS CSI driver is not installed (no CSIDriver %s), so "
					      "EBS volumes would stay Pending. %s",
				 EBS_CSI, ebs_hint);
			rc = -1;
		} else if (dname && is_ebs(dprov)) {
			snprintf(st->cls, sizeof st->cls, "%s", dname);
			st->why = "--storage ebs: the default class, provisioned by the EBS CSI driver";
		} else {
			snprintf(st->cls, sizeof st->cls, "%s", STACK_GP3_CLASS);
			st->keep_class = st->create_gp3 = true;
			st->why = "--storage ebs: the EBS CSI driver is installed and no default class uses it";
		}
	} else if (rc == 0 && dname && def_ok) {
		snprintf(st->cls, sizeof st->cls, "%s", dname);
		st->why = "the cluster's default class, its provisioner installed";
	} else if (rc == 0 && csi) {
		snprintf(st->cls, sizeof st->cls, "%s", STACK_GP3_CLASS);
		st->keep_class = st->create_gp3 = true;
		st->why = dname ? "the EBS CSI driver is installed; the default class's provisioner is not"
				: "the EBS CSI driver is installed and the cluster has no default class, as EKS 1.30+ makes none";
	} else if (rc == 0) {
		st->node = true;
		st->why = dname ? "the default class's provisioner is not installed (no EBS CSI driver)"
				: "no default StorageClass and no EBS CSI driver";
	}
	if (dname && rc == 0)
		snprintf(st->default_cls, sizeof st->default_cls, "%s", dname);
	free(dname);
	free(dprov);
	return rc;
}

int hg_stack_storage_params(struct stack *s, const struct stack_storage *st, const char *node, char *err, size_t errlen)
{
	if (st->node) {
		if (param(s, "storage-node"))
			return 0;
		const char *n = st->vol_node[0] ? st->vol_node : node;
		if (!n) {
			snprintf(err, errlen, "no node to keep the volumes on");
			return -1;
		}
		snprintf(s->storage_node, sizeof s->storage_node, "%s", n);
		return hg_render_params_set(&s->rp, "storage-node", s->storage_node, err, errlen);
	}
	if (!st->keep_class || param(s, "storage-class"))
		return 0;
	snprintf(s->storage_class, sizeof s->storage_class, "%s", st->cls);
	return hg_render_params_set(&s->rp, "storage-class", s->storage_class, err, errlen);
}

void hg_stack_storage_print(const struct stack *s, const struct stack_storage *st, const char *node)
{
	const char *ns = hg_stack_namespace(s);
	if (st->node) {
		const char *n = st->vol_node[0] ? st->vol_node : node ? node : "?";
		fprintf(s->out,
			"Storage: on the disk of node %s (%s):\n"
			"  %s/%s/influxdb and .../grafana, hostPath PersistentVolumes bound to the PVCs, no CSI driver\n"
			"  pods. The data survives pod restarts, re-installs (uninstall-stack keeps it) and node reboots;\n"
			"  it does NOT survive the node's replacement or termination (node group update, scale-in,\n"
			"  instance retirement). For data that must outlive the node: --storage ebs (the EBS CSI add-on;\n"
			"  its ebs-csi-node takes a pod slot and a pod IP on every node).\n",
			n, st->why, STACK_NODE_DATA_DIR, ns);
	} else if (st->create_gp3)
		fprintf(s->out,
			"Storage: StorageClass %s, created by install-stack (%s):\n"
			"  EBS gp3, encrypted, WaitForFirstConsumer (the volume is made in the stack node's zone). The\n"
			"  EBS CSI driver needs an IAM role (IRSA or Pod Identity); without one the volumes stay Pending.\n",
			STACK_GP3_CLASS, st->why);
	else
		fprintf(s->out, "Storage: StorageClass %s (%s).\n", st->cls[0] ? st->cls : "?", st->why);
	fflush(s->out);
}

/* ---- what uninstall-stack and status find of node storage ---- */

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Whether PersistentVolume it is node storage's volume for claim vol of
 * namespace ns: its name, or a claimRef in class heliograph-node. */
static bool node_pv_of(yajl_val it, const char *ns, const char *vol)
{
	const char *name = hg_jq_str(it, "metadata", "name", JQ_END);
	const char *cls = hg_jq_str(it, "spec", "storageClassName", JQ_END);
	const char *rns = hg_jq_str(it, "spec", "claimRef", "namespace", JQ_END);
	const char *rname = hg_jq_str(it, "spec", "claimRef", "name", JQ_END);
	char want[300];
	snprintf(want, sizeof want, "heliograph-%s-%s", ns, vol);
	return name && (strcmp(name, want) == 0 || (cls && strcmp(cls, STACK_NODE_CLASS) == 0 && rns &&
						       strcmp(rns, ns) == 0 && rname && strcmp(rname, vol) == 0));
}

static void node_pv(yajl_val it, struct stack_node_pv *p)
{
	const char *rns = hg_jq_str(it, "spec", "claimRef", "namespace", JQ_END);
	const char *rname = hg_jq_str(it, "spec", "claimRef", "name", JQ_END);
	struct stack_storage topo = {0};
	memset(p, 0, sizeof *p);
	pv_topology(it, &topo);
	copy(p->name, sizeof p->name, hg_jq_str(it, "metadata", "name", JQ_END));
	copy(p->node, sizeof p->node, topo.vol_node);
	copy(p->path, sizeof p->path, hg_jq_str(it, "spec", "hostPath", "path", JQ_END));
	copy(p->phase, sizeof p->phase, hg_jq_str(it, "status", "phase", JQ_END));
	copy(p->capacity, sizeof p->capacity, hg_jq_str(it, "spec", "capacity", "storage", JQ_END));
	copy(p->reclaim, sizeof p->reclaim, hg_jq_str(it, "spec", "persistentVolumeReclaimPolicy", JQ_END));
	if (rns && rname)
		snprintf(p->claim, sizeof p->claim, "%s/%s", rns, rname);
}

int hg_stack_node_pvs(struct stack *s, struct stack_node_pv *pv, size_t *n, char *err, size_t errlen)
{
	const char *ns = hg_stack_namespace(s);
	*n = 0;
	yajl_val v;
	int rc = hg_stack_list(s, "v1", "PersistentVolume", NULL, NULL, NULL, &v, err, errlen);
	if (rc != 0)
		return rc;
	yajl_val items = hg_jq_at(v, "items", JQ_END);
	/* In the order of volumes[] (influxdb first), whatever the list's order. */
	for (size_t k = 0; k < sizeof volumes / sizeof *volumes; k++) {
		for (size_t i = 0; i < hg_jq_len(items) && *n < STACK_NODE_PV_MAX; i++) {
			yajl_val it = hg_jq_item(items, i);
			if (node_pv_of(it, ns, volumes[k]))
				node_pv(it, &pv[(*n)++]);
		}
	}
	yajl_tree_free(v);
	return 0;
}

static bool node_is_ready(yajl_val node)
{
	yajl_val cs = hg_jq_at(node, "status", "conditions", JQ_END);
	for (size_t i = 0; i < hg_jq_len(cs); i++) {
		const char *t = hg_jq_str(hg_jq_item(cs, i), "type", JQ_END), *st = hg_jq_str(hg_jq_item(cs, i), "status", JQ_END);
		if (t && strcmp(t, "Ready") == 0)
			return st && strcmp(st, "True") == 0;
	}
	return false;
}

int hg_stack_label_nodes(struct stack *s, struct stack_label_node *ln, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	yajl_val v;
	int rc = hg_stack_list(s, "v1", "Node", NULL, STACK_NODE_LABEL, NULL, &v, err, errlen);
	if (rc != 0)
		return rc;
	yajl_val items = hg_jq_at(v, "items", JQ_END);
	for (size_t i = 0; i < hg_jq_len(items) && *n < STACK_LABEL_NODE_MAX; i++) {
		yajl_val it = hg_jq_item(items, i);
		/* Checked again: a list that ignored the selector names no other node. */
		const char *val = hg_jq_str(it, "metadata", "labels", STACK_NODE_LABEL, JQ_END);
		if (!val)
			continue;
		struct stack_label_node *l = &ln[(*n)++];
		copy(l->name, sizeof l->name, hg_jq_str(it, "metadata", "name", JQ_END));
		copy(l->value, sizeof l->value, val);
		l->ready = node_is_ready(it);
	}
	yajl_tree_free(v);
	return 0;
}

int hg_stack_node_ready(struct stack *s, const char *name, bool *exists, bool *ready, char *err, size_t errlen)
{
	char *body = NULL;
	*exists = *ready = false;
	int rc = hg_kube_get(s->client, "v1", "Node", NULL, name, &body, err, errlen);
	if (rc == KUBE_ENOTFOUND) {
		free(body);
		return 0;
	}
	if (rc != 0) {
		free(body);
		return rc;
	}
	yajl_val v = hg_jq_parse(body, err, errlen);
	free(body);
	if (!v)
		return -1;
	*exists = true;
	*ready = node_is_ready(v);
	yajl_tree_free(v);
	return 0;
}
