/* The checks of rendered documents for agentctl's render tests: a schema
 * check of every kind the manifests use, and the restricted Pod Security
 * Standard with its documented exceptions. Test-only; every function is
 * static. */
#ifndef HG_RENDER_SCHEMA_H
#define HG_RENDER_SCHEMA_H
#include "render_check.h"

/* ---- the schema check ---- */

static const struct {
	const char *kind, *api;
	bool namespaced;
} kinds[] = {
	{"Namespace", "v1", false},
	{"StorageClass", "storage.k8s.io/v1", false},
	{"NetworkPolicy", "networking.k8s.io/v1", true},
	{"PersistentVolume", "v1", false},
	{"PersistentVolumeClaim", "v1", true},
	{"ConfigMap", "v1", true},
	{"Service", "v1", true},
	{"ServiceAccount", "v1", true},
	{"Deployment", "apps/v1", true},
	{"DaemonSet", "apps/v1", true},
	{"ClusterRole", "rbac.authorization.k8s.io/v1", false},
	{"ClusterRoleBinding", "rbac.authorization.k8s.io/v1", false},
	{"Role", "rbac.authorization.k8s.io/v1", true},
	{"RoleBinding", "rbac.authorization.k8s.io/v1", true},
};

RC_FN void check_resources(yaml_document_t *d, node *c, const char *cname)
{
	node *res = get(d, c, "resources");
	CHECK(res != NULL);
	const char *kindsr[] = {"requests", "limits"};
	for (int k = 0; k < 2; k++) {
		node *m = get(d, res, kindsr[k]);
		if (!m)
			continue;
		for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
			const char *key = str(yaml_document_get_node(d, p->key));
			const char *v = str(yaml_document_get_node(d, p->value));
			CHECK(key && (strcmp(key, "cpu") == 0 || strcmp(key, "memory") == 0));
			if (quantity(v) <= 0) {
				fprintf(stderr, "%s: bad quantity %s.%s=%s\n", cname, kindsr[k], key ? key : "?", v ? v : "?");
				check_failures++;
			}
		}
	}
	/* Every container is sized: a memory request and a memory limit above it. */
	double req = quantity(pstr(d, res, "requests.memory")), lim = quantity(pstr(d, res, "limits.memory"));
	if (req <= 0 || lim <= 0 || req > lim) {
		fprintf(stderr, "%s: memory request/limit missing or request above limit\n", cname);
		check_failures++;
	}
}

RC_FN bool container_has_port(yaml_document_t *d, node *c, node *port)
{
	long v;
	node *ports = get(d, c, "ports");
	for (int i = 0; i < seq_len(ports); i++) {
		node *p = item(d, ports, i);
		long cp = -1;
		is_int(get(d, p, "containerPort"), &cp);
		if (is_int(port, &v) ? v == cp : (str(port) && pstr(d, p, "name") && strcmp(str(port), pstr(d, p, "name")) == 0))
			return true;
	}
	return false;
}

RC_FN void check_probe(yaml_document_t *d, node *c, const char *which)
{
	node *pr = get(d, c, which);
	if (!pr)
		return;
	node *hg = get(d, pr, "httpGet");
	CHECK(hg != NULL);
	CHECK(pstr(d, hg, "path") && pstr(d, hg, "path")[0] == '/');
	CHECK(container_has_port(d, c, get(d, hg, "port")));
}

RC_FN void check_mounts(yaml_document_t *d, node *c, node *vols)
{
	/* Mounts name volumes of the pod. */
	node *vm = get(d, c, "volumeMounts");
	for (int j = 0; j < seq_len(vm); j++) {
		const char *vn = pstr(d, item(d, vm, j), "name");
		bool found = false;
		for (int k = 0; k < seq_len(vols); k++)
			found |= vn && pstr(d, item(d, vols, k), "name") && strcmp(vn, pstr(d, item(d, vols, k), "name")) == 0;
		CHECK(found);
		CHECK(pstr(d, item(d, vm, j), "mountPath") && pstr(d, item(d, vm, j), "mountPath")[0] == '/');
	}
}

