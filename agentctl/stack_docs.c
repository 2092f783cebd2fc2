/* The render split into one object per YAML document, in apply order. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "quantity.h"
#include "stack.h"

void hg_stack_kind_label(const char *api_version, const char *kind, const char *name, char *out, size_t outlen)
{
	char k[64];
	size_t i = 0;
	for (; kind[i] && i + 1 < sizeof k; i++)
		k[i] = (char)tolower((unsigned char)kind[i]);
	k[i] = '\0';
	const char *slash = strchr(api_version, '/');
	if (slash)
		snprintf(out, outlen, "%s.%.*s/%s", k, (int)(slash - api_version), api_version, name);
	else
		snprintf(out, outlen, "%s/%s", k, name);
}

/* A document holds an object unless it is only comments and blank lines. */
static bool has_content(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < n && p[i] != '#' && p[i] != '\n' && p[i] != '\r')
			return true;
		while (i < n && p[i] != '\n')
			i++;
		i++;
	}
	return false;
}

static int add_doc(struct stack_docs *d, const char *p, size_t n, char *err, size_t errlen)
{
	if (!has_content(p, n))
		return 0;
	struct stack_doc *v = realloc(d->v, (d->n + 1) * sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->v = v;
	struct stack_doc *doc = &v[d->n];
	memset(doc, 0, sizeof *doc);
	if (hg_kube_ident_parse(p, n, &doc->id, err, errlen) != 0)
		return -1;
	doc->text = malloc(n + 1);
	if (!doc->text) {
		hg_kube_ident_free(&doc->id);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(doc->text, p, n);
	doc->text[n] = '\0';
	doc->len = n;
	hg_stack_kind_label(doc->id.api_version, doc->id.kind, doc->id.name, doc->label, sizeof doc->label);
	d->n++;
	return 0;
}

static int split_file(void *ud, const char *name, const char *text, size_t len)
{
	struct stack_docs *d = ud;
	char err[256];
	size_t start = 0, off = 0;
	while (off <= len) {
		const char *eol = off < len ? memchr(text + off, '\n', len - off) : NULL;
		size_t next = eol ? (size_t)(eol - text) + 1 : len + 1;
		size_t ll = (eol ? (size_t)(eol - text) : len) - off;
		if (off == len || (ll == 3 && memcmp(text + off, "---", 3) == 0)) {
			if (add_doc(d, text + start, off - start, err, sizeof err) < 0) {
				fprintf(stderr, "agentctl: %s: %s\n", name, err);
				return 1;
			}
			start = next;
		}
		off = next;
	}
	return 0;
}

int hg_stack_docs_render(const struct render_params *rp, struct stack_docs *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	int rc = hg_render_all(rp, split_file, d, err, errlen);
	if (rc > 0)
		snprintf(err, errlen, "a rendered manifest is not a Kubernetes object");
	if (rc != 0) {
		hg_stack_docs_free(d);
		return -1;
	}
	return 0;
}

void hg_stack_docs_free(struct stack_docs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].text);
		hg_kube_ident_free(&d->v[i].id);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

static yaml_node_t *child(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* The memory request of one container list entry; 0 when it has none. */
static int64_t container_memory(yaml_document_t *doc, yaml_node_t *c)
{
	yaml_node_t *m = child(doc, child(doc, child(doc, c, "resources"), "requests"), "memory");
	int64_t v;
	if (m && m->type == YAML_SCALAR_NODE && hg_quantity_parse((const char *)m->data.scalar.value, &v) == 0)
		return v;
	return 0;
}

int64_t hg_stack_class_priority(const char *class_name)
{
	/* kubernetes pkg/apis/scheduling: SystemCriticalPriority = 2000000000;
	 * system-node-critical is 1000 above it. */
	if (class_name && strcmp(class_name, "system-node-critical") == 0)
		return 2000001000;
	if (class_name && strcmp(class_name, "system-cluster-critical") == 0)
		return 2000000000;
	return 0;
}

int hg_stack_doc_pod(const struct stack_doc *d, struct stack_pod_needs *need)
{
	yaml_parser_t p;
	yaml_document_t doc;
	memset(need, 0, sizeof *need);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)d->text, d->len);
	if (!yaml_parser_load(&p, &doc)) {
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_parser_delete(&p);
	yaml_node_t *spec = yaml_document_get_root_node(&doc);
	const char *path[] = {"spec", "template", "spec"};
	for (size_t i = 0; i < 3; i++)
		spec = child(&doc, spec, path[i]);
	yaml_node_t *n = child(&doc, spec, "containers");
	int rc = n && n->type == YAML_SEQUENCE_NODE ? 0 : -1;
	size_t nl = 0;
	for (yaml_node_item_t *it = rc == 0 ? n->data.sequence.items.start : NULL; it && it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *c = yaml_document_get_node(&doc, *it);
		need->memory += container_memory(&doc, c);
		yaml_node_t *name = child(&doc, c, "name");
		if (name && name->type == YAML_SCALAR_NODE && nl < sizeof need->containers)
			nl += (size_t)snprintf(need->containers + nl, sizeof need->containers - nl, "%s%s", nl ? ", " : "",
					       (const char *)name->data.scalar.value);
	}
	/* Init containers run one at a time before the others: the scheduler
	 * counts the larger of their largest request and the containers' sum. */
	yaml_node_t *init = child(&doc, spec, "initContainers");
	for (yaml_node_item_t *it = init && init->type == YAML_SEQUENCE_NODE ? init->data.sequence.items.start : NULL;
	     it && it < init->data.sequence.items.top; it++) {
		int64_t m = container_memory(&doc, yaml_document_get_node(&doc, *it));
		if (m > need->memory)
			need->memory = m;
	}
	yaml_node_t *pc = child(&doc, spec, "priorityClassName");
	need->priority = hg_stack_class_priority(pc && pc->type == YAML_SCALAR_NODE ? (const char *)pc->data.scalar.value : NULL);
	yaml_node_t *hn = child(&doc, spec, "hostNetwork");
	need->host_network = hn && hn->type == YAML_SCALAR_NODE && strcmp((const char *)hn->data.scalar.value, "true") == 0;
	yaml_document_delete(&doc);
	return rc;
}

int hg_stack_doc_memory_request(const struct stack_doc *d, int64_t *bytes)
{
	struct stack_pod_needs need;
	int rc = hg_stack_doc_pod(d, &need);
	*bytes = need.memory;
	return rc;
}

bool hg_stack_doc_is_data(const struct kube_ident *id)
{
	return strcmp(id->kind, "PersistentVolumeClaim") == 0 || strcmp(id->kind, "Namespace") == 0;
}
