/* kube_inventory's list mode: each gather LISTs every enabled resource in
 * pages (limit/continue), one request at a time, each page streamed through
 * yajl (ki_stream.c) into one reused object (ki_obj.c): memory stays flat
 * however big the cluster.
 *
 * Objects go out as their page is read, so a LIST that fails part-way has
 * already reported its first objects. Two consequences are handled here:
 * an expired continue token (410) resumes the list without reporting an
 * object twice (resume_expired), and a body that breaks off is reported
 * as the transport error with how many objects went out before it. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "acc.h"
#include "ki_internal.h"
#include "log.h"

/* ---- one LIST page ---- */

static void item_begin(void *arg)
{
	struct ki *s = arg;
	hg_ki_obj_reset(&s->obj);
}

static void item_value(void *arg, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	struct ki *s = arg;
	hg_ki_obj_value(&s->obj, path, t, v, n, idx);
}

/* The object's place in the API server's list order: its etcd key below
 * the resource's prefix, compared bytewise. */
static void item_key(const struct ki *s, char *out, size_t n)
{
	const struct ki_obj *o = &s->obj;
	if (hg_ki_kinds[s->kind].namespaced)
		snprintf(out, n, "%s/%s", o->arena ? o->arena + o->ns : "", o->arena ? o->arena + o->name : "");
	else
		snprintf(out, n, "%s", o->arena ? o->arena + o->name : "");
}

static void item_end(void *arg)
{
	struct ki *s = arg;
	s->count++;
	if (!s->acc)
		return;
	char key[sizeof s->last_key];
	item_key(s, key, sizeof key);
	if (s->skip_to[0] && strcmp(key, s->skip_to) <= 0)
		return; /* reported before the list was restarted */
	memcpy(s->last_key, key, sizeof key);
	s->emitted++;
	if (!hg_ki_obj_emit(&s->obj, s->acc, &s->sel) && !s->oom_reported) {
		s->oom_reported = true;
		hg_acc_error(s->acc, "%s: an object was too large to read whole (skipped)", s->what);
	}
}

static bool on_data(void *arg, const char *p, size_t n)
{
	struct ki *s = arg;
	if (s->freed || s->parse_failed)
		return false;
	if (hg_ks_feed(&s->ks, p, n, s->parse_err, sizeof s->parse_err) != 0) {
		s->parse_failed = true;
		return false;
	}
	return true;
}


/* The rule a 403 is missing, in the words of a ClusterRole. */
static void rbac_hint(const struct ki *s, char *out, size_t n)
{
	snprintf(out, n,
		 ". kube_inventory needs the RBAC rule {apiGroups: [\"%s\"], resources: [\"%s\"], verbs: [\"list\"]}%s "
		 "(k8s-manifests/40-agent-rbac.yaml has it)",
		 hg_ki_kinds[s->kind].group, hg_ki_kinds[s->kind].name,
		 hg_ki_kinds[s->kind].namespaced && s->ns ? " in that namespace" : " in a ClusterRole");
}

static void send_page(struct ki *s);

/* metadata.continue of a Status body, or "". */
static void status_continue(const char *body, char *out, size_t n)
{
	out[0] = '\0';
	yajl_val doc = yajl_tree_parse(body, NULL, 0);
	const char *path[] = { "metadata", "continue", NULL };
	yajl_val v = doc ? yajl_tree_get(doc, path, yajl_t_string) : NULL;
	if (v && v->u.string && strlen(v->u.string) < n)
		snprintf(out, n, "%s", v->u.string);
	yajl_tree_free(doc);
}

/* The continue token expired between pages (410): the pages read so far
 * are out already. An etcd3 API server's Status carries a token that lists
 * the rest at the current resourceVersion: go on with it. Without one, list
 * again from the start and skip the objects up to the last key reported,
 * since the API server lists in key order: each object is reported once
 * (one created meanwhile before that key waits for the next gather). Once
 * per resource and gather; false when spent. */
static bool resume_expired(struct ki *s, const struct kube_response *r)
{
	if (s->restarted)
		return false;
	s->restarted = true;
	char tok[sizeof s->cont];
	status_continue(r->body, tok, sizeof tok);
	if (tok[0]) {
		log_warn(s->label,
			 "%s: the continue token expired after %lld objects; going on with the server's token for the rest "
			 "(objects changed meanwhile are read as they are now)",
			 s->what, (long long)s->count);
		memcpy(s->cont, tok, sizeof tok);
	} else {
		log_warn(s->label,
			 "%s: the continue token expired after %lld objects; listing again, skipping the %lld already reported",
			 s->what, (long long)s->count, (long long)s->emitted);
		s->cont[0] = '\0';
		s->count = 0;
		memcpy(s->skip_to, s->last_key, sizeof s->skip_to);
	}
	hg_ks_free(&s->ks);
	send_page(s);
	return true;
}

