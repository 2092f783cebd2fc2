#ifndef HG_RSS_TRIM_H
#define HG_RSS_TRIM_H
#include <stdbool.h>
#include <stddef.h>

/* Drops from the resident set the pages of clean read-only file mappings (program and library
 * code) and marks them to fault in one page at a time; returns the mappings trimmed. See
 * hg_rss_trim.c for why and for what is never touched. */
size_t hg_rss_trim(void);
/* The agent enables trimming; until then (agentctl, tests) hg_rss_trim_after_load does nothing. */
void hg_rss_trim_enable(void);
/* Called when a library was loaded on first use (lazy_lib.c). */
void hg_rss_trim_after_load(void);

#endif
