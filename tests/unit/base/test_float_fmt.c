/* The float formatter (base/float_fmt.c, Dragonbox digits): Go's 'f' and
 * 'g' layouts on the edge cases, text that reads back to the same bits, and
 * digits equal to the slow exact shortest (float_exact.h) on every power of
 * two and of ten, their neighbours, and 200,000 random bit patterns plus
 * 20,000 random subnormals (bench/float_roundtrip.c runs 10 million). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "float_exact.h"
#include "float_fmt.h"

static char fbuf[FLOAT_TEXT_F_MAX + 1], gbuf[FLOAT_TEXT_G_MAX + 1];

static const char *text_f(double v)
{
	fbuf[hg_float_text_f(fbuf, v)] = 0;
	return fbuf;
}

static const char *text_g(double v)
{
	gbuf[hg_float_text_g(gbuf, v)] = 0;
	return gbuf;
}

static double from_bits(uint64_t b)
{
	double v;
	memcpy(&v, &b, sizeof v);
	return v;
}

static uint64_t bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

static long compared, mismatched;

/* Digits as the exact method's, and both texts read back to the same bits. */
static void check_value(double v)
{
	compared++;
	bool ok = true;
	double a = fabs(v);
	if (a != 0) {
		uint64_t s1, s2;
		int e1 = hg_float_shortest(a, &s1), e2 = exact_shortest(a, &s2);
		ok = s1 == s2 && e1 == e2;
		if (!ok && mismatched < 10)
			fprintf(stderr, "%a: float_shortest %llue%d, exact %llue%d\n", v, (unsigned long long)s1, e1,
				(unsigned long long)s2, e2);
	}
	double bf = strtod(text_f(v), NULL), bg = strtod(text_g(v), NULL);
	if (bits(bf) != bits(v) || bits(bg) != bits(v)) {
		if (mismatched < 10)
			fprintf(stderr, "%a: texts %s / %s do not read back\n", v, fbuf, gbuf);
		ok = false;
	}
	if (!ok)
		mismatched++;
}

