/* The disk buffer of an output (buffer: {type: disk}). Gathered lines wait
 * in the small in-memory staging buffer only until the gather ends (or a
 * batch fills); then they are appended to the spool as records of at most
 * one batch. Writes replay the oldest record, shared out among the output's
 * writers; it is acknowledged when every line of it was written, whatever
 * order the answers came in, so a restart (even after kill -9) resumes with
 * what was not. Memory holds one gather plus one record, whatever the
 * backend does; the spool's max_size bounds the disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_internal.h"
#include "log.h"
#include "spool.h"

/* "outputs.influxdb::main" -> "outputs.influxdb__main": one directory per
 * output name or alias, so editing its other options keeps the spool. */
static void spool_dirname(const struct running_output *o, char *out, size_t len)
{
	const char *base = o->cfg->common.buffer.path ? o->cfg->common.buffer.path : "/var/lib/heliograph/spool";
	int n = snprintf(out, len, "%s/", base);
	for (const char *p = o->label; *p && n > 0 && (size_t)n + 1 < len; p++)
		out[n++] = (*p == '/' || *p == ':') ? '_' : *p;
	if (n > 0 && (size_t)n < len)
		out[n] = '\0';
}

static void on_fsync_timer(uv_timer_t *t)
{
	struct running_output *o = t->data;
	spool_sync(o->spool);
}

bool output_is_disk(const struct running_output *o)
{
	const char *t = o->cfg->common.buffer.type;
	return t && strcmp(t, "disk") == 0;
}

int output_spool_open(struct running_output *o, char *err, size_t errlen)
{
	const struct output_buffer_cfg *b = &o->cfg->common.buffer;
	if (!b->type || strcmp(b->type, "memory") == 0)
		return 0;
	if (strcmp(b->type, "disk") != 0) {
		snprintf(err, errlen, "buffer.type must be memory or disk, not \"%s\"", b->type);
		return -1;
	}
	char dir[1024];
	spool_dirname(o, dir, sizeof dir);
	struct spool_opts so = { .dir = dir, .max_size = b->max_size, .fsync_interval_ns = b->fsync_interval_ns };
	if (spool_open(&o->spool, &so, err, errlen) < 0)
		return -1;
	o->replay = lpbuf_new((size_t)o->batch_size);
	if (!o->replay) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t pending = spool_pending_lines(o->spool);
	if (pending)
		log_info(o->label, "%llu metrics from the disk buffer %s will be written first", (unsigned long long)pending,
			 dir);
	return 0;
}

void output_spool_start_timer(struct running_output *o)
{
	int64_t ns = o->cfg->common.buffer.fsync_interval_ns;
	if (!o->spool || ns <= 0)
		return;
	uv_timer_init(o->agent->loop, &o->fsync_timer);
	o->fsync_timer.data = o;
	o->fsync_timer_ready = true;
	uv_timer_start(&o->fsync_timer, on_fsync_timer, (uint64_t)(ns / 1000000), (uint64_t)(ns / 1000000));
}

/* Staging -> spool, in records of at most one batch. On a spool error the
 * lines stay in memory (bounded by metric_buffer_limit) and are retried. */
void output_spool_stage(struct running_output *o)
{
	if (!o->spool)
		return;
	while (lpbuf_count(o->buf) > 0) {
		size_t n = lpbuf_take(o->buf, (size_t)o->batch_size_cfg, &o->stage);
		char err[256];
		if (spool_append(o->spool, o->stage.data, o->stage.len, (uint32_t)n, err, sizeof err) < 0) {
			log_error(o->label, "disk buffer: %s; %zu metrics kept in memory", err, n);
			lpbuf_unget(o->buf, &o->stage);
			break;
		}
	}
	o->stage.len = o->stage.nmetrics = 0;
}

/* Fills out from the record being replayed, loading the next record from
 * the spool when that one is used up and every batch of it has its
 * answer: records are acknowledged in order, so one is in flight at a
 * time, shared out among the writers. */
size_t output_spool_take(struct running_output *o, struct batch *out)
{
	if (lpbuf_count(o->replay) == 0) {
		if (o->record_loaded)
			return 0; /* the rest of the record is in flight */
		output_spool_stage(o);
		size_t len = 0;
		uint32_t nlines = 0;
		char err[256];
		int rc = spool_peek(o->spool, &o->record, &o->record_cap, &len, &nlines, err, sizeof err);
		if (rc < 0)
			log_error(o->label, "disk buffer: %s", err);
		if (rc <= 0)
			return 0;
		lpbuf_push(o->replay, o->record, len);
		o->record_loaded = true;
		o->replay_batch = ((size_t)nlines + o->nslots - 1) / (o->nslots ? o->nslots : 1);
	}
	size_t want = o->replay_batch < (size_t)o->batch_size ? o->replay_batch : (size_t)o->batch_size;
	return lpbuf_take(o->replay, want ? want : 1, out);
}

void output_spool_unget(struct running_output *o, const struct batch *b)
{
	lpbuf_unget(o->replay, b);
}

/* After a batch was written (or dropped for good): once the whole record
 * is done, every batch of it answered in whatever order, it is
 * acknowledged and never read again. */
void output_spool_written(struct running_output *o)
{
	if (!o->record_loaded || lpbuf_count(o->replay) > 0 || o->inflight > 0)
		return;
	char err[256];
	if (spool_ack(o->spool, err, sizeof err) < 0)
		log_error(o->label, "disk buffer: %s", err);
	o->record_loaded = false;
}

uint64_t output_spool_pending(const struct running_output *o)
{
	/* The record being replayed stays in the spool's count until acked. */
	return spool_pending_lines(o->spool) + lpbuf_count(o->buf);
}

/* Records on disk waiting to be written (the one being replayed among
 * them until acked): each is a whole batch already, so none waits for
 * the flush. */
bool output_spool_backlog(const struct running_output *o)
{
	return o->spool && spool_pending_lines(o->spool) > 0;
}

uint64_t output_spool_dropped(const struct running_output *o)
{
	return spool_dropped_lines(o->spool) + lpbuf_dropped(o->replay);
}

void output_spool_close(struct running_output *o)
{
	if (!o->spool)
		return;
	if (o->fsync_timer_ready) {
		agent_close_handle(o->agent, (uv_handle_t *)&o->fsync_timer);
		o->fsync_timer_ready = false;
	}
	output_spool_stage(o);
	uint64_t left = spool_pending_lines(o->spool);
	if (left)
		log_info(o->label, "%llu metrics stay in the disk buffer for the next start", (unsigned long long)left);
	spool_close(o->spool);
	o->spool = NULL;
	lpbuf_free(o->replay);
	o->replay = NULL;
	o->record_loaded = false;
	free(o->record);
	o->record = NULL;
	batch_free(&o->stage);
}
