/* The output runner's policy, driven through a scripted output plugin on a
 * real libuv loop: batching by size and by flush, retry keeps the batch in
 * order, 413 halves the batch size and successes grow it back, a single
 * line is dropped on 413 only when too large on its own, the shutdown flush
 * does not wait out a backoff, partial writes drop only the rejected lines,
 * buffer overflow drops the oldest, backoff arithmetic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_internal.h"
#include "check.h"

#define MAX_WRITES 64

static struct {
	char batches[MAX_WRITES][1024];
	size_t nwrites;
	struct write_result script[MAX_WRITES]; /* result of write k; zeroed = OK */
} rec;

static int fake_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)config, (void)env, (void)err, (void)errlen;
	*state = &rec;
	return 0;
}

static void fake_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	(void)state;
	size_t k = rec.nwrites++;
	if (k < MAX_WRITES) {
		size_t n = b->len < sizeof rec.batches[k] - 1 ? b->len : sizeof rec.batches[k] - 1;
		memcpy(rec.batches[k], b->data, n);
		rec.batches[k][n] = '\0';
	}
	struct write_result r = k < MAX_WRITES ? rec.script[k] : (struct write_result){ 0 };
	done(arg, &r);
}

static void fake_free(void *state)
{
	(void)state;
}

static const struct output_plugin fake_plugin = {
	.name = "fake", .init = fake_init, .write = fake_write, .free = fake_free,
};

static struct agent ag;
static struct agent_config acfg;
static struct output_cfg ocfg;
static struct running_output out;

static void setup(int64_t batch, int64_t limit)
{
	memset(&rec, 0, sizeof rec);
	memset(&ag, 0, sizeof ag);
	memset(&acfg, 0, sizeof acfg);
	memset(&ocfg, 0, sizeof ocfg);
	acfg.metric_batch_size = batch;
	acfg.metric_buffer_limit = limit;
	acfg.flush_interval_ns = 3600LL * 1000000000; /* flushes only when the test asks */
	ag.loop = uv_default_loop();
	ag.cfg = &acfg;
	ocfg.plugin = &fake_plugin;
	char err[256];
	CHECK_INT(hg_output_start(&out, &ag, &ocfg, err, sizeof err), 0);
	hg_output_start_timers(&out, false);
}

static void teardown(void)
{
	hg_output_close(&out);
	uv_run(ag.loop, UV_RUN_DEFAULT);
	hg_output_release(&out);
}

static void push(const char *line)
{
	hg_output_push(&out, line, strlen(line));
}

static bool drained_flag;
static void on_drained(struct running_output *o)
{
	(void)o;
	drained_flag = true;
}

static void flush(void)
{
	drained_flag = false;
	hg_output_flush_all(&out, on_drained);
	while (!drained_flag && uv_run(ag.loop, UV_RUN_ONCE))
		;
	out.closing = false;
}

static void test_batches_by_size_and_flush(void)
{
	setup(3, 100);
	push("a 1\n"), push("b 1\n"), push("c 1\n");
	CHECK_INT(rec.nwrites, 1);
	CHECK_STR(rec.batches[0], "a 1\nb 1\nc 1\n");
	push("d 1\n");
	CHECK_INT(rec.nwrites, 1);
	flush();
	CHECK_INT(rec.nwrites, 2);
	CHECK_STR(rec.batches[1], "d 1\n");
	CHECK_INT(out.stats.metrics_written, 4);
	CHECK_INT(out.stats.buffer_size, 0);
	teardown();
}

static void test_retry_keeps_order(void)
{
	setup(2, 100);
	rec.script[0] = (struct write_result){ .status = WRITE_RETRY, .retry_after_ms = 0 };
	push("a 1\n"), push("b 1\n");   /* write 0 fails, back to the buffer */
	CHECK_INT(rec.nwrites, 1);
	CHECK_INT(out.stats.errors, 1);
	CHECK(out.backoff_ms >= 1000);
	push("c 1\n");
	flush();                         /* shutdown flush retries at once */
	CHECK_STR(rec.batches[1], "a 1\nb 1\n");
	CHECK_STR(rec.batches[2], "c 1\n");
	CHECK_INT(out.stats.metrics_written, 3);
	CHECK_INT(out.stats.metrics_dropped, 0);
	teardown();
}

