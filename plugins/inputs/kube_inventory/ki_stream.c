/* yajl callbacks of the LIST reader: a frame per open map/array, the path
 * rebuilt in place (a key replaces the previous key of its map). */
#include "ki_stream.h"

#include <stdio.h>
#include <string.h>

#define ITEMS "items[]"

static struct ks *P(void *ctx)
{
	return ctx;
}

/* Depth of the item maps: root map (1), items array (2), item (3). */
static bool in_item(const struct ks *p)
{
	return p->depth >= 3 && strncmp(p->path, ITEMS, sizeof ITEMS - 1) == 0;
}

/* Frames: root map 0, items array 1, item map 2, then the item's own. */
static int outer_idx(const struct ks *p)
{
	for (int i = 3; i < p->depth; i++)
		if (p->fr[i].arr)
			return p->fr[i].idx;
	return -1;
}

static void truncate_to(struct ks *p, size_t n)
{
	p->len = n;
	p->path[n] = '\0';
}

static bool append(struct ks *p, const char *s, size_t n)
{
	if (p->len + n + 1 >= sizeof p->path)
		return false;
	memcpy(p->path + p->len, s, n);
	truncate_to(p, p->len + n);
	return true;
}

/* A value begins: count it in its array. */
static void element(struct ks *p)
{
	if (p->depth > 0 && p->fr[p->depth - 1].arr)
		p->fr[p->depth - 1].idx++;
}

static void deliver(struct ks *p, enum ks_type t, const char *v, size_t n)
{
	if (p->skip || !in_item(p) || p->len <= sizeof ITEMS)
		return;
	p->hd.value(p->hd.arg, p->path + sizeof ITEMS, t, v, n, outer_idx(p));
}

static int push(struct ks *p, bool arr)
{
	if (p->depth >= KS_DEPTH) {
		p->too_deep = true;
		return 0;
	}
	size_t pre = p->len;
	if (arr && !append(p, "[]", 2) && !p->skip)
		p->skip = p->depth + 1;
	p->fr[p->depth].arr = arr;
	p->fr[p->depth].idx = -1;
	p->fr[p->depth].pre = (unsigned short)pre;
	p->fr[p->depth].base = (unsigned short)p->len;
	p->depth++;
	return 1;
}

static int pop(struct ks *p)
{
	if (p->depth == 0)
		return 0;
	p->depth--;
	if (p->skip > p->depth)
		p->skip = 0;
	truncate_to(p, p->fr[p->depth].pre);
	return 1;
}

static int on_start_map(void *ctx)
{
	struct ks *p = P(ctx);
	element(p);
	if (p->depth == 2 && strcmp(p->path, ITEMS) == 0) {
		if (p->hd.item_begin)
			p->hd.item_begin(p->hd.arg);
	} else {
		deliver(p, KS_MAP, "", 0);
	}
	return push(p, false);
}

static int on_end_map(void *ctx)
{
	struct ks *p = P(ctx);
	if (!pop(p))
		return 0;
	if (p->depth == 2 && strcmp(p->path, ITEMS) == 0 && p->hd.item_end)
		p->hd.item_end(p->hd.arg);
	return 1;
}

static int on_start_array(void *ctx)
{
	struct ks *p = P(ctx);
	element(p);
	return push(p, true);
}

static int on_end_array(void *ctx)
{
	return pop(P(ctx));
}

static int on_key(void *ctx, const unsigned char *k, size_t n)
{
	struct ks *p = P(ctx);
	if (p->depth == 0)
		return 0;
	truncate_to(p, p->fr[p->depth - 1].base);
	if (p->skip && p->skip < p->depth)
		return 1; /* inside a key that did not fit */
	p->skip = 0;
	if ((p->len && !append(p, ".", 1)) || !append(p, (const char *)k, n)) {
		truncate_to(p, p->fr[p->depth - 1].base);
		p->skip = p->depth;
	}
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct ks *p = P(ctx);
	element(p);
	if (p->depth == 2 && strcmp(p->path, "metadata.continue") == 0) {
		if (n >= sizeof p->cont)
			return 0; /* a token we could not send back whole */
		memcpy(p->cont, s, n);
		p->cont[n] = '\0';
		return 1;
	}
	deliver(p, KS_STRING, (const char *)s, n);
	return 1;
}

static int on_number(void *ctx, const char *s, size_t n)
{
	struct ks *p = P(ctx);
	element(p);
	deliver(p, KS_NUMBER, s, n);
	return 1;
}

static int on_bool(void *ctx, int b)
{
	struct ks *p = P(ctx);
	element(p);
	deliver(p, KS_BOOL, b ? "true" : "false", b ? 4 : 5);
	return 1;
}

static int on_null(void *ctx)
{
	struct ks *p = P(ctx);
	element(p);
	deliver(p, KS_NULL, "", 0);
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

int hg_ks_init(struct ks *p, const struct ks_handler *hd)
{
	memset(p, 0, sizeof *p);
	p->hd = *hd;
	p->h = yajl_alloc(&callbacks, NULL, p);
	return p->h ? 0 : -1;
}

static int status(struct ks *p, yajl_status st, const char *buf, size_t n, char *err, size_t errlen)
{
	if (st == yajl_status_ok)
		return 0;
	if (p->too_deep)
		snprintf(err, errlen, "list body nested deeper than %d levels", KS_DEPTH);
	else if (st == yajl_status_client_canceled)
		snprintf(err, errlen, "list body: continue token longer than %zu bytes", sizeof p->cont - 1);
	else {
		unsigned char *m = yajl_get_error(p->h, 0, (const unsigned char *)buf, n);
		snprintf(err, errlen, "list body is not JSON: %s", m ? (const char *)m : "parse error");
		if (m)
			yajl_free_error(p->h, m);
	}
	return -1;
}

int hg_ks_feed(struct ks *p, const char *buf, size_t n, char *err, size_t errlen)
{
	return status(p, yajl_parse(p->h, (const unsigned char *)buf, n), buf, n, err, errlen);
}

int hg_ks_finish(struct ks *p, char *err, size_t errlen)
{
	return status(p, yajl_complete_parse(p->h), "", 0, err, errlen);
}

void hg_ks_free(struct ks *p)
{
	if (p->h)
		yajl_free(p->h);
	p->h = NULL;
}
