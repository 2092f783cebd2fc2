/* libFuzzer target for kube_inventory's LIST page reader (ki_stream) and
 * the object it fills (ki_obj), down to the metrics. The first byte picks
 * the resource kind and a chunk size; the page is read once whole and once
 * in chunks, and both runs must give the same metrics, continue token and
 * result. In the whole run every object also goes through watch mode's
 * cache (ki_cache: packed, unpacked) and must emit the same metrics. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/kube_inventory/ki_cache.h"
#include "../plugins/inputs/kube_inventory/ki_obj.h"
#include "../plugins/inputs/kube_inventory/ki_stream.h"
#include "acc.h"

struct run {
	struct ki_obj obj;
	struct acc *acc;
	struct ki_filter sel;
	struct acc *cached; /* or NULL: the objects' metrics from the cache */
	struct ki_obj back;
};

static void item_begin(void *arg)
{
	hg_ki_obj_reset(&((struct run *)arg)->obj);
}

static void item_value(void *arg, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	hg_ki_obj_value(&((struct run *)arg)->obj, path, t, v, n, idx);
}

static void item_end(void *arg)
{
	struct run *r = arg;
	if (r->cached) {
		struct ki_cache c;
		hg_ki_cache_init(&c);
		bool put = hg_ki_cache_put(&c, &r->obj) == 0, got = false;
		for (size_t i = 0; put && i < c.cap; i++)
			if (hg_ki_cache_get(&c, i, &r->back)) {
				got = true;
				hg_ki_obj_emit(&r->back, r->cached, &r->sel);
			}
		if (put && !got)
			abort(); /* put, and not there */
		if (!put) /* refused (out of memory, strings over 64 KiB): watch mode reports it */
			hg_ki_obj_emit(&r->obj, r->cached, &r->sel);
		hg_ki_cache_clear(&c);
	}
	hg_ki_obj_emit(&r->obj, r->acc, &r->sel);
}

static int parse(struct run *r, const uint8_t *d, size_t n, size_t chunk, char *cont, size_t contlen)
{
	char err[256];
	struct ks_handler hd = { item_begin, item_value, item_end, r };
	struct ks ks;
	if (hg_ks_init(&ks, &hd) != 0)
		abort();
	int rc = 0;
	for (size_t off = 0; off < n && rc == 0; off += chunk)
		rc = hg_ks_feed(&ks, (const char *)d + off, n - off < chunk ? n - off : chunk, err, sizeof err);
	if (rc == 0)
		rc = hg_ks_finish(&ks, err, sizeof err);
	snprintf(cont, contlen, "%s%d", ks.cont, ks.too_deep);
	hg_ks_free(&ks);
	return rc;
}

/* Equal line by line, each line's timestamp aside (outside a gather the
 * capture stamps every metric with the time it is emitted). */
static bool same_lines(const char *a, const char *b)
{
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		if (!ea || !eb)
			return !ea && !eb && strcmp(a, b) == 0;
		const char *sa = ea, *sb = eb;
		while (sa > a && sa[-1] != ' ')
			sa--;
		while (sb > b && sb[-1] != ' ')
			sb--;
		if (sa - a != sb - b || memcmp(a, b, (size_t)(sa - a)) != 0)
			return false;
		a = ea + 1;
		b = eb + 1;
	}
	return !*a && !*b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc *acc, *cached;
	static char *exc[] = { "x*" };
	static struct strlist exclude = { 1, exc };
	if (!acc) {
		acc = hg_acc_capture_new();
		cached = hg_acc_capture_new();
	}
	if (size < 1)
		return 0;
	enum ki_kind kind = (enum ki_kind)(data[0] % KI_NKINDS);
	size_t chunk = (size_t)(data[0] / KI_NKINDS) + 1;
	struct run r = { .acc = acc, .sel = { NULL, &exclude }, .cached = cached };
	hg_ki_obj_init(&r.obj, kind);
	hg_ki_obj_init(&r.back, kind);
	char ca[1100], cb[1100];
	hg_acc_capture_clear(acc);
	hg_acc_capture_clear(cached);
	int ra = parse(&r, data + 1, size - 1, size, ca, sizeof ca);
	r.cached = NULL;
	hg_ki_obj_free(&r.back);
	if (!same_lines(hg_acc_capture_text(acc), hg_acc_capture_text(cached))) {
		fprintf(stderr, "the cache changed the metrics:\n%s---\n%s", hg_acc_capture_text(acc), hg_acc_capture_text(cached));
		abort();
	}
	char *first = strdup(hg_acc_capture_text(acc));
	hg_acc_capture_clear(acc);
	int rb = parse(&r, data + 1, size - 1, chunk, cb, sizeof cb);
	hg_ki_obj_free(&r.obj);
	if (!first)
		return 0;
	bool same = ra == rb && strcmp(ca, cb) == 0 && strcmp(first, hg_acc_capture_text(acc)) == 0;
	free(first);
	if (!same) {
		fprintf(stderr, "chunking changed the result: rc %d/%d\n", ra, rb);
		abort();
	}
	return 0;
}
