/* libFuzzer target for the float formatter (base/float_fmt.c). The input
 * gives two doubles: its first 8 bytes as bits, and its text read by strtod
 * (decimal inputs reach the short and tie cases random bits rarely do). For
 * each finite one: the digits are the slow exact shortest's
 * (tests/unit/support/float_exact.h), both texts read back to the same bits, fit
 * their bounds, and the 'f' text has no exponent. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../tests/unit/support/float_exact.h"
#include "float_fmt.h"

#define ASSERT(c)                                                                        \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void check(double v)
{
	if (!isfinite(v))
		return;
	char f[FLOAT_TEXT_F_MAX + 1], g[FLOAT_TEXT_G_MAX + 1];
	size_t fn = hg_float_text_f(f, v), gn = hg_float_text_g(g, v);
	ASSERT(fn <= FLOAT_TEXT_F_MAX && gn <= FLOAT_TEXT_G_MAX);
	f[fn] = g[gn] = 0;
	ASSERT(strspn(f, "-0123456789.") == fn);
	double bf = strtod(f, NULL), bg = strtod(g, NULL);
	ASSERT(memcmp(&bf, &v, sizeof v) == 0 && memcmp(&bg, &v, sizeof v) == 0);
	if (v != 0) {
		uint64_t s1, s2;
		int e1 = hg_float_shortest(fabs(v), &s1), e2 = exact_shortest(fabs(v), &s2);
		ASSERT(s1 == s2 && e1 == e2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 8) {
		double v;
		memcpy(&v, data, sizeof v);
		check(v);
	}
	char text[64];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = 0;
	check(strtod(text, NULL));
	return 0;
}
