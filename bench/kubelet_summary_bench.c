/* Cost of one kubernetes-input gather's parsing: a kubelet summary fed to
 * the streaming parser in 16 KiB chunks (curl's write size), metrics
 * emitted into a capture accumulator that is emptied after every chunk (as
 * the real accumulator hands lines to the output buffers), repeated N
 * times. Reports CPU per gather, yajl's peak allocation (counting
 * allocator), the parser's fixed state and the heap growth during a parse
 * (mallinfo2, sampled after every chunk). Not a test: run by hand, see
 * RESULTS.md. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acc.h"
#include "../plugins/inputs/kubernetes/summary_parse.h"

static size_t cur, peak;

static void *c_malloc(void *ctx, size_t n)
{
	(void)ctx;
	size_t *p = malloc(n + sizeof(size_t));
	if (!p)
		return NULL;
	*p = n;
	if ((cur += n) > peak)
		peak = cur;
	return p + 1;
}

static void c_free(void *ctx, void *ptr)
{
	(void)ctx;
	if (ptr) {
		size_t *p = (size_t *)ptr - 1;
		cur -= *p;
		free(p);
	}
}

static void *c_realloc(void *ctx, void *ptr, size_t n)
{
	if (!ptr)
		return c_malloc(ctx, n);
	size_t *p = (size_t *)ptr - 1, old = *p;
	size_t *q = realloc(p, n + sizeof(size_t));
	if (!q)
		return NULL;
	*q = n;
	if ((cur = cur - old + n) > peak)
		peak = cur;
	return q + 1;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s summary.json [iterations]\n", argv[0]);
		return 2;
	}
	int iters = argc > 2 ? atoi(argv[2]) : 50;
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fseek(f, 0, SEEK_END);
	size_t len = (size_t)ftell(f);
	rewind(f);
	char *doc = malloc(len);
	if (!doc || fread(doc, 1, len, f) != len)
		return 2;
	fclose(f);

	yajl_alloc_funcs af = { c_malloc, c_realloc, c_free, NULL };
	struct summary_parser *p = hg_summary_parser_new(&af);
	struct acc *acc = hg_acc_capture_new();
	const size_t chunk = 16384;
	char err[256];
	size_t metrics = 0;
	long heap_growth = 0;
	double t0 = cpu_s();
	for (int i = 0; i < iters; i++) {
		hg_acc_capture_clear(acc);
		long base = (long)mallinfo2().uordblks;
		if (hg_summary_parser_begin(p, acc, NULL, "bench") != 0)
			return 1;
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			if (hg_summary_parser_feed(p, doc + off, n, err, sizeof err) != 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			long g = (long)mallinfo2().uordblks - base;
			if (g > heap_growth)
				heap_growth = g;
			hg_acc_capture_clear(acc);
		}
		if (hg_summary_parser_end(p, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		metrics = hg_summary_parser_emitted(p);
	}
	double per = (cpu_s() - t0) / iters;
	printf("%s: %zu bytes, %zu metrics\n", argv[1], len, metrics);
	printf("  cpu per gather: %.2f ms (%.0f MB/s, %.2f us/metric)\n", per * 1e3, (double)len / per / 1e6,
	       per * 1e6 / (double)metrics);
	printf("  yajl peak: %zu bytes; parser state: %zu bytes; heap growth during a parse: %ld bytes\n", peak,
	       (size_t)hg_summary_parser_state_size(), heap_growth);
	hg_summary_parser_free(p);
	hg_acc_capture_free(acc);
	free(doc);
	return 0;
}