static void test_413_halves_batch(void)
{
	setup(4, 100);
	rec.script[0] = (struct write_result){ .status = WRITE_TOO_LARGE };
	push("a 1\n"), push("b 1\n"), push("c 1\n"), push("d 1\n");
	flush();
	CHECK_STR(rec.batches[0], "a 1\nb 1\nc 1\nd 1\n");
	CHECK_STR(rec.batches[1], "a 1\nb 1\n");
	CHECK_STR(rec.batches[2], "c 1\nd 1\n");
	CHECK_INT(out.batch_size, 4); /* a batch of 2 written: back to the configured size */
	CHECK_INT(out.stats.metrics_written, 4);
	teardown();
}

static size_t lines_in(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void push_n(int n)
{
	for (int i = 0; i < n; i++) {
		char line[32];
		snprintf(line, sizeof line, "m%04d 1\n", i);
		push(line);
	}
}

/* A proxy answering 413 to ten requests, then taking everything: the batch
 * shrinks to one line, then grows back by doubling, and no line is lost. */
static void test_413_storm_grows_back(void)
{
	setup(64, 10000);
	for (int k = 0; k < 10; k++)
		rec.script[k] = (struct write_result){ .status = WRITE_TOO_LARGE };
	push_n(640);
	flush();
	/* 64, 32, 16, 8, 4, 2 refused, then one line refused four times. */
	CHECK_INT(lines_in(rec.batches[5]), 2);
	for (size_t k = 6; k < 10; k++)
		CHECK_INT(lines_in(rec.batches[k]), 1);
	CHECK_STR(rec.batches[10], "m0000 1\n");
	/* Then 1, 2, 4, 8, 16, 32 lines, and 577 in batches of 64: 16 writes. */
	CHECK_INT(rec.nwrites - 10, 16);
	CHECK_INT(lines_in(rec.batches[16]), 64);
	CHECK_INT(out.batch_size, 64);
	CHECK_INT(out.stats.metrics_written, 640);
	CHECK_INT(out.stats.metrics_dropped, 0);
	teardown();
}

/* Grown past a size that worked and refused: back to that size, and not
 * tried larger again for a while (a lasting limit costs one 413 in many). */
static void test_413_remembers_size_that_worked(void)
{
	setup(8, 1000);
	rec.script[0] = (struct write_result){ .status = WRITE_TOO_LARGE }; /* 8: no size known yet, halve */
	rec.script[2] = (struct write_result){ .status = WRITE_TOO_LARGE }; /* 8 again after 4 worked */
	push_n(40);
	flush();
	CHECK_INT(lines_in(rec.batches[0]), 8);
	CHECK_INT(lines_in(rec.batches[1]), 4);
	CHECK_INT(lines_in(rec.batches[2]), 8);
	for (size_t k = 3; k < rec.nwrites; k++)
		CHECK_INT(lines_in(rec.batches[k]), 4);
	CHECK_INT(rec.nwrites, 3 + 9);
	CHECK_INT(out.batch_size, 4);
	CHECK_INT(out.batch_ceiling, 8);
	CHECK_INT(out.stats.metrics_written, 40);
	CHECK_INT(out.stats.metrics_dropped, 0);
	teardown();
}

/* A single line no longer than a body the server took is never dropped on
 * 413: the limit is a passing one, the line is retried until it goes. */
static void test_413_single_line_that_fits_is_kept(void)
{
	setup(2, 100);
	push("aaaa 1\n"), push("bbbb 1\n"); /* written: 14 bytes taken */
	for (int k = 1; k <= 4; k++)
		rec.script[k] = (struct write_result){ .status = WRITE_TOO_LARGE };
	push("c 1\n");
	flush();
	CHECK_INT(rec.nwrites, 6);
	CHECK_STR(rec.batches[5], "c 1\n");
	CHECK_INT(out.stats.metrics_written, 3);
	CHECK_INT(out.stats.metrics_dropped, 0);
	teardown();
}

/* A line longer than anything the server took, refused alone three times
 * in a row, is too large on its own: dropped and counted. */
static void test_413_single_metric_dropped(void)
{
	setup(1, 100);
	for (int k = 1; k <= 3; k++)
		rec.script[k] = (struct write_result){ .status = WRITE_TOO_LARGE };
	push("a 1\n");
	push("huge-huge-huge 1\n");
	push("ok 1\n");
	CHECK_STR(rec.batches[1], "huge-huge-huge 1\n");
	flush();
	CHECK_STR(rec.batches[3], "huge-huge-huge 1\n");
	CHECK_STR(rec.batches[4], "ok 1\n");
	CHECK_INT(rec.nwrites, 5);
	CHECK_INT(out.stats.metrics_dropped, 1);
	CHECK_INT(out.stats.metrics_written, 2);
	teardown();
}

/* At shutdown a retry due after shutdown_timeout (here a 10-minute
 * Retry-After) is not waited for: the batch is tried at once, and again
 * soon when that fails too. */
static void test_shutdown_does_not_wait_for_backoff(void)
{
	setup(2, 100);
	rec.script[0] = (struct write_result){ .status = WRITE_RETRY, .retry_after_ms = 600000 };
	rec.script[1] = (struct write_result){ .status = WRITE_RETRY, .retry_after_ms = 600000 };
	push("a 1\n"), push("b 1\n");
	CHECK_INT(rec.nwrites, 1);
	CHECK(out.backoff_ms >= 600000);
	uint64_t t0 = uv_hrtime();
	flush();
	CHECK_INT(rec.nwrites, 3);
	CHECK_STR(rec.batches[2], "a 1\nb 1\n");
	CHECK(uv_hrtime() - t0 < 5000000000ULL);
	CHECK_INT(out.stats.metrics_written, 2);
	teardown();
}

static void test_partial_write(void)
{
	setup(3, 100);
	rec.script[0] = (struct write_result){ .status = WRITE_OK, .dropped_lines = 1 };
	push("a 1\n"), push("b x\n"), push("c 1\n");
	CHECK_INT(out.stats.metrics_written, 2);
	CHECK_INT(out.stats.metrics_dropped, 1);
	teardown();
}

static void test_overflow_drops_oldest(void)
{
	setup(5, 5);
	rec.script[0] = (struct write_result){ .status = WRITE_RETRY };
	for (int i = 0; i < 8; i++) {
		char line[32];
		snprintf(line, sizeof line, "m%d 1\n", i);
		push(line);
	}
	CHECK_INT(out.stats.buffer_size, 5);
	CHECK_INT(out.stats.metrics_dropped, 3);
	flush();
	CHECK_STR(rec.batches[0], "m0 1\nm1 1\nm2 1\nm3 1\nm4 1\n");
	CHECK_STR(rec.batches[1], "m3 1\nm4 1\nm5 1\nm6 1\nm7 1\n");
	CHECK_INT(out.stats.metrics_written, 5);
	teardown();
}

static void test_fail_fast(void)
{
	setup(10, 100);
	out.fail_fast = true;
	rec.script[0] = (struct write_result){ .status = WRITE_RETRY };
	push("a 1\n");
	flush();
	CHECK_INT(rec.nwrites, 1);
	CHECK(out.failed);
	CHECK_INT(out.stats.buffer_size, 1);
	teardown();
}

static void test_batch_never_exceeds_limit(void)
{
	setup(1000, 10);
	CHECK_INT(out.batch_size, 10);
	CHECK_INT(out.stats.buffer_limit, 10);
	teardown();
}

static void test_backoff(void)
{
	CHECK_INT(hg_output_backoff_ms(1, 0), 1000);
	CHECK_INT(hg_output_backoff_ms(2, 0), 2000);
	CHECK_INT(hg_output_backoff_ms(5, 0), 16000);
	CHECK_INT(hg_output_backoff_ms(6, 0), 30000);
	CHECK_INT(hg_output_backoff_ms(60, 0), 30000);
	CHECK_INT(hg_output_backoff_ms(1, 7000), 7000);      /* Retry-After honoured */
	CHECK_INT(hg_output_backoff_ms(5, 7000), 16000);     /* but never shorter than the backoff */
	CHECK_INT(hg_output_backoff_ms(1, 3600000), 600000); /* capped at 10 minutes */
}

static void suite_teardown(void)
{
	uv_loop_close(uv_default_loop());
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_batches_by_size_and_flush),
		CHECK_CASE(test_retry_keeps_order),
		CHECK_CASE(test_413_halves_batch),
		CHECK_CASE(test_413_single_metric_dropped),
		CHECK_CASE(test_413_storm_grows_back),
		CHECK_CASE(test_413_remembers_size_that_worked),
		CHECK_CASE(test_413_single_line_that_fits_is_kept),
		CHECK_CASE(test_shutdown_does_not_wait_for_backoff),
		CHECK_CASE(test_partial_write),
		CHECK_CASE(test_overflow_drops_oldest),
		CHECK_CASE(test_fail_fast),
		CHECK_CASE(test_batch_never_exceeds_limit),
		CHECK_CASE(test_backoff),
	};
	return CHECK_RUN_WITH(argc, argv, cases, NULL, suite_teardown);
}