/* Pod template checks shared by Deployment and DaemonSet. */
RC_FN void check_pod_template(struct stream *s, int di, const char *ns)
{
	yaml_document_t *d = &s->doc[di];
	node *r = yaml_document_get_root_node(d);
	node *sel = path(d, r, "spec.selector.matchLabels"), *labels = path(d, r, "spec.template.metadata.labels");
	CHECK(sel && sel->type == YAML_MAPPING_NODE && sel->data.mapping.pairs.top > sel->data.mapping.pairs.start);
	/* The selector must match the template's labels, or the API refuses it. */
	for (yaml_node_pair_t *p = sel ? sel->data.mapping.pairs.start : NULL; p && p < sel->data.mapping.pairs.top; p++) {
		const char *k = str(yaml_document_get_node(d, p->key)), *v = str(yaml_document_get_node(d, p->value));
		const char *lv = k ? str(get(d, labels, k)) : NULL;
		CHECK(lv && v && strcmp(lv, v) == 0);
	}
	node *spec = path(d, r, "spec.template.spec");
	node *cs = get(d, spec, "containers"), *vols = get(d, spec, "volumes");
	CHECK(seq_len(cs) >= 1);
	char portnames[16][32];
	int nport = 0;
	for (int i = 0; i < seq_len(cs); i++) {
		node *c = item(d, cs, i);
		const char *cname = pstr(d, c, "name");
		CHECK(dns_label(cname));
		CHECK(pstr(d, c, "image") && strlen(pstr(d, c, "image")) > 0);
		node *ports = get(d, c, "ports");
		for (int j = 0; j < seq_len(ports); j++) {
			node *p = item(d, ports, j);
			long cp;
			CHECK(is_int(get(d, p, "containerPort"), &cp) && cp > 0 && cp < 65536);
			const char *pn = pstr(d, p, "name");
			CHECK(pn && strlen(pn) <= 15);
			for (int k = 0; pn && k < nport; k++)
				CHECK(strcmp(portnames[k], pn) != 0); /* unique in the pod */
			if (pn && nport < 16)
				snprintf(portnames[nport++], sizeof portnames[0], "%s", pn);
		}
		check_resources(d, c, cname ? cname : "?");
		check_probe(d, c, "livenessProbe");
		check_probe(d, c, "readinessProbe");
		check_probe(d, c, "startupProbe");
		CHECK(get(d, c, "livenessProbe") != NULL);
		/* A readiness probe everywhere but on the stack pod's agent: the
		 * stack pod's readiness is what its Services route on. */
		bool stack_agent = strcmp(pstr(d, r, "kind"), "Deployment") == 0 && cname && strcmp(cname, "agent") == 0;
		CHECK(stack_agent ? !get(d, c, "readinessProbe") : get(d, c, "readinessProbe") != NULL);
		check_mounts(d, c, vols);
		/* Secrets referenced by name and key. */
		node *env = get(d, c, "env");
		for (int j = 0; j < seq_len(env); j++) {
			node *e = item(d, env, j);
			CHECK(pstr(d, e, "name") != NULL);
			CHECK((get(d, e, "value") != NULL) != (get(d, e, "valueFrom") != NULL));
			node *skr = path(d, e, "valueFrom.secretKeyRef");
			if (skr)
				CHECK(dns_subdomain(pstr(d, skr, "name")) && pstr(d, skr, "key"));
		}
	}
	/* Init containers: sized, named, mounting volumes of the pod. */
	node *ics = get(d, spec, "initContainers");
	for (int i = 0; i < seq_len(ics); i++) {
		node *c = item(d, ics, i);
		CHECK(dns_label(pstr(d, c, "name")));
		CHECK(pstr(d, c, "image") && strlen(pstr(d, c, "image")) > 0);
		check_resources(d, c, pstr(d, c, "name") ? pstr(d, c, "name") : "?");
		check_mounts(d, c, vols);
	}
	/* Volumes refer to objects of the render (a ConfigMap may be optional;
	 * kube-root-ca.crt is the one every namespace gets). */
	for (int k = 0; k < seq_len(vols); k++) {
		node *v = item(d, vols, k);
		const char *cm = pstr(d, v, "configMap.name"), *pvc = pstr(d, v, "persistentVolumeClaim.claimName");
		if (cm)
			CHECK(find_doc(s, "ConfigMap", cm) >= 0 || is_true(path(d, v, "configMap.optional")));
		node *srcs = path(d, v, "projected.sources");
		for (int j = 0; j < seq_len(srcs); j++) {
			const char *pcm = pstr(d, item(d, srcs, j), "configMap.name");
			if (pcm)
				CHECK(find_doc(s, "ConfigMap", pcm) >= 0 || strcmp(pcm, "kube-root-ca.crt") == 0);
		}
		if (pvc)
			CHECK(find_doc(s, "PersistentVolumeClaim", pvc) >= 0);
	}
	const char *sa = pstr(d, spec, "serviceAccountName");
	if (sa)
		CHECK(find_doc(s, "ServiceAccount", sa) >= 0);
	(void)ns;
}