static void page_done(void *arg, const struct kube_response *r)
{
	struct ki *s = arg;
	bool live = s->ks_live;
	s->ks_live = false;
	if (s->freed) {
		if (live)
			hg_ks_free(&s->ks);
		return;
	}
	char err[256] = "";
	bool ok = r->status >= 200 && r->status < 300 && !s->parse_failed;
	if (ok && r->broken_off) {
		/* Counted as a gather error; the objects read whole before the
		 * break went out, the rest wait for the next gather. */
		ok = false;
		hg_acc_error(s->acc, "%s (%lld %s reported before it, the rest are missing from this gather)", r->message,
			  (long long)s->emitted, hg_ki_kinds[s->kind].name);
	} else if (ok && hg_ks_finish(&s->ks, err, sizeof err) != 0) {
		ok = false;
		hg_acc_error(s->acc, "%s: %s", s->what, err);
	} else if (s->parse_failed) {
		hg_acc_error(s->acc, "%s: %s", s->what, s->parse_err);
	} else if (!ok && r->status == 410 && s->cont[0] && resume_expired(s, r)) {
		return;
	} else if (!ok) {
		char hint[256] = "";
		if (r->status == 403)
			rbac_hint(s, hint, sizeof hint);
		hg_acc_error(s->acc, "%s%s", r->message, hint);
	}
	if (ok)
		snprintf(s->cont, sizeof s->cont, "%s", s->ks.cont);
	hg_ks_free(&s->ks);
	if (ok && s->cont[0]) {
		send_page(s);
		return;
	}
	if (ok && s->kind == KI_NODES) {
		struct metric *m = hg_acc_metric(s->acc, "kubernetes_node");
		hg_metric_int(m, "node_count", s->count);
		hg_acc_emit(s->acc, m, 0);
	}
	hg_ki_list_next(s, s->kind + 1);
}

static void send_page(struct ki *s)
{
	const char *sel = NULL;
	if (s->node_name && s->kind == KI_NODES)
		sel = "metadata.name=";
	else if (s->node_name && s->kind == KI_PODS)
		sel = "spec.nodeName=";
	int n = snprintf(s->path, sizeof s->path, "%s%s%s/%s?limit=%u", hg_ki_kinds[s->kind].prefix,
			 hg_ki_kinds[s->kind].namespaced && s->ns ? "/namespaces/" : "",
			 hg_ki_kinds[s->kind].namespaced && s->ns ? s->ns : "", hg_ki_kinds[s->kind].name, s->page_size);
	if (sel) {
		char fs[512];
		snprintf(fs, sizeof fs, "%s%s", sel, s->node_name);
		char *v = curl_easy_escape(NULL, fs, 0);
		n += snprintf(s->path + n, sizeof s->path - (size_t)n, "&fieldSelector=%s", v ? v : "");
		curl_free(v);
	}
	if (s->cont[0]) {
		char *v = curl_easy_escape(NULL, s->cont, 0);
		n += snprintf(s->path + n, sizeof s->path - (size_t)n, "&continue=%s", v ? v : "");
		curl_free(v);
	}
	struct ks_handler hd = { item_begin, item_value, item_end, s };
	char err[512];
	s->parse_failed = false;
	if ((size_t)n >= sizeof s->path || hg_ks_init(&s->ks, &hd) != 0) {
		hg_acc_error(s->acc, "%s: %s", s->what, (size_t)n >= sizeof s->path ? "request path too long" : "out of memory");
		hg_ki_list_next(s, s->kind + 1);
		return;
	}
	s->ks_live = true;
	struct kube_request rq = { .method = "GET", .path = s->path, .what = s->what, .timeout_ms = s->timeout_ms,
				   .on_data = on_data };
	if (hg_kube_send(s->c, &rq, page_done, s, err, sizeof err) != 0) {
		hg_ks_free(&s->ks);
		s->ks_live = false;
		hg_acc_error(s->acc, "%s: %s", s->what, err);
		hg_ki_list_next(s, s->kind + 1);
	}
}

/* Starts the first enabled resource at or after from, or ends the gather. */
void hg_ki_list_next(struct ki *s, int from)
{
	while (from < KI_NKINDS && !s->enabled[from])
		from++;
	if (from >= KI_NKINDS) {
		struct acc *acc = s->acc;
		s->busy = false;
		s->acc = NULL;
		if (!s->in_gather) /* else gather returns GATHER_DONE itself */
			hg_acc_gather_done(acc);
		return;
	}
	s->kind = from;
	s->cont[0] = '\0';
	s->count = 0;
	s->emitted = 0;
	s->last_key[0] = s->skip_to[0] = '\0';
	s->restarted = false;
	hg_ki_obj_free(&s->obj);
	hg_ki_obj_init(&s->obj, (enum ki_kind)from);
	snprintf(s->what, sizeof s->what, "list %s%s", hg_ki_kinds[from].name, hg_ki_kinds[from].group[0] ? ".apps" : "");
	send_page(s);
}
