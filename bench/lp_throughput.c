/* Line protocol throughput: serializes a realistic metric mix for about two
 * seconds per case, then parses the serialized text back for as long, and
 * prints MB/s and metrics/s. Values vary per iteration the way gathered
 * values do (cpu usage: ratios of tick deltas, full-precision doubles).
 *   bench_lp [seconds per case, default 2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lp.h"

static struct metric m;
static char line[4096];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const cpu_fields[10] = { "usage_user", "usage_system", "usage_idle", "usage_nice",
					    "usage_iowait", "usage_irq", "usage_softirq", "usage_steal",
					    "usage_guest", "usage_guest_nice" };
static const char *const mem_fields[6] = { "total", "available", "used", "free", "cached", "buffered" };

/* cpu: 3 tags (given unsorted, as inputs add them), 10 float fields. */
static void make_cpu(int64_t t)
{
	hg_metric_reset(&m, sv_c("cpu"));
	hg_metric_tag(&m, "host", "ip-10-0-12-34.eu-west-1.compute.internal");
	hg_metric_tag(&m, "cpu", "cpu3");
	hg_metric_tag(&m, "cluster", "prod-eks");
	uint64_t total = 400 + next() % 100;
	for (int i = 0; i < 10; i++)
		hg_metric_float(&m, cpu_fields[i], 100.0 * (double)(next() % total) / (double)total);
	m.time_ns = t;
}

/* mem: 2 tags, 6 integer fields. */
static void make_mem(int64_t t)
{
	hg_metric_reset(&m, sv_c("mem"));
	hg_metric_tag(&m, "host", "ip-10-0-12-34.eu-west-1.compute.internal");
	hg_metric_tag(&m, "cluster", "prod-eks");
	for (int i = 0; i < 6; i++)
		hg_metric_uint(&m, mem_fields[i], 1000000000ull + next() % 4000000000ull);
	m.time_ns = t;
}

static void bench_serialize(const char *label, void (*make)(int64_t), double secs)
{
	struct lp_opts o = { .precision_ns = 1, .uint_support = true };
	size_t bytes = 0, n = 0;
	int64_t t = 1700000000000000000;
	double t0 = now(), el = 0, build = 0;
	while (el < secs) {
		for (int i = 0; i < 1024; i++) {
			make(t += 10000000000);
			long len = hg_lp_serialize(&m, &o, line, sizeof line, NULL);
			if (len < 0) {
				fprintf(stderr, "serialize failed: %ld\n", len);
				exit(1);
			}
			bytes += (size_t)len;
			n++;
		}
		el = now() - t0;
	}
	/* The metric building is part of the loop; time it alone to report
	 * the serializer's own share too. */
	double b0 = now();
	for (size_t i = 0; i < n; i++)
		make(t);
	build = now() - b0;
	printf("serialize %-26s %8.1f MB/s %10.0f metrics/s  (%.0f metrics/s excluding metric building; %zu B/line)\n",
	       label, (double)bytes / el / 1e6, (double)n / el, (double)n / (el - build), bytes / n);
}

static void bench_parse(double secs)
{
	/* 10000 lines: the cpu/mem mix an 8-core node gathers (8 cpu + 1 mem). */
	size_t cap = 4 << 20, len = 0, lines = 0;
	char *buf = malloc(cap);
	static char scratch[1 << 16];
	struct lp_opts o = { .precision_ns = 1, .uint_support = true };
	int64_t t = 1700000000000000000;
	while (lines < 10000) {
		if (lines % 9 == 8)
			make_mem(t);
		else
			make_cpu(t);
		t += 1000;
		long n = hg_lp_serialize(&m, &o, buf + len, cap - len, NULL);
		if (n < 0)
			exit(1);
		len += (size_t)n;
		lines++;
	}
	size_t bytes = 0, n = 0;
	double t0 = now(), el = 0;
	char err[256];
	while (el < secs) {
		struct lp_parser p;
		hg_lp_parser_init(&p, buf, len, 1, 0, scratch, sizeof scratch);
		int rc;
		while ((rc = hg_lp_parse_next(&p, &m, err, sizeof err)) == 1)
			n++;
		if (rc < 0) {
			fprintf(stderr, "parse failed: %s\n", err);
			exit(1);
		}
		bytes += len;
		el = now() - t0;
	}
	printf("parse     %-26s %8.1f MB/s %10.0f metrics/s  (%zu B/line)\n", "cpu+mem mix (8:1)",
	       (double)bytes / el / 1e6, (double)n / el, len / lines);
	free(buf);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	if (secs <= 0)
		secs = 2.0;
	bench_serialize("cpu (3 tags, 10 floats)", make_cpu, secs);
	bench_serialize("mem (2 tags, 6 uints)", make_mem, secs);
	bench_parse(secs);
	return 0;
}