RC_FN void check_rules(yaml_document_t *d, node *r)
{
	node *rules = get(d, r, "rules");
	CHECK(seq_len(rules) >= 1);
	for (int i = 0; i < seq_len(rules); i++) {
		node *rule = item(d, rules, i);
		CHECK(seq_len(get(d, rule, "apiGroups")) >= 1);
		CHECK(seq_len(get(d, rule, "resources")) >= 1);
		CHECK(seq_len(get(d, rule, "verbs")) >= 1);
	}
}

RC_FN void check_binding(struct stream *s, yaml_document_t *d, node *r)
{
	CHECK_STR(pstr(d, r, "roleRef.apiGroup"), "rbac.authorization.k8s.io");
	const char *rk = pstr(d, r, "roleRef.kind"), *rn = pstr(d, r, "roleRef.name");
	CHECK(rk && rn && find_doc(s, rk, rn) >= 0);
	node *subj = get(d, r, "subjects");
	CHECK(seq_len(subj) >= 1);
	for (int i = 0; i < seq_len(subj); i++) {
		node *sj = item(d, subj, i);
		CHECK_STR(pstr(d, sj, "kind"), "ServiceAccount");
		const char *sn = pstr(d, sj, "name");
		CHECK(sn && find_doc(s, "ServiceAccount", sn) >= 0);
		int sa = sn ? find_doc(s, "ServiceAccount", sn) : -1;
		if (sa >= 0)
			CHECK_STR(pstr(d, sj, "namespace"),
				  pstr(&s->doc[sa], yaml_document_get_root_node(&s->doc[sa]), "metadata.namespace"));
	}
}

