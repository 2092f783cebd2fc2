/* Server-side apply of the rendered objects, reporting for each whether it
 * was created, configured or left unchanged (the server keeps the
 * resourceVersion of an object an apply did not change). */
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "stack.h"

static char *current_rv(yajl_val v)
{
	const char *rv = jq_str(v, "metadata", "resourceVersion", NULL);
	return rv ? strdup(rv) : NULL;
}

/* Whether a dry-run apply result differs from the stored object, beyond
 * what every write changes. */
static bool differs(const char *now, const char *after)
{
	static const char *const top_skip[] = {"metadata", "status", NULL};
	static const char *const meta_skip[] = {"managedFields", "resourceVersion", "generation", "creationTimestamp",
						"uid", NULL};
	char e[64];
	yajl_val a = jq_parse(now, e, sizeof e), b = jq_parse(after, e, sizeof e);
	bool d = !a || !b || !jq_equal_except(a, b, top_skip) ||
		 !jq_equal_except(jq_at(a, "metadata", NULL), jq_at(b, "metadata", NULL), meta_skip);
	yajl_tree_free(a);
	yajl_tree_free(b);
	return d;
}

static int apply_one(struct stack *s, const struct stack_doc *doc, int *changed, char *err, size_t errlen)
{
	const struct kube_ident *id = &doc->id;
	char *now = NULL, *out = NULL;
	int rc = kube_get(s->client, id->api_version, id->kind, id->namespace, id->name, &now, err, errlen);
	if (rc != 0 && rc != KUBE_ENOTFOUND)
		return rc;
	bool exists = rc == 0;
	if (s->dry_run && !exists) {
		/* Its namespace may not exist yet either: nothing to ask the server. */
		stack_line(s, doc->label, "created");
		(*changed)++;
		return 0;
	}
	struct kube_apply_opts o = {.field_manager = "agentctl", .force = true, .dry_run = s->dry_run};
	rc = kube_apply(s->client, doc->text, doc->len, &o, &out, NULL, err, errlen);
	if (rc == 0) {
		const char *state;
		if (!exists)
			state = "created";
		else if (s->dry_run)
			state = differs(now, out) ? "configured" : "unchanged";
		else {
			char e[64];
			yajl_val a = jq_parse(now, e, sizeof e), b = jq_parse(out, e, sizeof e);
			char *ra = current_rv(a), *rb = current_rv(b);
			state = ra && rb && strcmp(ra, rb) == 0 ? "unchanged" : "configured";
			free(ra);
			free(rb);
			yajl_tree_free(a);
			yajl_tree_free(b);
		}
		if (strcmp(state, "unchanged") != 0)
			(*changed)++;
		stack_line(s, doc->label, state);
	}
	free(now);
	free(out);
	return rc;
}

int stack_apply(struct stack *s, const struct stack_docs *d, size_t from, size_t to, int *changed, char *err,
		size_t errlen)
{
	for (size_t i = from; i < to && i < d->n; i++) {
		if (stack_interrupted) {
			snprintf(err, errlen, "interrupted");
			return -1;
		}
		int rc = apply_one(s, &d->v[i], changed, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}
