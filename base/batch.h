/* A batch of line-protocol lines taken for one write: contiguous bytes,
 * whole lines. Outputs receive it (plugin.h); the engine's stores fill it;
 * the retry paths split it (413) or drop rejected lines from it. */
#ifndef HG_BATCH_H
#define HG_BATCH_H
#include <stddef.h>

struct batch {
	char *data;
	size_t len, cap;
	size_t nmetrics;
};

void hg_batch_free(struct batch *b);
/* Splits b after its first half of lines; the second half moves into rest. */
void hg_batch_split(struct batch *b, struct batch *rest);
/* Removes the given line numbers (1-based, ascending) from the batch. */
size_t hg_batch_remove_lines(struct batch *b, const unsigned *lines, size_t n);

#endif