/* Checks every document of s; ns is the namespace expected. */
RC_FN void check_schema(struct stream *s, const char *ns)
{
	CHECK(s->n > 0);
	for (int i = 0; i < s->n; i++) {
		yaml_document_t *d = &s->doc[i];
		node *r = yaml_document_get_root_node(d);
		const char *kind = pstr(d, r, "kind"), *api = pstr(d, r, "apiVersion");
		const char *name = pstr(d, r, "metadata.name"), *mns = pstr(d, r, "metadata.namespace");
		int k = -1;
		for (size_t j = 0; kind && j < sizeof kinds / sizeof *kinds; j++)
			if (strcmp(kinds[j].kind, kind) == 0)
				k = (int)j;
		if (k < 0) {
			fprintf(stderr, "document %d: kind %s not known to the schema check\n", i, kind ? kind : "(none)");
			check_failures++;
			continue;
		}
		CHECK_STR(api, kinds[k].api);
		CHECK(strcmp(kind, "Namespace") == 0 ? dns_label(name) : dns_subdomain(name));
		if (kinds[k].namespaced)
			CHECK_STR(mns, ns);
		else
			CHECK(mns == NULL);
		/* Names are unique per kind. */
		CHECK(find_doc(s, kind, name) == i);
		if (strcmp(kind, "Namespace") == 0) {
			CHECK_STR(name, ns);
		} else if (strcmp(kind, "PersistentVolumeClaim") == 0) {
			CHECK(seq_len(path(d, r, "spec.accessModes")) >= 1);
			CHECK(quantity(pstr(d, r, "spec.resources.requests.storage")) > 0);
		} else if (strcmp(kind, "PersistentVolume") == 0) {
			/* Pre-bound to a claim of the render that it can hold: same
			 * class and access mode, at least the size requested. */
			CHECK(seq_len(path(d, r, "spec.accessModes")) >= 1);
			CHECK(quantity(pstr(d, r, "spec.capacity.storage")) > 0);
			CHECK_STR(pstr(d, r, "spec.claimRef.namespace"), ns);
			const char *cn = pstr(d, r, "spec.claimRef.name");
			int ci = cn ? find_doc(s, "PersistentVolumeClaim", cn) : -1;
			CHECK(ci >= 0);
			if (ci >= 0) {
				yaml_document_t *dc = &s->doc[ci];
				node *rc = yaml_document_get_root_node(dc);
				CHECK_STR(pstr(dc, rc, "spec.storageClassName"), pstr(d, r, "spec.storageClassName"));
				CHECK_STR(str(item(dc, path(dc, rc, "spec.accessModes"), 0)), str(item(d, path(d, r, "spec.accessModes"), 0)));
				CHECK(quantity(pstr(dc, rc, "spec.resources.requests.storage")) <= quantity(pstr(d, r, "spec.capacity.storage")));
			}
			CHECK(seq_len(path(d, r, "spec.nodeAffinity.required.nodeSelectorTerms")) >= 1);
		} else if (strcmp(kind, "NetworkPolicy") == 0) {
			/* It selects the pods of a workload of the render, by all of their labels. */
			node *ml = path(d, r, "spec.podSelector.matchLabels");
			CHECK(ml && ml->type == YAML_MAPPING_NODE);
			CHECK(str(get(d, ml, "app.kubernetes.io/name")) && find_doc(s, "Deployment", str(get(d, ml, "app.kubernetes.io/name"))) >= 0);
			node *ing = path(d, r, "spec.ingress");
			for (int j = 0; j < seq_len(ing); j++) {
				node *ports = get(d, item(d, ing, j), "ports"), *from = get(d, item(d, ing, j), "from");
				CHECK(seq_len(ports) >= 1 && seq_len(from) >= 1);
				for (int k = 0; k < seq_len(ports); k++)
					CHECK_STR(pstr(d, item(d, ports, k), "protocol"), "TCP");
				for (int k = 0; k < seq_len(from); k++)
					CHECK(strchr(pstr(d, item(d, from, k), "ipBlock.cidr") ? pstr(d, item(d, from, k), "ipBlock.cidr") : "", '/'));
			}
		} else if (strcmp(kind, "StorageClass") == 0) {
			CHECK(dns_subdomain(pstr(d, r, "provisioner")));
			node *params = get(d, r, "parameters");
			for (yaml_node_pair_t *p = params ? params->data.mapping.pairs.start : NULL;
			     p && p < params->data.mapping.pairs.top; p++) /* map[string]string: quoted "true" */
				CHECK(str(yaml_document_get_node(d, p->value)) &&
				      (yaml_document_get_node(d, p->value)->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
				       (strcmp(str(yaml_document_get_node(d, p->value)), "true") &&
					strcmp(str(yaml_document_get_node(d, p->value)), "false"))));
		} else if (strcmp(kind, "ConfigMap") == 0) {
			node *data = get(d, r, "data");
			CHECK(data && data->type == YAML_MAPPING_NODE);
			for (yaml_node_pair_t *p = data ? data->data.mapping.pairs.start : NULL;
			     p && p < data->data.mapping.pairs.top; p++)
				CHECK(str(yaml_document_get_node(d, p->key)) && str(yaml_document_get_node(d, p->value)));
		} else if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "DaemonSet") == 0) {
			check_pod_template(s, i, ns);
			if (strcmp(kind, "Deployment") == 0) {
				long rep;
				CHECK(is_int(path(d, r, "spec.replicas"), &rep) && rep == 1);
			}
		} else if (strcmp(kind, "Service") == 0) {
			node *sel = path(d, r, "spec.selector"), *ports = path(d, r, "spec.ports");
			CHECK(seq_len(ports) >= 1);
			/* The selector picks a pod template of the render, and the target
			 * port is one of its containers' ports. */
			bool matched = false;
			for (int j = 0; j < s->n && sel; j++) {
				yaml_document_t *dj = &s->doc[j];
				node *rj = yaml_document_get_root_node(dj);
				node *labels = path(dj, rj, "spec.template.metadata.labels");
				if (!labels)
					continue;
				bool all = true;
				for (yaml_node_pair_t *p = sel->data.mapping.pairs.start; p < sel->data.mapping.pairs.top; p++) {
					const char *lk = str(yaml_document_get_node(d, p->key));
					const char *lv = lk ? str(get(dj, labels, lk)) : NULL;
					all &= lv && strcmp(lv, str(yaml_document_get_node(d, p->value))) == 0;
				}
				if (!all)
					continue;
				matched = true;
				node *cs = path(dj, rj, "spec.template.spec.containers");
				for (int pi = 0; pi < seq_len(ports); pi++) {
					node *p = item(d, ports, pi);
					long port;
					CHECK(is_int(get(d, p, "port"), &port) && port > 0 && port < 65536);
					bool found = false;
					for (int c = 0; c < seq_len(cs); c++) {
						/* A named targetPort: look it up in the other document. */
						const char *tp = pstr(d, p, "targetPort");
						node *cports = get(dj, item(dj, cs, c), "ports");
						for (int q = 0; tp && q < seq_len(cports); q++) {
							const char *pn = pstr(dj, item(dj, cports, q), "name");
							const char *pv = pstr(dj, item(dj, cports, q), "containerPort");
							found |= (pn && strcmp(pn, tp) == 0) || (pv && strcmp(pv, tp) == 0);
						}
					}
					CHECK(found);
				}
			}
			CHECK(matched);
		} else if (strcmp(kind, "ClusterRole") == 0 || strcmp(kind, "Role") == 0) {
			check_rules(d, r);
		} else if (strcmp(kind, "ClusterRoleBinding") == 0 || strcmp(kind, "RoleBinding") == 0) {
			check_binding(s, d, r);
		}
	}
}

