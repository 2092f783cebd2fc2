/* Watch mode's cache of one resource: per object only what its metrics
 * need, packed into one byte string (the strings ki_obj picked out, then
 * its numbers as varints), in an open-addressing table keyed by
 * namespace/name. A pod with one container packs into about 150 bytes
 * against the 5-15 KB of its JSON. Gathers unpack each entry into one
 * reused ki_obj and emit it with the same code as list mode, so both modes
 * write the same series for the same objects. */
#ifndef HG_KI_CACHE_H
#define HG_KI_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ki_obj.h"

struct ki_cache {
	unsigned char **slot; /* packed objects, NULL = empty */
	size_t cap, n;        /* cap: a power of two */
	size_t bytes;         /* packed bytes held (without the slots and malloc's own) */
};

void hg_ki_cache_init(struct ki_cache *c);
void hg_ki_cache_clear(struct ki_cache *c);
/* Packs o and puts it in place of the entry with its namespace/name.
 * -1: out of memory, or an object whose picked strings pass 64 KiB. */
int hg_ki_cache_put(struct ki_cache *c, const struct ki_obj *o);
/* Removes namespace/name (ns "" for nodes); false when absent. */
bool hg_ki_cache_remove(struct ki_cache *c, const char *ns, const char *name);
bool hg_ki_cache_has(const struct ki_cache *c, const char *ns, const char *name);
/* Entry i of 0 .. cap-1 unpacked into o (kind set by the caller); false for an empty slot. */
bool hg_ki_cache_get(const struct ki_cache *c, size_t i, struct ki_obj *o);
/* Memory the cache holds: packed bytes, malloc's per-block overhead, the slot array. */
size_t hg_ki_cache_memory(const struct ki_cache *c);

#endif
