/* agentctl render and k8s-manifests: the files are the render of the
 * defaults; every rendered document is valid for its kind (a schema check of
 * the kinds used); the agent pods meet the restricted Pod Security Standard
 * but for their documented exceptions (hostNetwork, the read-only hostPath
 * volumes, data-owner); the stack pod's agent is the DaemonSet's container;
 * the agent's RBAC is exactly the rules of k8s-manifests/README.md's table;
 * each flag changes what it should and nothing else, and the generated
 * storage documents hold what the flags say; the agent's config loads with
 * the agent's own loader. */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "check.h"
#include "config.h"
#include "embedded.h"
#include "render.h"

#ifndef HG_SOURCE_DIR
#error HG_SOURCE_DIR must name the source tree
#endif

/* ---- a rendered stream, parsed ---- */

#define MAXDOCS 64
struct stream {
	yaml_document_t doc[MAXDOCS];
	int n;
	char *text;
};

static int collect(void *ud, const char *name, const char *text, size_t len)
{
	(void)name;
	struct render_buf *b = ud;
	size_t need = b->len + len + 8;
	if (need > b->cap) {
		b->cap = need * 2;
		b->p = realloc(b->p, b->cap);
	}
	if (b->len)
		b->len += (size_t)sprintf(b->p + b->len, "---\n");
	memcpy(b->p + b->len, text, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static char *render_to_text(const struct render_params *rp)
{
	struct render_buf b = {0};
	char err[512];
	if (render_all(rp, collect, &b, err, sizeof err) != 0) {
		fprintf(stderr, "render_all: %s\n", err);
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int parse_stream(struct stream *s, char *text)
{
	yaml_parser_t p;
	s->n = 0;
	s->text = text;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	for (;;) {
		yaml_document_t d;
		if (!yaml_parser_load(&p, &d)) {
			fprintf(stderr, "YAML error: %s at line %zu\n", p.problem, p.problem_mark.line + 1);
			yaml_parser_delete(&p);
			return -1;
		}
		if (!yaml_document_get_root_node(&d)) {
			yaml_document_delete(&d);
			break;
		}
		if (s->n == MAXDOCS) {
			yaml_document_delete(&d);
			yaml_parser_delete(&p);
			return -1;
		}
		s->doc[s->n++] = d;
	}
	yaml_parser_delete(&p);
	return 0;
}

static void free_stream(struct stream *s)
{
	for (int i = 0; i < s->n; i++)
		yaml_document_delete(&s->doc[i]);
	free(s->text);
	s->n = 0;
}

typedef yaml_node_t node;

static node *get(yaml_document_t *d, node *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		node *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* "spec.template.spec" */
static node *path(yaml_document_t *d, node *n, const char *dotted)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *save, *k = strtok_r(buf, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
		n = get(d, n, k);
	return n;
}

static const char *str(node *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *pstr(yaml_document_t *d, node *n, const char *dotted)
{
	return str(path(d, n, dotted));
}

static int seq_len(node *n)
{
	return n && n->type == YAML_SEQUENCE_NODE ? (int)(n->data.sequence.items.top - n->data.sequence.items.start) : -1;
}

static node *item(yaml_document_t *d, node *n, int i)
{
	if (i < 0 || i >= seq_len(n))
		return NULL;
	return yaml_document_get_node(d, n->data.sequence.items.start[i]);
}

/* A plain scalar YAML reads as an integer. */
static bool is_int(node *n, long *v)
{
	const char *s = str(n);
	char *end;
	if (!s || !*s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	long x = strtol(s, &end, 10);
	if (*end)
		return false;
	if (v)
		*v = x;
	return true;
}

static bool is_true(node *n)
{
	return str(n) && strcmp(str(n), "true") == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool is_false_or_unset(node *n)
{
	return !n || (str(n) && strcmp(str(n), "false") == 0);
}

/* A Kubernetes quantity as a number (bytes or cores); -1 if not one. */
static double quantity(const char *s)
{
	static const struct {
		const char *sfx;
		double mul;
	} sfx[] = {{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
		   {"m", 0.001},   {"k", 1e3},        {"M", 1e6},            {"G", 1e9},
		   {"T", 1e12},    {"", 1}};
	if (!s || !*s)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0 || *s == '+' || *s == '-')
		return -1;
	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++)
		if (strcmp(end, sfx[i].sfx) == 0)
			return v * sfx[i].mul;
	return -1;
}

static bool dns_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool dns_subdomain(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* Finds a document by kind and name; its index, or -1. */
static int find_doc(struct stream *s, const char *kind, const char *name)
{
	for (int i = 0; i < s->n; i++) {
		node *r = yaml_document_get_root_node(&s->doc[i]);
		const char *k = pstr(&s->doc[i], r, "kind"), *nm = pstr(&s->doc[i], r, "metadata.name");
		if (k && nm && strcmp(k, kind) == 0 && strcmp(nm, name) == 0)
			return i;
	}
	return -1;
}

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

static void check_resources(yaml_document_t *d, node *c, const char *cname)
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

static bool container_has_port(yaml_document_t *d, node *c, node *port)
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

static void check_probe(yaml_document_t *d, node *c, const char *which)
{
	node *pr = get(d, c, which);
	if (!pr)
		return;
	node *hg = get(d, pr, "httpGet");
	CHECK(hg != NULL);
	CHECK(pstr(d, hg, "path") && pstr(d, hg, "path")[0] == '/');
	CHECK(container_has_port(d, c, get(d, hg, "port")));
}

static void check_mounts(yaml_document_t *d, node *c, node *vols)
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
static void check_pod_template(struct stream *s, int di, const char *ns)
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

static void check_rules(yaml_document_t *d, node *r)
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

static void check_binding(struct stream *s, yaml_document_t *d, node *r)
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
static void check_schema(struct stream *s, const char *ns)
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
static int restricted_violations(yaml_document_t *d, node *spec, const char *const *allowed_host, int nallowed)
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

/* ---- the tests ---- */

static char *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		fclose(f);
		return NULL;
	}
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The files in k8s-manifests are the render of the defaults, byte for byte,
 * and agentctl embeds exactly those files. */
static void test_files_in_sync(void)
{
	struct render_params rp = {0};
	char err[512];
	size_t ondisk = 0;
	DIR *dir = opendir(HG_SOURCE_DIR "/k8s-manifests");
	CHECK(dir != NULL);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		size_t nl = strlen(e->d_name);
		if (nl < 5 || strcmp(e->d_name + nl - 5, ".yaml") != 0)
			continue;
		ondisk++;
		bool embedded = false;
		for (size_t i = 0; i < embedded_manifests_count; i++)
			embedded |= strcmp(embedded_manifests[i].name, e->d_name) == 0;
		if (!embedded)
			fprintf(stderr, "k8s-manifests/%s is not embedded (rebuild agentctl)\n", e->d_name);
		CHECK(embedded);
	}
	if (dir)
		closedir(dir);
	CHECK_INT(ondisk, embedded_manifests_count);
	CHECK(embedded_manifests_count >= 6);
	for (size_t i = 0; i < embedded_manifests_count; i++) {
		char p[512];
		size_t len = 0;
		snprintf(p, sizeof p, "%s/k8s-manifests/%s", HG_SOURCE_DIR, embedded_manifests[i].name);
		char *disk = read_file(p, &len);
		CHECK(disk != NULL);
		if (!disk)
			continue;
		CHECK(len == embedded_manifests[i].len && memcmp(disk, embedded_manifests[i].data, len) == 0);
		struct render_buf out = {0};
		CHECK_INT(render_text(&rp, embedded_manifests[i].name, disk, len, &out, err, sizeof err), 0);
		bool same = out.len == len && memcmp(out.p, disk, len) == 0;
		if (!same)
			fprintf(stderr, "render of the defaults differs from k8s-manifests/%s\n", embedded_manifests[i].name);
		CHECK(same);
		render_buf_free(&out);
		free(disk);
	}
}

static node *container(yaml_document_t *d, node *r, const char *name)
{
	node *cs = path(d, r, "spec.template.spec.containers");
	for (int i = 0; i < seq_len(cs); i++)
		if (pstr(d, item(d, cs, i), "name") && strcmp(pstr(d, item(d, cs, i), "name"), name) == 0)
			return item(d, cs, i);
	return NULL;
}

static node *env_of(yaml_document_t *d, node *c, const char *name)
{
	node *env = get(d, c, "env");
	for (int i = 0; i < seq_len(env); i++)
		if (pstr(d, item(d, env, i), "name") && strcmp(pstr(d, item(d, env, i), "name"), name) == 0)
			return item(d, env, i);
	return NULL;
}

/* The mountPath of the hostPath volume of that host path. */
static const char *host_mount(yaml_document_t *d, node *r, node *c, const char *hostpath)
{
	node *vols = path(d, r, "spec.template.spec.volumes"), *vm = get(d, c, "volumeMounts");
	for (int k = 0; k < seq_len(vols); k++) {
		node *v = item(d, vols, k);
		if (!pstr(d, v, "hostPath.path") || strcmp(pstr(d, v, "hostPath.path"), hostpath) != 0)
			continue;
		for (int j = 0; j < seq_len(vm); j++)
			if (strcmp(pstr(d, item(d, vm, j), "name"), pstr(d, v, "name")) == 0)
				return pstr(d, item(d, vm, j), "mountPath");
	}
	return NULL;
}

/* Whether two YAML subtrees are equal (scalars by value, mappings by key,
 * whatever their order). */
static bool node_equal(yaml_document_t *da, node *a, yaml_document_t *db, node *b)
{
	if (!a || !b || a->type != b->type)
		return a == NULL && b == NULL;
	if (a->type == YAML_SCALAR_NODE)
		return strcmp(str(a), str(b)) == 0;
	if (a->type == YAML_SEQUENCE_NODE) {
		if (seq_len(a) != seq_len(b))
			return false;
		for (int i = 0; i < seq_len(a); i++)
			if (!node_equal(da, item(da, a, i), db, item(db, b, i)))
				return false;
		return true;
	}
	if (b->data.mapping.pairs.top - b->data.mapping.pairs.start != a->data.mapping.pairs.top - a->data.mapping.pairs.start)
		return false;
	for (yaml_node_pair_t *p = a->data.mapping.pairs.start; p < a->data.mapping.pairs.top; p++) {
		const char *k = str(yaml_document_get_node(da, p->key));
		if (!k || !node_equal(da, yaml_document_get_node(da, p->value), db, get(db, b, k)))
			return false;
	}
	return true;
}

static node *named(yaml_document_t *d, node *seq, const char *name)
{
	for (int i = 0; i < seq_len(seq); i++)
		if (pstr(d, item(d, seq, i), "name") && strcmp(pstr(d, item(d, seq, i), "name"), name) == 0)
			return item(d, seq, i);
	return NULL;
}

/* The read-only host paths and the agents' disk buffers (writable). */
static const char *const ds_paths[] = {"/proc", "/sys", "/", "/var/lib/heliograph/monitoring/agent-spool"};
static const char *const stack_paths[] = {"/proc", "/sys", "/", "/var/lib/heliograph/monitoring/stack-agent-spool"};

/* An init container that gives one directory to an owner: the image given,
 * root with CAP_CHOWN alone, no privilege escalation, a read-only root; it
 * mounts the volumes named (nvols of them) and nothing else, and its
 * script changes the owner of each mountPath only when it differs. */
static node *check_owner_init(yaml_document_t *d, node *spec, const char *name)
{
	node *own = named(d, get(d, spec, "initContainers"), name);
	CHECK(own != NULL);
	if (!own)
		return NULL;
	CHECK_STR(pstr(d, own, "securityContext.runAsUser"), "0");
	CHECK_STR(pstr(d, own, "securityContext.runAsNonRoot"), "false");
	CHECK_STR(pstr(d, own, "securityContext.allowPrivilegeEscalation"), "false");
	CHECK(is_true(path(d, own, "securityContext.readOnlyRootFilesystem")));
	CHECK(!get(d, get(d, own, "securityContext"), "privileged"));
	node *drop = path(d, own, "securityContext.capabilities.drop"), *add = path(d, own, "securityContext.capabilities.add");
	CHECK(seq_len(drop) == 1 && strcmp(str(item(d, drop, 0)), "ALL") == 0);
	CHECK(seq_len(add) == 1 && strcmp(str(item(d, add, 0)), "CHOWN") == 0);
	return own;
}

/* The mountPath of volume vol in container c, or NULL. */
static const char *mount_of(yaml_document_t *d, node *c, const char *vol)
{
	node *vm = get(d, c, "volumeMounts");
	for (int j = 0; j < seq_len(vm); j++)
		if (pstr(d, item(d, vm, j), "name") && strcmp(pstr(d, item(d, vm, j), "name"), vol) == 0)
			return pstr(d, item(d, vm, j), "mountPath");
	return NULL;
}

static void test_daemonset(struct stream *s)
{
	int i = find_doc(s, "DaemonSet", "heliograph-agent");
	CHECK(i >= 0);
	if (i < 0)
		return;
	yaml_document_t *d = &s->doc[i];
	node *r = yaml_document_get_root_node(d), *spec = path(d, r, "spec.template.spec");
	/* Restricted but for hostNetwork, the three read-only hostPath volumes,
	 * the disk buffer's writable one (mounted by the agent and by
	 * spool-owner) and spool-owner (root, runAsNonRoot false, CHOWN). */
	fprintf(stderr, "(expected: hostNetwork, spool-owner's three and two writable mounts; then those and four hostPath violations follow)\n");
	CHECK_INT(restricted_violations(d, spec, ds_paths, 4), 6);
	CHECK_INT(restricted_violations(d, spec, NULL, 0), 10);
	/* spool-owner: the disk buffer's directory to the agent's user, nothing else mounted. */
	CHECK_INT(seq_len(get(d, spec, "initContainers")), 1);
	node *own = check_owner_init(d, spec, "spool-owner");
	if (own) {
		CHECK_INT(seq_len(get(d, own, "volumeMounts")), 1);
		const char *dir = mount_of(d, own, "agent-spool");
		node *cmd = get(d, own, "command");
		const char *script = str(item(d, cmd, seq_len(cmd) - 1));
		char want[160];
		snprintf(want, sizeof want, "chown %s:%s %s", pstr(d, spec, "securityContext.runAsUser"),
			 pstr(d, spec, "securityContext.runAsGroup"), dir ? dir : "?");
		CHECK(dir && script && strstr(script, want) != NULL && strstr(script, "stat -c %u:%g") != NULL);
		CHECK(strncmp(pstr(d, own, "image"), "docker.io/library/busybox:", 26) == 0);
	}
	/* No pod IP; the cluster DNS still resolves the influxdb Service. */
	CHECK(is_true(get(d, spec, "hostNetwork")));
	CHECK_STR(pstr(d, spec, "dnsPolicy"), "ClusterFirstWithHostNet");
	CHECK_STR(str(get(d, get(d, spec, "nodeSelector"), "kubernetes.io/os")), "linux");
	/* It preempts a movable lower-priority pod (a coredns replica) on a full node. */
	CHECK_STR(pstr(d, spec, "priorityClassName"), "system-node-critical");
	/* It skips the stack node: one required term, heliograph.io/stack DoesNotExist. */
	node *terms = path(d, spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
	CHECK_INT(seq_len(terms), 1);
	node *me = get(d, item(d, terms, 0), "matchExpressions");
	CHECK_INT(seq_len(me), 1);
	CHECK_STR(pstr(d, item(d, me, 0), "key"), "heliograph.io/stack");
	CHECK_STR(pstr(d, item(d, me, 0), "operator"), "DoesNotExist");
	CHECK(get(d, item(d, me, 0), "values") == NULL);
	node *c = container(d, r, "agent");
	CHECK(c != NULL);
	CHECK(is_true(path(d, c, "securityContext.readOnlyRootFilesystem")));
	CHECK(is_true(path(d, spec, "securityContext.runAsNonRoot")));
	CHECK(quantity(pstr(d, c, "resources.limits.memory")) <= 32.0 * 1048576);
	CHECK_STR(pstr(d, env_of(d, c, "HOST_PROC"), "value"), host_mount(d, r, c, "/proc"));
	CHECK_STR(pstr(d, env_of(d, c, "HOST_SYS"), "value"), host_mount(d, r, c, "/sys"));
	CHECK_STR(pstr(d, env_of(d, c, "HOST_MOUNT_PREFIX"), "value"), host_mount(d, r, c, "/"));
	CHECK_STR(pstr(d, env_of(d, c, "NODE_NAME"), "valueFrom.fieldRef.fieldPath"), "spec.nodeName");
	CHECK_STR(pstr(d, env_of(d, c, "NODE_IP"), "valueFrom.fieldRef.fieldPath"), "status.hostIP");
	/* Every node: a toleration with operator Exists, no key and no effect. */
	node *tol = get(d, spec, "tolerations");
	bool every = false;
	for (int j = 0; j < seq_len(tol); j++) {
		node *t = item(d, tol, j);
		every |= pstr(d, t, "operator") && strcmp(pstr(d, t, "operator"), "Exists") == 0 && !get(d, t, "key") &&
			 !get(d, t, "effect");
	}
	CHECK(every);
	CHECK_STR(pstr(d, c, "livenessProbe.httpGet.path"), "/healthz");
	CHECK_STR(pstr(d, c, "readinessProbe.httpGet.path"), "/healthz");
	/* The health port is the only port, and no hostPort is written (on
	 * hostNetwork the containerPort is the node's port). */
	CHECK_INT(seq_len(get(d, c, "ports")), 1);
	CHECK(get(d, item(d, get(d, c, "ports"), 0), "hostPort") == NULL);
	/* The automounted token (serviceAccountName, default automount). */
	CHECK_STR(pstr(d, spec, "serviceAccountName"), "heliograph-agent");
	CHECK(get(d, spec, "automountServiceAccountToken") == NULL);
}

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The stack pod's agent is the DaemonSet's container: same image, args,
 * environment, ports, resources, liveness probe, mounts (and the volumes
 * they name), capabilities and effective user; it adds only the token
 * mount, and has no readiness probe. */
static void test_stack_agent(struct stream *s, yaml_document_t *d, node *r)
{
	int ds = find_doc(s, "DaemonSet", "heliograph-agent");
	CHECK(ds >= 0);
	if (ds < 0)
		return;
	yaml_document_t *dd = &s->doc[ds];
	node *rd = yaml_document_get_root_node(dd);
	node *a = container(d, r, "agent"), *b = container(dd, rd, "agent");
	CHECK(a && b);
	if (!a || !b)
		return;
	static const char *const same[] = {"image", "args", "env", "ports", "resources", "livenessProbe",
					   "securityContext.allowPrivilegeEscalation",
					   "securityContext.readOnlyRootFilesystem", "securityContext.capabilities"};
	for (size_t k = 0; k < sizeof same / sizeof *same; k++) {
		bool eq = path(d, a, same[k]) && node_equal(d, path(d, a, same[k]), dd, path(dd, b, same[k]));
		if (!eq)
			fprintf(stderr, "stack pod's agent and DaemonSet differ in %s\n", same[k]);
		CHECK(eq);
	}
	CHECK(get(d, a, "readinessProbe") == NULL);
	/* The effective user: the DaemonSet sets it for its pod, the stack pod
	 * (three users) in the container. */
	CHECK_STR(pstr(d, a, "securityContext.runAsUser"), pstr(dd, rd, "spec.template.spec.securityContext.runAsUser"));
	CHECK_STR(pstr(d, a, "securityContext.runAsGroup"), pstr(dd, rd, "spec.template.spec.securityContext.runAsGroup"));
	/* The DaemonSet's mounts in its order, then the token. */
	node *ma = get(d, a, "volumeMounts"), *mb = get(dd, b, "volumeMounts");
	node *va = path(d, r, "spec.template.spec.volumes"), *vb = path(dd, rd, "spec.template.spec.volumes");
	CHECK_INT(seq_len(ma), seq_len(mb) + 1);
	for (int j = 0; j < seq_len(mb); j++) {
		CHECK(node_equal(d, item(d, ma, j), dd, item(dd, mb, j)));
		const char *vn = pstr(dd, item(dd, mb, j), "name");
		/* Each agent has its own disk buffer (test_agent_config). */
		if (vn && strcmp(vn, "agent-spool") == 0)
			continue;
		bool eq = vn && node_equal(d, named(d, va, vn), dd, named(dd, vb, vn));
		if (!eq)
			fprintf(stderr, "volume %s differs between the stack pod and the DaemonSet\n", vn ? vn : "?");
		CHECK(eq);
	}
	node *tm = item(d, ma, seq_len(mb));
	CHECK_STR(pstr(d, tm, "name"), "agent-token");
	CHECK_STR(pstr(d, tm, "mountPath"), SA_DIR);
	CHECK(is_true(get(d, tm, "readOnly")));
	/* Both read the one ConfigMap. */
	CHECK_STR(pstr(d, named(d, va, "agent-config"), "configMap.name"), "heliograph-agent");
}

/* Every container of the stack pod runs with a read-only root; what each
 * may write is listed: "container=volume:mountPath,..." of its mounts without
 * readOnly, in order. The only emptyDir is Grafana's /tmp, size-limited. */
static void check_writable(yaml_document_t *d, node *spec)
{
	static const char *const want[] = {
		"data-owner=influxdb-data:/data/influxdb,grafana-data:/data/grafana,agent-spool:/data/agent-spool",
		"influxdb-setup=influxdb-data:/var/lib/influxdb",
		"influxdb=influxdb-data:/var/lib/influxdb",
		"grafana=grafana-data:/var/lib/grafana,grafana-tmp:/tmp",
		"agent=agent-spool:/var/lib/heliograph/spool",
	};
	const char *lists[] = {"initContainers", "containers"};
	int n = 0;
	for (int l = 0; l < 2; l++)
		for (int c = 0; c < seq_len(get(d, spec, lists[l])); c++) {
			node *ct = item(d, get(d, spec, lists[l]), c), *vm = get(d, ct, "volumeMounts");
			CHECK(is_true(path(d, ct, "securityContext.readOnlyRootFilesystem")));
			char got[512];
			int o = snprintf(got, sizeof got, "%s=", pstr(d, ct, "name"));
			for (int j = 0; j < seq_len(vm); j++) {
				node *m = item(d, vm, j);
				if (is_true(get(d, m, "readOnly")))
					continue;
				o += snprintf(got + o, sizeof got - (size_t)o, "%s%s:%s", got[o - 1] == '=' ? "" : ",",
					      pstr(d, m, "name"), pstr(d, m, "mountPath"));
			}
			bool listed = false;
			for (size_t w = 0; w < sizeof want / sizeof *want; w++)
				listed |= strcmp(want[w], got) == 0;
			if (!listed)
				fprintf(stderr, "  unexpected writable mounts: %s\n", got);
			CHECK(listed);
			n++;
		}
	CHECK_INT(n, (int)(sizeof want / sizeof *want));
	node *vols = get(d, spec, "volumes");
	int empty = 0;
	for (int v = 0; v < seq_len(vols); v++)
		if (get(d, item(d, vols, v), "emptyDir")) {
			empty++;
			CHECK_STR(pstr(d, item(d, vols, v), "name"), "grafana-tmp");
			CHECK(quantity(pstr(d, item(d, vols, v), "emptyDir.sizeLimit")) > 0 &&
			      quantity(pstr(d, item(d, vols, v), "emptyDir.sizeLimit")) <= 64.0 * 1048576);
		}
	CHECK_INT(empty, 1);
}

static void test_stack(struct stream *s)
{
	int i = find_doc(s, "Deployment", "heliograph-stack");
	CHECK(i >= 0);
	if (i < 0)
		return;
	yaml_document_t *d = &s->doc[i];
	node *r = yaml_document_get_root_node(d), *spec = path(d, r, "spec.template.spec");
	CHECK_STR(pstr(d, r, "spec.strategy.type"), "Recreate");
	CHECK_INT(seq_len(get(d, spec, "containers")), 3);
	node *influx = container(d, r, "influxdb"), *graf = container(d, r, "grafana");
	CHECK(influx && graf);
	CHECK_STR(pstr(d, influx, "livenessProbe.httpGet.path"), "/ping");
	CHECK_STR(pstr(d, influx, "readinessProbe.httpGet.path"), "/ping");
	CHECK_STR(pstr(d, graf, "livenessProbe.httpGet.path"), "/api/health");
	CHECK_STR(pstr(d, graf, "readinessProbe.httpGet.path"), "/api/health");
	CHECK_STR(pstr(d, env_of(d, influx, "INFLUXDB_DATA_INDEX_VERSION"), "value"), "tsi1");
	/* /debug/vars, /debug/requests and /debug/pprof need an admin. */
	CHECK_STR(pstr(d, env_of(d, influx, "INFLUXDB_HTTP_AUTH_ENABLED"), "value"), "true");
	CHECK_STR(pstr(d, env_of(d, influx, "INFLUXDB_HTTP_PPROF_AUTH_ENABLED"), "value"), "true");
	CHECK(env_of(d, influx, "INFLUXDB_HTTP_PPROF_ENABLED") == NULL);
	check_writable(d, spec);
	CHECK(strncmp(pstr(d, influx, "image"), "docker.io/library/influxdb:1.12.", 32) == 0);
	CHECK(strncmp(pstr(d, graf, "image"), "docker.io/grafana/grafana:12.4.", 31) == 0);
	/* Grafana's gid owns EBS volumes; InfluxDB gets it as a supplementary group. */
	CHECK_STR(pstr(d, spec, "securityContext.fsGroup"), "472");
	/* Only on the labelled Linux node; "true" a string, as labels are. */
	node *ns = get(d, spec, "nodeSelector");
	CHECK_STR(str(get(d, ns, "kubernetes.io/os")), "linux");
	CHECK_STR(str(get(d, ns, "heliograph.io/stack")), "true");
	CHECK(get(d, ns, "heliograph.io/stack") && get(d, ns, "heliograph.io/stack")->data.scalar.style != YAML_PLAIN_SCALAR_STYLE);
	/* The agent's identity, its token mounted into the agent container only. */
	CHECK_STR(pstr(d, spec, "serviceAccountName"), "heliograph-agent");
	CHECK_STR(pstr(d, spec, "automountServiceAccountToken"), "false");
	node *vols = get(d, spec, "volumes"), *tok = named(d, vols, "agent-token");
	node *srcs = path(d, tok, "projected.sources");
	CHECK_INT(seq_len(srcs), 3);
	CHECK_STR(pstr(d, item(d, srcs, 0), "serviceAccountToken.path"), "token");
	CHECK_STR(pstr(d, item(d, srcs, 1), "configMap.name"), "kube-root-ca.crt");
	CHECK_STR(pstr(d, item(d, path(d, item(d, srcs, 1), "configMap.items"), 0), "key"), "ca.crt");
	CHECK_STR(pstr(d, item(d, path(d, item(d, srcs, 1), "configMap.items"), 0), "path"), "ca.crt");
	node *dapi = item(d, path(d, item(d, srcs, 2), "downwardAPI.items"), 0);
	CHECK_STR(pstr(d, dapi, "path"), "namespace");
	CHECK_STR(pstr(d, dapi, "fieldRef.fieldPath"), "metadata.namespace");
	const char *lists[] = {"containers", "initContainers"};
	int token_mounts = 0;
	for (int l = 0; l < 2; l++)
		for (int c = 0; c < seq_len(get(d, spec, lists[l])); c++) {
			node *ct = item(d, get(d, spec, lists[l]), c), *vm = get(d, ct, "volumeMounts");
			for (int j = 0; j < seq_len(vm); j++) {
				bool is_tok = strcmp(pstr(d, item(d, vm, j), "name"), "agent-token") == 0;
				bool at_sa = strncmp(pstr(d, item(d, vm, j), "mountPath"), SA_DIR, strlen(SA_DIR)) == 0;
				CHECK(is_tok == at_sa);
				if (is_tok) {
					CHECK_STR(pstr(d, ct, "name"), "agent");
					token_mounts++;
				}
			}
		}
	CHECK_INT(token_mounts, 1);
	test_stack_agent(s, d, r);

	/* data-owner: the InfluxDB image, root with CAP_CHOWN alone, both data
	 * volumes and the agent's disk buffer and nothing else, each top
	 * directory to its server. */
	node *ics = get(d, spec, "initContainers");
	CHECK_INT(seq_len(ics), 2);
	/* influxdb-setup, after data-owner: InfluxDB's image and volume, the
	 * set-up script of ConfigMap influxdb-init, every credential from a
	 * Secret (none on the command line), influxd on loopback only; the
	 * influxdb container itself holds no credential. */
	node *setup = item(d, ics, 1);
	CHECK_STR(pstr(d, setup, "name"), "influxdb-setup");
	CHECK_STR(pstr(d, setup, "image"), pstr(d, influx, "image"));
	CHECK_STR(mount_of(d, setup, "influxdb-data"), mount_of(d, influx, "influxdb-data"));
	CHECK_STR(str(item(d, get(d, setup, "command"), 1)), "/etc/heliograph/influxdb-setup/setup.sh");
	CHECK_STR(mount_of(d, setup, "influxdb-init"), "/etc/heliograph/influxdb-setup");
	CHECK_STR(pstr(d, env_of(d, setup, "INFLUXDB_HTTP_BIND_ADDRESS"), "value"), "127.0.0.1:8086");
	static const char *const creds[][3] = {{"INFLUX_USERNAME", "influxdb-admin", "username"},
					       {"INFLUX_PASSWORD", "influxdb-admin", "password"},
					       {"HG_WRITE_USER", "influxdb-agent", "username"},
					       {"HG_WRITE_PASSWORD", "influxdb-agent", "password"},
					       {"HG_READ_USER", "influxdb-grafana", "username"},
					       {"HG_READ_PASSWORD", "influxdb-grafana", "password"}};
	for (size_t k = 0; k < sizeof creds / sizeof *creds; k++) {
		CHECK_STR(pstr(d, env_of(d, setup, creds[k][0]), "valueFrom.secretKeyRef.name"), creds[k][1]);
		CHECK_STR(pstr(d, env_of(d, setup, creds[k][0]), "valueFrom.secretKeyRef.key"), creds[k][2]);
	}
	node *ienv = get(d, influx, "env");
	for (int j = 0; j < seq_len(ienv); j++)
		CHECK(path(d, item(d, ienv, j), "valueFrom.secretKeyRef") == NULL);
	node *own = check_owner_init(d, spec, "data-owner");
	CHECK_STR(pstr(d, own, "image"), pstr(d, influx, "image"));
	node *om = get(d, own, "volumeMounts");
	CHECK_INT(seq_len(om), 3);
	const char *idir = NULL, *gdir = NULL;
	for (int j = 0; j < seq_len(om); j++) {
		const char *vn = pstr(d, item(d, om, j), "name");
		if (strcmp(vn, "influxdb-data") == 0)
			idir = pstr(d, item(d, om, j), "mountPath");
		if (strcmp(vn, "grafana-data") == 0)
			gdir = pstr(d, item(d, om, j), "mountPath");
	}
	CHECK(idir && gdir);
	node *cmd = get(d, own, "command");
	const char *script = str(item(d, cmd, seq_len(cmd) - 1));
	CHECK(script != NULL);
	if (script && idir && gdir) {
		char want[128];
		snprintf(want, sizeof want, "own %s 1000:472", idir);
		CHECK(strstr(script, want) != NULL);
		snprintf(want, sizeof want, "own %s 472:472", gdir);
		CHECK(strstr(script, want) != NULL);
		CHECK(strstr(script, "chown") && strstr(script, "stat -c %u:%g"));
		const char *sdir = mount_of(d, own, "agent-spool");
		node *agent = container(d, r, "agent");
		snprintf(want, sizeof want, "own %s %s:%s", sdir ? sdir : "?", pstr(d, agent, "securityContext.runAsUser"),
			 pstr(d, agent, "securityContext.runAsGroup"));
		CHECK(sdir && strstr(script, want) != NULL);
	}
	/* The restricted profile holds but for the agent's three read-only
	 * hostPath volumes, its disk buffer's writable one (mounted by the agent
	 * and data-owner) and data-owner (root, runAsNonRoot false, CHOWN). */
	fprintf(stderr, "(expected: data-owner's three violations and two writable mounts follow)\n");
	CHECK_INT(restricted_violations(d, spec, stack_paths, 4), 5);

	/* The stack node runs this pod and coredns (the DaemonSet skips it):
	 * their memory requests fit the smallest allocatable of a micro node
	 * (about 520 Mi, issue 12). The pod requests its containers' sum or its
	 * largest init container, whichever is more. */
	double req = 0, init = 0;
	for (int c = 0; c < seq_len(get(d, spec, "containers")); c++)
		req += quantity(pstr(d, item(d, get(d, spec, "containers"), c), "resources.requests.memory"));
	for (int c = 0; c < seq_len(ics); c++) {
		double q = quantity(pstr(d, item(d, ics, c), "resources.requests.memory"));
		init = q > init ? q : init;
	}
	/* With coredns's 70Mi, within the smallest micro node's allocatable
	 * (t4g.micro, 524Mi: tests/integration/eks_clusters.py) with 64Mi to
	 * spare. Limits are above that on purpose: Grafana at a tight limit is
	 * OOMKilled at start (k8s-manifests/README.md). */
	CHECK((req > init ? req : init) + 70.0 * 1048576 <= (524.0 - 64.0) * 1048576);
	CHECK(quantity(pstr(d, graf, "resources.limits.memory")) >= 512.0 * 1048576);
	/* Every Secret the pods use is one of the four the README documents. */
	static const char *const secrets[] = {"influxdb-admin", "influxdb-agent", "influxdb-grafana", "grafana-admin"};
	for (int di = 0; di < s->n; di++) {
		yaml_document_t *dx = &s->doc[di];
		node *cs = path(dx, yaml_document_get_root_node(dx), "spec.template.spec.containers");
		for (int ci = 0; ci < seq_len(cs); ci++) {
			node *env = get(dx, item(dx, cs, ci), "env");
			for (int e = 0; e < seq_len(env); e++) {
				const char *sn = pstr(dx, item(dx, env, e), "valueFrom.secretKeyRef.name");
				if (!sn)
					continue;
				bool known = false;
				for (int k = 0; k < 4; k++)
					known |= strcmp(sn, secrets[k]) == 0;
				CHECK(known);
			}
		}
	}
}

/* The agent's RBAC is exactly the documented rules (k8s-manifests/README.md). */
#define MAXGRANTS 64
struct grants {
	char v[MAXGRANTS][128];
	size_t n;
};

static void grant_add(struct grants *g, const char *group, const char *res, const char *verb, const char *name)
{
	CHECK(g->n < MAXGRANTS);
	if (g->n < MAXGRANTS) {
		int w = snprintf(g->v[g->n++], sizeof g->v[0], "%s/%s/%s%s%s%s", group, res, verb, name ? "[" : "",
				 name ? name : "", name ? "]" : "");
		CHECK(w > 0 && (size_t)w < sizeof g->v[0]); /* a cut grant would compare wrongly */
	}
}

/* Trims spaces off [*p, *e). */
static void trim(const char **p, const char **e)
{
	while (*p < *e && **p == ' ')
		(*p)++;
	while (*e > *p && (*e)[-1] == ' ')
		(*e)--;
}

/* The grants of k8s-manifests/README.md's RBAC table ("| group | `res`,
 * `res` [named `name`] | verb, verb | scope ..."), split by scope: cluster
 * (the ClusterRole) or "its namespace" (the Role). */
static void readme_grants(struct grants *cluster, struct grants *ns)
{
	size_t len;
	char *md = read_file(HG_SOURCE_DIR "/k8s-manifests/README.md", &len);
	CHECK(md != NULL);
	if (!md)
		return;
	char *t = strstr(md, "The agent's RBAC, exactly");
	CHECK(t != NULL);
	int rows = 0;
	for (char *line = t; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = line;
		while (*p == ' ')
			p++;
		if (*p != '|') {
			if (rows)
				break; /* the table's end */
			continue;
		}
		const char *cell[6];
		const char *cend[6];
		int nc = 0;
		for (const char *q = p + 1; *q && *q != '\n' && nc < 6;) {
			const char *bar = q;
			while (*bar && *bar != '|' && *bar != '\n')
				bar++;
			if (*bar != '|')
				break;
			cell[nc] = q;
			cend[nc] = bar;
			trim(&cell[nc], &cend[nc]);
			nc++;
			q = bar + 1;
		}
		if (nc != 4 || strncmp(cell[0], "API group", 9) == 0 || cell[0][0] == '-')
			continue;
		rows++;
		char group[64];
		snprintf(group, sizeof group, "%.*s", (int)(cend[0] - cell[0]), cell[0]);
		if (strcmp(group, "core") == 0)
			group[0] = '\0';
		struct grants *g = strncmp(cell[3], "cluster", 7) == 0 ? cluster
				   : strncmp(cell[3], "its namespace", 13) == 0 ? ns
										: NULL;
		CHECK(g != NULL);
		if (!g)
			continue;
		/* `a`, `b` [named `n`] */
		char res[8][64], name[64] = "";
		int nres = 0;
		bool named = false;
		for (const char *q = cell[1]; q < cend[1];) {
			const char *o = memchr(q, '`', (size_t)(cend[1] - q));
			if (!o)
				break;
			const char *c = memchr(o + 1, '`', (size_t)(cend[1] - o - 1));
			CHECK(c != NULL);
			if (!c)
				break;
			named |= memmem(q, (size_t)(o - q), "named", 5) != NULL;
			if (named)
				snprintf(name, sizeof name, "%.*s", (int)(c - o - 1), o + 1);
			else if (nres < 8)
				snprintf(res[nres++], sizeof res[0], "%.*s", (int)(c - o - 1), o + 1);
			q = c + 1;
		}
		for (const char *q = cell[2]; q < cend[2];) {
			const char *c = memchr(q, ',', (size_t)(cend[2] - q));
			const char *e = c ? c : cend[2];
			const char *vp = q, *ve = e;
			trim(&vp, &ve);
			char verb[32];
			snprintf(verb, sizeof verb, "%.*s", (int)(ve - vp), vp);
			for (int r = 0; r < nres; r++)
				grant_add(g, group, res[r], verb, name[0] ? name : NULL);
			q = e + 1;
		}
	}
	CHECK(rows > 0);
	free(md);
}

static bool in_grants(const struct grants *g, const char *t)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i], t) == 0)
			return true;
	return false;
}

static void test_rbac(struct stream *s)
{
	static const char *const expected_cluster[] = {
		/* nodes/metrics: no input reads the kubelet's /metrics; nodes/pods:
		 * only with pod_metadata_source: kubelet, and the config uses apiserver. */
		"/nodes/stats/get",   "/pods/list",             "/pods/watch",
		"/services/list",     "/services/watch",        "/nodes/list",
		"apps/deployments/list", "apps/deployments/watch", "apps/replicasets/list", "apps/replicasets/watch",
		/* kube_inventory (mode: watch) lists these once, then watches them
		 * (test_agent_rbac records what the shipped agent calls). */
		"/nodes/watch", "apps/daemonsets/list", "apps/daemonsets/watch", "apps/statefulsets/list",
		"apps/statefulsets/watch",
		"argoproj.io/rollouts/list", "argoproj.io/rollouts/watch",
	};
	static const char *const expected_role[] = {
		"coordination.k8s.io/leases/create",
		"coordination.k8s.io/leases/get[heliograph-agent-leader]",
		"coordination.k8s.io/leases/update[heliograph-agent-leader]",
		"coordination.k8s.io/leases/get[heliograph-kube-inventory-leader]",
		"coordination.k8s.io/leases/update[heliograph-kube-inventory-leader]",
	};
	struct {
		const char *kind, *name;
		const char *const *exp;
		size_t nexp;
	} roles[] = {
		{"ClusterRole", "heliograph-agent", expected_cluster, sizeof expected_cluster / sizeof *expected_cluster},
		{"Role", "heliograph-agent-leader-election", expected_role, sizeof expected_role / sizeof *expected_role},
	};
	/* README.md's table says the same, no more and no less. */
	struct grants readme[2] = {{.n = 0}, {.n = 0}};
	readme_grants(&readme[0], &readme[1]);
	for (size_t ri = 0; ri < 2; ri++) {
		CHECK_INT(readme[ri].n, roles[ri].nexp);
		for (size_t e = 0; e < roles[ri].nexp; e++) {
			if (!in_grants(&readme[ri], roles[ri].exp[e]))
				fprintf(stderr, "k8s-manifests/README.md's RBAC table lacks %s\n", roles[ri].exp[e]);
			CHECK(in_grants(&readme[ri], roles[ri].exp[e]));
		}
	}
	for (size_t ri = 0; ri < 2; ri++) {
		int i = find_doc(s, roles[ri].kind, roles[ri].name);
		CHECK(i >= 0);
		if (i < 0)
			continue;
		yaml_document_t *d = &s->doc[i];
		node *rules = get(d, yaml_document_get_root_node(d), "rules");
		size_t got = 0;
		for (int j = 0; j < seq_len(rules); j++) {
			node *rule = item(d, rules, j);
			node *g = get(d, rule, "apiGroups"), *res = get(d, rule, "resources"), *v = get(d, rule, "verbs");
			node *rn = get(d, rule, "resourceNames");
			CHECK(seq_len(rn) <= 1);
			for (int a = 0; a < seq_len(g); a++)
				for (int b = 0; b < seq_len(res); b++)
					for (int c = 0; c < seq_len(v); c++) {
						char t[256];
						const char *rname = str(item(d, rn, 0));
						snprintf(t, sizeof t, "%s/%s/%s%s%s%s", str(item(d, g, a)), str(item(d, res, b)),
							 str(item(d, v, c)), rname ? "[" : "", rname ? rname : "", rname ? "]" : "");
						CHECK(strstr(t, "nodes/proxy") == NULL && strchr(t, '*') == NULL);
						bool ok = false;
						for (size_t e = 0; e < roles[ri].nexp; e++)
							ok |= strcmp(t, roles[ri].exp[e]) == 0;
						if (!ok)
							fprintf(stderr, "%s grants %s, not documented\n", roles[ri].kind, t);
						CHECK(ok);
						got++;
					}
		}
		/* No duplicates in the manifests, so equal counts mean equal sets. */
		CHECK_INT(got, roles[ri].nexp);
	}
	/* nodes/proxy appears nowhere in any rule of the render. */
	CHECK(strstr(s->text, "nodes/proxy\"]") == NULL && strstr(s->text, "- nodes/proxy") == NULL);
}

/* The agent's config loads with the agent's own loader; health_listen is the
 * port the probes use. */
static void test_agent_config(struct stream *s)
{
	int i = find_doc(s, "ConfigMap", "heliograph-agent");
	CHECK(i >= 0);
	if (i < 0)
		return;
	yaml_document_t *d = &s->doc[i];
	/* path() splits on dots: look the key up directly. */
	const char *yaml = str(get(d, get(d, yaml_document_get_root_node(d), "data"), "heliograph.yaml"));
	CHECK(yaml != NULL);
	if (!yaml)
		return;
	setenv("NODE_NAME", "node-1", 1);
	setenv("NODE_IP", "10.0.0.1", 1);
	setenv("INFLUXDB_USER", "agent", 1);
	setenv("INFLUXDB_PASSWORD", "secret", 1);
	struct agent_config cfg;
	memset(&cfg, 0, sizeof cfg);
	char err[512] = "";
	int rc = config_load_buffer(&cfg, "heliograph.yaml", yaml, strlen(yaml), err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "agent config: %s\n", err);
	CHECK_INT(rc, 0);
	if (rc != 0)
		return;
	CHECK_STR(cfg.hostname, "node-1");
	CHECK_STR(cfg.health_listen, ":8275");
	static const char *const want[] = {"cpu",  "mem",  "swap",   "system",   "kernel",
					   "disk", "diskio", "net", "processes", "internal", "kubernetes",
					   "deploy_events", "kube_inventory"};
	for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
		bool found = false;
		for (size_t k = 0; k < cfg.ninputs; k++)
			found |= strcmp(cfg.inputs[k].plugin->name, want[w]) == 0;
		if (!found)
			fprintf(stderr, "input %s missing from the agent config\n", want[w]);
		CHECK(found);
	}
	CHECK_INT(cfg.noutputs, 1);
	char spool[256] = "";
	if (cfg.noutputs == 1) {
		CHECK_STR(cfg.outputs[0].plugin->name, "influxdb");
		/* A disk buffer within what a 20 GiB node spares (41-agent-config.yaml). */
		const struct output_buffer_cfg *b = &cfg.outputs[0].common.buffer;
		CHECK_STR(b->type, "disk");
		CHECK(b->max_size > 0 && b->max_size <= 256ull << 20);
		snprintf(spool, sizeof spool, "%s", b->path ? b->path : "");
	}
	config_free(&cfg);
	/* Both agents mount a hostPath of their own, writable, at buffer.path:
	 * /var/lib/heliograph/NAMESPACE/agent-spool and .../stack-agent-spool. */
	const char *const spool_dirs[] = {"/var/lib/heliograph/monitoring/agent-spool",
					  "/var/lib/heliograph/monitoring/stack-agent-spool"};
	/* The probes' port is the one health_listen opens, in both pods. */
	const char *const pods[][2] = {{"DaemonSet", "heliograph-agent"}, {"Deployment", "heliograph-stack"}};
	for (int k = 0; k < 2; k++) {
		int ds = find_doc(s, pods[k][0], pods[k][1]);
		CHECK(ds >= 0);
		if (ds < 0)
			continue;
		yaml_document_t *dd = &s->doc[ds];
		node *c = container(dd, yaml_document_get_root_node(dd), "agent");
		CHECK_STR(pstr(dd, item(dd, get(dd, c, "ports"), 0), "containerPort"), "8275");
		CHECK_STR(pstr(dd, c, "livenessProbe.httpGet.port"), pstr(dd, item(dd, get(dd, c, "ports"), 0), "name"));
		CHECK_STR(mount_of(dd, c, "agent-spool"), spool);
		node *vols = path(dd, yaml_document_get_root_node(dd), "spec.template.spec.volumes");
		CHECK_STR(pstr(dd, named(dd, vols, "agent-spool"), "hostPath.path"), spool_dirs[k]);
		CHECK_STR(pstr(dd, named(dd, vols, "agent-spool"), "hostPath.type"), "DirectoryOrCreate");
		node *vm = get(dd, c, "volumeMounts");
		for (int j = 0; j < seq_len(vm); j++)
			if (strcmp(pstr(dd, item(dd, vm, j), "name"), "agent-spool") == 0)
				CHECK(!is_true(get(dd, item(dd, vm, j), "readOnly")));
	}
}

/* Lines of a and b that differ (both have the same number of lines when
 * only value markers act). */
static int changed_lines(const char *a, const char *b)
{
	int n = 0;
	while (*a || *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		n += la != lb || memcmp(a, b, la) != 0;
		a += la + (ea != NULL);
		b += lb + (eb != NULL);
	}
	return n;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *render_with(const char *flag, const char *value)
{
	struct render_params rp = {0};
	char err[256];
	if (render_params_set(&rp, flag, value, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return render_to_text(&rp);
}

static void test_flags(const char *def)
{
	struct stream s;
	char *t;

	/* --namespace: every namespaced object, the Namespace, the bindings'
	 * subjects and the generated ConfigMap; nothing else. */
	t = render_with("namespace", "obs");
	CHECK(t && changed_lines(def, t) == count(def, "# agentctl:namespace") + 1);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "obs");
		free_stream(&s);
	}

	t = render_with("storage-class", "gp3");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "\n  storageClassName: gp3\n") == 2);
	CHECK(strstr(def, "\n  storageClassName:") == NULL);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "monitoring");
		for (int k = 0; k < 2; k++) {
			const char *pvc = k ? "grafana-data" : "influxdb-data";
			int i = find_doc(&s, "PersistentVolumeClaim", pvc);
			CHECK(i >= 0 && pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.storageClassName") &&
			      strcmp(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.storageClassName"), "gp3") == 0);
		}
		free_stream(&s);
	}

	t = render_with("influxdb-size", "20Gi");
	CHECK(t && changed_lines(def, t) == 1);
	if (t && parse_stream(&s, t) == 0) {
		int i = find_doc(&s, "PersistentVolumeClaim", "influxdb-data"), g = find_doc(&s, "PersistentVolumeClaim", "grafana-data");
		CHECK_STR(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.resources.requests.storage"), "20Gi");
		CHECK_STR(pstr(&s.doc[g], yaml_document_get_root_node(&s.doc[g]), "spec.resources.requests.storage"), "1Gi");
		free_stream(&s);
	}
	t = render_with("grafana-size", "2Gi");
	CHECK(t && changed_lines(def, t) == 1);
	if (t && parse_stream(&s, t) == 0) {
		int i = find_doc(&s, "PersistentVolumeClaim", "influxdb-data"), g = find_doc(&s, "PersistentVolumeClaim", "grafana-data");
		CHECK_STR(pstr(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.resources.requests.storage"), "5Gi");
		CHECK_STR(pstr(&s.doc[g], yaml_document_get_root_node(&s.doc[g]), "spec.resources.requests.storage"), "2Gi");
		free_stream(&s);
	}

	/* --retention, with the shard duration InfluxDB would pick; "21d" keeps
	 * its "1d" (whole tokens only). */
	static const struct {
		const char *ret, *iql;
	} rets[] = {
		{"12h", "DURATION 12h SHARD DURATION 1h DEFAULT"}, {"21d", "DURATION 21d SHARD DURATION 1d DEFAULT"},
		{"1d", "DURATION 1d SHARD DURATION 1h DEFAULT"},   {"52w", "DURATION 52w SHARD DURATION 7d DEFAULT"},
		{"INF", "DURATION INF SHARD DURATION 7d DEFAULT"},
	};
	for (size_t k = 0; k < sizeof rets / sizeof *rets; k++) {
		t = render_with("retention", rets[k].ret);
		CHECK(t && changed_lines(def, t) == 2); /* the statement, and the value for the set-up's report */
		if (t && parse_stream(&s, t) == 0) {
			int i = find_doc(&s, "ConfigMap", "influxdb-init");
			const char *iql = str(get(&s.doc[i], path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "data"), "retention.iql"));
			CHECK(iql && strstr(iql, rets[k].iql) != NULL);
			CHECK_STR(str(get(&s.doc[i], path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "data"), "retention")),
				  rets[k].ret);
			free_stream(&s);
		}
	}

	/* --image-registry: every docker.io image (influxdb, data-owner,
	 * influxdb-setup, grafana, spool-owner; a Docker Hub mirror), not the two
	 * agents', which are ghcr.io's by default; --agent-image: the agents'
	 * only, as given. */
	CHECK_INT(count(def, "image: "), 7);
	t = render_with("image-registry", "123.dkr.ecr.us-east-1.amazonaws.com/docker-hub");
	CHECK(t && changed_lines(def, t) == 5 && count(t, "image: 123.dkr.ecr.us-east-1.amazonaws.com/docker-hub/") == 5);
	CHECK(t && strstr(t, "docker.io") == NULL && count(t, "image: " HG_AGENT_IMAGE " #") == 2);
	free(t);
	t = render_with("agent-image", "registry.example:5000/hg/agent:9");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "image: registry.example:5000/hg/agent:9 #") == 2);
	free(t);
	{
		struct render_params rp = {0};
		char err[256];
		CHECK_INT(render_params_set(&rp, "agent-image", "docker.io/me/agent:2", err, sizeof err), 0);
		CHECK_INT(render_params_set(&rp, "image-registry", "mirror.example", err, sizeof err), 0);
		t = render_to_text(&rp);
		/* An explicit agent image is used as given, the mirror moves the others. */
		CHECK(t && count(t, "image: mirror.example/") == 5 && count(t, "image: docker.io/me/agent:2 #") == 2);
		free(t);
	}

	t = render_with("image-pull-secret", "ecr-pull");
	CHECK(t && changed_lines(def, t) == 2 && count(t, "imagePullSecrets: [{name: ecr-pull}]") == 2);
	if (t && parse_stream(&s, t) == 0) {
		check_schema(&s, "monitoring");
		for (int k = 0; k < 2; k++) {
			int i = k ? find_doc(&s, "DaemonSet", "heliograph-agent") : find_doc(&s, "Deployment", "heliograph-stack");
			node *ips = path(&s.doc[i], yaml_document_get_root_node(&s.doc[i]), "spec.template.spec.imagePullSecrets");
			CHECK_STR(pstr(&s.doc[i], item(&s.doc[i], ips, 0), "name"), "ecr-pull");
		}
		free_stream(&s);
	}

	/* Values that would not be valid where they go are usage errors. */
	static const struct {
		const char *flag, *value;
	} bad[] = {
		{"namespace", "Monitoring"}, {"namespace", "a_b"},         {"namespace", ""},
		{"namespace", "x: y"},       {"storage-class", "gp3 #"},   {"influxdb-size", "lots"},
		{"influxdb-size", "0Gi"},    {"grafana-size", "-1Gi"},     {"retention", "30x"},
		{"retention", "30m"},        {"retention", "d"},           {"image-registry", "a b"},
		{"image-registry", "reg/"},  {"image-pull-secret", "A"},   {"agent-image", "x # y"},
		{"agent-image", "img\"x"},   {"no-such-flag", "x"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct render_params rp = {0};
		char err[256] = "";
		int rc = render_params_set(&rp, bad[k].flag, bad[k].value, err, sizeof err);
		if (rc == 0)
			fprintf(stderr, "--%s '%s' accepted\n", bad[k].flag, bad[k].value);
		CHECK(rc < 0 && strstr(err, bad[k].flag) != NULL);
	}
}

/* The names render_all emits, joined by spaces. */
static int collect_names(void *ud, const char *name, const char *text, size_t len)
{
	(void)text;
	(void)len;
	struct render_buf *b = ud;
	size_t need = b->len + strlen(name) + 2;
	if (need > b->cap) {
		b->cap = need * 2;
		b->p = realloc(b->p, b->cap);
	}
	b->len += (size_t)sprintf(b->p + b->len, "%s%s", b->len ? " " : "", name);
	return 0;
}

static bool emitted(const struct render_params *rp, const char *name)
{
	struct render_buf b = {0};
	char err[256];
	CHECK_INT(render_all(rp, collect_names, &b, err, sizeof err), 0);
	bool found = b.p && strstr(b.p, name) != NULL;
	/* Generated or not, the documents come in name order (the apply order). */
	char prev[64] = "";
	for (char *save, *t = b.p ? strtok_r(b.p, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save)) {
		CHECK(strcmp(prev, t) < 0);
		snprintf(prev, sizeof prev, "%s", t);
	}
	free(b.p);
	return found;
}

static node *match_expr(yaml_document_t *d, node *r)
{
	return item(d, path(d, item(d, path(d, r, "spec.nodeAffinity.required.nodeSelectorTerms"), 0), "matchExpressions"), 0);
}

/* --storage-node: two hostPath PersistentVolumes on that node, pre-bound to
 * the PVCs, which name their class; --storage-class heliograph-gp3: the
 * StorageClass too; the two flags exclude each other. */
static void test_storage(const char *def)
{
	struct render_params rp = {0};
	char err[256];
	struct stream s;
	CHECK(!emitted(&rp, RENDER_STORAGE_CLASS_NAME) && !emitted(&rp, RENDER_NODE_VOLUMES_NAME));
	CHECK(emitted(&rp, RENDER_DASHBOARDS_NAME));

	CHECK_INT(render_params_set(&rp, "namespace", "obs", err, sizeof err), 0);
	CHECK_INT(render_params_set(&rp, "influxdb-size", "20Gi", err, sizeof err), 0);
	CHECK_INT(render_params_set(&rp, "storage-node", "ip-10-0-1-5.ec2.internal", err, sizeof err), 0);
	CHECK(emitted(&rp, RENDER_NODE_VOLUMES_NAME) && !emitted(&rp, RENDER_STORAGE_CLASS_NAME));
	char *t = render_to_text(&rp);
	CHECK(t && parse_stream(&s, t) == 0);
	if (t) {
		check_schema(&s, "obs");
		static const struct {
			const char *pv, *claim, *dir, *size;
		} want[] = {
			{"heliograph-obs-influxdb-data", "influxdb-data", "/var/lib/heliograph/obs/influxdb", "20Gi"},
			{"heliograph-obs-grafana-data", "grafana-data", "/var/lib/heliograph/obs/grafana", "1Gi"},
		};
		for (int k = 0; k < 2; k++) {
			int i = find_doc(&s, "PersistentVolume", want[k].pv), c = find_doc(&s, "PersistentVolumeClaim", want[k].claim);
			CHECK(i >= 0 && c >= 0);
			if (i < 0 || c < 0)
				continue;
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d);
			CHECK_STR(pstr(d, r, "spec.capacity.storage"), want[k].size);
			CHECK_STR(str(item(d, path(d, r, "spec.accessModes"), 0)), "ReadWriteOnce");
			CHECK_INT(seq_len(path(d, r, "spec.accessModes")), 1);
			CHECK_STR(pstr(d, r, "spec.persistentVolumeReclaimPolicy"), "Retain");
			CHECK_STR(pstr(d, r, "spec.storageClassName"), "heliograph-node");
			CHECK_STR(pstr(d, r, "spec.claimRef.namespace"), "obs");
			CHECK_STR(pstr(d, r, "spec.claimRef.name"), want[k].claim);
			CHECK_STR(pstr(d, r, "spec.hostPath.path"), want[k].dir);
			CHECK_STR(pstr(d, r, "spec.hostPath.type"), "DirectoryOrCreate");
			node *me = match_expr(d, r);
			CHECK_STR(pstr(d, me, "key"), "kubernetes.io/hostname");
			CHECK_STR(pstr(d, me, "operator"), "In");
			CHECK_INT(seq_len(get(d, me, "values")), 1);
			CHECK_STR(str(item(d, get(d, me, "values"), 0)), "ip-10-0-1-5.ec2.internal");
			node *rc = yaml_document_get_root_node(&s.doc[c]);
			CHECK_STR(pstr(&s.doc[c], rc, "spec.storageClassName"), "heliograph-node");
			CHECK_STR(pstr(&s.doc[c], rc, "spec.resources.requests.storage"), want[k].size);
		}
		free_stream(&s);
	}
	/* Nothing else changes: the PVCs' class lines and the two sizes. */
	char *u = render_with("storage-node", "node-a");
	CHECK(u && strstr(u, "# Generated by agentctl for --storage-node node-a") != NULL);
	if (u) {
		char *gen = strstr(u, "---\n# Generated by agentctl for --storage-node");
		char *end = gen ? strstr(gen + 4, "---\n# Configuration of the stack pod") : NULL;
		CHECK(gen && end);
		if (gen && end) {
			memmove(gen, end, strlen(end) + 1);
			CHECK_INT(changed_lines(def, u), 2);
		}
		free(u);
	}

	/* The two exclude each other, in either order, as a usage error. */
	CHECK(render_params_set(&rp, "storage-class", "gp3", err, sizeof err) < 0 && strstr(err, "--storage-node") &&
	      strstr(err, "--storage-class"));
	struct render_params rp2 = {0};
	CHECK_INT(render_params_set(&rp2, "storage-class", "heliograph-gp3", err, sizeof err), 0);
	CHECK(render_params_set(&rp2, "storage-node", "node-a", err, sizeof err) < 0 && strstr(err, "exclude"));
	CHECK(render_params_set(&rp2, "storage-node", "Node_A", err, sizeof err) < 0 && strstr(err, "--storage-node"));

	/* heliograph-gp3 is created; any other class is only named. */
	CHECK(emitted(&rp2, RENDER_STORAGE_CLASS_NAME) && !emitted(&rp2, RENDER_NODE_VOLUMES_NAME));
	t = render_to_text(&rp2);
	CHECK(t && parse_stream(&s, t) == 0);
	if (t) {
		check_schema(&s, "monitoring");
		int i = find_doc(&s, "StorageClass", "heliograph-gp3");
		CHECK(i >= 0 && i < find_doc(&s, "PersistentVolumeClaim", "influxdb-data"));
		if (i >= 0) {
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d);
			CHECK_STR(pstr(d, r, "provisioner"), "ebs.csi.aws.com");
			CHECK_STR(pstr(d, r, "volumeBindingMode"), "WaitForFirstConsumer");
			CHECK(is_true(get(d, r, "allowVolumeExpansion")));
			CHECK_STR(pstr(d, r, "parameters.type"), "gp3");
			CHECK_STR(pstr(d, r, "parameters.encrypted"), "true");
			CHECK(path(d, r, "parameters.encrypted")->data.scalar.style != YAML_PLAIN_SCALAR_STYLE);
		}
		for (int k = 0; k < 2; k++) {
			int c = find_doc(&s, "PersistentVolumeClaim", k ? "grafana-data" : "influxdb-data");
			CHECK_STR(pstr(&s.doc[c], yaml_document_get_root_node(&s.doc[c]), "spec.storageClassName"), "heliograph-gp3");
		}
		free_stream(&s);
	}
	struct render_params rp3 = {0};
	CHECK_INT(render_params_set(&rp3, "storage-class", "gp3", err, sizeof err), 0);
	CHECK(!emitted(&rp3, RENDER_STORAGE_CLASS_NAME));
	/* Filled in by hand, the table is refused by render_all too. */
	struct render_params both = {0};
	both.value[RP_STORAGE_NODE] = "node-a";
	both.value[RP_STORAGE_CLASS] = "gp3";
	struct render_buf b = {0};
	CHECK(render_all(&both, collect_names, &b, err, sizeof err) < 0 && strstr(err, "exclude"));
	free(b.p);
}

