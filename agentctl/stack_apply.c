/* Server-side apply of the rendered objects, reporting for each whether it
 * was created, configured or left unchanged. */
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"
#include "stack.h"

/* Whether an apply result (or a dry-run one) differs from the object read
 * just before, beyond what every write changes and beyond status. This is
 * what the apply changed: the read and the apply are two requests, and a
 * controller may write the object in between (a Deployment's status while
 * it rolls out). Comparing resourceVersions would count that write as this
 * run's change; status is never part of what is applied (nor the
 * controller's revision annotation), and spec or
 * metadata written in that window by another manager is rare enough to be
 * reported as a change rather than hidden. */
/* Removes o[key] from a yajl object (yajl trees are plain structs). */
static void drop_key(yajl_val o, const char *key)
{
	if (!YAJL_IS_OBJECT(o))
		return;
	for (size_t i = 0; i < o->u.object.len; i++) {
		if (strcmp(o->u.object.keys[i], key) != 0)
			continue;
		free((char *)o->u.object.keys[i]);
		yajl_tree_free(o->u.object.values[i]);
		memmove(&o->u.object.keys[i], &o->u.object.keys[i + 1], (o->u.object.len - i - 1) * sizeof *o->u.object.keys);
		memmove(&o->u.object.values[i], &o->u.object.values[i + 1],
			(o->u.object.len - i - 1) * sizeof *o->u.object.values);
		o->u.object.len--;
		return;
	}
}

/* Removes metadata.annotations[key], and annotations if that was the last. */
static void drop_annotation(yajl_val obj, const char *key)
{
	yajl_val a = hg_jq_at(obj, "metadata", "annotations", JQ_END);
	drop_key(a, key);
	if (YAJL_IS_OBJECT(a) && a->u.object.len == 0)
		drop_key(hg_jq_at(obj, "metadata", JQ_END), "annotations");
}

static bool differs(const char *now, const char *after)
{
	static const char *const top_skip[] = {"metadata", "status", NULL};
	static const char *const meta_skip[] = {"managedFields", "resourceVersion", "generation", "creationTimestamp",
						"uid", NULL};
	char e[64];
	yajl_val a = hg_jq_parse(now, e, sizeof e), b = hg_jq_parse(after, e, sizeof e);
	/* The Deployment controller's note of its ReplicaSet's revision, written
	 * on its first sync of a new spec: never part of what is applied. */
	drop_annotation(a, "deployment.kubernetes.io/revision");
	drop_annotation(b, "deployment.kubernetes.io/revision");
	bool d = !a || !b || !hg_jq_equal_except(a, b, top_skip) ||
		 !hg_jq_equal_except(hg_jq_at(a, "metadata", JQ_END), hg_jq_at(b, "metadata", JQ_END), meta_skip);
	yajl_tree_free(a);
	yajl_tree_free(b);
	return d;
}

static int apply_one(struct stack *s, const struct stack_doc *doc, int *changed, char *err, size_t errlen)
{
	const struct kube_ident *id = &doc->id;
	char *now = NULL, *out = NULL;
	int rc = hg_kube_get(s->client, id->api_version, id->kind, id->namespace, id->name, &now, err, errlen);
	if (rc != 0 && rc != KUBE_ENOTFOUND)
		return rc;
	bool exists = rc == 0;
	if (s->dry_run && !exists) {
		/* Its namespace may not exist yet either: nothing to ask the server. */
		hg_stack_line(s, doc->label, "created");
		(*changed)++;
		return 0;
	}
	struct kube_apply_opts o = {.field_manager = "agentctl", .force = true, .dry_run = s->dry_run};
	rc = hg_kube_apply(s->client, doc->text, doc->len, &o, &out, NULL, err, errlen);
	if (rc == 0) {
		const char *state = !exists ? "created" : differs(now, out) ? "configured" : "unchanged";
		if (strcmp(state, "unchanged") != 0)
			(*changed)++;
		hg_stack_line(s, doc->label, state);
	}
	free(now);
	free(out);
	return rc;
}

int hg_stack_apply(struct stack *s, const struct stack_docs *d, size_t from, size_t to, int *changed, char *err,
		size_t errlen)
{
	for (size_t i = from; i < to && i < d->n; i++) {
		if (hg_stack_interrupted) {
			snprintf(err, errlen, "interrupted");
			return -1;
		}
		int rc = apply_one(s, &d->v[i], changed, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}
