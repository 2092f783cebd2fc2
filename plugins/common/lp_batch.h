/* Reads a batch of line protocol back into metrics, for outputs that write
 * another format. The metric and the unescape scratch are owned here and
 * reused across batches; the scratch is sized to the batch's longest line,
 * so no line of our own making fails for want of room. */
#ifndef HG_LP_BATCH_H
#define HG_LP_BATCH_H
#include <stddef.h>
#include <stdint.h>
#include "lp.h"
#include "metric.h"

struct lp_batch_reader {
	struct metric *m;
	char *scratch;
	size_t scratch_cap;
	struct lp_parser p;
	size_t bad_lines;  /* malformed lines skipped in this batch */
	char first_error[160];
};

/* Starts reading [data, data+len) with nanosecond timestamps; lines without
 * one get now_ns. 0, or -1 when out of memory. */
int hg_lp_batch_begin(struct lp_batch_reader *r, const char *data, size_t len, int64_t now_ns);
/* The next metric (valid until the next call), or NULL at the end. */
const struct metric *hg_lp_batch_next(struct lp_batch_reader *r);
void hg_lp_batch_free(struct lp_batch_reader *r);

#endif
