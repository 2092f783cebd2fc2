/* A bump allocator for building one request's worth of protobuf-c messages:
 * many small objects with a common lifetime, freed together. Pointers stay
 * valid until hg_arena_reset (blocks never move). */
#ifndef HG_ARENA_H
#define HG_ARENA_H
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head, *cur;
};

/* n bytes aligned for any object, or NULL when out of memory. */
void *hg_arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *hg_arena_strndup(struct arena *a, const char *s, size_t n);
/* Forgets every allocation; keeps the first block for the next round so a
 * steady stream of similar batches allocates nothing, and frees the rest so
 * one huge batch does not pin its memory. */
void hg_arena_reset(struct arena *a);
void hg_arena_free(struct arena *a);

#endif
