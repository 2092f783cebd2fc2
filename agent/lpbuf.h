/* Per-output metric buffer: a FIFO of line-protocol lines bounded by a
 * metric count (agent.metric_buffer_limit). When full the oldest lines go
 * first and are counted as dropped. Storage is a list of fixed-size chunks,
 * so pushing a metric allocates nothing except when a chunk fills. */
#ifndef HG_LPBUF_H
#define HG_LPBUF_H
#include <stddef.h>
#include <stdint.h>
#include "batch.h"

struct lpbuf;
/* max_metrics 0 is taken as 1. NULL when out of memory. */
struct lpbuf *hg_lpbuf_new(size_t max_metrics);
void hg_lpbuf_free(struct lpbuf *b);
/* line includes its trailing '\n' (one is added when missing; a push of
 * several lines counts as several metrics). Out of memory drops, counted. */
void hg_lpbuf_push(struct lpbuf *b, const char *line, size_t len);
size_t hg_lpbuf_count(const struct lpbuf *b);
size_t hg_lpbuf_bytes(const struct lpbuf *b);
uint64_t hg_lpbuf_dropped(const struct lpbuf *b);
/* Memory the buffer holds in chunks (queued data, slack and the one spare
 * chunk it keeps for reuse), for self-metrics and leak tests. */
size_t hg_lpbuf_mem_bytes(const struct lpbuf *b);
/* Moves up to max_metrics of the oldest lines into out (out is reset first;
 * its memory is reused). Returns the number of metrics taken. */
size_t hg_lpbuf_take(struct lpbuf *b, size_t max_metrics, struct batch *out);
/* Puts a batch that could not be written back at the front, in order. If
 * the buffer then holds more than its limit, the oldest go (counted). */
void hg_lpbuf_unget(struct lpbuf *b, const struct batch *batch);
/* Changes the limit (0 is taken as 1); lines beyond it go at once, oldest
 * first (counted). The output runner lowers it while several batches are
 * in flight, so that buffered and in flight stay within one bound. */
void hg_lpbuf_set_limit(struct lpbuf *b, size_t max_metrics);

#endif
