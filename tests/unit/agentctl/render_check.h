/* The harness of agentctl's render tests (test_agentctl_render*.c): the
 * rendered stream parsed into YAML documents, path lookups, the schema check
 * of the kinds used, the restricted Pod Security Standard check, and the
 * helpers several tests share. Test-only; every function is static. */
#ifndef HG_RENDER_CHECK_H
#define HG_RENDER_CHECK_H
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


#define RC_FN static __attribute__((unused))

/* ---- a rendered stream, parsed ---- */

#define MAXDOCS 64
struct stream {
	yaml_document_t doc[MAXDOCS];
	int n;
	char *text;
};

RC_FN int collect(void *ud, const char *name, const char *text, size_t len)
{
	(void)name;
	struct strbuf *b = ud;
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

RC_FN char *render_to_text(const struct render_params *rp)
{
	struct strbuf b = {0};
	char err[512];
	if (hg_render_all(rp, collect, &b, err, sizeof err) != 0) {
		fprintf(stderr, "render_all: %s\n", err);
		free(b.p);
		return NULL;
	}
	return b.p;
}

RC_FN int parse_stream(struct stream *s, char *text)
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

RC_FN void free_stream(struct stream *s)
{
	for (int i = 0; i < s->n; i++)
		yaml_document_delete(&s->doc[i]);
	free(s->text);
	s->n = 0;
}

typedef yaml_node_t node;

RC_FN node *get(yaml_document_t *d, node *m, const char *key)
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
RC_FN node *path(yaml_document_t *d, node *n, const char *dotted)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *save, *k = strtok_r(buf, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
		n = get(d, n, k);
	return n;
}

RC_FN const char *str(node *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

RC_FN const char *pstr(yaml_document_t *d, node *n, const char *dotted)
{
	return str(path(d, n, dotted));
}

RC_FN int seq_len(node *n)
{
	return n && n->type == YAML_SEQUENCE_NODE ? (int)(n->data.sequence.items.top - n->data.sequence.items.start) : -1;
}

RC_FN node *item(yaml_document_t *d, node *n, int i)
{
	if (i < 0 || i >= seq_len(n))
		return NULL;
	return yaml_document_get_node(d, n->data.sequence.items.start[i]);
}

/* A plain scalar YAML reads as an integer. */
RC_FN bool is_int(node *n, long *v)
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

RC_FN bool is_true(node *n)
{
	return str(n) && strcmp(str(n), "true") == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

RC_FN bool is_false_or_unset(node *n)
{
	return !n || (str(n) && strcmp(str(n), "false") == 0);
}

/* A Kubernetes quantity as a number (bytes or cores); -1 if not one. */
RC_FN double quantity(const char *s)
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

RC_FN bool dns_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

RC_FN bool dns_subdomain(const char *s)
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
RC_FN int find_doc(struct stream *s, const char *kind, const char *name)
{
	for (int i = 0; i < s->n; i++) {
		node *r = yaml_document_get_root_node(&s->doc[i]);
		const char *k = pstr(&s->doc[i], r, "kind"), *nm = pstr(&s->doc[i], r, "metadata.name");
		if (k && nm && strcmp(k, kind) == 0 && strcmp(nm, name) == 0)
			return i;
	}
	return -1;
}

RC_FN char *read_file(const char *p, size_t *len)
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

RC_FN node *container(yaml_document_t *d, node *r, const char *name)
{
	node *cs = path(d, r, "spec.template.spec.containers");
	for (int i = 0; i < seq_len(cs); i++)
		if (pstr(d, item(d, cs, i), "name") && strcmp(pstr(d, item(d, cs, i), "name"), name) == 0)
			return item(d, cs, i);
	return NULL;
}

RC_FN node *env_of(yaml_document_t *d, node *c, const char *name)
{
	node *env = get(d, c, "env");
	for (int i = 0; i < seq_len(env); i++)
		if (pstr(d, item(d, env, i), "name") && strcmp(pstr(d, item(d, env, i), "name"), name) == 0)
			return item(d, env, i);
	return NULL;
}

/* The mountPath of the hostPath volume of that host path. */
RC_FN const char *host_mount(yaml_document_t *d, node *r, node *c, const char *hostpath)
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
RC_FN bool node_equal(yaml_document_t *da, node *a, yaml_document_t *db, node *b)
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

RC_FN node *named(yaml_document_t *d, node *seq, const char *name)
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
RC_FN node *check_owner_init(yaml_document_t *d, node *spec, const char *name)
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
RC_FN const char *mount_of(yaml_document_t *d, node *c, const char *vol)
{
	node *vm = get(d, c, "volumeMounts");
	for (int j = 0; j < seq_len(vm); j++)
		if (pstr(d, item(d, vm, j), "name") && strcmp(pstr(d, item(d, vm, j), "name"), vol) == 0)
			return pstr(d, item(d, vm, j), "mountPath");
	return NULL;
}

/* Lines of a and b that differ (both have the same number of lines when
 * only value markers act). */
RC_FN int changed_lines(const char *a, const char *b)
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

RC_FN int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

RC_FN char *render_with(const char *flag, const char *value)
{
	struct render_params rp = {0};
	char err[256];
	if (hg_render_params_set(&rp, flag, value, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return render_to_text(&rp);
}

/* The render of the default parameters, parsed into s (free_stream); the
 * text itself is returned (free it), NULL when it did not render. */
RC_FN char *default_render(struct stream *s)
{
	struct render_params rp = {0};
	char *def = render_to_text(&rp);
	CHECK(def != NULL);
	if (!def)
		return NULL;
	char *copy = strdup(def);
	CHECK(parse_stream(s, copy) == 0);
	return def;
}

/* The cases of a render test share the render of the defaults: CHECK_RUN_WITH
 * (argc, argv, cases, render_suite_setup, render_suite_teardown). */
static __attribute__((unused)) struct stream rendered;
static __attribute__((unused)) char *rendered_text;

RC_FN int render_suite_setup(void)
{
	rendered_text = default_render(&rendered);
	return rendered_text ? 0 : 1;
}

RC_FN void render_suite_teardown(void)
{
	free_stream(&rendered);
	free(rendered_text);
}

#endif
