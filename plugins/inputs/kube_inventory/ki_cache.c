/* Packing: a header (arena length, the offsets of namespace and name: the
 * key, read without unpacking), an arena holding each string of the object
 * once (values shared by most objects, "True", "Running", "Ready" ..., are
 * numbered instead), then every other field as a varint (string refs,
 * counts, zigzag for signed numbers). */
#include "ki_cache.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define HDR 6 /* u16 arena length, u16 namespace offset, u16 name offset */

/* ---- varints into a growing buffer ---- */

struct wbuf {
	unsigned char *b;
	size_t len, cap;
	bool oom;
};

static void wput(struct wbuf *w, const void *p, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n > w->cap) {
		size_t c = w->cap ? w->cap : 256;
		while (c < w->len + n)
			c *= 2;
		unsigned char *nb = realloc(w->b, c);
		if (!nb) {
			w->oom = true;
			return;
		}
		w->b = nb;
		w->cap = c;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void wvar(struct wbuf *w, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	wput(w, t, n);
}

static void wsigned(struct wbuf *w, int64_t v)
{
	wvar(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void wu16(struct wbuf *w, size_t v)
{
	unsigned char t[2] = { (unsigned char)(v & 0xff), (unsigned char)(v >> 8) };
	wput(w, t, 2);
}

struct rbuf {
	const unsigned char *p, *end;
};

static uint64_t rvar(struct rbuf *r)
{
	uint64_t v = 0;
	for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	return v;
}

static int64_t rsigned(struct rbuf *r)
{
	uint64_t v = rvar(r);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static size_t ru16(const unsigned char *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

/* ---- keys ---- */

static uint64_t hash_key(const char *ns, const char *name)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static const char *blob_ns(const unsigned char *b)
{
	return (const char *)b + HDR + ru16(b + 2);
}

static const char *blob_name(const unsigned char *b)
{
	return (const char *)b + HDR + ru16(b + 4);
}

static uint64_t blob_hash(const unsigned char *b)
{
	return hash_key(blob_ns(b), blob_name(b));
}

static size_t held(const unsigned char *b)
{
	return malloc_usable_size((void *)b) + sizeof(size_t); /* + glibc's chunk header */
}

/* ---- table ---- */

void hg_ki_cache_init(struct ki_cache *c)
{
	memset(c, 0, sizeof *c);
}

void hg_ki_cache_clear(struct ki_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		free(c->slot[i]);
	free(c->slot);
	memset(c, 0, sizeof *c);
}

static size_t find(const struct ki_cache *c, const char *ns, const char *name, bool *found)
{
	size_t mask = c->cap - 1, i = (size_t)hash_key(ns, name) & mask;
	while (c->slot[i]) {
		if (strcmp(blob_name(c->slot[i]), name) == 0 && strcmp(blob_ns(c->slot[i]), ns) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

#define MIN_CAP 64

/* To ncap slots (a power of two, more than n). */
static int rehash(struct ki_cache *c, size_t ncap)
{
	unsigned char **ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->slot[i])
			continue;
		size_t j = (size_t)blob_hash(c->slot[i]) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = c->slot[i];
	}
	free(c->slot);
	c->slot = ns;
	c->cap = ncap;
	return 0;
}

/* Values most objects share (condition types and statuses, phases,
 * reasons): a string ref names them by number instead of holding them. */
static const char *const dict[] = { "", "True", "False", "Unknown", "Running", "Pending", "Succeeded", "Failed",
				    "Ready", "Initialized", "ContainersReady", "PodScheduled",
				    "PodReadyToStartContainers", "MemoryPressure", "DiskPressure", "PIDPressure",
				    "NetworkUnavailable", "Completed", "Error", "CrashLoopBackOff", "ContainerCreating",
				    "OOMKilled", "ImagePullBackOff", "ErrImagePull", "Evicted", "linux", "amd64",
				    "kubernetes.io/os", "kubernetes.io/arch", "latest" };
#define NDICT (sizeof dict / sizeof dict[0])

/* A string ref: 0 = "", odd = dict[ref >> 1], even = offset (ref >> 1) in
 * the packed arena, which holds each other string of the object once. */
struct packer {
	const struct ki_obj *o;
	struct wbuf arena, vals;
};

static size_t arena_put(struct packer *p, const char *str)
{
	if (!*str)
		return 0;
	size_t n = strlen(str) + 1;
	for (size_t at = 1; at < p->arena.len; at += strlen((const char *)p->arena.b + at) + 1)
		if (strcmp((const char *)p->arena.b + at, str) == 0)
			return at;
	size_t at = p->arena.len;
	wput(&p->arena, str, n);
	return at;
}

static uint64_t ref(struct packer *p, uint32_t off)
{
	const char *str = p->o->arena + off;
	if (!*str)
		return 0;
	for (size_t i = 1; i < NDICT; i++)
		if (strcmp(dict[i], str) == 0)
			return (uint64_t)i << 1 | 1;
	return (uint64_t)arena_put(p, str) << 1;
}

static void wref(struct packer *p, uint32_t off)
{
	wvar(&p->vals, ref(p, off));
}

static unsigned char *pack(const struct ki_obj *o)
{
	if (o->oom)
		return NULL;
	struct packer p = { .o = o };
	struct wbuf *v = &p.vals;
	wput(&p.arena, "", 1); /* offset 0: "" */
	size_t ns = arena_put(&p, o->arena + o->ns), name = arena_put(&p, o->arena + o->name);
	const uint32_t offs[] = { o->node_name, o->phase, o->phase_reason, o->cluster_ns, o->version };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		wref(&p, offs[i]);
	wsigned(v, o->created_ns);
	uint64_t has = 0;
	for (int i = 0; i < I_NINTS; i++)
		if (o->has[i])
			has |= 1u << i;
	wvar(v, has);
	for (int i = 0; i < I_NINTS; i++)
		if (o->has[i])
			wsigned(v, o->ints[i]);
	wvar(v, o->unschedulable);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < R_N; j++)
			wref(&p, o->res[i][j]);
	wvar(v, o->nsel);
	for (size_t i = 0; i < o->nsel; i++) {
		wref(&p, o->sel[i].k);
		wref(&p, o->sel[i].v);
	}
	wvar(v, o->ncont);
	for (size_t i = 0; i < o->ncont; i++) {
		const struct ki_cont *k = &o->cont[i];
		const uint32_t f[] = { k->name, k->image, k->req_cpu, k->req_mem, k->lim_cpu, k->lim_mem };
		for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
			wref(&p, f[j]);
	}
	wvar(v, o->nst);
	for (size_t i = 0; i < o->nst; i++) {
		const struct ki_status *st = &o->st[i];
		wref(&p, st->name);
		wref(&p, st->reason);
		wsigned(v, st->restarts);
		wvar(v, (uint64_t)st->state << 1 | st->ready);
	}
	wvar(v, o->ncond);
	for (size_t i = 0; i < o->ncond; i++) {
		wref(&p, o->cond[i].type);
		wref(&p, o->cond[i].status);
	}
	unsigned char *b = NULL;
	if (!p.arena.oom && !v->oom && p.arena.len <= 0xffff) {
		/* The exact size: no slack kept per object. */
		struct wbuf out = { 0 };
		wu16(&out, p.arena.len);
		wu16(&out, ns);
		wu16(&out, name);
		wput(&out, p.arena.b, p.arena.len);
		wput(&out, v->b, v->len);
		if (!out.oom && (b = malloc(out.len)))
			memcpy(b, out.b, out.len);
		free(out.b);
	}
	free(p.arena.b);
	free(v->b);
	return b;
}

int hg_ki_cache_put(struct ki_cache *c, const struct ki_obj *o)
{
	unsigned char *b = pack(o);
	if (!b)
		return -1;
	if ((c->n + 1) * 2 > c->cap && rehash(c, c->cap ? c->cap * 2 : MIN_CAP) != 0) {
		free(b);
		return -1;
	}
	bool found;
	size_t i = find(c, blob_ns(b), blob_name(b), &found);
	if (found) {
		c->bytes -= held(c->slot[i]);
		free(c->slot[i]);
	} else {
		c->n++;
	}
	c->slot[i] = b;
	c->bytes += held(b);
	return 0;
}

bool hg_ki_cache_has(const struct ki_cache *c, const char *ns, const char *name)
{
	bool found = false;
	if (c->cap)
		find(c, ns, name, &found);
	return found;
}

bool hg_ki_cache_remove(struct ki_cache *c, const char *ns, const char *name)
{
	if (!c->cap)
		return false;
	bool found;
	size_t i = find(c, ns, name, &found), mask = c->cap - 1;
	if (!found)
		return false;
	c->bytes -= held(c->slot[i]);
	free(c->slot[i]);
	c->slot[i] = NULL;
	c->n--;
	/* Backward-shift deletion: entries after the hole that probed past it move up. */
	for (size_t j = (i + 1) & mask; c->slot[j]; j = (j + 1) & mask) {
		size_t home = (size_t)blob_hash(c->slot[j]) & mask;
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			c->slot[i] = c->slot[j];
			c->slot[j] = NULL;
			i = j;
		}
	}
	/* After churn, memory returns to what the objects left need. */
	/* Shrinks below a quarter full, to at most a third full: a few puts
	 * and removes at the edge do not rehash each time. */
	if (c->cap > MIN_CAP && c->n * 4 < c->cap) {
		size_t ncap = MIN_CAP;
		while ((c->n + 1) * 3 > ncap)
			ncap *= 2;
		rehash(c, ncap); /* a failure keeps the larger table */
	}
	return true;
}

/* Room in o for an arena of alen bytes and n entries of an array (the
 * ki_obj's grow-only arrays, sized here to what an entry unpacks to). */
static bool room(void **p, size_t *cap, size_t n, size_t elem)
{
	if (n <= *cap)
		return true;
	void *np = realloc(*p, n * elem);
	if (!np)
		return false;
	memset((char *)np + *cap * elem, 0, (n - *cap) * elem);
	*p = np;
	*cap = n;
	return true;
}

static bool ki_obj_reserve(struct ki_obj *o, size_t alen, size_t nsel, size_t ncont, size_t nst, size_t ncond)
{
	if (alen > o->acap) {
		char *np = realloc(o->arena, alen);
		if (!np)
			return false;
		o->arena = np;
		o->acap = alen;
	}
	if (!room((void **)&o->sel, &o->selcap, nsel, sizeof *o->sel) ||
	    !room((void **)&o->cont, &o->contcap, ncont, sizeof *o->cont) ||
	    !room((void **)&o->st, &o->stcap, nst, sizeof *o->st) ||
	    !room((void **)&o->cond, &o->condcap, ncond, sizeof *o->cond))
		return false;
	o->nsel = nsel;
	o->ncont = ncont;
	o->nst = nst;
	o->ncond = ncond;
	return true;
}

/* Unpacking: the packed arena, then every dict string after it. */
struct unpacker {
	struct rbuf r;
	uint32_t dict_off[NDICT];
};

static uint32_t rref(struct unpacker *u)
{
	uint64_t v = rvar(&u->r);
	return v & 1 ? ((v >> 1) < NDICT ? u->dict_off[v >> 1] : 0) : (uint32_t)(v >> 1);
}

bool hg_ki_cache_get(const struct ki_cache *c, size_t idx, struct ki_obj *o)
{
	const unsigned char *b = idx < c->cap ? c->slot[idx] : NULL;
	if (!b)
		return false;
	size_t alen = ru16(b), dlen = 0;
	struct unpacker u = { .r = { b + HDR + alen, b + malloc_usable_size((void *)b) } }; /* pack wrote every field */
	for (size_t i = 0; i < NDICT; i++) {
		u.dict_off[i] = (uint32_t)(alen + dlen);
		dlen += strlen(dict[i]) + 1;
	}
	hg_ki_obj_reset(o);
	if (!ki_obj_reserve(o, alen + dlen, 0, 0, 0, 0))
		return false;
	memcpy(o->arena, b + HDR, alen);
	for (size_t i = 0; i < NDICT; i++)
		memcpy(o->arena + u.dict_off[i], dict[i], strlen(dict[i]) + 1);
	o->alen = alen + dlen;
	o->ns = (uint32_t)ru16(b + 2);
	o->name = (uint32_t)ru16(b + 4);
	uint32_t *offs[] = { &o->node_name, &o->phase, &o->phase_reason, &o->cluster_ns, &o->version };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		*offs[i] = rref(&u);
	o->created_ns = rsigned(&u.r);
	uint64_t has = rvar(&u.r);
	for (int i = 0; i < I_NINTS; i++)
		if (has & (1u << i)) {
			o->has[i] = true;
			o->ints[i] = rsigned(&u.r);
		}
	o->unschedulable = rvar(&u.r) != 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < R_N; j++)
			o->res[i][j] = rref(&u);
	size_t nsel = (size_t)rvar(&u.r);
	if (!ki_obj_reserve(o, o->alen, nsel, 0, 0, 0))
		return false;
	for (size_t i = 0; i < nsel; i++) {
		o->sel[i].k = rref(&u);
		o->sel[i].v = rref(&u);
	}
	size_t ncont = (size_t)rvar(&u.r);
	if (!ki_obj_reserve(o, o->alen, nsel, ncont, 0, 0))
		return false;
	for (size_t i = 0; i < ncont; i++) {
		struct ki_cont *k = &o->cont[i];
		uint32_t *f[] = { &k->name, &k->image, &k->req_cpu, &k->req_mem, &k->lim_cpu, &k->lim_mem };
		for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
			*f[j] = rref(&u);
	}
	size_t nst = (size_t)rvar(&u.r);
	if (!ki_obj_reserve(o, o->alen, nsel, ncont, nst, 0))
		return false;
	for (size_t i = 0; i < nst; i++) {
		struct ki_status *s = &o->st[i];
		s->name = rref(&u);
		s->reason = rref(&u);
		s->restarts = rsigned(&u.r);
		uint64_t sr = rvar(&u.r);
		s->ready = sr & 1;
		s->state = (int)(sr >> 1);
	}
	size_t ncond = (size_t)rvar(&u.r);
	if (!ki_obj_reserve(o, o->alen, nsel, ncont, nst, ncond))
		return false;
	for (size_t i = 0; i < ncond; i++) {
		o->cond[i].type = rref(&u);
		o->cond[i].status = rref(&u);
	}
	return true;
}

size_t hg_ki_cache_memory(const struct ki_cache *c)
{
	return c->bytes + (c->slot ? malloc_usable_size(c->slot) + sizeof(size_t) : 0);
}
