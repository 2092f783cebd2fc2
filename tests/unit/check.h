/* Minimal assertions for the C unit tests: a failed CHECK prints where and
 * what, and the test exits non-zero at the end. */
#ifndef HG_CHECK_H
#define HG_CHECK_H
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_) {                                                        \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, \
				check_a_, check_b_);                                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                              \
	do {                                                                                         \
		const char *check_a_ = (a), *check_b_ = (b);                                         \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                     \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
				check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");     \
			check_failures++;                                                            \
		}                                                                                    \
	} while (0)

#define CHECK_DONE()                                                                  \
	do {                                                                          \
		if (check_failures) {                                                 \
			fprintf(stderr, "%d check(s) failed\n", check_failures);     \
			return 1;                                                     \
		}                                                                     \
		printf("ok\n");                                                       \
		return 0;                                                             \
	} while (0)

#endif
