/* Runs one output: its bounded buffer, batching by size and flush interval,
 * and what to do with each write's outcome. Telegraf's v1 output drops a
 * batch on 413 and 429; here nothing is dropped that can still be written:
 * retryable failures put the batch back (the buffer limit still holds) and
 * back off, 413 halves the batch size, partial writes drop only the lines
 * the server rejected. */
#include <stdlib.h>
#include <string.h>
#include "agent_internal.h"
#include "log.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 30000
#define RETRY_AFTER_CAP_MS (10 * 60 * 1000)

static void start_write(struct running_output *o);

int64_t output_backoff_ms(unsigned failures, int64_t retry_after_ms)
{
	int64_t ms = BACKOFF_BASE_MS;
	for (unsigned i = 1; i < failures && ms < BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_CAP_MS)
		ms = BACKOFF_CAP_MS;
	/* The server knows best when it can take data again. */
	if (retry_after_ms > ms)
		ms = retry_after_ms > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : retry_after_ms;
	return ms;
}

static uint64_t mono_ns(void)
{
	return uv_hrtime();
}

/* Metrics waiting to be written, in memory or in the disk buffer. */
static uint64_t pending(const struct running_output *o)
{
	return o->spool ? output_spool_pending(o) : lpbuf_count(o->buf);
}

static size_t take_batch(struct running_output *o)
{
	return o->spool ? output_spool_take(o) : lpbuf_take(o->buf, (size_t)o->batch_size, &o->batch);
}

/* A batch that could not be written goes back to the front of its queue. */
static void unget_batch(struct running_output *o)
{
	if (o->spool)
		output_spool_unget(o);
	else
		lpbuf_unget(o->buf, &o->batch);
	o->batch.len = o->batch.nmetrics = 0;
}

/* A batch that is done with, written or dropped for good. */
static void batch_done(struct running_output *o)
{
	o->batch.len = o->batch.nmetrics = 0;
	if (o->spool)
		output_spool_written(o);
}

static void refresh_stats(struct running_output *o)
{
	/* With a disk buffer the batch in flight is still counted in the spool. */
	o->stats.buffer_size = pending(o) + (o->spool ? 0 : o->batch.nmetrics);
	o->stats.metrics_dropped =
		lpbuf_dropped(o->buf) + o->server_dropped + (o->spool ? output_spool_dropped(o) : 0);
}

static uint64_t flush_delay_ms(const struct running_output *o)
{
	int64_t ns = o->flush_interval_ns;
	if (o->flush_jitter_ns > 0)
		ns += (int64_t)((double)rand() / RAND_MAX * (double)o->flush_jitter_ns);
	return (uint64_t)(ns / 1000000);
}

static void on_flush_timer(uv_timer_t *t)
{
	struct running_output *o = t->data;
	output_spool_stage(o);
	start_write(o);
	uv_timer_start(&o->flush_timer, on_flush_timer, flush_delay_ms(o), 0);
}

static void on_retry_timer(uv_timer_t *t)
{
	struct running_output *o = t->data;
	o->backoff_ms = 0;
	start_write(o);
}

/* Runs the next write from the loop rather than from inside a done
 * callback, so a synchronous output cannot recurse without bound. */
static void schedule_write(struct running_output *o, int64_t delay_ms)
{
	o->backoff_ms = delay_ms > 0 ? delay_ms : 0;
	uv_timer_start(&o->retry_timer, on_retry_timer, (uint64_t)(delay_ms > 0 ? delay_ms : 0), 0);
}

static void drained(struct running_output *o)
{
	void (*cb)(struct running_output *) = o->on_drained;
	o->on_drained = NULL;
	if (cb)
		cb(o);
}

