/* Helpers for the prometheus input tests: run the text parser or the
 * protobuf decoder over a buffer (fed in chunks, as curl would) through
 * the v1/v2 mapping into a capture accumulator, and compare the line
 * protocol as a sorted set of lines. Test-only; every function is static. */
#ifndef HG_PROM_CHECK_H
#define HG_PROM_CHECK_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"
#include "acc.h"

#define PC_FN static __attribute__((unused))

struct prom_run {
	struct acc *acc;
	struct prom_map *map;
	unsigned long errors, samples, families;
	char first_error[256];
	char *out; /* sorted lines, gather-time timestamps shown as NOW */
};

PC_FN void pr_sample(void *arg, const struct prom_sample *s)
{
	hg_prom_map_sample(((struct prom_run *)arg)->map, s);
}

PC_FN void pr_error(void *arg, const char *msg)
{
	struct prom_run *r = arg;
	if (!r->first_error[0])
		snprintf(r->first_error, sizeof r->first_error, "%s", msg);
}

PC_FN char *pr_read(const char *rel, size_t *len)
{
	char path[1024];
	const char *f = getenv("FIXTURES");
	snprintf(path, sizeof path, "%s/%s", f && *f ? f : "fixtures", rel);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		exit(2);
	}
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		exit(2);
	}
	b[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return b;
}

PC_FN int pr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rewrites the capture: timestamps equal to the gather time become NOW,
 * lines sorted (a parser's emission order is not part of its contract). */
PC_FN char *pr_normalize(struct acc *acc)
{
	const char *text = hg_acc_capture_text(acc);
	char now[32];
	snprintf(now, sizeof now, " %lld", (long long)hg_acc_gather_time(acc));
	size_t nl = 0;
	for (const char *p = text; *p; p++)
		nl += *p == '\n';
	char **lines = calloc(nl + 1, sizeof *lines);
	size_t n = 0, total = 1;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *l = malloc(len + 8);
		memcpy(l, p, len);
		l[len] = '\0';
		size_t tl = strlen(now);
		if (len > tl && strcmp(l + len - tl, now) == 0)
			strcpy(l + len - tl, " NOW");
		lines[n++] = l;
		total += strlen(l) + 1;
		p = e ? e + 1 : p + len;
	}
	qsort(lines, n, sizeof *lines, pr_cmp);
	char *out = malloc(total), *w = out;
	for (size_t i = 0; i < n; i++) {
		w += sprintf(w, "%s\n", lines[i]);
		free(lines[i]);
	}
	*w = '\0';
	free(lines);
	return out;
}

PC_FN void pr_begin(struct prom_run *r, int version, const char *url)
{
	memset(r, 0, sizeof *r);
	r->acc = hg_acc_capture_new();
	r->map = hg_prom_map_new();
	hg_prom_map_begin(r->map, r->acc, version, url, false);
}

PC_FN void pr_end(struct prom_run *r)
{
	hg_prom_map_end(r->map);
	r->out = pr_normalize(r->acc);
}

PC_FN void pr_free(struct prom_run *r)
{
	hg_acc_capture_free(r->acc);
	hg_prom_map_free(r->map);
	free(r->out);
}

/* Text through the parser in chunks of chunk bytes (0: all at once). */
PC_FN void pr_text(struct prom_run *r, const char *data, size_t len, bool om, int version, size_t chunk)
{
	pr_begin(r, version, NULL);
	struct prom_text *t = hg_prom_text_new(64 * 1024, pr_sample, pr_error, r);
	hg_prom_text_reset(t, om);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		hg_prom_text_feed(t, data + off, len - off < chunk ? len - off : chunk);
	hg_prom_text_finish(t);
	r->errors = hg_prom_text_errors(t);
	r->samples = hg_prom_text_samples(t);
	hg_prom_text_free(t);
	pr_end(r);
}

PC_FN void pr_proto(struct prom_run *r, const char *data, size_t len, int version, size_t chunk)
{
	pr_begin(r, version, NULL);
	struct prom_proto *p = hg_prom_proto_new(1u << 20, pr_sample, pr_error, r);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		hg_prom_proto_feed(p, data + off, len - off < chunk ? len - off : chunk);
	hg_prom_proto_finish(p);
	r->errors = hg_prom_proto_errors(p);
	r->samples = hg_prom_proto_samples(p);
	r->families = hg_prom_proto_families(p);
	hg_prom_proto_free(p);
	pr_end(r);
}

PC_FN int pr_count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, prefix, pl) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

#endif
