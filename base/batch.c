/* Operations on a batch taken for one write: the retry paths of outputs
 * (split on 413 "too large", drop lines a server rejected as malformed). */
#include "batch.h"
#include <stdlib.h>
#include <string.h>

void hg_batch_free(struct batch *b)
{
	free(b->data);
	*b = (struct batch){ 0 };
}

/* Byte offset just past the first k lines (or len if there are fewer). */
static size_t offset_after_lines(const struct batch *b, size_t k)
{
	const char *p = b->data, *end = b->data + b->len;
	while (k-- && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	return (size_t)(p - b->data);
}

/* The first half is rounded up so that a single line stays put: splitting
 * must never produce an empty b, or a retry loop would spin. On out of
 * memory nothing moves (rest is empty), which callers treat as "cannot
 * split". */
void hg_batch_split(struct batch *b, struct batch *rest)
{
	rest->len = 0;
	rest->nmetrics = 0;
	if (b->nmetrics < 2)
		return;
	size_t keep = (b->nmetrics + 1) / 2;
	size_t off = offset_after_lines(b, keep);
	size_t tail = b->len - off;
	if (rest->cap < tail) {
		char *p = realloc(rest->data, tail);
		if (!p)
			return;
		rest->data = p;
		rest->cap = tail;
	}
	if (tail)
		memcpy(rest->data, b->data + off, tail);
	rest->len = tail;
	rest->nmetrics = b->nmetrics - keep;
	b->len = off;
	b->nmetrics = keep;
}

/* Servers report rejected lines by number; the list is expected ascending
 * but duplicates, zeros and numbers past the end are ignored rather than
 * trusted. Returns the number of lines removed. */
size_t hg_batch_remove_lines(struct batch *b, const unsigned *lines, size_t n)
{
	if (!b->len || !n)
		return 0;
	char *r = b->data, *w = b->data, *end = b->data + b->len;
	size_t removed = 0, i = 0;
	unsigned lineno = 0;
	while (r < end && i < n) {
		char *nl = memchr(r, '\n', (size_t)(end - r));
		char *next = nl ? nl + 1 : end;
		lineno++;
		while (i < n && lines[i] < lineno)
			i++;
		if (i < n && lines[i] == lineno) {
			removed++;
		} else {
			if (w != r)
				memmove(w, r, (size_t)(next - r));
			w += next - r;
		}
		r = next;
	}
	if (r < end) {
		if (w != r)
			memmove(w, r, (size_t)(end - r));
		w += end - r;
	}
	b->len = (size_t)(w - b->data);
	b->nmetrics -= removed <= b->nmetrics ? removed : b->nmetrics;
	return removed;
}
