/* The float formatter against the slow exact shortest, on many random bit
 * patterns (test_float_fmt runs a 220k sample in CI), and its time per value
 * beside the formatter it replaced (snprintf "%.*e" + strtod at 15, 16, 17
 * digits), on the same values.
 *   bench_float [count, default 10000000] [seed]
 * Exits 1 on any mismatch. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "float_exact.h"
#include "float_fmt.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double random_finite(void)
{
	for (;;) {
		uint64_t b = next();
		if ((b >> 52 & 0x7ff) == 0x7ff)
			continue;
		double v;
		memcpy(&v, &b, sizeof v);
		return v;
	}
}

/* The replaced formatter's digit search, for the timing only. */
static int old_digits(double v, char *dig)
{
	char buf[40];
	for (int prec = v < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
		if (prec < 17 && strtod(buf, NULL) != v)
			continue;
		int n = 0;
		for (char *c = buf; *c != 'e'; c++)
			if (*c != '.')
				dig[n++] = *c;
		return n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 10000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x2545f4914f6cdd1dull;
	rng = seed ? seed : 1;

	long mismatched = 0, unreadable = 0;
	double t0 = now();
	char f[FLOAT_TEXT_F_MAX + 1];
	for (long i = 0; i < count; i++) {
		double v = random_finite();
		uint64_t s1 = 0, s2 = 0;
		int e1 = 0, e2 = 0;
		if (v != 0) {
			e1 = hg_float_shortest(fabs(v), &s1);
			e2 = exact_shortest(fabs(v), &s2);
		}
		if (s1 != s2 || e1 != e2) {
			if (mismatched++ < 10)
				fprintf(stderr, "%a: float_shortest %llue%d, exact %llue%d\n", v, (unsigned long long)s1,
					e1, (unsigned long long)s2, e2);
		}
		f[hg_float_text_f(f, v)] = 0;
		double back = strtod(f, NULL);
		if (memcmp(&back, &v, sizeof v) != 0 && unreadable++ < 10)
			fprintf(stderr, "%a: %s does not read back\n", v, f);
	}
	double exact_s = now() - t0;

	/* Time per value, same values for both (regenerated from the seed). */
	enum { N = 1000000 };
	static double vals[N];
	rng = seed ? seed : 1;
	for (long i = 0; i < N; i++)
		vals[i] = fabs(random_finite());
	size_t sink = 0;
	t0 = now();
	for (long i = 0; i < N; i++)
		sink += hg_float_text_f(f, vals[i]);
	double new_ns = (now() - t0) * 1e9 / N;
	char dig[20];
	t0 = now();
	for (long i = 0; i < N; i++)
		sink += (size_t)old_digits(vals[i], dig);
	double old_ns = (now() - t0) * 1e9 / N;

	printf("random bit patterns: %ld (seed 0x%llx), digits differing from the exact shortest: %ld, "
	       "texts not reading back: %ld (%.1f s)\n",
	       count, (unsigned long long)seed, mismatched, unreadable, exact_s);
	printf("per value (1M of the same patterns): float_text_f %.0f ns, the replaced snprintf+strtod search "
	       "%.0f ns (digits only) [%zu]\n",
	       new_ns, old_ns, sink % 10);
	return mismatched || unreadable ? 1 : 0;
}
