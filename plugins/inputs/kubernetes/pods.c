/* Pod metadata cache, filled from a PodList streamed through yajl. Only
 * what the input uses is kept (filtered labels, container requests and
 * limits), in three flat arrays plus one string arena, so a refresh costs a
 * handful of reallocs however many pods the node runs. Strings are stored
 * as arena offsets because the arena moves when it grows. */
#include "pods.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_podwatch.h"

/* Kubernetes names are at most 253 bytes, label keys 317 (prefix/name). */
#define NAME_MAX_LEN 512
/* A PodList of a node with 110 pods and verbose labels stays well under this. */
#define ARENA_MAX (16u << 20)

struct pod_meta {
	uint32_t ns, name;          /* arena offsets */
	uint32_t label0, nlabels;   /* into labels[] */
	uint32_t cont0, nconts;     /* into conts[] */
};

struct label {
	uint32_t key, value;
};

struct cont {
	uint32_t name;
	struct container_res res;
};

struct pod_cache {
	char *arena;
	size_t alen, acap;
	struct pod_meta *pods;
	size_t npods, pcap;
	struct label *labels;
	size_t nlabels, lcap;
	struct cont *conts;
	size_t nconts, ccap;
	uint32_t *index; /* open addressing: pod index + 1, 0 = empty */
	size_t isize;
	bool oom;
};

bool hg_label_filter_match(const struct label_filter *f, const char *key)
{
	bool in = false;
	for (size_t i = 0; f->include && i < f->include->n && !in; i++)
		in = fnmatch(f->include->v[i], key, 0) == 0;
	for (size_t i = 0; in && f->exclude && i < f->exclude->n; i++)
		if (fnmatch(f->exclude->v[i], key, 0) == 0)
			in = false;
	return in;
}

/* ---- cache ---- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *np = realloc(*p, c * elem);
	if (!np)
		return false;
	*p = np;
	*cap = c;
	return true;
}

static int64_t arena_add(struct pod_cache *c, const char *s, size_t n)
{
	if (c->alen + n + 1 > ARENA_MAX || !grow((void **)&c->arena, &c->acap, c->alen + n + 1, 1)) {
		c->oom = true;
		return -1;
	}
	memcpy(c->arena + c->alen, s, n);
	c->arena[c->alen + n] = '\0';
	int64_t off = (int64_t)c->alen;
	c->alen += n + 1;
	return off;
}

static uint32_t hash_pod(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;
	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static bool build_index(struct pod_cache *c)
{
	size_t size = 16;
	while (size < 2 * c->npods)
		size *= 2;
	c->index = calloc(size, sizeof(*c->index));
	if (!c->index)
		return false;
	c->isize = size;
	for (size_t i = 0; i < c->npods; i++) {
		const struct pod_meta *m = &c->pods[i];
		size_t h = hash_pod(c->arena + m->ns, c->arena + m->name) & (size - 1);
		while (c->index[h])
			h = (h + 1) & (size - 1);
		c->index[h] = (uint32_t)i + 1;
	}
	return true;
}

void hg_pod_cache_free(struct pod_cache *c)
{
	if (!c)
		return;
	free(c->arena);
	free(c->pods);
	free(c->labels);
	free(c->conts);
	free(c->index);
	free(c);
}

size_t hg_pod_cache_count(const struct pod_cache *c)
{
	return c ? c->npods : 0;
}

const struct pod_meta *hg_pod_cache_find(const struct pod_cache *c, const char *ns, const char *name)
{
	if (!c || !c->isize)
		return NULL;
	size_t h = hash_pod(ns, name) & (c->isize - 1);
	for (; c->index[h]; h = (h + 1) & (c->isize - 1)) {
		const struct pod_meta *m = &c->pods[c->index[h] - 1];
		if (!strcmp(c->arena + m->ns, ns) && !strcmp(c->arena + m->name, name))
			return m;
	}
	return NULL;
}

size_t hg_pod_meta_nlabels(const struct pod_cache *c, const struct pod_meta *m)
{
	(void)c;
	return m ? m->nlabels : 0;
}

void hg_pod_meta_label(const struct pod_cache *c, const struct pod_meta *m, size_t i, const char **key,
		    const char **value)
{
	const struct label *l = &c->labels[m->label0 + i];
	*key = c->arena + l->key;
	*value = c->arena + l->value;
}

bool hg_pod_meta_container(const struct pod_cache *c, const struct pod_meta *m, const char *container,
			struct container_res *out)
{
	if (!c || !m)
		return false;
	for (uint32_t i = 0; i < m->nconts; i++) {
		const struct cont *k = &c->conts[m->cont0 + i];
		if (!strcmp(c->arena + k->name, container)) {
			*out = k->res;
			return true;
		}
	}
	return false;
}

/* ---- from the shared pod watch ---- */

