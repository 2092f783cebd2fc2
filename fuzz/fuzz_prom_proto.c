/* libFuzzer target for the prometheus input's delimited-protobuf decoder
 * and its v1/v2 mapping. The first byte picks the metric version and a
 * chunk size; the message bound is small (4 KiB) so the skip path runs
 * too. Whole and chunked feeding must give the same metrics and errors. */
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

static unsigned long decode(struct acc *acc, const uint8_t *d, size_t n, int version, size_t chunk)
{
	static struct prom_proto *p;
	static struct run r;
	if (!p) {
		r.map = hg_prom_map_new();
		p = hg_prom_proto_new(4096, on_sample, NULL, &r);
	}
	hg_prom_map_begin(r.map, acc, version, NULL, false);
	hg_prom_proto_reset(p);
	for (size_t off = 0; off < n; off += chunk)
		hg_prom_proto_feed(p, (const char *)d + off, n - off < chunk ? n - off : chunk);
	hg_prom_proto_finish(p);
	hg_prom_map_end(r.map);
	return hg_prom_proto_errors(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One accumulator, so both runs stamp the same gather time. */
	static struct acc *acc;
	if (!acc)
		acc = hg_acc_capture_new();
	if (size < 1)
		return 0;
	int version = data[0] & 1 ? 2 : 1;
	size_t chunk = (size_t)(data[0] >> 1) + 1;
	hg_acc_capture_clear(acc);
	unsigned long e1 = decode(acc, data + 1, size - 1, version, size);
	char *first = strdup(hg_acc_capture_text(acc));
	hg_acc_capture_clear(acc);
	unsigned long e2 = decode(acc, data + 1, size - 1, version, chunk);
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