static void test_layouts(void)
{
	static const struct {
		double v;
		const char *f, *g;
	} cases[] = {
		{ 0.0, "0", "0" },
		{ -0.0, "-0", "-0" },
		{ 1, "1", "1" },
		{ -1.5, "-1.5", "-1.5" },
		{ 0.1, "0.1", "0.1" },
		{ 0.1 + 0.2, "0.30000000000000004", "0.30000000000000004" }, /* 17 digits */
		{ 123.456, "123.456", "123.456" },
		{ 100, "100", "100" },
		{ 123456, "123456", "123456" },
		{ 999999, "999999", "999999" },
		{ 1e6, "1000000", "1e+06" },
		{ 6632243, "6632243", "6.632243e+06" },
		{ 1234567.5, "1234567.5", "1.2345675e+06" },
		{ 0.0001, "0.0001", "0.0001" },
		{ 1e-5, "0.00001", "1e-05" },
		{ -5e-5, "-0.00005", "-5e-05" },
		{ 9007199254740991.0, "9007199254740991", "9.007199254740991e+15" }, /* 2^53 - 1 */
		{ 9007199254740992.0, "9007199254740992", "9.007199254740992e+15" }, /* 2^53 */
		{ 9007199254740993.0, "9007199254740992", "9.007199254740992e+15" }, /* 2^53 + 1 reads as 2^53 */
		{ 9007199254740994.0, "9007199254740994", "9.007199254740994e+15" }, /* 2^53 + 2 */
		/* Integers beyond 2^53: shortest digits, then zeros (as Go). */
		{ 1152921504606846976.0, "1152921504606847000", "1.152921504606847e+18" }, /* 2^60 */
		{ 1e21, "1000000000000000000000", "1e+21" },
		{ 1e23, "100000000000000000000000", "1e+23" }, /* the double is 9.999999999999999e22 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_STR(text_f(cases[i].v), cases[i].f);
		CHECK_STR(text_g(cases[i].v), cases[i].g);
		check_value(cases[i].v);
	}
	char want[FLOAT_TEXT_F_MAX + 1];
	/* DBL_MAX, DBL_MIN, DBL_TRUE_MIN: 17, 17 and 1 digits. */
	snprintf(want, sizeof want, "17976931348623157%0292d", 0);
	CHECK_STR(text_f(DBL_MAX), want);
	CHECK_STR(text_g(DBL_MAX), "1.7976931348623157e+308");
	snprintf(want, sizeof want, "-0.%0307d%s", 0, "22250738585072014");
	CHECK_STR(text_f(-DBL_MIN), want);
	CHECK_STR(text_g(-DBL_MIN), "-2.2250738585072014e-308");
	snprintf(want, sizeof want, "0.%0324d", 5);
	CHECK_STR(text_f(DBL_TRUE_MIN), want);
	CHECK(strlen(want) <= FLOAT_TEXT_F_MAX);
	CHECK_STR(text_g(DBL_TRUE_MIN), "5e-324");
	snprintf(want, sizeof want, "0.%0324d", 15); /* 3 * 2^-1074: "0.", 322 zeros, 15 */
	CHECK_STR(text_f(1.5e-323), want);
	CHECK_STR(text_g(1.5e-323), "1.5e-323");
	/* The longest texts fit the documented bounds. */
	CHECK(hg_float_text_f(fbuf, -nextafter(DBL_MIN, 0)) <= FLOAT_TEXT_F_MAX);
	CHECK(hg_float_text_g(gbuf, -nextafter(DBL_MIN, 0)) <= FLOAT_TEXT_G_MAX);
	CHECK_STR(text_g(-nextafter(DBL_MIN, 0)), "-2.225073858507201e-308");
	check_value(DBL_MAX);
	check_value(DBL_MIN);
	check_value(DBL_TRUE_MIN);
	check_value(nextafter(DBL_MIN, 0)); /* the largest subnormal */
}

/* Every power of ten reads back from its one digit; every power of two and
 * both neighbours of each agree with the exact method. */
static void test_powers(void)
{
	char s[16];
	for (int k = -323; k <= 308; k++) {
		snprintf(s, sizeof s, "1e%d", k);
		double v = strtod(s, NULL);
		uint64_t sig;
		int e = hg_float_shortest(v, &sig);
		if (sig != 1 || e != k)
			fprintf(stderr, "1e%d: %llue%d\n", k, (unsigned long long)sig, e);
		CHECK(sig == 1 && e == k);
		check_value(v);
		check_value(nextafter(v, 0));
		check_value(nextafter(v, INFINITY));
	}
	for (int k = -1074; k <= 1023; k++) {
		double v = ldexp(1, k);
		check_value(v);
		check_value(nextafter(v, 0));
		if (k < 1023)
			check_value(nextafter(v, INFINITY));
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random(long n, long n_subnormal)
{
	for (long i = 0; i < n; i++) {
		uint64_t b = next();
		if ((b >> 52 & 0x7ff) == 0x7ff) /* NaN and Inf are never formatted */
			continue;
		check_value(from_bits(b));
	}
	for (long i = 0; i < n_subnormal; i++)
		check_value(from_bits(next() & 0x800fffffffffffffull));
}

static void suite_teardown(void)
{
	printf("float_fmt: %ld values against the exact shortest, %ld mismatched\n", compared, mismatched);
	if (check_all_cases) /* all three: the random ones alone are 220000 less the NaN and Inf skipped */
		CHECK(compared > 220000);
	CHECK_INT(mismatched, 0);
}

static void test_random_values(void)
{
	test_random(200000, 20000);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_layouts),
		CHECK_CASE(test_powers),
		CHECK_CASE(test_random_values),
	};
	return CHECK_RUN_WITH(argc, argv, cases, NULL, suite_teardown);
}
