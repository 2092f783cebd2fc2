/* Packing: the ki_obj's string arena as it is (only the strings picked
 * out, NUL-separated), preceded by its length and the offsets of namespace
 * and name (the key, read without unpacking), then every other field as a
 * varint (offsets, counts, zigzag for signed numbers). */
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

void ki_cache_init(struct ki_cache *c)
{
	memset(c, 0, sizeof *c);
}

void ki_cache_clear(struct ki_cache *c)
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

static int grow_table(struct ki_cache *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 64;
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

static unsigned char *pack(const struct ki_obj *o)
{
	if (o->oom || o->alen > 0xffff)
		return NULL;
	struct wbuf w = { 0 };
	wu16(&w, o->alen);
	wu16(&w, o->ns);
	wu16(&w, o->name);
	wput(&w, o->arena, o->alen);
	const uint32_t offs[] = { o->node_name, o->phase, o->phase_reason, o->cluster_ns, o->version };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		wvar(&w, offs[i]);
	wsigned(&w, o->created_ns);
	uint64_t has = 0;
	for (int i = 0; i < I_NINTS; i++)
		if (o->has[i])
			has |= 1u << i;
	wvar(&w, has);
	for (int i = 0; i < I_NINTS; i++)
		if (o->has[i])
			wsigned(&w, o->ints[i]);
	wvar(&w, o->unschedulable);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < R_N; j++)
			wvar(&w, o->res[i][j]);
	wvar(&w, o->nsel);
	for (size_t i = 0; i < o->nsel; i++) {
		wvar(&w, o->sel[i].k);
		wvar(&w, o->sel[i].v);
	}
	wvar(&w, o->ncont);
	for (size_t i = 0; i < o->ncont; i++) {
		const struct ki_cont *k = &o->cont[i];
		const uint32_t f[] = { k->name, k->image, k->req_cpu, k->req_mem, k->lim_cpu, k->lim_mem };
		for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
			wvar(&w, f[j]);
	}
	wvar(&w, o->nst);
	for (size_t i = 0; i < o->nst; i++) {
		const struct ki_status *s = &o->st[i];
		wvar(&w, s->name);
		wvar(&w, s->reason);
		wsigned(&w, s->restarts);
		wvar(&w, s->ready);
		wvar(&w, (uint64_t)s->state);
	}
	wvar(&w, o->ncond);
	for (size_t i = 0; i < o->ncond; i++) {
		wvar(&w, o->cond[i].type);
		wvar(&w, o->cond[i].status);
	}
	if (w.oom) {
		free(w.b);
		return NULL;
	}
	/* The exact size: the growing buffer's slack is not kept per object. */
	unsigned char *b = malloc(w.len);
	if (b)
		memcpy(b, w.b, w.len);
	free(w.b);
	return b;
}

int ki_cache_put(struct ki_cache *c, const struct ki_obj *o)
{
	unsigned char *b = pack(o);
	if (!b)
		return -1;
	if ((c->n + 1) * 2 > c->cap && grow_table(c) != 0) {
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

bool ki_cache_has(const struct ki_cache *c, const char *ns, const char *name)
{
	bool found = false;
	if (c->cap)
		find(c, ns, name, &found);
	return found;
}

bool ki_cache_remove(struct ki_cache *c, const char *ns, const char *name)
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
	return true;
}

bool ki_cache_get(const struct ki_cache *c, size_t idx, struct ki_obj *o)
{
	const unsigned char *b = idx < c->cap ? c->slot[idx] : NULL;
	if (!b)
		return false;
	size_t alen = ru16(b);
	struct rbuf r = { b + HDR + alen, b + malloc_usable_size((void *)b) }; /* pack wrote every field */
	ki_obj_reset(o);
	const unsigned char *arena = b + HDR;
	o->ns = (uint32_t)ru16(b + 2);
	o->name = (uint32_t)ru16(b + 4);
	uint32_t *offs[] = { &o->node_name, &o->phase, &o->phase_reason, &o->cluster_ns, &o->version };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		*offs[i] = (uint32_t)rvar(&r);
	o->created_ns = rsigned(&r);
	uint64_t has = rvar(&r);
	for (int i = 0; i < I_NINTS; i++)
		if (has & (1u << i)) {
			o->has[i] = true;
			o->ints[i] = rsigned(&r);
		}
	o->unschedulable = rvar(&r) != 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < R_N; j++)
			o->res[i][j] = (uint32_t)rvar(&r);
	size_t nsel = (size_t)rvar(&r);
	if (!ki_obj_reserve(o, alen, nsel, 0, 0, 0))
		return false;
	memcpy(o->arena, arena, alen);
	o->alen = alen;
	for (size_t i = 0; i < nsel; i++) {
		o->sel[i].k = (uint32_t)rvar(&r);
		o->sel[i].v = (uint32_t)rvar(&r);
	}
	size_t ncont = (size_t)rvar(&r);
	if (!ki_obj_reserve(o, alen, nsel, ncont, 0, 0))
		return false;
	for (size_t i = 0; i < ncont; i++) {
		struct ki_cont *k = &o->cont[i];
		uint32_t *f[] = { &k->name, &k->image, &k->req_cpu, &k->req_mem, &k->lim_cpu, &k->lim_mem };
		for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
			*f[j] = (uint32_t)rvar(&r);
	}
	size_t nst = (size_t)rvar(&r);
	if (!ki_obj_reserve(o, alen, nsel, ncont, nst, 0))
		return false;
	for (size_t i = 0; i < nst; i++) {
		struct ki_status *s = &o->st[i];
		s->name = (uint32_t)rvar(&r);
		s->reason = (uint32_t)rvar(&r);
		s->restarts = rsigned(&r);
		s->ready = rvar(&r) != 0;
		s->state = (int)rvar(&r);
	}
	size_t ncond = (size_t)rvar(&r);
	if (!ki_obj_reserve(o, alen, nsel, ncont, nst, ncond))
		return false;
	for (size_t i = 0; i < ncond; i++) {
		o->cond[i].type = (uint32_t)rvar(&r);
		o->cond[i].status = (uint32_t)rvar(&r);
	}
	return true;
}

size_t ki_cache_memory(const struct ki_cache *c)
{
	return c->bytes + (c->slot ? malloc_usable_size(c->slot) + sizeof(size_t) : 0);
}