/* Markers that would substitute nothing, or not what they say, are errors. */
static void test_marker_errors(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"a: b # agentctl:nope\n", "unknown parameter"},
		{"namespace: other # agentctl:namespace\n", "default 'monitoring'"},
		{"size: 15Gi # agentctl:influxdb-size\n", "default '5Gi'"},
		{"x: y # agentctl:storage-class\n", "no default"},
		{"# agentctl:namespace? namespace: @VALUE@\n", "has a default"},
		{"  # agentctl:storage-class? storageClassName: x\n", "@VALUE@"},
		{"a: monitoring # agentctl:namespace extra\n", "unexpected text"},
		{"a: monitoring# agentctl:namespace\n", "after a space"},
	};
	struct render_params rp = {0};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct render_buf out = {0};
		char err[256] = "";
		int rc = render_text(&rp, "t.yaml", bad[k].text, strlen(bad[k].text), &out, err, sizeof err);
		if (rc == 0 || !strstr(err, bad[k].why) || strncmp(err, "t.yaml:1: ", 10) != 0)
			fprintf(stderr, "marker case %zu: rc %d, '%s'\n", k, rc, err);
		CHECK(rc < 0 && strstr(err, bad[k].why) && strncmp(err, "t.yaml:1: ", 10) == 0);
		render_buf_free(&out);
	}
	/* A file without a final newline keeps it missing; lines without markers pass through. */
	struct render_buf out = {0};
	char err[256];
	const char *txt = "a: 1\nns: monitoring # agentctl:namespace";
	CHECK_INT(render_text(&rp, "t.yaml", txt, strlen(txt), &out, err, sizeof err), 0);
	CHECK_STR(out.p, txt);
	render_buf_free(&out);
}

