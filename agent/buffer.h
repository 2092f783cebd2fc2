/* Per-output metric buffer: a FIFO of line-protocol lines bounded by a
 * metric count (agent.metric_buffer_limit). When full the oldest lines go
 * first and are counted as dropped. Storage is a list of fixed-size chunks,
 * so pushing a metric allocates nothing except when a chunk fills. */
#ifndef HG_BUFFER_H
#define HG_BUFFER_H
#include <stddef.h>
#include <stdint.h>

/* A batch taken out of the buffer for one write: contiguous bytes, whole lines. */
struct batch {
	char *data;
	size_t len, cap;
	size_t nmetrics;
};

void batch_free(struct batch *b);
/* Splits b after its first half of lines; the second half moves into rest. */
void batch_split(struct batch *b, struct batch *rest);
/* Removes the given line numbers (1-based, ascending) from the batch. */
size_t batch_remove_lines(struct batch *b, const unsigned *lines, size_t n);

struct lpbuf;
/* max_metrics 0 is taken as 1. NULL when out of memory. */
struct lpbuf *lpbuf_new(size_t max_metrics);
void lpbuf_free(struct lpbuf *b);
/* line includes its trailing '\n' (one is added when missing; a push of
 * several lines counts as several metrics). Out of memory drops, counted. */
void lpbuf_push(struct lpbuf *b, const char *line, size_t len);
size_t lpbuf_count(const struct lpbuf *b);
size_t lpbuf_bytes(const struct lpbuf *b);
uint64_t lpbuf_dropped(const struct lpbuf *b);
/* Memory the buffer holds in chunks (queued data, slack and the one spare
 * chunk it keeps for reuse), for self-metrics and leak tests. */
size_t lpbuf_mem_bytes(const struct lpbuf *b);
/* Moves up to max_metrics of the oldest lines into out (out is reset first;
 * its memory is reused). Returns the number of metrics taken. */
size_t lpbuf_take(struct lpbuf *b, size_t max_metrics, struct batch *out);
/* Puts a batch that could not be written back at the front, in order. If
 * the buffer then holds more than its limit, the oldest go (counted). */
void lpbuf_unget(struct lpbuf *b, const struct batch *batch);
/* Changes the limit (0 is taken as 1); lines beyond it go at once, oldest
 * first (counted). The output runner lowers it while several batches are
 * in flight, so that buffered and in flight stay within one bound. */
void lpbuf_set_limit(struct lpbuf *b, size_t max_metrics);

#endif
