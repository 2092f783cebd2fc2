/* libFuzzer target for the Kubernetes client's LIST/WATCH body parser
 * (kube_watch_parse). The first byte picks LIST or WATCH, a small or large
 * object bound and a chunk size; the body is parsed once whole and once in
 * chunks, and both runs must deliver the same objects (type, metadata,
 * compact JSON, Status code), the same continue token and the same result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/kube_watch_parse.h"

struct seen {
	uint64_t hash;
	size_t objects;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

static void emit(void *arg, struct kwp *p, bool from_list)
{
	struct seen *s = arg;
	const char *json;
	size_t len;
	hg_kwp_object(p, &json, &len);
	char meta[1024];
	int n = snprintf(meta, sizeof meta, "%s|%s|%s|%s|%ld|%d|", p->type, p->name, p->ns, p->rv, p->code,
			 from_list);
	s->hash = fnv(s->hash, meta, (size_t)n < sizeof meta ? (size_t)n : sizeof meta - 1);
	s->hash = fnv(s->hash, json, len);
	s->objects++;
}

struct out {
	int rc;
	struct seen s;
	uint64_t tail; /* list resourceVersion, continue, too_big */
};

static struct out parse(bool list, size_t max_object, const uint8_t *d, size_t n, size_t chunk)
{
	char err[256];
	struct kwp p;
	struct out o = { 0, { 0xcbf29ce484222325ull, 0 }, 0 };
	if (hg_kwp_init(&p, list, max_object, emit, &o.s) != 0)
		abort();
	for (size_t off = 0; off < n && o.rc == 0; off += chunk)
		o.rc = hg_kwp_feed(&p, (const char *)d + off, n - off < chunk ? n - off : chunk, err, sizeof err);
	if (o.rc == 0)
		o.rc = hg_kwp_finish(&p, err, sizeof err);
	o.tail = fnv(fnv(p.too_big, p.list_rv, strlen(p.list_rv)), p.cont, strlen(p.cont));
	hg_kwp_free(&p);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool list = data[0] & 1;
	size_t max_object = data[0] & 2 ? 256 : 1u << 20;
	size_t chunk = (size_t)(data[0] >> 2) + 1;
	struct out a = parse(list, max_object, data + 1, size - 1, size);
	struct out b = parse(list, max_object, data + 1, size - 1, chunk);
	if (a.rc != b.rc || a.s.hash != b.s.hash || a.s.objects != b.s.objects || a.tail != b.tail) {
		fprintf(stderr, "chunking changed the result: rc %d/%d objects %zu/%zu\n", a.rc, b.rc, a.s.objects,
			b.s.objects);
		abort();
	}
	return 0;
}
