/* What the two files of the text parser share: prom_text.c reads sample
 * lines as the body streams in (the gather's hot path), prom_text_meta.c
 * the document around them (its lifecycle, the HELP/TYPE/UNIT lines, and
 * OpenMetrics' # EOF rules). Private to them; the API is prom.h.
 * Helpers the sample path calls per line or per sample are static inline
 * here, so that it makes no call into the other file. */
#ifndef HG_PROM_TEXT_INTERNAL_H
#define HG_PROM_TEXT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "prom.h"

#define FAM_MAX 256
/* Typed families remembered per document: a cadvisor or node_exporter
 * scrape has a few hundred; beyond the table a returning family is
 * reported as a new untyped one rather than growing memory. */
#define TYPES_SLOTS 2048
#define TYPES_MAX 1536
#define NAMES_ARENA (64 * 1024)

struct type_slot {
	uint32_t off; /* into names; 0 = empty (offset 0 is never used) */
	uint16_t len;
	uint8_t type;
};

struct prom_text {
	prom_sample_fn on_sample;
	prom_error_fn on_error;
	void *arg;
	char *line;
	size_t len, cap;
	bool skipping, om, eof_seen;
	unsigned long lineno, errors, samples;
	/* the current family */
	char fam[FAM_MAX];
	size_t famlen;
	enum prom_type ftype;
	bool fam_help, fam_type, fam_samples;
	/* families with a TYPE line */
	struct type_slot slots[TYPES_SLOTS];
	size_t ntypes;
	char *names;
	size_t names_used;
	struct prom_sample s;
};

enum { PART_SKIP = -1 };

/* Counts a bad line and hands "line N: message" to on_error. */
void hg_prom_text_error(struct prom_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* prom_text_meta.c: a "#" line (p is past the '#'): HELP, TYPE, UNIT, EOF
 * or a comment. */
void hg_prom_text_comment(struct prom_text *t, char *p, char *end);

/* ---- the table of typed families (remembered by prom_text_meta.c) ---- */

static inline uint32_t hash_name(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static inline struct type_slot *type_slot(struct prom_text *t, const char *name, size_t n)
{
	uint32_t i = hash_name(name, n) & (TYPES_SLOTS - 1);
	for (;;) {
		struct type_slot *s = &t->slots[i];
		if (s->off == 0 || (s->len == n && memcmp(t->names + s->off, name, n) == 0))
			return s;
		i = (i + 1) & (TYPES_SLOTS - 1);
	}
}

static inline int type_lookup(struct prom_text *t, const char *name, size_t n)
{
	struct type_slot *s = type_slot(t, name, n);
	return s->off ? s->type : -1;
}

/* ---- lexing helpers ---- */

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline char *skip_blanks(char *p, char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static inline bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static inline bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static inline char *token_end(char *p, char *end)
{
	while (p < end && !is_blank(*p))
		p++;
	return p;
}

/* ---- families ---- */

static inline bool fam_is(const struct prom_text *t, const char *name, size_t n)
{
	return t->famlen == n && memcmp(t->fam, name, n) == 0;
}

static inline bool switch_family(struct prom_text *t, const char *name, size_t n)
{
	if (fam_is(t, name, n))
		return true;
	if (n >= FAM_MAX) {
		hg_prom_text_error(t, "metric name longer than %d bytes", FAM_MAX - 1);
		return false;
	}
	memcpy(t->fam, name, n);
	t->famlen = n;
	int type = type_lookup(t, name, n);
	t->ftype = type < 0 ? PROM_UNTYPED : (enum prom_type)type;
	t->fam_type = type >= 0;
	t->fam_help = false;
	t->fam_samples = false;
	return true;
}

#endif
