/* The disk store of an output (output_store.h; buffer: {type: disk}). Gathered lines wait
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
#include "output_store.h"
#include "spool.h"

/* What only a disk store has, allocated when it opens and freed after the
 * loop has ended (its fsync timer closes on the loop). */
struct output_disk {
	struct spool *spool;     /* NULL once closed */
	struct lpbuf *replay;    /* lines of the record being written */
	bool record_loaded;      /* replay holds a record not yet acknowledged */
	size_t replay_batch;     /* the record's share per writer */
	char *record;            /* read buffer for one record */
	size_t record_cap;
	struct batch stage;      /* staging -> spool scratch */
	uv_timer_t fsync_timer;
	bool fsync_timer_ready;
};

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
	hg_spool_sync(o->disk->spool);
}

bool hg_output_is_disk(const struct running_output *o)
{
	const char *t = o->cfg->common.buffer.type;
	return t && strcmp(t, "disk") == 0;
}

uint64_t hg_output_disk_spooled(const struct running_output *o)
{
	return o->disk && o->disk->spool ? hg_spool_pending_lines(o->disk->spool) : 0;
}

static int disk_open(struct running_output *o, char *err, size_t errlen)
{
	const struct output_buffer_cfg *b = &o->cfg->common.buffer;
	o->disk = calloc(1, sizeof *o->disk);
	if (!o->disk) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char dir[1024];
	spool_dirname(o, dir, sizeof dir);
	struct spool_opts so = { .dir = dir, .max_size = b->max_size, .fsync_interval_ns = b->fsync_interval_ns };
	if (hg_spool_open(&o->disk->spool, &so, err, errlen) < 0)
		return -1;
	o->disk->replay = hg_lpbuf_new((size_t)o->batch_size);
	if (!o->disk->replay) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t pending = hg_spool_pending_lines(o->disk->spool);
	if (pending)
		log_info(o->label, "%llu metrics from the disk buffer %s will be written first", (unsigned long long)pending,
			 dir);
	return 0;
}

static void disk_start_timers(struct running_output *o)
{
	int64_t ns = o->cfg->common.buffer.fsync_interval_ns;
	if (!o->disk->spool || ns <= 0)
		return;
	uv_timer_init(o->agent->loop, &o->disk->fsync_timer);
	o->disk->fsync_timer.data = o;
	o->disk->fsync_timer_ready = true;
	uv_timer_start(&o->disk->fsync_timer, on_fsync_timer, (uint64_t)(ns / 1000000), (uint64_t)(ns / 1000000));
}

/* Staging -> spool, in records of at most one batch. On a spool error the
 * lines stay in memory (bounded by metric_buffer_limit) and are retried. */
static void disk_stage(struct running_output *o)
{
	if (!o->disk || !o->disk->spool)
		return;
	while (hg_lpbuf_count(o->buf) > 0) {
		size_t n = hg_lpbuf_take(o->buf, (size_t)o->batch_size_cfg, &o->disk->stage);
		char err[256];
		if (hg_spool_append(o->disk->spool, o->disk->stage.data, o->disk->stage.len, (uint32_t)n, err, sizeof err) < 0) {
			log_error(o->label, "disk buffer: %s; %zu metrics kept in memory", err, n);
			hg_lpbuf_unget(o->buf, &o->disk->stage);
			break;
		}
	}
	o->disk->stage.len = o->disk->stage.nmetrics = 0;
}

/* Fills out from the record being replayed, loading the next record from
 * the spool when that one is used up and every batch of it has its
 * answer: records are acknowledged in order, so one is in flight at a
 * time, shared out among the writers. */
