/* One list+watch of a node's pods per (loop, node, kubeconfig), shared by
 * refcount. Each pod is kept as one string block plus two small arrays;
 * an event whose kept fields did not change (most are status heartbeats)
 * leaves the generation alone, so consumers do not rebuild for nothing.
 * The watch has an httpc of its own: freeing it completes the request in
 * flight synchronously, so release never leaves a callback behind. */
#include "kube_podwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "kube_client.h"
#include "kube_watch.h"
#include "kubeconfig.h"
#include "strbuf.h"

struct pod_rec {
	struct kube_pod pod;
	char *block; /* every string of the pod, NUL-separated */
	size_t block_len;
	struct kube_pod_kv *labels;
	struct kube_pod_container *conts;
};

struct pod_set {
	struct pod_rec **v;
	size_t n, cap;
};

struct kube_podwatch {
	struct kube_podwatch *next;
	uv_loop_t *loop;
	char *node, *kubeconfig;
	size_t users;
	struct kube_config kc;
	struct kube_client *client;
	struct kube_watch *watch;
	struct pod_set pods, pending; /* pending: items of a LIST in progress */
	uint64_t gen;
	bool synced;
	unsigned long events;
	char error[512];
};

static struct kube_podwatch *registry;

/* ---- one pod from its JSON ---- */

/* A pod's strings go into one growing block (a strbuf holding them
 * NUL-separated) as offsets; pointers are set once the block stops moving. */
static size_t put(struct strbuf *bd, const char *s)
{
	if (!s)
		return (size_t)-1;
	size_t off = bd->len;
	if (!hg_strbuf_append(bd, s, strlen(s) + 1))
		return (size_t)-1;
	return off;
}