static void write_done(void *arg, const struct write_result *r)
{
	struct running_output *o = arg;
	struct agent *a = o->agent;
	size_t n = o->batch.nmetrics;
	o->writing = false;
	o->stats.write_time_ns = (int64_t)(mono_ns() - o->write_started_ns);

	switch (r->status) {
	case WRITE_OK: {
		size_t dropped = r->dropped_lines > n ? n : r->dropped_lines;
		o->stats.metrics_written += n - dropped;
		a->totals.metrics_written += n - dropped;
		o->server_dropped += dropped;
		if (dropped)
			log_warn(o->label, "server rejected %zu of %zu metrics: %s", dropped, n, r->message);
		log_debug(o->label, "wrote batch of %zu metrics in %.1f ms", n - dropped,
			  (double)o->stats.write_time_ns / 1e6);
		o->stats.last_success_ns = now_ns();
		o->consecutive_failures = 0;
		batch_done(o);
		break;
	}
	case WRITE_TOO_LARGE:
		if (n <= 1) {
			log_error(o->label, "a single metric is too large for the server; dropped: %s", r->message);
			o->server_dropped += n;
			batch_done(o);
			break;
		}
		o->batch_size = (int64_t)(n / 2);
		log_warn(o->label, "batch of %zu metrics too large; writing batches of %lld: %s", n,
			 (long long)o->batch_size, r->message);
		unget_batch(o);
		refresh_stats(o);
		schedule_write(o, 0);
		return;
	case WRITE_DROP:
		log_error(o->label, "server refused a batch of %zu metrics; dropped: %s", n, r->message);
		o->server_dropped += n;
		o->stats.errors++;
		batch_done(o);
		break;
	case WRITE_RETRY:
	default: {
		o->stats.errors++;
		o->consecutive_failures++;
		o->failed = true;
		unget_batch(o);
		refresh_stats(o);
		/* Shutting down with a disk buffer: what failed is safe on disk
		 * for the next start, so there is nothing to wait for. */
		if (o->fail_fast || o->stop_after_inflight || (o->closing && o->spool)) {
			log_error(o->label, "write failed: %s", r->message);
			drained(o);
			return;
		}
		int64_t delay = output_backoff_ms(o->consecutive_failures, r->retry_after_ms);
		int64_t flush_ms = o->flush_interval_ns / 1000000;
		if (r->retry_at_flush && delay > flush_ms)
			delay = flush_ms > 0 ? flush_ms : 0;
		log_error(o->label, "write of %zu metrics failed, %llu buffered, retrying in %lld ms: %s", n,
			  (unsigned long long)pending(o), (long long)delay, r->message);
		schedule_write(o, delay);
		return;
	}
	}
	refresh_stats(o);
	if (pending(o) == 0 || o->stop_after_inflight) {
		if (o->on_drained)
			drained(o);
		return;
	}
	if (o->on_drained || pending(o) >= (uint64_t)o->batch_size)
		schedule_write(o, 0);
}

static void start_write(struct running_output *o)
{
	if (o->writing || uv_is_active((uv_handle_t *)&o->retry_timer))
		return;
	if (o->batch.nmetrics == 0 && take_batch(o) == 0) {
		if (o->on_drained)
			drained(o);
		return;
	}
	o->writing = true;
	o->write_started_ns = mono_ns();
	refresh_stats(o);
	o->cfg->plugin->write(o->state, &o->batch, write_done, o);
}

void output_push(struct running_output *o, const char *line, size_t len)
{
	lpbuf_push(o->buf, line, len);
	o->stats.metrics_added++;
	/* A disk buffer keeps in memory at most one batch of a gather. */
	if (o->spool && lpbuf_count(o->buf) >= (size_t)o->batch_size)
		output_spool_stage(o);
	refresh_stats(o);
	if (pending(o) >= (uint64_t)o->batch_size && o->backoff_ms == 0)
		start_write(o);
}

void output_finish_inflight(struct running_output *o, void (*on_drained)(struct running_output *o))
{
	o->on_drained = on_drained;
	o->stop_after_inflight = true;
	uv_timer_stop(&o->retry_timer);
	o->backoff_ms = 0;
	if (!o->writing)
		drained(o);
}

uint64_t output_pending(const struct running_output *o)
{
	return o->buf ? pending(o) + (o->spool ? 0 : o->batch.nmetrics) : 0;
}

