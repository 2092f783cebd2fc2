/* A growable NUL-terminated byte buffer, the one the code uses wherever text
 * is built up to a size not known in advance (docs/CONVENTIONS.md,
 * "Buffers"). Growth doubles; a failed allocation sets oom and drops every
 * later append, so a caller checks once, at the end. */
#ifndef HG_STRBUF_H
#define HG_STRBUF_H
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;      /* NUL-terminated once anything was appended; NULL before */
	size_t len, cap;
	bool oom;
};

/* Appends s[0..n); false when out of memory (now or before). */
bool hg_strbuf_append(struct strbuf *b, const void *s, size_t n);
/* printf-style append; false when out of memory. */
bool hg_strbuf_appendf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when nothing was appended). */
const char *hg_strbuf_str(const struct strbuf *b);
/* Empties the buffer, keeping its memory. */
void hg_strbuf_clear(struct strbuf *b);
/* Frees the memory; the buffer is empty and usable again. */
void hg_strbuf_free(struct strbuf *b);

#endif
