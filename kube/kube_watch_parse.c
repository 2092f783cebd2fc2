/* Streaming parse of LIST and WATCH bodies with yajl's callback API: objects
 * are re-generated one at a time into a reused yajl_gen buffer, so a body of
 * any size costs at most one object of memory. */
#include "kube_watch_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_key(struct kwp *p, const unsigned char *s, size_t n)
{
	if (p->depth >= 0 && p->depth < KWP_KEYS) {
		if (n >= sizeof(p->keys[0]))
			n = sizeof(p->keys[0]) - 1;
		memcpy(p->keys[p->depth], s, n);
		p->keys[p->depth][n] = '\0';
	}
}

static const char *key(struct kwp *p, int d)
{
	return d >= 0 && d < KWP_KEYS ? p->keys[d] : "";
}

static int check_size(struct kwp *p)
{
	const unsigned char *b;
	size_t n;
	yajl_gen_get_buf(p->g, &b, &n);
	if (n > p->max_object) {
		p->too_big = true;
		return 0;
	}
	return 1;
}

/* A scalar inside the captured object's metadata (or a Status' code). */
static void note_scalar(struct kwp *p, const char *s, size_t n, bool is_string)
{
	if (!p->capturing)
		return;
	char *dst = NULL;
	size_t cap = 0;
	if (p->depth == p->base + 1 && strcmp(key(p, p->base), "metadata") == 0 && is_string) {
		const char *k = key(p, p->base + 1);
		if (strcmp(k, "name") == 0)
			dst = p->name, cap = sizeof(p->name);
		else if (strcmp(k, "namespace") == 0)
			dst = p->ns, cap = sizeof(p->ns);
		else if (strcmp(k, "resourceVersion") == 0)
			dst = p->rv, cap = sizeof(p->rv);
	} else if (p->depth == p->base && !is_string && strcmp(key(p, p->base), "code") == 0) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(n < 31 ? n : 31), s);
		p->code = strtol(tmp, NULL, 10);
	}
	if (dst)
		snprintf(dst, cap, "%.*s", (int)n, s);
}

/* A scalar outside any captured object: list metadata or the event type. */
static void note_outer(struct kwp *p, const char *s, size_t n)
{
	char *dst = NULL;
	size_t cap = 0;
	if (p->list && p->depth == 2 && strcmp(key(p, 1), "metadata") == 0) {
		if (strcmp(key(p, 2), "resourceVersion") == 0)
			dst = p->list_rv, cap = sizeof(p->list_rv);
		else if (strcmp(key(p, 2), "continue") == 0)
			dst = p->cont, cap = sizeof(p->cont);
	} else if (!p->list && p->depth == 1 && strcmp(key(p, 1), "type") == 0) {
		dst = p->type, cap = sizeof(p->type);
	}
	if (dst)
		snprintf(dst, cap, "%.*s", (int)n, s);
}

static int cb_null(void *ctx)
{
	struct kwp *p = ctx;
	return p->capturing ? yajl_gen_null(p->g) == yajl_gen_status_ok && check_size(p) : 1;
}

static int cb_bool(void *ctx, int b)
{
	struct kwp *p = ctx;
	return p->capturing ? yajl_gen_bool(p->g, b) == yajl_gen_status_ok && check_size(p) : 1;
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	struct kwp *p = ctx;
	if (!p->capturing)
		return 1;
	note_scalar(p, s, n, false);
	return yajl_gen_number(p->g, s, n) == yajl_gen_status_ok && check_size(p);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	struct kwp *p = ctx;
	if (!p->capturing) {
		note_outer(p, (const char *)s, n);
		return 1;
	}
	note_scalar(p, (const char *)s, n, true);
	return yajl_gen_string(p->g, s, n) == yajl_gen_status_ok && check_size(p);
}

static int cb_key(void *ctx, const unsigned char *s, size_t n)
{
	struct kwp *p = ctx;
	set_key(p, s, n);
	return p->capturing ? yajl_gen_string(p->g, s, n) == yajl_gen_status_ok && check_size(p) : 1;
}