/* While writes fail, every gather goes to the disk at once, so a kill -9
 * loses nothing; while they succeed, the lines wait for the flush (or a
 * full batch) and the spool gets whole batches. */
void output_gather_ended(struct running_output *o)
{
	if (o->consecutive_failures > 0)
		output_spool_stage(o);
}

void output_flush_all(struct running_output *o, void (*on_drained)(struct running_output *o))
{
	o->on_drained = on_drained;
	o->closing = true;
	if (o->spool && o->consecutive_failures > 0 && !o->writing) {
		/* The backend is failing and the disk buffer keeps everything for
		 * the next start: stop now rather than at shutdown_timeout. */
		output_spool_stage(o);
		uv_timer_stop(&o->retry_timer);
		o->backoff_ms = 0;
		drained(o);
		return;
	}
	if (o->backoff_ms > 0) /* shutting down: try now rather than after the backoff */
		uv_timer_stop(&o->retry_timer), o->backoff_ms = 0;
	start_write(o);
}

int output_start(struct running_output *o, struct agent *a, const struct output_cfg *cfg, char *err, size_t errlen)
{
	const struct agent_config *ac = a->cfg;
	memset(o, 0, sizeof *o);
	o->agent = a;
	o->cfg = cfg;
	plugin_label(o->label, sizeof o->label, "outputs", cfg->plugin->name, cfg->common.alias);
	o->batch_size = cfg->common.metric_batch_size > 0 ? cfg->common.metric_batch_size : ac->metric_batch_size;
	if (o->batch_size < 1)
		o->batch_size = 1;
	int64_t limit = cfg->common.metric_buffer_limit > 0 ? cfg->common.metric_buffer_limit : ac->metric_buffer_limit;
	if (limit < 1)
		limit = 1;
	/* The buffer limit is the memory bound the user set: a batch never exceeds it. */
	if (o->batch_size > limit)
		o->batch_size = limit;
	o->flush_interval_ns = cfg->common.flush_interval_ns > 0 ? cfg->common.flush_interval_ns : ac->flush_interval_ns;
	o->flush_jitter_ns = ac->flush_jitter_ns;
	o->stats.name = cfg->plugin->name;
	o->stats.alias = cfg->common.alias;
	o->stats.buffer_limit = (uint64_t)limit;
	o->buf = lpbuf_new((size_t)limit);
	if (!o->buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct plugin_env env = { a->loop, a->http, ac, a, o->label };
	if (cfg->plugin->init(&o->state, cfg->config, &env, err, errlen) < 0) {
		lpbuf_free(o->buf);
		o->buf = NULL;
		return -1;
	}
	o->uint_support = cfg->plugin->uint_support ? cfg->plugin->uint_support(o->state) != 0 : false;
	if (output_spool_open(o, err, errlen) < 0) {
		output_spool_close(o);
		cfg->plugin->free(o->state);
		o->state = NULL;
		lpbuf_free(o->buf);
		o->buf = NULL;
		return -1;
	}
	return 0;
}

void output_start_timers(struct running_output *o, bool periodic)
{
	uv_timer_init(o->agent->loop, &o->flush_timer);
	uv_timer_init(o->agent->loop, &o->retry_timer);
	o->flush_timer.data = o->retry_timer.data = o;
	o->timers_ready = true;
	output_spool_start_timer(o);
	if (periodic)
		uv_timer_start(&o->flush_timer, on_flush_timer, flush_delay_ms(o), 0);
}

void output_close(struct running_output *o)
{
	if (!o->buf)
		return;
	if (o->timers_ready) {
		agent_close_handle(o->agent, (uv_handle_t *)&o->flush_timer);
		agent_close_handle(o->agent, (uv_handle_t *)&o->retry_timer);
		o->timers_ready = false;
	}
	output_spool_close(o);
	if (o->cfg->plugin->free)
		o->cfg->plugin->free(o->state);
	o->state = NULL;
}

/* After the loop has ended: memory only. */
void output_release(struct running_output *o)
{
	if (o->buf)
		lpbuf_free(o->buf);
	o->buf = NULL;
	batch_free(&o->batch);
}