static const char *str_at(yajl_val v, const char **path)
{
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

static const char *ptr(const struct strbuf *bd, size_t off)
{
	return off == (size_t)-1 ? NULL : bd->p + off;
}

#define NOFF ((size_t)-1)

static void rec_free(struct pod_rec *r)
{
	if (!r)
		return;
	free(r->block);
	free(r->labels);
	free(r->conts);
	free(r);
}

static struct pod_rec *rec_parse(const char *json, size_t len, char *err, size_t errlen)
{
	char *text = malloc(len + 1);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(text, json, len);
	text[len] = '\0';
	char perr[128] = "";
	yajl_val root = yajl_tree_parse(text, perr, sizeof(perr));
	free(text);
	if (!root) {
		snprintf(err, errlen, "pod: invalid JSON: %s", perr);
		return NULL;
	}
	static const char *p_ns[] = { "metadata", "namespace", NULL };
	static const char *p_name[] = { "metadata", "name", NULL };
	static const char *p_uid[] = { "metadata", "uid", NULL };
	static const char *p_labels[] = { "metadata", "labels", NULL };
	static const char *p_ann[] = { "metadata", "annotations", NULL };
	static const char *p_conts[] = { "spec", "containers", NULL };
	static const char *p_ip[] = { "status", "podIP", NULL };
	static const char *p_phase[] = { "status", "phase", NULL };
	static const char *p_cstat[] = { "status", "containerStatuses", NULL };
	static const char *p_res_req_cpu[] = { "resources", "requests", "cpu", NULL };
	static const char *p_res_req_mem[] = { "resources", "requests", "memory", NULL };
	static const char *p_res_lim_cpu[] = { "resources", "limits", "cpu", NULL };
	static const char *p_res_lim_mem[] = { "resources", "limits", "memory", NULL };
	static const char *p_cname[] = { "name", NULL };

	struct strbuf bd = { 0 };
	struct pod_rec *r = calloc(1, sizeof(*r));
	/* Asked for by type, each is that type or NULL: their u.object and
	 * u.array are read directly (YAJL_GET_* would test the type again). */
	yajl_val labels = yajl_tree_get(root, p_labels, yajl_t_object);
	yajl_val ann = yajl_tree_get(root, p_ann, yajl_t_object);
	yajl_val conts = yajl_tree_get(root, p_conts, yajl_t_array);
	yajl_val cstat = yajl_tree_get(root, p_cstat, yajl_t_array);
	size_t nl = labels ? labels->u.object.len : 0;
	size_t nc = conts ? conts->u.array.len : 0;
	size_t *loff = calloc(2 * nl + 1, sizeof(size_t));
	size_t *coff = calloc(5 * nc + 1, sizeof(size_t));
	if (!r || !loff || !coff) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	size_t o_ns = put(&bd, str_at(root, p_ns)), o_name = put(&bd, str_at(root, p_name));
	size_t o_uid = put(&bd, str_at(root, p_uid)), o_ip = put(&bd, str_at(root, p_ip));
	size_t o_phase = put(&bd, str_at(root, p_phase));
	size_t o_ann[4] = { NOFF, NOFF, NOFF, NOFF };
	static const char *const ann_keys[4] = { "prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path",
						 "prometheus.io/scheme" };
	for (size_t i = 0; ann && i < ann->u.object.len; i++)
		for (int k = 0; k < 4; k++)
			if (!strcmp(ann->u.object.keys[i], ann_keys[k]) &&
			    YAJL_IS_STRING(ann->u.object.values[i]))
				o_ann[k] = put(&bd, YAJL_GET_STRING(ann->u.object.values[i]));
	size_t kept = 0;
	for (size_t i = 0; i < nl; i++) {
		yajl_val v = labels->u.object.values[i];
		if (!YAJL_IS_STRING(v))
			continue;
		loff[2 * kept] = put(&bd, labels->u.object.keys[i]);
		loff[2 * kept + 1] = put(&bd, YAJL_GET_STRING(v));
		kept++;
	}
	nl = kept;
	kept = 0;
	for (size_t i = 0; i < nc; i++) {
		yajl_val c = conts->u.array.values[i];
		const char *name = str_at(c, p_cname);
		if (!name)
			continue;
		coff[5 * kept] = put(&bd, name);
		coff[5 * kept + 1] = put(&bd, str_at(c, p_res_req_cpu));
		coff[5 * kept + 2] = put(&bd, str_at(c, p_res_req_mem));
		coff[5 * kept + 3] = put(&bd, str_at(c, p_res_lim_cpu));
		coff[5 * kept + 4] = put(&bd, str_at(c, p_res_lim_mem));
		kept++;
	}
	nc = kept;
	bool ready = str_at(root, p_phase) && !strcmp(str_at(root, p_phase), "Running");
	for (size_t i = 0; ready && cstat && i < cstat->u.array.len; i++) {
		static const char *p_ready[] = { "ready", NULL };
		ready = YAJL_IS_TRUE(yajl_tree_get(cstat->u.array.values[i], p_ready, yajl_t_true));
	}
	if (bd.oom) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (o_ns == NOFF || o_name == NOFF) {
		snprintf(err, errlen, "pod without a name or namespace");
		goto fail;
	}
	r->labels = calloc(nl + 1, sizeof(*r->labels));
	r->conts = calloc(nc + 1, sizeof(*r->conts));
	if (!r->labels || !r->conts) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->block = bd.p;
	r->block_len = bd.len;
	struct kube_pod *p = &r->pod;
	p->ns = ptr(&bd, o_ns);
	p->name = ptr(&bd, o_name);
	p->uid = ptr(&bd, o_uid);
	p->pod_ip = ptr(&bd, o_ip);
	p->phase = ptr(&bd, o_phase);
	p->ready = ready;
	p->scrape = ptr(&bd, o_ann[0]);
	p->port = ptr(&bd, o_ann[1]);
	p->path = ptr(&bd, o_ann[2]);
	p->scheme = ptr(&bd, o_ann[3]);
	for (size_t i = 0; i < nl; i++) {
		r->labels[i].key = ptr(&bd, loff[2 * i]);
		r->labels[i].value = ptr(&bd, loff[2 * i + 1]);
	}
	for (size_t i = 0; i < nc; i++) {
		struct kube_pod_container *c = &r->conts[i];
		c->name = ptr(&bd, coff[5 * i]);
		c->req_cpu = ptr(&bd, coff[5 * i + 1]);
		c->req_mem = ptr(&bd, coff[5 * i + 2]);
		c->lim_cpu = ptr(&bd, coff[5 * i + 3]);
		c->lim_mem = ptr(&bd, coff[5 * i + 4]);
	}
	p->labels = r->labels;
	p->nlabels = nl;
	p->containers = r->conts;
	p->ncontainers = nc;
	free(loff);
	free(coff);
	yajl_tree_free(root);
	return r;
fail:
	hg_strbuf_free(&bd);
	free(loff);
	free(coff);
	if (r) {
		r->block = NULL;
		rec_free(r);
	}
	yajl_tree_free(root);
	return NULL;
}

/* Same kept content: the block holds every field in a fixed order, with
 * absent ones left out, so the bools and counts settle the ambiguity. */
static bool rec_same(const struct pod_rec *a, const struct pod_rec *b)
{
	return a->block_len == b->block_len && a->pod.ready == b->pod.ready && a->pod.nlabels == b->pod.nlabels &&
	       a->pod.ncontainers == b->pod.ncontainers && !memcmp(a->block, b->block, a->block_len) &&
	       !a->pod.pod_ip == !b->pod.pod_ip && !a->pod.scrape == !b->pod.scrape && !a->pod.port == !b->pod.port &&
	       !a->pod.path == !b->pod.path && !a->pod.scheme == !b->pod.scheme && !a->pod.uid == !b->pod.uid &&
	       !a->pod.phase == !b->pod.phase;
}

/* ---- pod sets ---- */

static void set_clear(struct pod_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		rec_free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static long set_find(const struct pod_set *s, const char *ns, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->pod.ns, ns) && !strcmp(s->v[i]->pod.name, name))
			return (long)i;
	return -1;
}

