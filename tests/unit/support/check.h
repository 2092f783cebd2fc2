/* Minimal assertions for the C unit tests: a failed CHECK prints where and
 * what, and the test exits non-zero at the end. */
#ifndef HG_CHECK_H
#define HG_CHECK_H
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failures;
/* Set by CHECK_RUN when no case was named: a teardown's check over the whole
 * run (how many values all cases compared, that they logged something)
 * applies only then. */
static __attribute__((unused)) bool check_all_cases;

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

/* A scenario table's loop: `int before = check_failures;`, the row's checks,
 * then CHECK_ROW(before, name) names the row if any of them failed. */
#define CHECK_ROW(before, name)                                                         \
	do {                                                                            \
		if (check_failures > (before))                                          \
			fprintf(stderr, "  (in the scenario \"%s\")\n", (name));       \
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

/* A test program's cases, a table of named functions in main:
 *
 *	static const struct check_case cases[] = { CHECK_CASE(test_rolling), ... };
 *	return CHECK_RUN(argc, argv, cases);
 *
 * CHECK_RUN runs them all in order, or only those named on the command line
 * (`build-test/tests/test_deploy_track test_rolling`), so one case can be run
 * on its own; an unknown name lists the cases and exits 2, `--list` prints
 * them one a line. Every case must pass when run alone: what several share
 * (a server, a loop) is set up by CHECK_RUN_WITH's setup, which runs once,
 * after the names are checked and before the first case chosen (a non-zero
 * return ends the program with that status: it could not start), and torn
 * down by its teardown after the last (which may CHECK what all of them left). */
struct check_case {
	const char *name;
	void (*fn)(void);
};
#define CHECK_CASE(f) { #f, f }
#define CHECK_RUN(argc, argv, cases) CHECK_RUN_WITH(argc, argv, cases, NULL, NULL)
#define CHECK_RUN_WITH(argc, argv, cases, setup, teardown) \
	check_run_((argc), (argv), (cases), sizeof(cases) / sizeof *(cases), (setup), (teardown))

static __attribute__((unused)) int check_run_(int argc, char **argv, const struct check_case *c, size_t n,
					      int (*setup)(void), void (*teardown)(void))
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", c[i].name);
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		size_t i = 0;
		while (i < n && strcmp(c[i].name, argv[a]) != 0)
			i++;
		if (i == n) {
			fprintf(stderr, "%s: no case %s; its cases:", argv[0], argv[a]);
			for (i = 0; i < n; i++)
				fprintf(stderr, " %s", c[i].name);
			fprintf(stderr, "\n");
			return 2;
		}
	}
	check_all_cases = argc < 2;
#ifdef HG_TESTS_DIR
	/* Run by hand (not by ctest, which sets FIXTURES and runs in tests/): find
	 * the fixtures and the relative paths the cases use as ctest would. */
	if (!getenv("FIXTURES")) {
		setenv("FIXTURES", HG_TESTS_DIR "/fixtures", 1);
		if (chdir(HG_TESTS_DIR) != 0) {
			perror(HG_TESTS_DIR);
			return 2;
		}
	}
#endif
	if (setup) {
		int rc = setup();
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		bool chosen = argc < 2;
		for (int a = 1; a < argc && !chosen; a++)
			chosen = strcmp(c[i].name, argv[a]) == 0;
		if (chosen)
			c[i].fn();
	}
	if (teardown)
		teardown();
	CHECK_DONE();
}

#endif