/* ---- restricted Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards) ---- */

static const char *const restricted_volume_types[] = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
						      "persistentVolumeClaim", "projected", "secret"};

/* Returns the number of violations; hostPath volumes whose path is in
 * allowed_host (read-only everywhere they are mounted) are the exception. */
RC_FN int restricted_violations(yaml_document_t *d, node *spec, const char *const *allowed_host, int nallowed)
{
	int bad = 0;
#define VIOL(cond, what)                                                    \
	do {                                                                \
		if (cond) {                                                 \
			fprintf(stderr, "  restricted profile: %s\n", what); \
			bad++;                                              \
		}                                                           \
	} while (0)
	/* Baseline: host namespaces, hostProcess, sysctls. */
	VIOL(!is_false_or_unset(get(d, spec, "hostNetwork")), "hostNetwork");
	VIOL(!is_false_or_unset(get(d, spec, "hostPID")), "hostPID");
	VIOL(!is_false_or_unset(get(d, spec, "hostIPC")), "hostIPC");
	node *psc = get(d, spec, "securityContext");
	VIOL(path(d, psc, "windowsOptions.hostProcess") != NULL, "hostProcess");
	VIOL(get(d, psc, "sysctls") != NULL, "sysctls");
	VIOL(path(d, psc, "seLinuxOptions.type") || path(d, psc, "seLinuxOptions.user") ||
		     path(d, psc, "seLinuxOptions.role"),
	     "seLinuxOptions");
	VIOL(pstr(d, psc, "appArmorProfile.type") && strcmp(pstr(d, psc, "appArmorProfile.type"), "Unconfined") == 0,
	     "appArmor Unconfined");
	/* Restricted: non-root, seccomp at pod level or in every container. */
	bool pod_nonroot = is_true(get(d, psc, "runAsNonRoot"));
	long uid;
	VIOL(is_int(get(d, psc, "runAsUser"), &uid) && uid == 0, "pod runAsUser 0");
	const char *pod_seccomp = pstr(d, psc, "seccompProfile.type");
	VIOL(pod_seccomp && strcmp(pod_seccomp, "RuntimeDefault") && strcmp(pod_seccomp, "Localhost"),
	     "pod seccompProfile not RuntimeDefault/Localhost");
	const char *lists[] = {"containers", "initContainers", "ephemeralContainers"};
	for (int l = 0; l < 3; l++) {
		node *cs = get(d, spec, lists[l]);
		for (int i = 0; i < seq_len(cs); i++) {
			node *c = item(d, cs, i), *sc = get(d, c, "securityContext");
			VIOL(!is_false_or_unset(get(d, sc, "privileged")), "privileged");
			VIOL(!(str(get(d, sc, "allowPrivilegeEscalation")) &&
			       strcmp(str(get(d, sc, "allowPrivilegeEscalation")), "false") == 0),
			     "allowPrivilegeEscalation not false");
			VIOL(!pod_nonroot && !is_true(get(d, sc, "runAsNonRoot")), "runAsNonRoot not true");
			VIOL(str(get(d, sc, "runAsNonRoot")) && !is_true(get(d, sc, "runAsNonRoot")), "runAsNonRoot false");
			VIOL(is_int(get(d, sc, "runAsUser"), &uid) && uid == 0, "runAsUser 0");
			const char *cseccomp = pstr(d, sc, "seccompProfile.type");
			VIOL(!pod_seccomp && !cseccomp, "no seccompProfile");
			VIOL(cseccomp && strcmp(cseccomp, "RuntimeDefault") && strcmp(cseccomp, "Localhost"),
			     "seccompProfile not RuntimeDefault/Localhost");
			node *drop = path(d, sc, "capabilities.drop"), *add = path(d, sc, "capabilities.add");
			bool all = false;
			for (int j = 0; j < seq_len(drop); j++)
				all |= str(item(d, drop, j)) && strcmp(str(item(d, drop, j)), "ALL") == 0;
			VIOL(!all, "capabilities.drop lacks ALL");
			for (int j = 0; j < seq_len(add); j++)
				VIOL(!str(item(d, add, j)) || strcmp(str(item(d, add, j)), "NET_BIND_SERVICE"),
				     "capability added other than NET_BIND_SERVICE");
			VIOL(pstr(d, sc, "procMount") && strcmp(pstr(d, sc, "procMount"), "Default"), "procMount");
			VIOL(path(d, sc, "seLinuxOptions.type") || path(d, sc, "seLinuxOptions.user") ||
				     path(d, sc, "seLinuxOptions.role"),
			     "seLinuxOptions");
			VIOL(path(d, sc, "windowsOptions.hostProcess") != NULL, "hostProcess");
			node *ports = get(d, c, "ports");
			for (int j = 0; j < seq_len(ports); j++) {
				long hp = 0;
				VIOL(get(d, item(d, ports, j), "hostPort") && !(is_int(get(d, item(d, ports, j), "hostPort"), &hp) && hp == 0),
				     "hostPort");
			}
			/* The allowed hostPath volumes are mounted read-only. */
			node *vm = get(d, c, "volumeMounts"), *vols = get(d, spec, "volumes");
			for (int j = 0; j < seq_len(vm); j++) {
				const char *vn = pstr(d, item(d, vm, j), "name");
				for (int k = 0; vn && k < seq_len(vols); k++) {
					node *v = item(d, vols, k);
					if (get(d, v, "hostPath") && pstr(d, v, "name") && strcmp(pstr(d, v, "name"), vn) == 0)
						VIOL(!is_true(get(d, item(d, vm, j), "readOnly")), "hostPath mounted writable");
				}
			}
		}
	}
	node *vols = get(d, spec, "volumes");
	for (int k = 0; k < seq_len(vols); k++) {
		node *v = item(d, vols, k);
		for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
			const char *key = str(yaml_document_get_node(d, p->key));
			if (!key || strcmp(key, "name") == 0)
				continue;
			bool ok = false;
			for (size_t t = 0; t < sizeof restricted_volume_types / sizeof *restricted_volume_types; t++)
				ok |= strcmp(key, restricted_volume_types[t]) == 0;
			if (!ok && strcmp(key, "hostPath") == 0) {
				const char *hp = pstr(d, v, "hostPath.path");
				for (int a = 0; hp && a < nallowed; a++)
					ok |= strcmp(hp, allowed_host[a]) == 0;
			}
			if (!ok)
				fprintf(stderr, "  volume type %s (%s)\n", key, pstr(d, v, "hostPath.path") ? pstr(d, v, "hostPath.path") : "");
			VIOL(!ok, "volume type outside the restricted set");
		}
	}
	return bad;
#undef VIOL
}

#endif
