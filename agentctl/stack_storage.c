/* The volumes need a StorageClass that can provision them. On EKS >= 1.23
 * EBS volumes, also of the in-tree gp2 class, are provisioned by the EBS
 * CSI driver, an add-on: without it the PVCs stay Pending and nothing says
 * why. So check for it before creating anything. */
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
	"--name aws-ebs-csi-driver --cluster CLUSTER`); its role needs the AmazonEBSCSIDriverPolicy. "
	"Or pass --storage-class with a class whose provisioner is installed.";

/* The default class's name and provisioner (malloc'd), or NULLs. */
static int find_default(struct stack *s, char **name, char **prov, char *err, size_t errlen)
{
	char *body = NULL;
	*name = *prov = NULL;
	int rc = kube_list(s->client, "storage.k8s.io/v1", "StorageClass", NULL, NULL, NULL, &body, err, errlen);
	if (rc != 0)
		return rc;
	yajl_val v = jq_parse(body, err, errlen);
	free(body);
	if (!v)
		return -1;
	yajl_val items = jq_at(v, "items", NULL);
	for (size_t i = 0; i < jq_len(items); i++) {
		yajl_val sc = jq_item(items, i);
		const char *def = jq_str(sc, "metadata", "annotations", DEFAULT_ANNOTATION, NULL);
		const char *beta = jq_str(sc, "metadata", "annotations",
					  "storageclass.beta.kubernetes.io/is-default-class", NULL);
		if ((def && strcmp(def, "true") == 0) || (beta && strcmp(beta, "true") == 0)) {
			*name = kube_strdup(jq_str(sc, "metadata", "name", NULL));
			*prov = kube_strdup(jq_str(sc, "provisioner", NULL));
			break;
		}
	}
	yajl_tree_free(v);
	return 0;
}

int stack_check_storage(struct stack *s, char *err, size_t errlen)
{
	const char *want = render_param_value(&s->rp, RP_STORAGE_CLASS);
	char *name = NULL, *prov = NULL;
	int rc;
	if (want) {
		char *body = NULL;
		rc = kube_get(s->client, "storage.k8s.io/v1", "StorageClass", NULL, want, &body, err, errlen);
		if (rc == KUBE_ENOTFOUND) {
			snprintf(err, errlen,
				 "StorageClass \"%s\" (--storage-class) does not exist: the volumes influxdb-data and "
				 "grafana-data would stay Pending. `kubectl get storageclass` lists the classes.",
				 want);
			return -1;
		}
		if (rc != 0)
			return rc;
		yajl_val v = jq_parse(body, err, errlen);
		free(body);
		if (!v)
			return -1;
		name = kube_strdup(want);
		prov = kube_strdup(jq_str(v, "provisioner", NULL));
		yajl_tree_free(v);
	} else {
		if ((rc = find_default(s, &name, &prov, err, errlen)) != 0)
			return rc;
		if (!name) {
			snprintf(err, errlen,
				 "the cluster has no default StorageClass, so the volumes influxdb-data and grafana-data "
				 "would stay Pending. Pass --storage-class NAME (see `kubectl get storageclass`), or mark "
				 "one as the default: kubectl annotate storageclass gp2 %s=true. On EKS the class needs "
				 "the EBS CSI driver: %s",
				 DEFAULT_ANNOTATION, ebs_hint);
			return -1;
		}
	}
	const char *p = prov ? prov : "";
	bool ebs = strcmp(p, EBS_CSI) == 0 || strcmp(p, "kubernetes.io/aws-ebs") == 0;
	char line[512];
	rc = 0;
	if (ebs) {
		rc = kube_get(s->client, "storage.k8s.io/v1", "CSIDriver", NULL, EBS_CSI, NULL, err, errlen);
		if (rc == KUBE_ENOTFOUND) {
			snprintf(err, errlen,
				 "the EBS CSI driver is not installed (no CSIDriver %s), and StorageClass \"%s\" "
				 "(provisioner %s) needs it on EKS 1.23 and later: the volumes influxdb-data and "
				 "grafana-data would stay Pending. %s",
				 EBS_CSI, name, p, ebs_hint);
			rc = -1;
		}
	}
	if (rc == 0) {
		snprintf(line, sizeof line, "ok: StorageClass %s%s (provisioner %s%s)", name, want ? "" : ", the default", p,
			 ebs ? ", EBS CSI driver installed" : "");
		stack_line(s, "storage", line);
	}
	free(name);
	free(prov);
	return rc;
}
