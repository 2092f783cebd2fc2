#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lpbuf.h"
#include "check.h"

static void push_n(struct lpbuf *b, int from, int to)
{
	char line[64];
	for (int i = from; i < to; i++) {
		int n = snprintf(line, sizeof line, "m v=%di\n", i);
		hg_lpbuf_push(b, line, (size_t)n);
	}
}

/* The batch as a NUL-terminated string, for CHECK_STR. */
static const char *bstr(const struct batch *bt)
{
	static char s[65536];
	size_t n = bt->len < sizeof s - 1 ? bt->len : sizeof s - 1;
	if (n)
		memcpy(s, bt->data, n);
	s[n] = 0;
	return s;
}

static void test_overflow(void)
{
	struct lpbuf *b = hg_lpbuf_new(3);
	push_n(b, 1, 6);
	CHECK_INT(hg_lpbuf_count(b), 3);
	CHECK_INT(hg_lpbuf_dropped(b), 2);
	CHECK_INT(hg_lpbuf_bytes(b), 3 * strlen("m v=3i\n"));
	struct batch bt = { 0 };
	CHECK_INT(hg_lpbuf_take(b, 10, &bt), 3);
	CHECK_STR(bstr(&bt), "m v=3i\nm v=4i\nm v=5i\n");
	CHECK_INT(bt.nmetrics, 3);
	CHECK_INT(hg_lpbuf_count(b), 0);
	CHECK_INT(hg_lpbuf_bytes(b), 0);
	hg_batch_free(&bt);
	hg_lpbuf_free(b);
}

static void test_take_unget(void)
{
	struct lpbuf *b = hg_lpbuf_new(100);
	push_n(b, 0, 5);
	struct batch bt = { 0 };
	CHECK_INT(hg_lpbuf_take(b, 2, &bt), 2);
	CHECK_STR(bstr(&bt), "m v=0i\nm v=1i\n");
	CHECK_INT(hg_lpbuf_count(b), 3);
	push_n(b, 5, 6);
	hg_lpbuf_unget(b, &bt);
	CHECK_INT(hg_lpbuf_count(b), 6);
	CHECK_INT(hg_lpbuf_dropped(b), 0);
	/* out is reset by take, not appended to */
	CHECK_INT(hg_lpbuf_take(b, 100, &bt), 6);
	CHECK_STR(bstr(&bt), "m v=0i\nm v=1i\nm v=2i\nm v=3i\nm v=4i\nm v=5i\n");

	/* unget into a buffer that filled meanwhile: the oldest (the ungot
	 * ones first) go, counted */
	struct lpbuf *small = hg_lpbuf_new(4);
	push_n(small, 10, 13);
	hg_lpbuf_unget(small, &bt); /* 6 back + 3 queued = 9 > 4 */
	CHECK_INT(hg_lpbuf_count(small), 4);
	CHECK_INT(hg_lpbuf_dropped(small), 5);
	struct batch out = { 0 };
	CHECK_INT(hg_lpbuf_take(small, 100, &out), 4);
	CHECK_STR(bstr(&out), "m v=5i\nm v=10i\nm v=11i\nm v=12i\n");

	/* unget into an empty buffer, then pushes go after it */
	hg_lpbuf_unget(small, &out);
	push_n(small, 20, 21);
	CHECK_INT(hg_lpbuf_count(small), 4);
	CHECK_INT(hg_lpbuf_dropped(small), 6);
	CHECK_INT(hg_lpbuf_take(small, 100, &out), 4);
	CHECK_STR(bstr(&out), "m v=10i\nm v=11i\nm v=12i\nm v=20i\n");
	hg_batch_free(&out);
	hg_batch_free(&bt);
	hg_lpbuf_free(small);
	hg_lpbuf_free(b);
}

static void test_missing_newline_and_multi(void)
{
	struct lpbuf *b = hg_lpbuf_new(10);
	hg_lpbuf_push(b, "a x=1", 5);
	hg_lpbuf_push(b, "b x=2\nc x=3\n", 12);
	hg_lpbuf_push(b, "", 0);
	CHECK_INT(hg_lpbuf_count(b), 3);
	struct batch bt = { 0 };
	CHECK_INT(hg_lpbuf_take(b, 2, &bt), 2);
	CHECK_STR(bstr(&bt), "a x=1\nb x=2\n");
	CHECK_INT(hg_lpbuf_take(b, 2, &bt), 1);
	CHECK_STR(bstr(&bt), "c x=3\n");
	hg_batch_free(&bt);
	hg_lpbuf_free(b);
}

/* Enough lines to span several 64 KiB chunks; every line must come out
 * exactly once, in order, whatever the take size. */
static void test_chunk_boundaries(void)
{
	struct lpbuf *b = hg_lpbuf_new(100000);
	push_n(b, 0, 30000); /* ~9 bytes a line: about 4 chunks */
	struct batch bt = { 0 };
	int next = 0, bad = 0;
	size_t got;
	while ((got = hg_lpbuf_take(b, 777, &bt)) > 0) {
		const char *p = bt.data, *end = bt.data + bt.len;
		size_t lines = 0;
		while (p < end) {
			char want[64];
			int n = snprintf(want, sizeof want, "m v=%di\n", next++);
			if ((size_t)(end - p) < (size_t)n || memcmp(p, want, (size_t)n) != 0)
				bad++;
			p += n;
			lines++;
		}
		CHECK_INT(lines, got);
	}
	CHECK_INT(next, 30000);
	CHECK_INT(bad, 0);
	hg_batch_free(&bt);
	hg_lpbuf_free(b);
}

