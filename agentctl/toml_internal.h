/* What the two halves of the TOML parser share: toml_lex.c reads values
 * (strings, numbers, booleans, date-times, env references, arrays) and
 * toml.c the structure around them (keys, tables, inline tables, arrays of
 * tables) and builds the tree. Private to them; the API is toml.h.
 * The character tests are static inline: the lexer calls them per byte. */
#ifndef HG_TOML_INTERNAL_H
#define HG_TOML_INTERNAL_H
#include <stddef.h>
#include "strbuf.h"
#include "toml.h"

struct parser {
	const char *p, *end;
	int line;
	const char *name;
	struct toml_doc *doc;
	char *err;
	size_t errlen;
};

/* Records the first error; fail() below is the form parsers use. */
__attribute__((format(printf, 2, 3))) void hg_toml_note_error(struct parser *ps, const char *fmt, ...);

/* An error: -1, visibly at the call site. A variadic function's result is
 * opaque to the static analyser (it does not follow such calls), which
 * then followed error returns as successes into half-built nodes. */
#define fail(ps, ...) (hg_toml_note_error((ps), __VA_ARGS__), -1)

/* The character at p for a message: 'c' when printable ASCII, else its
 * code ("U+00E9", "byte 0x0C"), so no raw byte reaches the message. */
const char *hg_toml_chdesc(const struct parser *ps, const char *p, char *buf, size_t len);

/* toml.c: nodes of the tree being built. node_new counts toward
 * TOML_MAX_NODES; node_drop frees one not yet linked in. */
struct toml_node *hg_toml_node_new(struct parser *ps, enum toml_type t, int line);
void hg_toml_node_drop(struct toml_node *n);
int hg_toml_add_kid(struct parser *ps, struct toml_node *parent, struct toml_node *kid);
/* toml.c: {k = v, ...} at ps->p; values through hg_toml_parse_value. */
int hg_toml_parse_inline_table(struct parser *ps, struct toml_node *n, int depth);

/* toml_lex.c */
int hg_toml_skip_comment(struct parser *ps);
/* Whitespace, comments and newlines (inside arrays and inline tables). */
int hg_toml_skip_blank(struct parser *ps);
/* A string starting at ps->p (its opening quote); fills b. */
int hg_toml_parse_string(struct parser *ps, struct strbuf *b);
/* Any value at ps->p into n; depth bounds the nesting (TOML_MAX_DEPTH). */
int hg_toml_parse_value(struct parser *ps, struct toml_node *n, int depth);

static inline int sb_put(struct parser *ps, struct strbuf *b, const char *s, size_t n)
{
	return hg_strbuf_append(b, s, n) ? 0 : fail(ps, "out of memory");
}

static inline int at_end(struct parser *ps)
{
	return ps->p >= ps->end;
}

static inline void skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static inline int at_newline(struct parser *ps)
{
	return !at_end(ps) && (*ps->p == '\n' || (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'));
}

static inline void eat_newline(struct parser *ps)
{
	if (*ps->p == '\r')
		ps->p++;
	ps->p++;
	ps->line++;
}

static inline int is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

#endif
