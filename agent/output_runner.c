/* Runs one output: its bounded buffer, batching by size and flush interval,
 * and what to do with each write's outcome. Telegraf's v1 output drops a
 * batch on 413 and 429; here nothing is dropped that can still be written:
 * retryable failures put the batch back (the buffer limit still holds) and
 * back off, 413 halves the batch size, partial writes drop only the lines
 * the server rejected.
 *
 * A 413 is often a passing limit (a proxy being reconfigured, a server
 * under memory pressure), so it must not cost the output its throughput
 * for good: every batch written at the current size doubles it again, up
 * to metric_batch_size. The largest size that worked is remembered: when a
 * batch grown past it meets 413, the output goes back to it and tries the
 * larger size again only after CEILING_HOLD_WRITES writes, so a lasting
 * limit costs one 413 in that many writes. A single line answered 413 is
 * retried with backoff like a 5xx, and dropped (and counted) only when it
 * is too large on its own: longer than any body the server ever took and
 * refused SINGLE_413_TRIES times in a row. Before the server took anything
 * a refusal says less (every request of a 413 storm is refused), so then it
 * takes SINGLE_413_TRIES_COLD refusals, about a minute and a half of
 * backoff, rather than blocking the output for good.
 *
 * At shutdown (without a disk buffer) whatever is buffered is lost once
 * shutdown_timeout ends, so the backoff gives way: every writer is used at
 * once and a failed write is tried again within SHUTDOWN_RETRY_MS, whatever
 * the backoff or Retry-After asked for. What is still unwritten at the
 * deadline is logged and counted as lost.
 *
 * Up to max_in_flight batches are written at once, each through its own
 * plugin state (a lane), because one write at a time leaves a fast server
 * idle between requests. What stays per output, not per write: a 429/5xx
 * backs off the whole output (no new write starts until the backoff ends;
 * answers to writes already sent then are still taken), 413 shrinks the
 * batch size for every writer, and the buffer bound counts what is in
 * flight. Batches may be written out of order; InfluxDB orders points by
 * timestamp, not by arrival. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_internal.h"
#include "log.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 30000
#define RETRY_AFTER_CAP_MS (10 * 60 * 1000)
#define CEILING_HOLD_WRITES 64
#define SINGLE_413_TRIES 3
#define SINGLE_413_TRIES_COLD 8
#define SHUTDOWN_RETRY_MS 500

static void start_writes(struct running_output *o, bool partial);

int64_t hg_output_backoff_ms(unsigned failures, int64_t retry_after_ms)
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

/* Metrics waiting to be written, in the output's store. */
static uint64_t pending(const struct running_output *o)
{
	return o->store->pending(o);
}

/* Waiting, and in flight where the store does not count those already. */
static uint64_t buffered(const struct running_output *o)
{
	return pending(o) + (o->store->counts_inflight(o) ? 0 : o->inflight_metrics);
}

static void inflight_changed(struct running_output *o)
{
	if (o->store->inflight_changed)
		o->store->inflight_changed(o);
}

static void stage(struct running_output *o)
{
	if (o->store->stage)
		o->store->stage(o);
}

/* A batch that could not be written goes back to the front of its queue. */
static void unget_batch(struct running_output *o, struct output_slot *s)
{
	o->store->unget(o, s);
	s->batch.len = s->batch.nmetrics = 0;
}

/* A batch that is done with, written or dropped for good. */
static void batch_done(struct running_output *o, struct output_slot *s)
{
	s->batch.len = s->batch.nmetrics = 0;
	o->store->done(o);
}

static void refresh_stats(struct running_output *o)
{
	o->stats.buffer_size = buffered(o);
	o->stats.metrics_dropped = hg_lpbuf_dropped(o->buf) + o->server_dropped + o->store->dropped(o);
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
	stage(o);
	start_writes(o, true);
	uv_timer_start(&o->flush_timer, on_flush_timer, flush_delay_ms(o), 0);
}

static bool backing_off(const struct running_output *o)
{
	return o->backoff_ms > 0 && uv_is_active((const uv_handle_t *)&o->retry_timer);
}