static void test_huge_lines(void)
{
	struct lpbuf *b = hg_lpbuf_new(10);
	size_t big = 200 * 1024;
	char *line = malloc(big);
	memset(line, 'x', big - 1);
	memcpy(line, "h s=\"", 5);
	line[big - 2] = '"';
	line[big - 1] = '\n';
	push_n(b, 0, 1);
	hg_lpbuf_push(b, line, big);
	push_n(b, 1, 2);
	CHECK_INT(hg_lpbuf_count(b), 3);
	CHECK_INT(hg_lpbuf_bytes(b), big + 2 * strlen("m v=0i\n"));
	struct batch bt = { 0 };
	CHECK_INT(hg_lpbuf_take(b, 2, &bt), 2);
	CHECK_INT(bt.len, strlen("m v=0i\n") + big);
	CHECK(bt.len > big && memcmp(bt.data + 7, line, big) == 0);
	hg_lpbuf_unget(b, &bt);
	CHECK_INT(hg_lpbuf_count(b), 3);
	CHECK_INT(hg_lpbuf_take(b, 3, &bt), 3);
	CHECK_INT(bt.len, big + 14);
	CHECK(memcmp(bt.data + bt.len - 7, "m v=1i\n", 7) == 0);
	/* an oversized chunk is not kept as the spare */
	CHECK(hg_lpbuf_mem_bytes(b) <= 64 * 1024 + 64);
	hg_batch_free(&bt);
	free(line);
	hg_lpbuf_free(b);
}

static void test_memory_returns(void)
{
	struct lpbuf *b = hg_lpbuf_new(200000);
	push_n(b, 0, 100000);
	CHECK_INT(hg_lpbuf_count(b), 100000);
	CHECK(hg_lpbuf_mem_bytes(b) > 10 * 64 * 1024);
	struct batch bt = { 0 };
	while (hg_lpbuf_take(b, 5000, &bt) > 0)
		;
	CHECK_INT(hg_lpbuf_count(b), 0);
	CHECK_INT(hg_lpbuf_bytes(b), 0);
	CHECK(hg_lpbuf_mem_bytes(b) <= 64 * 1024 + 64);
	/* the spare is reused: refilling a little allocates nothing new */
	size_t before = hg_lpbuf_mem_bytes(b);
	push_n(b, 0, 10);
	CHECK_INT(hg_lpbuf_mem_bytes(b), before);
	hg_batch_free(&bt);
	hg_lpbuf_free(b);
}

static struct batch mk(const char *s)
{
	struct batch b = { 0 };
	b.len = b.cap = strlen(s);
	b.data = malloc(b.len + 1);
	memcpy(b.data, s, b.len);
	for (size_t i = 0; i < b.len; i++)
		b.nmetrics += s[i] == '\n';
	return b;
}

static void test_split(void)
{
	struct batch b = mk("a\n"), rest = { 0 };
	hg_batch_split(&b, &rest);
	CHECK_STR(bstr(&b), "a\n");
	CHECK_INT(b.nmetrics, 1);
	CHECK_INT(rest.len, 0);
	CHECK_INT(rest.nmetrics, 0);
	hg_batch_free(&b);

	b = mk("a\nbb\n");
	hg_batch_split(&b, &rest);
	CHECK_STR(bstr(&b), "a\n");
	CHECK_STR(bstr(&rest), "bb\n");
	CHECK_INT(b.nmetrics, 1);
	CHECK_INT(rest.nmetrics, 1);
	hg_batch_free(&b);

	b = mk("a\nbb\nccc\nd\ne\n");
	hg_batch_split(&b, &rest);
	CHECK_STR(bstr(&b), "a\nbb\nccc\n");
	CHECK_STR(bstr(&rest), "d\ne\n");
	CHECK_INT(b.nmetrics, 3);
	CHECK_INT(rest.nmetrics, 2);
	/* splitting again reuses rest's memory and still halves */
	hg_batch_split(&b, &rest);
	CHECK_STR(bstr(&b), "a\nbb\n");
	CHECK_STR(bstr(&rest), "ccc\n");
	hg_batch_free(&b);

	b = (struct batch){ 0 };
	hg_batch_split(&b, &rest);
	CHECK_INT(b.len, 0);
	CHECK_INT(rest.len, 0);
	hg_batch_free(&rest);
}

static void test_remove_lines(void)
{
	struct batch b = mk("l1\nl2\nl3\nl4\nl5\n");
	unsigned r1[] = { 1, 3, 5 };
	CHECK_INT(hg_batch_remove_lines(&b, r1, 3), 3);
	CHECK_STR(bstr(&b), "l2\nl4\n");
	CHECK_INT(b.nmetrics, 2);
	hg_batch_free(&b);

	b = mk("l1\nl2\nl3\n");
	unsigned r2[] = { 0, 2, 2, 9 };
	CHECK_INT(hg_batch_remove_lines(&b, r2, 4), 1);
	CHECK_STR(bstr(&b), "l1\nl3\n");
	CHECK_INT(b.nmetrics, 2);
	unsigned r3[] = { 1, 2 };
	CHECK_INT(hg_batch_remove_lines(&b, r3, 2), 2);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.nmetrics, 0);
	CHECK_INT(hg_batch_remove_lines(&b, r3, 2), 0);
	hg_batch_free(&b);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_overflow),
		CHECK_CASE(test_take_unget),
		CHECK_CASE(test_missing_newline_and_multi),
		CHECK_CASE(test_chunk_boundaries),
		CHECK_CASE(test_huge_lines),
		CHECK_CASE(test_memory_returns),
		CHECK_CASE(test_split),
		CHECK_CASE(test_remove_lines),
	};
	return CHECK_RUN(argc, argv, cases);
}
