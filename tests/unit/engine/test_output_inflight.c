/* Parallel writes (max_in_flight) in the output runner, driven through an
 * asynchronous scripted output whose writes the test answers one by one, in
 * any order: answers out of order, one batch of several failing (the whole
 * output backs off once), 413 halving once, partial writes, the buffer
 * bound counting what is in flight, the shutdown flush waiting for every
 * write in flight, and the disk spool acknowledging a record only when every
 * batch of it was written. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent_internal.h"
#include "check.h"
#include "spool.h"
#include "spool_internal.h"

#define MAXW 128

struct pending_write {
	char body[1024];
	unsigned lane;
	write_done_fn done;
	void *arg;
	bool answered;
};

static struct {
	unsigned max_in_flight;
	unsigned lanes_inited;
	unsigned lane_ids[OUTPUT_IN_FLIGHT_MAX];
	bool lane_busy[OUTPUT_IN_FLIGHT_MAX];
	unsigned lane_overlap; /* a lane given a second write before the first was answered */
	struct pending_write w[MAXW];
	size_t nwrites;
	char written[8192]; /* bodies of the writes answered OK, concatenated */
} fk;

static int fake_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)config, (void)err, (void)errlen;
	fk.lane_ids[env->lane] = env->lane;
	*state = &fk.lane_ids[env->lane];
	fk.lanes_inited++;
	return 0;
}

static unsigned fake_max_in_flight(void *state)
{
	(void)state;
	return fk.max_in_flight;
}

static void fake_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	unsigned lane = *(unsigned *)state;
	if (fk.lane_busy[lane])
		fk.lane_overlap++;
	fk.lane_busy[lane] = true;
	struct pending_write *w = &fk.w[fk.nwrites++ % MAXW];
	size_t n = b->len < sizeof w->body - 1 ? b->len : sizeof w->body - 1;
	memcpy(w->body, b->data, n);
	w->body[n] = '\0';
	w->lane = lane;
	w->done = done;
	w->arg = arg;
	w->answered = false;
}

static void fake_free(void *state)
{
	(void)state;
}

static const struct output_plugin fake_plugin = {
	.name = "fake",
	.init = fake_init,
	.write = fake_write,
	.free = fake_free,
	.max_in_flight = fake_max_in_flight,
};

static struct agent ag;
static struct agent_config acfg;
static struct output_cfg ocfg;
static struct running_output out;