static void on_retry_timer(uv_timer_t *t)
{
	struct running_output *o = t->data;
	/* After a backoff the batch put back is written even if it is not a
	 * full one; a plain "next write" waits for full batches. */
	bool partial = o->backoff_ms > 0 || o->inflight == 0;
	o->backoff_ms = 0;
	start_writes(o, partial);
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

/* Tells the agent the output is done once nothing is in flight and either
 * nothing is left or it stops early (reload, --once failure, disk buffer). */
static void maybe_drained(struct running_output *o)
{
	if (o->on_drained && o->inflight == 0 && (pending(o) == 0 || o->stop_after_inflight || o->giving_up))
		drained(o);
}

/* A batch of n lines was written: remember what worked, and grow the
 * batch back towards metric_batch_size after a 413 made it smaller. */
static void batch_worked(struct running_output *o, const struct output_slot *s, size_t n)
{
	if ((int64_t)n > o->batch_good)
		o->batch_good = (int64_t)n;
	if (s->batch.len > o->longest_ok_len)
		o->longest_ok_len = s->batch.len;
	o->single_413 = 0;
	/* Only a batch of the current size says that size works; several
	 * writers answered for one size double it once. */
	if ((int64_t)n < o->batch_size || o->batch_size >= o->batch_size_cfg)
		return;
	int64_t next = 2 * (int64_t)n < o->batch_size_cfg ? 2 * (int64_t)n : o->batch_size_cfg;
	if (o->batch_ceiling > 0 && next >= o->batch_ceiling) {
		if (o->ceiling_hold > 0) {
			o->ceiling_hold--;
			return;
		}
		o->batch_ceiling = 0; /* long enough: the limit may have gone */
	}
	o->batch_size = next;
	if (next == o->batch_size_cfg)
		log_info(o->label, "writing batches of %lld again", (long long)next);
}

/* A batch of one line was answered 413: whether it is too large on its
 * own (drop it) rather than caught by a passing limit (retry it). */
static bool too_large_alone(struct running_output *o, const struct output_slot *s)
{
	if (s->batch.len <= o->longest_ok_len)
		return false; /* the server took a body this long before */
	if (++o->single_413 < (o->longest_ok_len ? SINGLE_413_TRIES : SINGLE_413_TRIES_COLD))
		return false;
	o->single_413 = 0;
	return true;
}

/* 413 for a batch of n > 1 lines: the size to write from now on. */
static void batch_too_large(struct running_output *o, size_t n, const char *message)
{
	int64_t next = (int64_t)(n / 2);
	if (o->batch_good >= (int64_t)n) {
		o->batch_good = 0; /* the limit came down: what worked is no guide */
	} else if (o->batch_good > 0) {
		/* Grown past a size that worked: back to it, and stay a while. */
		if (o->batch_good > next)
			next = o->batch_good;
		o->batch_ceiling = (int64_t)n;
		o->ceiling_hold = CEILING_HOLD_WRITES;
	}
	/* Several writers may hear 413 for batches of one size: shrink once. */
	if (next < o->batch_size) {
		o->batch_size = next;
		log_warn(o->label, "batch of %zu metrics too large; writing batches of %lld: %s", n,
			 (long long)o->batch_size, message);
	}
}

static void write_done(void *arg, const struct write_result *r)
{
	struct output_slot *s = arg;
	struct running_output *o = s->o;
	struct agent *a = o->agent;
	size_t n = s->batch.nmetrics;
	s->busy = false;
	o->inflight--;
	o->inflight_metrics -= n;
	o->stats.write_time_ns = (int64_t)(mono_ns() - s->started_ns);
	/* Only a write sent after the last counted failure says something new
	 * about the server: the others were already on their way. */
	bool fresh = s->started_ns > o->last_failure_ns;
	enum write_status status = r->status;
	if (status == WRITE_TOO_LARGE && n <= 1 && !too_large_alone(o, s))
		status = WRITE_RETRY; /* it fits on its own: keep it, back off */

	switch (status) {
	case WRITE_OK: {
		size_t dropped = r->dropped_lines > n ? n : r->dropped_lines;
		o->stats.metrics_written += n - dropped;
		a->totals.metrics_written += n - dropped;
		o->server_dropped += dropped;
		if (dropped)
			log_warn(o->label, "%zu of %zu metrics dropped: %s", dropped, n, r->message);
		log_debug(o->label, "wrote batch of %zu metrics in %.1f ms", n - dropped,
			  (double)o->stats.write_time_ns / 1e6);
		o->stats.last_success_ns = hg_now_ns();
		if (fresh)
			o->consecutive_failures = 0;
		batch_worked(o, s, n);
		batch_done(o, s);
		break;
	}
	case WRITE_TOO_LARGE:
		if (n <= 1) {
			log_error(o->label,
				  "a single metric of %zu bytes is too large for the server (refused alone %d times in a "
				  "row, longer than any body it took); dropped: %s",
				  s->batch.len, o->longest_ok_len ? SINGLE_413_TRIES : SINGLE_413_TRIES_COLD, r->message);
			o->server_dropped += n;
			o->stats.errors++;
			batch_done(o, s);
			break;
		}
		batch_too_large(o, n, r->message);
		unget_batch(o, s);
		refresh_stats(o);
		if (o->giving_up || o->stop_after_inflight)
			maybe_drained(o);
		else if (!backing_off(o))
			schedule_write(o, 0);
		return;
	case WRITE_DROP:
		log_error(o->label, "server refused a batch of %zu metrics; dropped: %s", n, r->message);
		o->server_dropped += n;
		o->stats.errors++;
		batch_done(o, s);
		break;
	case WRITE_RETRY:
	default: {
		o->stats.errors++;
		o->failed = true;
		if (fresh) {
			o->consecutive_failures++;
			o->last_failure_ns = mono_ns();
		}
		unget_batch(o, s);
		refresh_stats(o);
		/* Shutting down with a disk buffer: what failed is safe on disk
		 * for the next start, so there is nothing to wait for but the
		 * writes already in flight. */
		if (o->fail_fast || o->stop_after_inflight || (o->closing && o->store->durable) || o->giving_up) {
			log_error(o->label, "write failed: %s", r->message);
			o->giving_up = true;
			uv_timer_stop(&o->retry_timer);
			o->backoff_ms = 0;
			maybe_drained(o);
			return;
		}
		/* One backoff for the whole output: a failure of a write already in
		 * flight when it began neither restarts nor lengthens it. */
		if (!fresh && backing_off(o)) {
			log_error(o->label, "write of %zu metrics failed, %llu buffered, already backing off: %s", n,
				  (unsigned long long)pending(o), r->message);
			return;
		}
		int64_t delay = hg_output_backoff_ms(o->consecutive_failures ? o->consecutive_failures : 1, r->retry_after_ms);
		int64_t flush_ms = o->flush_interval_ns / 1000000;
		if (r->retry_at_flush && delay > flush_ms)
			delay = flush_ms > 0 ? flush_ms : 0;
		if (o->closing && delay > SHUTDOWN_RETRY_MS)
			delay = SHUTDOWN_RETRY_MS; /* what is not written by shutdown_timeout is lost */
		log_error(o->label, "write of %zu metrics failed, %llu buffered, retrying in %lld ms: %s", n,
			  (unsigned long long)pending(o), (long long)delay, r->message);
		schedule_write(o, delay);
		return;
	}
	}
	refresh_stats(o);
	if (o->stop_after_inflight || o->giving_up || (pending(o) == 0 && o->inflight == 0)) {
		maybe_drained(o);
		return;
	}
	/* A disk buffer's records go back to back: during an outage each
	 * input's gather became a record of its own, and written one per flush
	 * while each flush adds one, such a backlog would never shrink. */
	if ((o->on_drained || pending(o) >= (uint64_t)o->batch_size || (o->store->backlog && o->store->backlog(o))) && !backing_off(o))
		schedule_write(o, 0);
}

static size_t take_batch(struct running_output *o, struct output_slot *s, bool partial)
{
	return o->store->take(o, s, partial);
}

/* Starts writes on the idle writers while there are batches for them; a
 * batch smaller than batch_size only when partial (flush, retry, shutdown). */
static void start_writes(struct running_output *o, bool partial)
{
	for (unsigned i = 0; i < o->nslots; i++) {
		struct output_slot *s = &o->slots[i];
		if (s->busy)
			continue;
		/* Checked every time: a synchronous write may have failed. */
		if (uv_is_active((uv_handle_t *)&o->retry_timer) || o->giving_up || o->stop_after_inflight)
			break;
		/* While the server fails, the retry is a probe: one write at a
		 * time, the writers fan out again after a success. Not at
		 * shutdown: what is not written then is lost. */
		if (o->consecutive_failures > 0 && o->inflight > 0 && !o->closing)
			break;
		if (take_batch(o, s, partial || o->on_drained) == 0)
			break;
		s->busy = true;
		o->inflight++;
		o->inflight_metrics += s->batch.nmetrics;
		s->started_ns = mono_ns();
		inflight_changed(o);
		refresh_stats(o);
		o->cfg->plugin->write(s->lane, &s->batch, write_done, s);
	}
	maybe_drained(o);
}

void hg_output_push(struct running_output *o, const char *line, size_t len)
{
	hg_lpbuf_push(o->buf, line, len);
	o->stats.metrics_added++;
	if (o->store->pushed)
		o->store->pushed(o);
	refresh_stats(o);
	if (pending(o) >= (uint64_t)o->batch_size && o->backoff_ms == 0)
		start_writes(o, false);
}

/* metric_buffer_limit is the floor of the buffer, not its ceiling: one
 * gather bigger than the limit (kube_inventory on a cluster of thousands of
 * pods) would drop its own first metrics on the way in, and an outage would
 * keep no gather whole. So the limit grows to hold two gathers of the
 * largest input (one waiting while the next arrives), as they grow, in
 * steps of a batch; it never shrinks while the agent runs. The memory is
 * what that input produces anyway; internal_write's buffer_limit and the
 * log show the limit in force. */
void hg_output_fit_gather(struct running_output *o, uint64_t n)
{
	uint64_t want = 2 * n, step = (uint64_t)o->batch_size_cfg;
	if (want <= (uint64_t)o->buffer_limit)
		return;
	want = (want + step - 1) / step * step;
	o->buffer_limit = (int64_t)want;
	o->stats.buffer_limit = want;
	if (o->store->limit_raised)
		o->store->limit_raised(o);
}

void hg_output_tell_fit(struct running_output *o, const struct running_input *ri)
{
	if (o->buffer_limit <= o->buffer_limit_told || 2 * ri->gather_metrics <= (uint64_t)o->buffer_limit_told)
		return; /* no raise, or another input's */
	o->buffer_limit_told = o->buffer_limit;
	log_info(o->label, "buffer limit raised to %lld metrics (metric_buffer_limit %lld): two gathers of %s, %llu metrics each",
		 (long long)o->buffer_limit, (long long)o->buffer_limit_cfg, ri->label, (unsigned long long)ri->gather_metrics);
}

void hg_output_finish_inflight(struct running_output *o, void (*on_drained)(struct running_output *o))
{
	o->on_drained = on_drained;
	o->stop_after_inflight = true;
	uv_timer_stop(&o->retry_timer);
	o->backoff_ms = 0;
	maybe_drained(o);
}

uint64_t hg_output_pending(const struct running_output *o)
{
	return o->buf ? buffered(o) : 0;
}

/* While writes fail, every gather goes to the disk at once, so a kill -9
 * loses nothing; while they succeed, the lines wait for the flush (or a
 * full batch) and the spool gets whole batches. */
void hg_output_gather_ended(struct running_output *o)
{
	if (o->consecutive_failures > 0)
		stage(o);
}

void hg_output_flush_all(struct running_output *o, void (*on_drained)(struct running_output *o))
{
	o->on_drained = on_drained;
	o->closing = true;
	o->giving_up = false;
	if (o->store->durable && o->consecutive_failures > 0) {
		/* The backend is failing and the disk buffer keeps everything for
		 * the next start: stop now (once the writes in flight have their
		 * answers) rather than at shutdown_timeout. */
		stage(o);
		uv_timer_stop(&o->retry_timer);
		o->backoff_ms = 0;
		o->giving_up = true;
		maybe_drained(o);
		return;
	}
	if (o->backoff_ms > 0) /* shutting down: try now rather than after the backoff */
		uv_timer_stop(&o->retry_timer), o->backoff_ms = 0;
	start_writes(o, true);
}

void hg_output_unget_inflight(struct running_output *o)
{
	if (o->buf && o->store->return_inflight)
		o->store->return_inflight(o);
	for (unsigned i = 0; o->buf && i < o->nslots; i++) {
		struct output_slot *s = &o->slots[i];
		s->batch.len = s->batch.nmetrics = 0;
		s->busy = false;
	}
	o->inflight = 0;
	o->inflight_metrics = 0;
}

/* The writers: lane 0 is o->state; the plugin says how many it wants. */
static int start_lanes(struct running_output *o, struct plugin_env *env, char *err, size_t errlen)
{
	const struct output_plugin *p = o->cfg->plugin;
	unsigned n = p->max_in_flight ? p->max_in_flight(o->state) : 1;
	if (n < 1)
		n = 1;
	if (n > OUTPUT_IN_FLIGHT_MAX)
		n = OUTPUT_IN_FLIGHT_MAX;
	o->slots = calloc(n, sizeof *o->slots);
	if (!o->slots) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->nslots = n;
	for (unsigned i = 0; i < n; i++) {
		o->slots[i].o = o;
		if (i == 0) {
			o->slots[i].lane = o->state;
			continue;
		}
		env->lane = i;
		if (p->init(&o->slots[i].lane, o->cfg->config, env, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void free_lanes(struct running_output *o)
{
	for (unsigned i = 1; o->slots && i < o->nslots; i++) {
		if (o->slots[i].lane && o->cfg->plugin->free)
			o->cfg->plugin->free(o->slots[i].lane);
		o->slots[i].lane = NULL;
	}
	if (o->slots)
		o->slots[0].lane = NULL;
}

int hg_output_start(struct running_output *o, struct agent *a, const struct output_cfg *cfg, char *err, size_t errlen)
{
	const struct agent_config *ac = a->cfg;
	memset(o, 0, sizeof *o);
	o->agent = a;
	o->cfg = cfg;
	hg_plugin_label(o->label, sizeof o->label, "outputs", cfg->plugin->name, cfg->common.alias);
	const char *type = cfg->common.buffer.type;
	if (!type || strcmp(type, "memory") == 0) {
		o->store = &hg_output_store_memory;
	} else if (strcmp(type, "disk") == 0) {
		o->store = &hg_output_store_disk;
	} else {
		snprintf(err, errlen, "buffer.type must be memory or disk, not \"%s\"", type);
		return -1;
	}
	o->batch_size = cfg->common.metric_batch_size > 0 ? cfg->common.metric_batch_size : ac->metric_batch_size;
	if (o->batch_size < 1)
		o->batch_size = 1;
	int64_t limit = cfg->common.metric_buffer_limit > 0 ? cfg->common.metric_buffer_limit : ac->metric_buffer_limit;
	if (limit < 1)
		limit = 1;
	/* The buffer limit is the memory bound the user set: a batch never exceeds it. */
	if (o->batch_size > limit)
		o->batch_size = limit;
	o->batch_size_cfg = o->batch_size;
	o->buffer_limit = o->buffer_limit_cfg = o->buffer_limit_told = limit;
	o->flush_interval_ns = cfg->common.flush_interval_ns > 0 ? cfg->common.flush_interval_ns : ac->flush_interval_ns;
	o->flush_jitter_ns = ac->flush_jitter_ns;
	o->stats.flush_interval_ns = o->flush_interval_ns;
	o->stats.name = cfg->plugin->name;
	o->stats.alias = cfg->common.alias;
	o->stats.buffer_limit = (uint64_t)limit;
	o->buf = hg_lpbuf_new((size_t)limit);
	if (!o->buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct plugin_env env = { a->loop, a->http, ac, a, o->label, NULL, 0 };
	if (cfg->plugin->init(&o->state, cfg->config, &env, err, errlen) < 0) {
		hg_lpbuf_free(o->buf);
		o->buf = NULL;
		return -1;
	}
	o->uint_support = cfg->plugin->uint_support ? cfg->plugin->uint_support(o->state) != 0 : false;
	if (start_lanes(o, &env, err, errlen) < 0 || (o->store->open && o->store->open(o, err, errlen) < 0)) {
		if (o->store->close)
			o->store->close(o);
		if (o->store->release)
			o->store->release(o);
		free_lanes(o);
		free(o->slots);
		o->slots = NULL;
		cfg->plugin->free(o->state);
		o->state = NULL;
		hg_lpbuf_free(o->buf);
		o->buf = NULL;
		return -1;
	}
	return 0;
}

void hg_output_start_timers(struct running_output *o, bool periodic)
{
	uv_timer_init(o->agent->loop, &o->flush_timer);
	uv_timer_init(o->agent->loop, &o->retry_timer);
	o->flush_timer.data = o->retry_timer.data = o;
	o->timers_ready = true;
	if (o->store->start_timers)
		o->store->start_timers(o);
	if (periodic)
		uv_timer_start(&o->flush_timer, on_flush_timer, flush_delay_ms(o), 0);
}

void hg_output_close(struct running_output *o)
{
	if (!o->buf)
		return;
	if (o->timers_ready) {
		hg_agent_close_handle(o->agent, (uv_handle_t *)&o->flush_timer);
		hg_agent_close_handle(o->agent, (uv_handle_t *)&o->retry_timer);
		o->timers_ready = false;
	}
	if (o->store->close)
		o->store->close(o);
	free_lanes(o);
	if (o->cfg->plugin->free)
		o->cfg->plugin->free(o->state);
	o->state = NULL;
}

/* After the loop has ended: memory only. */
void hg_output_release(struct running_output *o)
{
	free_lanes(o); /* when hg_output_close never ran */
	if (o->store && o->store->release)
		o->store->release(o);
	if (o->buf)
		hg_lpbuf_free(o->buf);
	o->buf = NULL;
	for (unsigned i = 0; o->slots && i < o->nslots; i++)
		hg_batch_free(&o->slots[i].batch);
	free(o->slots);
	o->slots = NULL;
	o->nslots = 0;
}
