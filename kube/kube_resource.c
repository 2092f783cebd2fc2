/* apiVersion + kind -> resource URL. Common kinds come from a built-in
 * table; any other kind is found in the group version's discovery document
 * (GET /api/v1 or /apis/GROUP/VERSION) and cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "kube_client_internal.h"

struct kube_kind {
	struct kube_kind *next;
	char *api_version, *kind, *plural;
	bool namespaced;
};

static const struct {
	const char *api_version, *kind, *plural;
	bool namespaced;
} builtin[] = {
	{ "v1", "Namespace", "namespaces", false },
	{ "v1", "Node", "nodes", false },
	{ "v1", "PersistentVolume", "persistentvolumes", false },
	{ "v1", "Pod", "pods", true },
	{ "v1", "Service", "services", true },
	{ "v1", "ConfigMap", "configmaps", true },
	{ "v1", "Secret", "secrets", true },
	{ "v1", "ServiceAccount", "serviceaccounts", true },
	{ "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true },
	{ "v1", "Endpoints", "endpoints", true },
	{ "v1", "Event", "events", true },
	{ "apps/v1", "Deployment", "deployments", true },
	{ "apps/v1", "DaemonSet", "daemonsets", true },
	{ "apps/v1", "StatefulSet", "statefulsets", true },
	{ "apps/v1", "ReplicaSet", "replicasets", true },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false },
	{ "rbac.authorization.k8s.io/v1", "Role", "roles", true },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true },
	{ "storage.k8s.io/v1", "StorageClass", "storageclasses", false },
	{ "storage.k8s.io/v1", "CSIDriver", "csidrivers", false },
	{ "coordination.k8s.io/v1", "Lease", "leases", true },
	{ "batch/v1", "Job", "jobs", true },
	{ "batch/v1", "CronJob", "cronjobs", true },
	{ "policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true },
	{ "networking.k8s.io/v1", "Ingress", "ingresses", true },
	{ "networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true },
};

void hg_kube_kinds_free(struct kube_client *c)
{
	while (c->kinds) {
		struct kube_kind *k = c->kinds;
		c->kinds = k->next;
		free(k->api_version);
		free(k->kind);
		free(k->plural);
		free(k);
	}
}

/* Adds every kind of one discovery APIResourceList to the cache. */
static void cache_list(struct kube_client *c, const char *api_version, yajl_val doc)
{
	const char *rp[] = { "resources", NULL };
	/* Asked for by type, res is an array or NULL: its u.array is read directly. */
	yajl_val res = yajl_tree_get(doc, rp, yajl_t_array);
	for (size_t i = 0; res && i < res->u.array.len; i++) {
		yajl_val r = res->u.array.values[i];
		const char *np[] = { "name", NULL }, *kp[] = { "kind", NULL }, *sp[] = { "namespaced", NULL };
		yajl_val name = yajl_tree_get(r, np, yajl_t_string), kind = yajl_tree_get(r, kp, yajl_t_string);
		yajl_val ns = yajl_tree_get(r, sp, yajl_t_any);
		if (!name || !kind || strchr(name->u.string, '/'))
			continue; /* subresources such as deployments/scale */
		struct kube_kind *k = calloc(1, sizeof(*k));
		if (k) {
			k->api_version = strdup(api_version);
			k->kind = strdup(kind->u.string);
			k->plural = strdup(name->u.string);
		}
		if (!k || !k->api_version || !k->kind || !k->plural) {
			/* Out of memory: the kinds cached so far stay; a lookup of
			 * this one fails as for a kind the server does not serve. */
			if (k) {
				free(k->api_version);
				free(k->kind);
				free(k->plural);
				free(k);
			}
			return;
		}
		k->namespaced = ns && YAJL_IS_TRUE(ns);
		k->next = c->kinds;
		c->kinds = k;
	}
}

int hg_kube_kind_lookup(struct kube_client *c, const char *api_version, const char *kind, const char **plural,
		  bool *namespaced, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(builtin[i].api_version, api_version) == 0 && strcmp(builtin[i].kind, kind) == 0) {
			*plural = builtin[i].plural;
			*namespaced = builtin[i].namespaced;
			return 0;
		}
	for (int pass = 0; pass < 2; pass++) {
		for (struct kube_kind *k = c->kinds; k; k = k->next)
			if (strcmp(k->api_version, api_version) == 0 && strcmp(k->kind, kind) == 0) {
				*plural = k->plural;
				*namespaced = k->namespaced;
				return 0;
			}
		if (pass == 1)
			break;
		char path[512], *body = NULL;
		snprintf(path, sizeof(path), "%s%s", strchr(api_version, '/') ? "/apis/" : "/api/", api_version);
		char what[300];
		snprintf(what, sizeof(what), "discovery of %s", api_version);
		struct kube_request rq = { .method = "GET", .path = path, .what = what };
		int rc = hg_kube_call(c, &rq, &body, err, errlen);
		if (rc == KUBE_ENOTFOUND) {
			snprintf(err, errlen, "the cluster does not serve %s (is the API or its CRD installed?)", api_version);
		}
		if (rc != 0) {
			free(body);
			return rc;
		}
		char perr[64];
		yajl_val doc = yajl_tree_parse(body, perr, sizeof(perr));
		free(body);
		if (doc)
			cache_list(c, api_version, doc);
		yajl_tree_free(doc);
	}
	snprintf(err, errlen, "the cluster has no kind %s in %s", kind, api_version);
	return KUBE_ENOTFOUND;
}

int hg_kube_resource_path(struct kube_client *c, const char *api_version, const char *kind, const char *ns,
		       const char *name, char *out, size_t outlen, bool *namespaced, char *err, size_t errlen)
{
	const char *plural;
	bool nsd;
	int rc = hg_kube_kind_lookup(c, api_version, kind, &plural, &nsd, err, errlen);
	if (rc != 0)
		return rc;
	if (namespaced)
		*namespaced = nsd;
	int n = snprintf(out, outlen, "%s%s%s%s%s/%s%s%s", strchr(api_version, '/') ? "/apis/" : "/api/", api_version,
			 nsd && ns ? "/namespaces/" : "", nsd && ns ? ns : "", "", plural, name ? "/" : "",
			 name ? name : "");
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "resource path too long");
		return KUBE_ERR;
	}
	return 0;
}