static void begin_capture(struct kwp *p)
{
	yajl_gen_reset(p->g, NULL);
	yajl_gen_clear(p->g);
	p->capturing = true;
	p->base = p->depth + 1;
	p->name[0] = p->ns[0] = p->rv[0] = '\0';
	p->code = 0;
}

static int cb_start_map(void *ctx)
{
	struct kwp *p = ctx;
	if (!p->capturing) {
		bool item = p->list ? p->depth == 2 && strcmp(key(p, 1), "items") == 0
				    : p->depth == 1 && strcmp(key(p, 1), "object") == 0;
		if (item)
			begin_capture(p);
		if (!p->list && p->depth == 0)
			p->type[0] = '\0';
	}
	p->depth++;
	if (p->depth < KWP_KEYS)
		p->keys[p->depth][0] = '\0';
	return p->capturing ? yajl_gen_map_open(p->g) == yajl_gen_status_ok : 1;
}

static int cb_end_map(void *ctx)
{
	struct kwp *p = ctx;
	if (p->capturing && yajl_gen_map_close(p->g) != yajl_gen_status_ok)
		return 0;
	p->depth--;
	if (p->capturing && p->depth == p->base - 1) {
		p->capturing = false;
		if (p->list)
			p->emit(p->arg, p, true);
	} else if (!p->list && p->depth == 0) {
		p->emit(p->arg, p, false);
	}
	return 1;
}

static int cb_start_array(void *ctx)
{
	struct kwp *p = ctx;
	p->depth++;
	if (p->depth < KWP_KEYS)
		p->keys[p->depth][0] = '\0';
	return p->capturing ? yajl_gen_array_open(p->g) == yajl_gen_status_ok : 1;
}

static int cb_end_array(void *ctx)
{
	struct kwp *p = ctx;
	p->depth--;
	return p->capturing ? yajl_gen_array_close(p->g) == yajl_gen_status_ok : 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

int hg_kwp_init(struct kwp *p, bool list, size_t max_object, void (*emit)(void *, struct kwp *, bool), void *arg)
{
	memset(p, 0, sizeof(*p));
	p->list = list;
	p->max_object = max_object;
	p->emit = emit;
	p->arg = arg;
	p->h = yajl_alloc(&callbacks, NULL, p);
	p->g = yajl_gen_alloc(NULL);
	if (!p->h || !p->g) {
		hg_kwp_free(p);
		return -1;
	}
	/* A watch stream is a sequence of JSON objects, one per line. */
	yajl_config(p->h, yajl_allow_multiple_values, list ? 0 : 1);
	return 0;
}

int hg_kwp_feed(struct kwp *p, const char *buf, size_t n, char *err, size_t errlen)
{
	if (yajl_parse(p->h, (const unsigned char *)buf, n) == yajl_status_ok)
		return 0;
	if (p->too_big) {
		snprintf(err, errlen, "an object in the response is larger than %zu bytes", p->max_object);
	} else {
		unsigned char *m = yajl_get_error(p->h, 0, (const unsigned char *)buf, n);
		snprintf(err, errlen, "invalid JSON from the API server: %s", m ? (char *)m : "?");
		yajl_free_error(p->h, m);
	}
	return -1;
}

int hg_kwp_finish(struct kwp *p, char *err, size_t errlen)
{
	if (yajl_complete_parse(p->h) == yajl_status_ok && p->depth == 0)
		return 0;
	snprintf(err, errlen, "the response ended in the middle of an object");
	return -1;
}

void hg_kwp_object(struct kwp *p, const char **json, size_t *len)
{
	const unsigned char *b;
	yajl_gen_get_buf(p->g, &b, len);
	*json = (const char *)b;
}

void hg_kwp_free(struct kwp *p)
{
	if (p->h)
		yajl_free(p->h);
	if (p->g)
		yajl_gen_free(p->g);
	p->h = NULL;
	p->g = NULL;
}