static void setup(unsigned max_in_flight, int64_t batch, int64_t limit, const char *spool_dir)
{
	memset(&fk, 0, sizeof fk);
	memset(&ag, 0, sizeof ag);
	memset(&acfg, 0, sizeof acfg);
	memset(&ocfg, 0, sizeof ocfg);
	fk.max_in_flight = max_in_flight;
	acfg.metric_batch_size = batch;
	acfg.metric_buffer_limit = limit;
	acfg.flush_interval_ns = 3600LL * 1000000000; /* flushes only when the test asks */
	ag.loop = uv_default_loop();
	ag.cfg = &acfg;
	ocfg.plugin = &fake_plugin;
	if (spool_dir) {
		ocfg.common.buffer.type = "disk";
		ocfg.common.buffer.path = (char *)spool_dir;
	}
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

/* Lets timers that are due (the runner's "next write") run. */
static void turn(void)
{
	for (int i = 0; i < 3; i++)
		uv_run(ag.loop, UV_RUN_NOWAIT);
}

static void push_n(int from, int to)
{
	for (int i = from; i < to; i++) {
		char line[32];
		snprintf(line, sizeof line, "m%d v=1\n", i);
		hg_output_push(&out, line, strlen(line));
	}
}

static void answer(size_t k, enum write_status st, size_t dropped)
{
	struct pending_write *w = &fk.w[k];
	CHECK(!w->answered);
	w->answered = true;
	fk.lane_busy[w->lane] = false;
	if (st == WRITE_OK && strlen(fk.written) + strlen(w->body) < sizeof fk.written)
		strcat(fk.written, w->body);
	struct write_result r = { .status = st, .dropped_lines = dropped };
	w->done(w->arg, &r);
	turn();
}

/* Answers OK whatever is waiting, oldest first, until nothing is. */
static void answer_rest(void)
{
	for (size_t k = 0; k < fk.nwrites; k++)
		if (!fk.w[k].answered)
			answer(k, WRITE_OK, 0);
}

static size_t lines_in(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Line m<i> is in fk.written exactly once for every i in [from, to) and
 * [from2, to2), and no other line is. */
static void check_written_ranges(int from, int to, int from2, int to2)
{
	CHECK_INT(lines_in(fk.written), (to - from) + (to2 - from2));
	for (int i = from; i < to2; i++) {
		if (i >= to && i < from2)
			continue;
		char line[32];
		snprintf(line, sizeof line, "m%d v=1\n", i);
		const char *p = strstr(fk.written, line);
		bool once = p && (p == fk.written || p[-1] == '\n');
		if (once) {
			/* not found a second time at a line start */
			for (const char *q = strstr(p + 1, line); q; q = strstr(q + 1, line))
				if (q[-1] == '\n')
					once = false;
		}
		if (!once)
			fprintf(stderr, "line %.*s not written exactly once\n", (int)strlen(line) - 1, line);
		CHECK(once);
	}
}

static void check_written_once(int from, int to)
{
	check_written_ranges(from, to, to, to);
}

static bool drained_flag;
static void on_drained(struct running_output *o)
{
	(void)o;
	drained_flag = true;
}

static void test_lanes_and_out_of_order(void)
{
	setup(4, 2, 100, NULL);
	CHECK_INT(fk.lanes_inited, 4);
	CHECK_INT(out.nslots, 4);
	push_n(0, 8);
	CHECK_INT(fk.nwrites, 4); /* four batches of two, at once */
	CHECK_INT(out.inflight, 4);
	push_n(8, 10);
	CHECK_INT(fk.nwrites, 4); /* every writer busy */
	CHECK_INT(out.stats.buffer_size, 10);
	answer(3, WRITE_OK, 0);   /* the last sent is answered first */
	CHECK_INT(fk.nwrites, 5); /* its writer takes the next batch */
	answer(1, WRITE_OK, 0);
	answer(0, WRITE_OK, 0);
	answer(4, WRITE_OK, 0);
	answer(2, WRITE_OK, 0);
	CHECK_INT(out.inflight, 0);
	CHECK_INT(out.stats.metrics_written, 10);
	CHECK_INT(out.stats.buffer_size, 0);
	CHECK_INT(out.stats.metrics_dropped, 0);
	CHECK_INT(fk.lane_overlap, 0);
	check_written_once(0, 10);
	teardown();
}

static void test_one_of_several_fails(void)
{
	setup(4, 2, 100, NULL);
	push_n(0, 8);
	CHECK_INT(fk.nwrites, 4);
	answer(1, WRITE_RETRY, 0);
	CHECK_INT(out.consecutive_failures, 1);
	CHECK_INT(out.backoff_ms, 1000);
	CHECK_INT(out.stats.errors, 1);
	push_n(8, 12);
	CHECK_INT(fk.nwrites, 4); /* the whole output backs off: no writer starts */
	answer(3, WRITE_RETRY, 0);
	/* Sent before the first failure: no news about the server, the
	 * backoff is neither doubled nor restarted. */
	CHECK_INT(out.consecutive_failures, 1);
	CHECK_INT(out.backoff_ms, 1000);
	answer(0, WRITE_OK, 0);
	answer(2, WRITE_OK, 0);
	CHECK_INT(out.consecutive_failures, 1); /* nor do its successes end it */
	CHECK_INT(fk.nwrites, 4);
	CHECK_INT(out.stats.buffer_size, 8);
	/* The backoff ends by itself; the retry is one write, a probe... */
	while (fk.nwrites == 4 && uv_run(ag.loop, UV_RUN_ONCE))
		;
	CHECK_INT(fk.nwrites, 5);
	CHECK_INT(out.inflight, 1);
	/* ...and after its success the rest goes out on all writers. */
	answer(4, WRITE_OK, 0);
	CHECK_INT(out.consecutive_failures, 0);
	CHECK_INT(fk.nwrites, 8);
	answer_rest();
	CHECK_INT(out.consecutive_failures, 0);
	CHECK_INT(out.stats.metrics_written, 12);
	CHECK_INT(out.stats.metrics_dropped, 0);
	CHECK_INT(out.stats.buffer_size, 0);
	check_written_once(0, 12);
	teardown();
}

static void test_413_halves_once(void)
{
	setup(2, 4, 100, NULL);
	push_n(0, 8);
	CHECK_INT(fk.nwrites, 2);
	answer(0, WRITE_TOO_LARGE, 0);
	CHECK_INT(out.batch_size, 2);
	CHECK_INT(fk.nwrites, 3); /* the first half of the batch, on the freed writer */
	answer(1, WRITE_TOO_LARGE, 0);
	CHECK_INT(out.batch_size, 2); /* a second 413 for the same size halves nothing more */
	answer_rest();
	while (out.inflight || hg_lpbuf_count(out.buf)) {
		size_t before = fk.nwrites;
		answer_rest();
		if (fk.nwrites == before)
			break;
	}
	CHECK_INT(out.stats.metrics_written, 8);
	/* The writes started after the 413s are halves; a batch of 2 written
	 * grows the size back to 4. */
	CHECK(lines_in(fk.w[2].body) <= 2);
	CHECK(lines_in(fk.w[3].body) <= 2);
	CHECK_INT(out.batch_size, 4);
	check_written_once(0, 8);
	teardown();
}

static void test_partial_write(void)
{
	setup(3, 2, 100, NULL);
	push_n(0, 6);
	CHECK_INT(fk.nwrites, 3);
	answer(1, WRITE_OK, 1); /* the server rejected one line of the second batch */
	answer(2, WRITE_OK, 0);
	answer(0, WRITE_OK, 0);
	CHECK_INT(out.stats.metrics_written, 5);
	CHECK_INT(out.stats.metrics_dropped, 1);
	CHECK_INT(out.stats.buffer_size, 0);
	teardown();
}

/* metric_buffer_limit buffered plus one batch in flight, as with one
 * writer: more writers do not raise the memory bound. */
static void test_buffer_bound(void)
{
	setup(4, 4, 10, NULL);
	for (int i = 0; i < 30; i++) {
		push_n(i, i + 1);
		CHECK(out.stats.buffer_size <= 10 + 4);
	}
	/* A second writer started (8 in flight fit within the limit of 10),
	 * a third would not have. */
	CHECK_INT(fk.nwrites, 2);
	CHECK_INT(out.inflight_metrics, 8);
	CHECK_INT(out.stats.buffer_size, 14);
	CHECK_INT(out.stats.metrics_dropped, 16);
	answer_rest();
	while (out.inflight)
		answer_rest();
	drained_flag = false;
	hg_output_flush_all(&out, on_drained);
	while (!drained_flag) {
		answer_rest();
		uv_run(ag.loop, UV_RUN_NOWAIT);
	}
	CHECK_INT(out.stats.metrics_written, 14);
	CHECK_INT(out.stats.metrics_dropped, 16);
	/* The two batches in flight, then the newest lines; the oldest
	 * buffered ones went for the bound. */
	check_written_ranges(0, 8, 24, 30);
	teardown();
}

/* SIGTERM: the flush ends when every write in flight has its answer and
 * nothing is left, not when the buffer is empty. */
static void test_flush_waits_for_inflight(void)
{
	setup(3, 2, 100, NULL);
	push_n(0, 7);
	CHECK_INT(fk.nwrites, 3);
	drained_flag = false;
	hg_output_flush_all(&out, on_drained);
	CHECK(!drained_flag);
	answer(0, WRITE_OK, 0);
	CHECK_INT(fk.nwrites, 4); /* the last, partial, batch */
	answer(2, WRITE_OK, 0);
	answer(3, WRITE_OK, 0);
	CHECK(!drained_flag); /* the second batch is still in flight */
	answer(1, WRITE_OK, 0);
	CHECK(drained_flag);
	CHECK_INT(out.stats.metrics_written, 7);
	check_written_once(0, 7);
	out.closing = false;
	teardown();
}

/* The acknowledgement marker on disk: -1 while nothing was acknowledged. */
static int ack_offset(const char *dir, uint64_t *off)
{
	char path[512];
	snprintf(path, sizeof path, "%s/outputs.fake", dir);
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	uint64_t seq = 0;
	int rc = fd >= 0 ? hg_spool_ack_read(fd, &seq, off) : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

static void test_spool_acks_when_all_written(void)
{
	char dir[] = "/tmp/hg-inflight-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	setup(4, 8, 100, dir);
	push_n(0, 8); /* one record of 8 lines, shared out as 4 batches of 2 */
	CHECK_INT(fk.nwrites, 4);
	for (size_t k = 0; k < 4; k++)
		CHECK_INT(lines_in(fk.w[k].body), 2);
	uint64_t off = 0;
	answer(2, WRITE_OK, 0);
	answer(0, WRITE_OK, 0);
	answer(3, WRITE_OK, 0);
	CHECK_INT(hg_output_disk_spooled(&out), 8); /* one batch still unanswered */
	CHECK_INT(ack_offset(dir, &off), -1);
	answer(1, WRITE_RETRY, 0);
	CHECK_INT(hg_output_disk_spooled(&out), 8); /* failed: the record stays */
	CHECK_INT(ack_offset(dir, &off), -1);
	push_n(8, 16); /* the next record waits on disk */
	CHECK_INT(fk.nwrites, 4);
	CHECK_INT(hg_output_disk_spooled(&out), 16);
	/* The retry of the failed batch completes the first record. */
	while (fk.nwrites == 4 && uv_run(ag.loop, UV_RUN_ONCE))
		;
	CHECK_INT(fk.nwrites, 5);
	CHECK_INT(lines_in(fk.w[4].body), 2);
	answer(4, WRITE_OK, 0);
	CHECK_INT(hg_output_disk_spooled(&out), 8);
	CHECK_INT(ack_offset(dir, &off), 0);
	CHECK_INT(off, SPOOL_HDR + strlen("m0 v=1\n") * 8);
	/* The second record goes out on the writers the same way. */
	drained_flag = false;
	hg_output_flush_all(&out, on_drained);
	while (!drained_flag) {
		answer_rest();
		uv_run(ag.loop, UV_RUN_NOWAIT);
	}
	CHECK_INT(hg_output_disk_spooled(&out), 0);
	CHECK_INT(out.stats.metrics_written, 16);
	check_written_once(0, 16);
	out.closing = false;
	teardown();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

static void suite_teardown(void)
{
	uv_loop_close(uv_default_loop());
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_lanes_and_out_of_order),
		CHECK_CASE(test_one_of_several_fails),
		CHECK_CASE(test_413_halves_once),
		CHECK_CASE(test_partial_write),
		CHECK_CASE(test_buffer_bound),
		CHECK_CASE(test_flush_waits_for_inflight),
		CHECK_CASE(test_spool_acks_when_all_written),
	};
	return CHECK_RUN_WITH(argc, argv, cases, NULL, suite_teardown);
}