static void set_res(const char *q, int64_t scale, bool *has, int64_t *v)
{
	if (q && hg_kube_quantity(q, strlen(q), scale, v) == 0)
		*has = true;
}

static bool add_watched(struct pod_cache *c, const struct kube_pod *p, const struct label_filter *lf)
{
	if (!grow((void **)&c->pods, &c->pcap, c->npods + 1, sizeof(*c->pods)))
		return false;
	struct pod_meta *m = &c->pods[c->npods];
	memset(m, 0, sizeof(*m));
	int64_t ns = arena_add(c, p->ns, strlen(p->ns)), name = arena_add(c, p->name, strlen(p->name));
	if (ns < 0 || name < 0)
		return false;
	m->ns = (uint32_t)ns;
	m->name = (uint32_t)name;
	m->label0 = (uint32_t)c->nlabels;
	for (size_t i = 0; i < p->nlabels; i++) {
		if (!hg_label_filter_match(lf, p->labels[i].key))
			continue;
		if (!grow((void **)&c->labels, &c->lcap, c->nlabels + 1, sizeof(*c->labels)))
			return false;
		int64_t k = arena_add(c, p->labels[i].key, strlen(p->labels[i].key));
		int64_t v = arena_add(c, p->labels[i].value, strlen(p->labels[i].value));
		if (k < 0 || v < 0)
			return false;
		c->labels[c->nlabels].key = (uint32_t)k;
		c->labels[c->nlabels].value = (uint32_t)v;
		c->nlabels++;
	}
	m->nlabels = (uint32_t)(c->nlabels - m->label0);
	m->cont0 = (uint32_t)c->nconts;
	for (size_t i = 0; i < p->ncontainers; i++) {
		const struct kube_pod_container *pc = &p->containers[i];
		if (!grow((void **)&c->conts, &c->ccap, c->nconts + 1, sizeof(*c->conts)))
			return false;
		struct cont *k = &c->conts[c->nconts];
		memset(k, 0, sizeof(*k));
		int64_t off = arena_add(c, pc->name, strlen(pc->name));
		if (off < 0)
			return false;
		k->name = (uint32_t)off;
		set_res(pc->req_cpu, 1000, &k->res.has_req_cpu, &k->res.req_cpu_m);
		set_res(pc->req_mem, 1, &k->res.has_req_mem, &k->res.req_mem);
		set_res(pc->lim_cpu, 1000, &k->res.has_lim_cpu, &k->res.lim_cpu_m);
		set_res(pc->lim_mem, 1, &k->res.has_lim_mem, &k->res.lim_mem);
		c->nconts++;
	}
	m->nconts = (uint32_t)(c->nconts - m->cont0);
	c->npods++;
	return true;
}

