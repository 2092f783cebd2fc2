/* agentctl render: the agent's RBAC is exactly the rules of
 * k8s-manifests/README.md's table. */
#include "render_check.h"

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

static void test_rbac(void)
{
	struct stream *s = &rendered;
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

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_rbac),
	};
	return CHECK_RUN_WITH(argc, argv, cases, render_suite_setup, render_suite_teardown);
}