static size_t disk_take(struct running_output *o, struct output_slot *s, bool partial)
{
	(void)partial; /* a record is a whole batch already */
	struct batch *out = &s->batch;
	if (hg_lpbuf_count(o->disk->replay) == 0) {
		if (o->disk->record_loaded)
			return 0; /* the rest of the record is in flight */
		disk_stage(o);
		size_t len = 0;
		uint32_t nlines = 0;
		char err[256];
		int rc = hg_spool_peek(o->disk->spool, &o->disk->record, &o->disk->record_cap, &len, &nlines, err, sizeof err);
		if (rc < 0)
			log_error(o->label, "disk buffer: %s", err);
		if (rc <= 0)
			return 0;
		hg_lpbuf_push(o->disk->replay, o->disk->record, len);
		o->disk->record_loaded = true;
		o->disk->replay_batch = ((size_t)nlines + o->nslots - 1) / (o->nslots ? o->nslots : 1);
	}
	size_t want = o->disk->replay_batch < (size_t)o->batch_size ? o->disk->replay_batch : (size_t)o->batch_size;
	return hg_lpbuf_take(o->disk->replay, want ? want : 1, out);
}

static void disk_unget(struct running_output *o, struct output_slot *s)
{
	hg_lpbuf_unget(o->disk->replay, &s->batch);
}

/* After a batch was written (or dropped for good): once the whole record
 * is done, every batch of it answered in whatever order, it is
 * acknowledged and never read again. */
static void disk_done(struct running_output *o)
{
	if (!o->disk->record_loaded || hg_lpbuf_count(o->disk->replay) > 0 || o->inflight > 0)
		return;
	char err[256];
	if (hg_spool_ack(o->disk->spool, err, sizeof err) < 0)
		log_error(o->label, "disk buffer: %s", err);
	o->disk->record_loaded = false;
}

static uint64_t disk_pending(const struct running_output *o)
{
	/* The record being replayed stays in the spool's count until acked;
	 * once closed, only what is staged. */
	return (o->disk && o->disk->spool ? hg_spool_pending_lines(o->disk->spool) : 0) + hg_lpbuf_count(o->buf);
}

static bool disk_counts_inflight(const struct running_output *o)
{
	return o->disk && o->disk->spool;
}

/* Records on disk waiting to be written (the one being replayed among
 * them until acked): each is a whole batch already, so none waits for
 * the flush. */
static bool disk_backlog(const struct running_output *o)
{
	return o->disk && o->disk->spool && hg_spool_pending_lines(o->disk->spool) > 0;
}

static uint64_t disk_dropped(const struct running_output *o)
{
	if (!o->disk || !o->disk->spool)
		return 0;
	return hg_spool_dropped_lines(o->disk->spool) + hg_lpbuf_dropped(o->disk->replay);
}

static void disk_close(struct running_output *o)
{
	if (!o->disk || !o->disk->spool)
		return;
	if (o->disk->fsync_timer_ready) {
		hg_agent_close_handle(o->agent, (uv_handle_t *)&o->disk->fsync_timer);
		o->disk->fsync_timer_ready = false;
	}
	disk_stage(o);
	uint64_t left = hg_spool_pending_lines(o->disk->spool);
	if (left)
		log_info(o->label, "%llu metrics stay in the disk buffer for the next start", (unsigned long long)left);
	hg_spool_close(o->disk->spool);
	o->disk->spool = NULL;
	hg_lpbuf_free(o->disk->replay);
	o->disk->replay = NULL;
	o->disk->record_loaded = false;
	free(o->disk->record);
	o->disk->record = NULL;
	hg_batch_free(&o->disk->stage);
}

/* A disk buffer keeps in memory at most one batch of a gather. */
static void disk_pushed(struct running_output *o)
{
	if (hg_lpbuf_count(o->buf) >= (size_t)o->batch_size_cfg)
		disk_stage(o);
}

/* The staging buffer holds one gather: it grows with the limit. */
static void disk_limit_raised(struct running_output *o)
{
	hg_lpbuf_set_limit(o->buf, (size_t)o->buffer_limit);
}

static void disk_release(struct running_output *o)
{
	free(o->disk);
	o->disk = NULL;
}

const struct output_store hg_output_store_disk = {
	.type = "disk",
	.durable = true,
	.open = disk_open,
	.start_timers = disk_start_timers,
	.pending = disk_pending,
	.counts_inflight = disk_counts_inflight,
	.dropped = disk_dropped,
	.pushed = disk_pushed,
	.stage = disk_stage,
	.backlog = disk_backlog,
	.take = disk_take,
	.unget = disk_unget,
	.done = disk_done,
	.limit_raised = disk_limit_raised,
	.close = disk_close,
	.release = disk_release,
};