/* The dashboards ConfigMap carries any JSON text exactly. */
static void test_dashboards(void)
{
	static const char j1[] = "{\n  \"title\": \"Nodes \\\"all\\\"\",\n\t\"x\": \"caf\xc3\xa9 \xe2\x86\x92\"  \n}\n";
	static const char j2[] = "{\"compact\":true,\"a\":\"# not a comment\",\"b\":\"key: value\"}";
	struct render_dashboard d[] = {{"nodes.json", j1, sizeof j1 - 1}, {"agent-self.json", j2, sizeof j2 - 1}};
	struct render_params rp = {0};
	rp.value[RP_NAMESPACE] = "obs";
	struct render_buf out = {0};
	char err[256];
	CHECK_INT(render_dashboards(&rp, d, 2, &out, err, sizeof err), 0);
	struct stream s;
	char *copy = strdup(out.p ? out.p : "");
	CHECK(parse_stream(&s, copy) == 0 && s.n == 1);
	if (s.n == 1) {
		check_schema(&s, "obs");
		node *data = get(&s.doc[0], yaml_document_get_root_node(&s.doc[0]), "data");
		CHECK_STR(str(get(&s.doc[0], data, "nodes.json")), j1);
		CHECK_STR(str(get(&s.doc[0], data, "agent-self.json")), j2);
	}
	free_stream(&s);
	render_buf_free(&out);

	struct render_dashboard badkey[] = {{"my dash.json", j2, sizeof j2 - 1}};
	CHECK(render_dashboards(&rp, badkey, 1, &out, err, sizeof err) < 0 && strstr(err, "my dash.json"));
	render_buf_free(&out);
	static const char notutf8[] = "{\"a\":\"\xff\xfe\"}";
	struct render_dashboard badutf[] = {{"x.json", notutf8, sizeof notutf8 - 1}};
	CHECK(render_dashboards(&rp, badutf, 1, &out, err, sizeof err) < 0 && strstr(err, "grafana-dashboards"));
	render_buf_free(&out);
	/* None yet: an empty data map, still a valid ConfigMap. */
	CHECK_INT(render_dashboards(&rp, NULL, 0, &out, err, sizeof err), 0);
	copy = strdup(out.p);
	CHECK(parse_stream(&s, copy) == 0 && s.n == 1);
	if (s.n == 1)
		check_schema(&s, "obs");
	free_stream(&s);
	render_buf_free(&out);
}

