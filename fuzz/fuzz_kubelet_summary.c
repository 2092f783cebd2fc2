/* libFuzzer target for the kubernetes input's /stats/summary streaming
 * parser. The first byte picks the chunk size; the body is parsed once whole
 * and once in chunks against a small fixed pod cache (so pod lookups, labels
 * and requests/limits run too). curl splits the body anywhere, so both runs
 * must give the same metrics, result and counts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/kubernetes/pods.h"
#include "../plugins/inputs/kubernetes/summary_parse.h"
#include "acc.h"

static const char podlist[] =
	"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\","
	"\"labels\":{\"app\":\"a\",\"tier\":\"t\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
	"\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"1\","
	"\"memory\":\"1Gi\"}}}]}}]}";

static struct pod_cache *fixed_pods(void)
{
	static char *inc[] = { "*" };
	static struct strlist include = { 1, inc };
	static struct label_filter lf = { &include, NULL };
	char err[256];
	struct pod_cache *c = NULL;
	struct podlist_parser *pl = hg_podlist_parser_new(&lf, NULL);
	if (!pl || hg_podlist_parser_feed(pl, podlist, strlen(podlist), err, sizeof err) != 0 ||
	    hg_podlist_parser_end(pl, &c, err, sizeof err) != 0)
		abort();
	hg_podlist_parser_free(pl);
	return c;
}

struct out {
	int rc;
	size_t emitted, unknown;
};

static struct out parse(struct summary_parser *p, struct acc *acc, const struct pod_cache *pods, const uint8_t *d,
			size_t n, size_t chunk)
{
	char err[256];
	struct out o = { 0, 0, 0 };
	if (hg_summary_parser_begin(p, acc, pods, "fuzz-node") != 0)
		abort();
	for (size_t off = 0; off < n && o.rc == 0; off += chunk)
		o.rc = hg_summary_parser_feed(p, (const char *)d + off, n - off < chunk ? n - off : chunk, err, sizeof err);
	int end = hg_summary_parser_end(p, err, sizeof err);
	if (o.rc == 0)
		o.rc = end;
	o.emitted = hg_summary_parser_emitted(p);
	o.unknown = hg_summary_parser_unknown_pods(p);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc *acc;
	static struct summary_parser *p;
	static struct pod_cache *pods;
	if (!acc) {
		acc = hg_acc_capture_new();
		p = hg_summary_parser_new(NULL);
		pods = fixed_pods();
	}
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	hg_acc_capture_clear(acc);
	struct out a = parse(p, acc, pods, data + 1, size - 1, size);
	char *first = strdup(hg_acc_capture_text(acc));
	hg_acc_capture_clear(acc);
	struct out b = parse(p, acc, pods, data + 1, size - 1, chunk);
	if (!first)
		return 0;
	bool same = a.rc == b.rc && a.emitted == b.emitted && a.unknown == b.unknown &&
		    strcmp(first, hg_acc_capture_text(acc)) == 0;
	free(first);
	if (!same) {
		fprintf(stderr, "chunking changed the result: rc %d/%d emitted %zu/%zu unknown %zu/%zu\n", a.rc, b.rc,
			a.emitted, b.emitted, a.unknown, b.unknown);
		abort();
	}
	return 0;
}
