/* The memory store (output_store.h): o->buf is the buffer, bounded by
 * metric_buffer_limit; when full the oldest lines go and are counted. */
#include "agent_internal.h"
#include "output_store.h"

static uint64_t memory_pending(const struct running_output *o)
{
	return hg_lpbuf_count(o->buf);
}

static bool memory_counts_inflight(const struct running_output *o)
{
	(void)o;
	return false;
}

static uint64_t memory_dropped(const struct running_output *o)
{
	(void)o;
	return 0;
}

/* The memory bound is metric_buffer_limit buffered plus one batch in
 * flight, as with a single writer: batches in flight beyond the first
 * take their room from the buffer. */
static void memory_inflight_changed(struct running_output *o)
{
	uint64_t first = (uint64_t)o->batch_size_cfg, limit = (uint64_t)o->buffer_limit;
	uint64_t extra = o->inflight_metrics > first ? o->inflight_metrics - first : 0;
	hg_lpbuf_set_limit(o->buf, extra < limit ? (size_t)(limit - extra) : 1);
}

static size_t memory_take(struct running_output *o, struct output_slot *s, bool partial)
{
	size_t avail = hg_lpbuf_count(o->buf);
	size_t want = avail < (size_t)o->batch_size ? avail : (size_t)o->batch_size;
	if (want == 0 || (want < (size_t)o->batch_size && !partial))
		return 0;
	/* A writer beyond the first starts only while everything in flight
	 * fits within the buffer limit, so the buffer keeps room for a batch. */
	if (o->inflight > 0 && o->inflight_metrics + want > (uint64_t)o->buffer_limit)
		return 0;
	return hg_lpbuf_take(o->buf, want, &s->batch);
}

static void memory_unget(struct running_output *o, struct output_slot *s)
{
	memory_inflight_changed(o);
	hg_lpbuf_unget(o->buf, &s->batch);
}

static void memory_done(struct running_output *o)
{
	memory_inflight_changed(o);
}

static void memory_return_inflight(struct running_output *o)
{
	hg_lpbuf_set_limit(o->buf, (size_t)o->buffer_limit);
	for (unsigned i = 0; i < o->nslots; i++)
		if (o->slots[i].batch.nmetrics)
			hg_lpbuf_unget(o->buf, &o->slots[i].batch);
}

const struct output_store hg_output_store_memory = {
	.type = "memory",
	.durable = false,
	.pending = memory_pending,
	.counts_inflight = memory_counts_inflight,
	.dropped = memory_dropped,
	.take = memory_take,
	.unget = memory_unget,
	.done = memory_done,
	.inflight_changed = memory_inflight_changed,
	.limit_raised = memory_inflight_changed,
	.return_inflight = memory_return_inflight,
};
