/* libFuzzer target for the prometheus input's text parser (0.0.4 and
 * OpenMetrics) and its v1/v2 mapping. The first byte picks the dialect,
 * the metric version and a chunk size; the document is parsed once whole
 * and once in chunks: a streaming parser must not care where curl splits
 * the body, so both runs must give the same metrics and error count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/prometheus/prom.h"
#include "acc.h"

struct run {
	struct prom_map *map;
};

static void on_sample(void *arg, const struct prom_sample *s)
{
	hg_prom_map_sample(((struct run *)arg)->map, s);
}

static unsigned long parse(struct acc *acc, const uint8_t *d, size_t n, bool om, int version, size_t chunk)
{
	static struct prom_text *t;
	static struct run r;
	if (!t) {
		r.map = hg_prom_map_new();
		t = hg_prom_text_new(1024, on_sample, NULL, &r);
	}
	hg_prom_map_begin(r.map, acc, version, "http://fuzz/metrics", false);
	hg_prom_text_reset(t, om);
	for (size_t off = 0; off < n; off += chunk)
		hg_prom_text_feed(t, (const char *)d + off, n - off < chunk ? n - off : chunk);
	hg_prom_text_finish(t);
	hg_prom_map_end(r.map);
	return hg_prom_text_errors(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One accumulator, so both runs stamp the same gather time. */
	static struct acc *acc;
	if (!acc)
		acc = hg_acc_capture_new();
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	bool om = flags & 1;
	int version = flags & 2 ? 2 : 1;
	size_t chunk = (size_t)(flags >> 2) + 1;
	hg_acc_capture_clear(acc);
	unsigned long e1 = parse(acc, data + 1, size - 1, om, version, size);
	char *first = strdup(hg_acc_capture_text(acc));
	hg_acc_capture_clear(acc);
	unsigned long e2 = parse(acc, data + 1, size - 1, om, version, chunk);
	if (!first)
		return 0;
	bool same = e1 == e2 && strcmp(first, hg_acc_capture_text(acc)) == 0;
	free(first);
	if (!same) {
		fprintf(stderr, "chunking changed the result: errors %lu vs %lu\n", e1, e2);
		abort();
	}
	return 0;
}