/* Takes r; true when the set changed. */
static bool set_put(struct pod_set *s, struct pod_rec *r)
{
	long i = set_find(s, r->pod.ns, r->pod.name);
	if (i >= 0) {
		if (rec_same(s->v[i], r)) {
			rec_free(r);
			return false;
		}
		rec_free(s->v[i]);
		s->v[i] = r;
		return true;
	}
	if (s->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 16;
		struct pod_rec **nv = realloc(s->v, c * sizeof(*nv));
		if (!nv) {
			rec_free(r);
			return false;
		}
		s->v = nv;
		s->cap = c;
	}
	s->v[s->n++] = r;
	return true;
}

static bool set_remove(struct pod_set *s, const char *ns, const char *name)
{
	long i = set_find(s, ns, name);
	if (i < 0)
		return false;
	rec_free(s->v[i]);
	s->v[i] = s->v[--s->n];
	return true;
}

/* ---- watch callbacks ---- */

static void on_event(void *arg, const struct kube_event *ev)
{
	struct kube_podwatch *pw = arg;
	if (ev->type == KUBE_EV_BOOKMARK)
		return;
	pw->events++;
	if (ev->type == KUBE_EV_DELETED && !ev->from_list) {
		if (set_remove(&pw->pods, ev->namespace, ev->name))
			pw->gen++;
		return;
	}
	char err[256];
	struct pod_rec *r = rec_parse(ev->object, ev->object_len, err, sizeof(err));
	if (!r) {
		snprintf(pw->error, sizeof(pw->error), "pod %s/%s: %s", ev->namespace, ev->name, err);
		return;
	}
	if (ev->from_list)
		set_put(&pw->pending, r);
	else if (set_put(&pw->pods, r))
		pw->gen++;
}

/* A (re)list starts from its first page: what an earlier list that never
 * completed (410 on a continue token, a relist cut short) collected is not
 * part of it. Its pods may have gone since; kept, they would survive into
 * the cache when this list completes. */
static void on_list_start(void *arg)
{
	struct kube_podwatch *pw = arg;
	set_clear(&pw->pending);
}

/* A (re)list is complete: it replaces what the watch had, pods that went
 * away while no watch ran included. */
static void on_synced(void *arg)
{
	struct kube_podwatch *pw = arg;
	set_clear(&pw->pods);
	pw->pods = pw->pending;
	memset(&pw->pending, 0, sizeof(pw->pending));
	pw->gen++;
	pw->synced = true;
	pw->error[0] = '\0';
}

static void on_error(void *arg, const char *msg)
{
	struct kube_podwatch *pw = arg;
	/* pending stays: a LIST page that failed is asked again from its
	 * continue token, and its items replace their first copies; a list
	 * that starts over clears it (on_list_start). */
	snprintf(pw->error, sizeof(pw->error), "%s", msg);
}