int hg_pod_cache_from_watch(const struct kube_podwatch *pw, const struct label_filter *lf, struct pod_cache **out,
			 char *err, size_t errlen)
{
	struct pod_cache *c = calloc(1, sizeof(*c));
	bool ok = c != NULL;
	for (size_t i = 0; ok && i < hg_kube_podwatch_count(pw); i++)
		ok = add_watched(c, hg_kube_podwatch_pod(pw, i), lf);
	if (!ok || c->oom || !build_index(c)) {
		hg_pod_cache_free(c);
		snprintf(err, errlen, "pod metadata: out of memory");
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- PodList streaming parser ---- */

enum ctx {
	X_SKIP, X_ROOT, X_ITEMS, X_ITEM, X_META, X_LABELS, X_SPEC, X_CONTS, X_CONT, X_RES, X_REQ, X_LIM,
};

enum key {
	K_OTHER, K_ITEMS, K_METADATA, K_SPEC, K_NAME, K_NAMESPACE, K_LABELS, K_CONTAINERS, K_RESOURCES,
	K_REQUESTS, K_LIMITS, K_CPU, K_MEMORY,
};

static const char *const key_names[] = {
	[K_ITEMS] = "items", [K_METADATA] = "metadata", [K_SPEC] = "spec", [K_NAME] = "name",
	[K_NAMESPACE] = "namespace", [K_LABELS] = "labels", [K_CONTAINERS] = "containers",
	[K_RESOURCES] = "resources", [K_REQUESTS] = "requests", [K_LIMITS] = "limits", [K_CPU] = "cpu",
	[K_MEMORY] = "memory",
};

#define DEPTH_MAX 16

struct podlist_parser {
	yajl_handle y;
	struct label_filter lf;
	struct pod_cache *c;
	struct {
		unsigned char ctx, key;
	} st[DEPTH_MAX];
	int depth;
	unsigned skip; /* nesting below an X_SKIP frame */
	char label_key[NAME_MAX_LEN];
	bool have_ns, have_name;
	char err[160];
};

static enum key lookup_key(const unsigned char *s, size_t n)
{
	for (size_t k = 1; k < sizeof(key_names) / sizeof(key_names[0]); k++)
		if (strlen(key_names[k]) == n && !memcmp(key_names[k], s, n))
			return (enum key)k;
	return K_OTHER;
}

static int fail(struct podlist_parser *p, const char *msg)
{
	snprintf(p->err, sizeof(p->err), "%s", msg);
	return 0;
}

static enum ctx child_ctx(enum ctx parent, enum key key)
{
	switch (parent) {
	case X_ROOT: return key == K_ITEMS ? X_ITEMS : X_SKIP;
	case X_ITEMS: return X_ITEM;
	case X_ITEM: return key == K_METADATA ? X_META : key == K_SPEC ? X_SPEC : X_SKIP;
	case X_META: return key == K_LABELS ? X_LABELS : X_SKIP;
	case X_SPEC: return key == K_CONTAINERS ? X_CONTS : X_SKIP;
	case X_CONTS: return X_CONT;
	case X_CONT: return key == K_RESOURCES ? X_RES : X_SKIP;
	case X_RES: return key == K_REQUESTS ? X_REQ : key == K_LIMITS ? X_LIM : X_SKIP;
	default: return X_SKIP;
	}
}

static int on_start(void *ctx, bool is_map)
{
	struct podlist_parser *p = ctx;
	if (p->depth > 0 && p->st[p->depth - 1].ctx == X_SKIP) {
		p->skip++;
		return 1;
	}
	enum ctx c = p->depth == 0 ? (is_map ? X_ROOT : X_SKIP)
				   : child_ctx(p->st[p->depth - 1].ctx, p->st[p->depth - 1].key);
	/* An element of a list we read must be an object; a list where an object belongs is skipped. */
	if ((c == X_ITEMS || c == X_CONTS) != !is_map && c != X_SKIP)
		c = X_SKIP;
	if (p->depth == DEPTH_MAX)
		return fail(p, "PodList nested too deeply");
	struct pod_cache *pc = p->c;
	if (c == X_ITEM) {
		if (!grow((void **)&pc->pods, &pc->pcap, pc->npods + 1, sizeof(*pc->pods)))
			return fail(p, "out of memory");
		struct pod_meta *m = &pc->pods[pc->npods];
		memset(m, 0, sizeof(*m));
		m->label0 = (uint32_t)pc->nlabels;
		m->cont0 = (uint32_t)pc->nconts;
		p->have_ns = p->have_name = false;
	} else if (c == X_CONT) {
		if (!grow((void **)&pc->conts, &pc->ccap, pc->nconts + 1, sizeof(*pc->conts)))
			return fail(p, "out of memory");
		struct cont *k = &pc->conts[pc->nconts++];
		memset(k, 0, sizeof(*k));
		int64_t off = arena_add(pc, "", 0);
		if (off < 0)
			return fail(p, "PodList too large");
		k->name = (uint32_t)off;
	}
	p->st[p->depth].ctx = (unsigned char)c;
	p->st[p->depth].key = K_OTHER;
	p->depth++;
	return 1;
}

static int on_start_map(void *ctx)
{
	return on_start(ctx, true);
}

static int on_start_array(void *ctx)
{
	return on_start(ctx, false);
}

static int on_end(void *ctx)
{
	struct podlist_parser *p = ctx;
	if (p->skip) {
		p->skip--;
		return 1;
	}
	if (p->depth == 0)
		return fail(p, "unbalanced JSON");
	enum ctx c = p->st[--p->depth].ctx;
	struct pod_cache *pc = p->c;
	if (c == X_ITEM) {
		struct pod_meta *m = &pc->pods[pc->npods];
		m->nlabels = (uint32_t)(pc->nlabels - m->label0);
		m->nconts = (uint32_t)(pc->nconts - m->cont0);
		/* A pod without a name cannot be matched: drop what it added. */
		if (p->have_ns && p->have_name) {
			pc->npods++;
		} else {
			pc->nlabels = m->label0;
			pc->nconts = m->cont0;
		}
	}
	return 1;
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
	struct podlist_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	unsigned char c = p->st[p->depth - 1].ctx;
	if (c == X_LABELS) {
		if (n >= sizeof(p->label_key))
			return fail(p, "label key too long");
		memcpy(p->label_key, s, n);
		p->label_key[n] = '\0';
		return 1;
	}
	p->st[p->depth - 1].key = (unsigned char)lookup_key(s, n);
	return 1;
}

static int set_quantity(struct podlist_parser *p, enum ctx c, enum key k, const char *s, size_t n)
{
	struct container_res *r = &p->c->conts[p->c->nconts - 1].res;
	int64_t v;
	if (k == K_CPU && hg_kube_quantity(s, n, 1000, &v) == 0) {
		if (c == X_REQ)
			r->req_cpu_m = v, r->has_req_cpu = true;
		else
			r->lim_cpu_m = v, r->has_lim_cpu = true;
	} else if (k == K_MEMORY && hg_kube_quantity(s, n, 1, &v) == 0) {
		if (c == X_REQ)
			r->req_mem = v, r->has_req_mem = true;
		else
			r->lim_mem = v, r->has_lim_mem = true;
	}
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct podlist_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	enum ctx c = p->st[p->depth - 1].ctx;
	enum key k = p->st[p->depth - 1].key;
	struct pod_cache *pc = p->c;
	if (n >= NAME_MAX_LEN && c != X_LABELS)
		return c == X_META || c == X_CONT ? fail(p, "name too long") : 1;
	int64_t off;
	switch (c) {
	case X_META:
		if (k != K_NAME && k != K_NAMESPACE)
			return 1;
		if ((off = arena_add(pc, (const char *)s, n)) < 0)
			return fail(p, "PodList too large");
		if (k == K_NAME)
			pc->pods[pc->npods].name = (uint32_t)off, p->have_name = true;
		else
			pc->pods[pc->npods].ns = (uint32_t)off, p->have_ns = true;
		return 1;
	case X_LABELS: {
		if (!hg_label_filter_match(&p->lf, p->label_key))
			return 1;
		if (!grow((void **)&pc->labels, &pc->lcap, pc->nlabels + 1, sizeof(*pc->labels)))
			return fail(p, "out of memory");
		int64_t ko = arena_add(pc, p->label_key, strlen(p->label_key));
		int64_t vo = arena_add(pc, (const char *)s, n);
		if (ko < 0 || vo < 0)
			return fail(p, "PodList too large");
		pc->labels[pc->nlabels].key = (uint32_t)ko;
		pc->labels[pc->nlabels].value = (uint32_t)vo;
		pc->nlabels++;
		return 1;
	}
	case X_CONT:
		if (k != K_NAME)
			return 1;
		if ((off = arena_add(pc, (const char *)s, n)) < 0)
			return fail(p, "PodList too large");
		pc->conts[pc->nconts - 1].name = (uint32_t)off;
		return 1;
	case X_REQ:
	case X_LIM:
		return set_quantity(p, c, k, (const char *)s, n);
	default:
		return 1;
	}
}

/* Quantities are strings on the wire, but a hand-written list may hold numbers. */
static int on_number(void *ctx, const char *s, size_t n)
{
	struct podlist_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	enum ctx c = p->st[p->depth - 1].ctx;
	if (c == X_REQ || c == X_LIM)
		return set_quantity(p, c, p->st[p->depth - 1].key, s, n);
	return 1;
}

static int on_scalar(void *ctx)
{
	(void)ctx;
	return 1;
}

static int on_bool(void *ctx, int b)
{
	(void)b;
	return on_scalar(ctx);
}

static const yajl_callbacks podlist_callbacks = {
	.yajl_null = on_scalar,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

struct podlist_parser *hg_podlist_parser_new(const struct label_filter *lf, const yajl_alloc_funcs *af)
{
	struct podlist_parser *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->lf = *lf;
	p->c = calloc(1, sizeof(*p->c));
	p->y = yajl_alloc(&podlist_callbacks, (yajl_alloc_funcs *)af, p);
	if (!p->c || !p->y) {
		hg_podlist_parser_free(p);
		return NULL;
	}
	return p;
}

static int parse_error(struct podlist_parser *p, yajl_status st, const char *buf, size_t n, char *err,
		       size_t errlen)
{
	if (st == yajl_status_client_canceled || p->err[0]) {
		snprintf(err, errlen, "PodList: %s", p->err[0] ? p->err : "parse canceled");
	} else {
		unsigned char *e = yajl_get_error(p->y, 0, (const unsigned char *)buf, n);
		snprintf(err, errlen, "PodList: invalid JSON: %s", e ? (const char *)e : "?");
		if (e)
			yajl_free_error(p->y, e);
	}
	return -1;
}

int hg_podlist_parser_feed(struct podlist_parser *p, const char *buf, size_t n, char *err, size_t errlen)
{
	yajl_status st = yajl_parse(p->y, (const unsigned char *)buf, n);
	if (st != yajl_status_ok)
		return parse_error(p, st, buf, n, err, errlen);
	return 0;
}

int hg_podlist_parser_end(struct podlist_parser *p, struct pod_cache **out, char *err, size_t errlen)
{
	yajl_status st = yajl_complete_parse(p->y);
	if (st != yajl_status_ok)
		return parse_error(p, st, NULL, 0, err, errlen);
	if (p->c->oom || !build_index(p->c)) {
		snprintf(err, errlen, "PodList: out of memory");
		return -1;
	}
	*out = p->c;
	p->c = NULL;
	return 0;
}

void hg_podlist_parser_free(struct podlist_parser *p)
{
	if (!p)
		return;
	if (p->y)
		yajl_free(p->y);
	hg_pod_cache_free(p->c);
	free(p);
}
