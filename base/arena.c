/* See arena.h. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t cap, used;
	alignas(max_align_t) unsigned char data[];
};

static struct arena_block *block_new(size_t cap)
{
	struct arena_block *b = malloc(sizeof(*b) + cap);
	if (b) {
		b->next = NULL;
		b->cap = cap;
		b->used = 0;
	}
	return b;
}

void *hg_arena_alloc(struct arena *a, size_t n)
{
	const size_t al = alignof(max_align_t);
	if (n > SIZE_MAX - al)
		return NULL;
	n = (n + al - 1) & ~(al - 1);
	if (!a->cur || a->cur->cap - a->cur->used < n) {
		struct arena_block *b = block_new(n > ARENA_BLOCK ? n : ARENA_BLOCK);
		if (!b)
			return NULL;
		if (a->cur)
			a->cur->next = b;
		else
			a->head = b;
		a->cur = b;
	}
	void *p = a->cur->data + a->cur->used;
	a->cur->used += n;
	return p;
}

char *hg_arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = hg_arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void free_chain(struct arena_block *b)
{
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void hg_arena_reset(struct arena *a)
{
	if (!a->head)
		return;
	free_chain(a->head->next);
	a->head->next = NULL;
	a->head->used = 0;
	a->cur = a->head;
}

void hg_arena_free(struct arena *a)
{
	free_chain(a->head);
	a->head = a->cur = NULL;
}