/* ---- registry ---- */

static bool same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void destroy(struct kube_podwatch *pw)
{
	hg_kube_watch_stop(pw->watch);
	hg_kube_client_free(pw->client); /* completes the request in flight: no callback after this */
	hg_kube_config_free(&pw->kc);
	set_clear(&pw->pods);
	set_clear(&pw->pending);
	free(pw->node);
	free(pw->kubeconfig);
	free(pw);
}

struct kube_podwatch *hg_kube_podwatch_acquire(uv_loop_t *loop, const char *node_name, const char *kubeconfig,
					    char *err, size_t errlen)
{
	if (!node_name || !node_name[0]) {
		snprintf(err, errlen,
			 "no node name for the pod watch (the DaemonSet passes spec.nodeName as NODE_NAME)");
		return NULL;
	}
	if (kubeconfig && !kubeconfig[0])
		kubeconfig = NULL;
	for (struct kube_podwatch *pw = registry; pw; pw = pw->next) {
		if (pw->loop == loop && same(pw->node, node_name) && same(pw->kubeconfig, kubeconfig)) {
			pw->users++;
			return pw;
		}
	}
	struct kube_podwatch *pw = calloc(1, sizeof(*pw));
	if (!pw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pw->loop = loop;
	pw->node = strdup(node_name);
	pw->kubeconfig = kubeconfig ? strdup(kubeconfig) : NULL;
	struct kube_config_opts ko = { .kubeconfig = kubeconfig, .option = "kube_config" };
	char msg[512];
	if (hg_kube_config_auto(&pw->kc, &ko, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "pod watch: %s", msg);
		hg_kube_config_free(&pw->kc);
		free(pw->node);
		free(pw->kubeconfig);
		free(pw);
		return NULL;
	}
	pw->client = hg_kube_client_new(loop, NULL, &pw->kc, msg, sizeof(msg));
	char selector[320];
	snprintf(selector, sizeof(selector), "spec.nodeName=%s", node_name);
	struct kube_watch_opts wo = { .path = "/api/v1/pods",
				      .field_selector = selector,
				      .on_event = on_event,
				      .on_synced = on_synced,
				      .on_list_start = on_list_start,
				      .on_error = on_error,
				      .arg = pw };
	if (pw->client)
		pw->watch = hg_kube_watch_start(pw->client, &wo, msg, sizeof(msg));
	if (!pw->client || !pw->watch) {
		snprintf(err, errlen, "pod watch: %s", msg);
		destroy(pw);
		return NULL;
	}
	pw->users = 1;
	pw->next = registry;
	registry = pw;
	return pw;
}

void hg_kube_podwatch_release(struct kube_podwatch *pw)
{
	if (!pw || --pw->users > 0)
		return;
	for (struct kube_podwatch **pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == pw) {
			*pp = pw->next;
			break;
		}
	}
	destroy(pw);
}

uint64_t hg_kube_podwatch_generation(const struct kube_podwatch *pw)
{
	return pw->gen;
}

bool hg_kube_podwatch_synced(const struct kube_podwatch *pw)
{
	return pw->synced;
}

size_t hg_kube_podwatch_count(const struct kube_podwatch *pw)
{
	return pw->pods.n;
}

const struct kube_pod *hg_kube_podwatch_pod(const struct kube_podwatch *pw, size_t i)
{
	return i < pw->pods.n ? &pw->pods.v[i]->pod : NULL;
}

bool hg_kube_podwatch_warn_insecure(const struct kube_podwatch *pw, const char *who)
{
	return hg_kube_config_warn_insecure(&pw->kc, who);
}

const char *hg_kube_podwatch_error(const struct kube_podwatch *pw)
{
	return pw->error;
}

unsigned hg_kube_podwatch_lists(const struct kube_podwatch *pw)
{
	return hg_kube_watch_lists(pw->watch);
}

unsigned long hg_kube_podwatch_events(const struct kube_podwatch *pw)
{
	return pw->events;
}

size_t hg_kube_podwatch_users(const struct kube_podwatch *pw)
{
	return pw->users;
}
