/* The per-output FIFO of line-protocol lines, kept in a singly linked list
 * of chunks. Lines never span chunks, so the oldest line is always found by
 * one memchr from the head of the first chunk, and a take copies whole runs
 * of lines at once. */
#include "lpbuf.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Big enough that a chunk holds hundreds of typical lines (so the list stays
 * short and malloc is rare), small enough that the one spare an idle buffer
 * keeps is negligible on a 1 GiB node. */
#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t cap;
	size_t head, tail; /* unread bytes are data[head, tail) */
	char data[];
};

struct lpbuf {
	struct chunk *first, *last;
	struct chunk *spare; /* at most one empty standard-size chunk */
	size_t max, count, bytes, nchunks_mem;
	uint64_t dropped;
};

static struct chunk *chunk_get(struct lpbuf *b, size_t need)
{
	struct chunk *c;
	if (need <= CHUNK_SIZE && b->spare) {
		c = b->spare;
		b->spare = NULL;
	} else {
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		b->nchunks_mem += sizeof *c + cap;
	}
	c->next = NULL;
	c->head = c->tail = 0;
	return c;
}

/* Only standard-size chunks are worth keeping: an oversized one was made for
 * one huge line and would pin that much memory while idle. */
static void chunk_put(struct lpbuf *b, struct chunk *c)
{
	if (!b->spare && c->cap == CHUNK_SIZE) {
		b->spare = c;
		return;
	}
	b->nchunks_mem -= sizeof *c + c->cap;
	free(c);
}

static void release_first_if_empty(struct lpbuf *b)
{
	struct chunk *c = b->first;
	if (!c || c->head < c->tail)
		return;
	b->first = c->next;
	if (!b->first)
		b->last = NULL;
	chunk_put(b, c);
}

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0;
	const char *end = p + len, *nl;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
	}
	return n;
}

static void drop_oldest(struct lpbuf *b)
{
	struct chunk *c = b->first;
	if (!c)
		return;
	const char *p = c->data + c->head;
	const char *nl = memchr(p, '\n', c->tail - c->head);
	size_t len = nl ? (size_t)(nl - p) + 1 : c->tail - c->head;
	c->head += len;
	b->bytes -= len;
	b->count--;
	b->dropped++;
	release_first_if_empty(b);
}

static void enforce_limit(struct lpbuf *b)
{
	while (b->count > b->max && b->first)
		drop_oldest(b);
}

struct lpbuf *hg_lpbuf_new(size_t max_metrics)
{
	struct lpbuf *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	/* A zero limit would drop every metric on arrival; one is the least
	 * that still moves data. */
	b->max = max_metrics ? max_metrics : 1;
	return b;
}

void hg_lpbuf_free(struct lpbuf *b)
{
	if (!b)
		return;
	struct chunk *c = b->first;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(b->spare);
	free(b);
}

/* A line without its '\n' gets one, so that line boundaries (and the count)
 * stay exact; several lines in one push count as several metrics. */
void hg_lpbuf_push(struct lpbuf *b, const char *line, size_t len)
{
	if (len == 0)
		return;
	bool add_nl = line[len - 1] != '\n';
	size_t need = len + add_nl;
	size_t n = count_lines(line, len) + add_nl;
	struct chunk *c = b->last;
	if (!c || c->cap - c->tail < need) {
		c = chunk_get(b, need);
		if (!c) {
			b->dropped += n;
			return;
		}
		if (b->last)
			b->last->next = c;
		else
			b->first = c;
		b->last = c;
	}
	memcpy(c->data + c->tail, line, len);
	if (add_nl)
		c->data[c->tail + len] = '\n';
	c->tail += need;
	b->bytes += need;
	b->count += n;
	enforce_limit(b);
}

void hg_lpbuf_set_limit(struct lpbuf *b, size_t max_metrics)
{
	b->max = max_metrics ? max_metrics : 1;
	enforce_limit(b);
}

size_t hg_lpbuf_count(const struct lpbuf *b) { return b->count; }
size_t hg_lpbuf_bytes(const struct lpbuf *b) { return b->bytes; }
uint64_t hg_lpbuf_dropped(const struct lpbuf *b) { return b->dropped; }
size_t hg_lpbuf_mem_bytes(const struct lpbuf *b) { return b->nchunks_mem; }

static int batch_reserve(struct batch *out, size_t extra)
{
	if (out->cap - out->len >= extra)
		return 0;
	size_t cap = out->cap ? out->cap : 4096;
	while (cap - out->len < extra)
		cap *= 2;
	char *p = realloc(out->data, cap);
	if (!p)
		return -1;
	out->data = p;
	out->cap = cap;
	return 0;
}

size_t hg_lpbuf_take(struct lpbuf *b, size_t max_metrics, struct batch *out)
{
	out->len = 0;
	out->nmetrics = 0;
	while (out->nmetrics < max_metrics && b->first) {
		struct chunk *c = b->first;
		const char *start = c->data + c->head, *end = c->data + c->tail, *p = start;
		size_t n = 0;
		while (p < end && out->nmetrics + n < max_metrics) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
			n++;
		}
		size_t len = (size_t)(p - start);
		/* Out of memory: hand over what we have; the rest stays queued. */
		if (batch_reserve(out, len) < 0)
			break;
		memcpy(out->data + out->len, start, len);
		out->len += len;
		out->nmetrics += n;
		c->head += len;
		b->bytes -= len;
		b->count -= n;
		release_first_if_empty(b);
	}
	return out->nmetrics;
}

/* The batch goes in front of the first chunk when the space a take left
 * there fits it (the common take-fail-unget cycle), else into a chunk of
 * its own. */
void hg_lpbuf_unget(struct lpbuf *b, const struct batch *batch)
{
	if (!batch->len)
		return;
	bool add_nl = batch->data[batch->len - 1] != '\n';
	size_t need = batch->len + add_nl;
	size_t n = count_lines(batch->data, batch->len) + add_nl;
	struct chunk *c = b->first;
	if (c && c->head >= need) {
		c->head -= need;
	} else {
		c = chunk_get(b, need);
		if (!c) {
			b->dropped += n;
			return;
		}
		c->tail = need;
		c->next = b->first;
		b->first = c;
		if (!b->last)
			b->last = c;
	}
	memcpy(c->data + c->head, batch->data, batch->len);
	if (add_nl)
		c->data[c->head + batch->len] = '\n';
	b->bytes += need;
	b->count += n;
	enforce_limit(b);
}