/* --network-policy-from: the stack pod's port 8086 from those CIDRs, 3000
 * only with --grafana-from, 8275 never (its node, the kubelet, always may); nothing without the flag; bad CIDRs
 * refused. */
static void test_network_policy(void)
{
	struct render_params rp = {0};
	char err[256];
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME));
	static const char *const bad[] = {"10.0.0.1", "10.0.0.1/33", "10.0.0.1/32,", ",10.0.0.1/32", "10.0.0/24",
					  "fd00::/129", "10.0.0.1/3x", "10.0.0.1/32 ", "10.0.0.1/32\n- x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_INT(render_params_set(&rp, "network-policy-from", bad[i], err, sizeof err), -1);
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME));
	CHECK_INT(render_params_set(&rp, "grafana-from", "203.0.113.0/24", err, sizeof err), 0);
	CHECK(!emitted(&rp, RENDER_NETPOL_NAME)); /* Grafana's rule belongs to the policy --network-policy-from makes */
	for (int g = 0; g < 2; g++) {
		rp.value[RP_GRAFANA_FROM] = g ? "203.0.113.0/24" : NULL;
		CHECK_INT(render_params_set(&rp, "namespace", "obs", err, sizeof err), 0);
		CHECK_INT(render_params_set(&rp, "network-policy-from", "10.0.1.7/32,fd00::5/128", err, sizeof err), 0);
		char *t = render_to_text(&rp);
		struct stream s;
		CHECK(t && parse_stream(&s, t) == 0);
		if (!t)
			continue;
		check_schema(&s, "obs");
		int i = find_doc(&s, "NetworkPolicy", "heliograph-stack");
		CHECK(i >= 0);
		if (i >= 0) {
			yaml_document_t *d = &s.doc[i];
			node *r = yaml_document_get_root_node(d), *ing = path(d, r, "spec.ingress");
			CHECK_STR(str(item(d, path(d, r, "spec.policyTypes"), 0)), "Ingress");
			CHECK_INT(seq_len(ing), g ? 2 : 1);
			node *ports = get(d, item(d, ing, 0), "ports"), *from = get(d, item(d, ing, 0), "from");
			CHECK_INT(seq_len(ports), 1);
			CHECK_STR(pstr(d, item(d, ports, 0), "port"), "8086");
			CHECK(!strstr(t, "port: 8275}"));
			CHECK_INT(seq_len(from), 2);
			CHECK_STR(pstr(d, item(d, from, 0), "ipBlock.cidr"), "10.0.1.7/32");
			CHECK_STR(pstr(d, item(d, from, 1), "ipBlock.cidr"), "fd00::5/128");
			if (g) {
				CHECK_STR(pstr(d, item(d, get(d, item(d, ing, 1), "ports"), 0), "port"), "3000");
				CHECK_STR(pstr(d, item(d, get(d, item(d, ing, 1), "from"), 0), "ipBlock.cidr"), "203.0.113.0/24");
			}
			/* The ports are the containers' own. */
			int si = find_doc(&s, "Deployment", "heliograph-stack");
			CHECK(si >= 0);
			if (si >= 0) {
				yaml_document_t *sd = &s.doc[si];
				node *sr = yaml_document_get_root_node(sd);
				static const char *const want[][2] = {{"influxdb", "8086"}, {"agent", "8275"}, {"grafana", "3000"}};
				for (int k = 0; k < 3; k++)
					CHECK_STR(pstr(sd, item(sd, get(sd, container(sd, sr, want[k][0]), "ports"), 0),
						       "containerPort"), want[k][1]);
			}
		}
		free_stream(&s);
	}
}

int main(void)
{
	test_files_in_sync();
	test_marker_errors();
	test_dashboards();

	struct render_params rp = {0};
	char *def = render_to_text(&rp);
	CHECK(def != NULL);
	if (!def)
		CHECK_DONE();
	struct stream s;
	char *copy = strdup(def);
	CHECK(parse_stream(&s, copy) == 0);
	check_schema(&s, "monitoring");
	test_daemonset(&s);
	test_stack(&s);
	test_rbac(&s);
	test_agent_config(&s);
	free_stream(&s);
	test_flags(def);
	test_storage(def);
	test_network_policy();
	free(def);
	CHECK_DONE();
}
