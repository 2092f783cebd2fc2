/* A TOML reader for the subset Telegraf configs use: tables, arrays of
 * tables, dotted and quoted keys, strings (basic, literal, multi-line),
 * integers, floats, booleans, date-times (kept as text), arrays and inline
 * tables, comments. No TOML library for C is packaged in Debian, hence ours.
 * Every node remembers its line, so a converter can name what it drops.
 * Input must be UTF-8 (as TOML and Telegraf require); anything else is an
 * error naming the line, never passed on.
 * Telegraf's own TOML parser has no limit on size or nesting, so ours are
 * far above any real configuration and exist only to bound memory and
 * stack: input size, nesting depth, key parts and node count (TOML_MAX_*).
 * At the bounds a node is ~100 bytes, so 1M nodes stay under ~200 MB. */
#ifndef HG_TOML_H
#define HG_TOML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_BYTES (64u << 20)
#define TOML_MAX_DEPTH 512  /* arrays and inline tables inside each other */
#define TOML_MAX_KEY_PARTS 64 /* a.b.c = 1, [a.b.c] */
#define TOML_MAX_NODES 1000000

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* text in s, as written */
};

struct toml_node {
	enum toml_type type;
	int line;  /* where the key, header or array element starts */
	char *key; /* within the parent table; NULL for array elements */
	char *s;   /* STRING, DATETIME: NUL-terminated (may hold NULs from \u0000: len) */
	size_t len;
	int64_t i;
	double f;
	bool b;
	/* TABLE: its key/value pairs in file order; ARRAY: its elements. */
	struct toml_node **kids;
	size_t n, cap;
	/* Parser state: how a table came to be, to reject redefinitions. */
	bool explicit_hdr; /* [a.b] header seen */
	bool by_dotted;    /* created by a dotted key a.b = 1 */
	bool sealed;       /* inline table or static array: closed */
	bool aot;          /* array of tables made by [[...]] */
	/* STRING: an unquoted environment reference (port = ${PORT}), which
	 * Telegraf replaces in the text before parsing. */
	bool unquoted;
};

struct toml_doc {
	struct toml_node *root; /* a TABLE */
	size_t nodes;           /* for the bound */
};

/* Parses buf[0..len). 0 on success; -1 with "name:line: message" in err
 * (the message holds no raw input bytes outside printable ASCII and
 * well-formed UTF-8). */
int hg_toml_parse(struct toml_doc *doc, const char *name, const char *buf, size_t len, char *err, size_t errlen);
void hg_toml_free(struct toml_doc *doc);
/* The value of key in table t, or NULL. */
struct toml_node *hg_toml_get(const struct toml_node *t, const char *key);
const char *hg_toml_type_name(enum toml_type t);
/* The length of the well-formed UTF-8 sequence at s[0..len) (1 to 4), or 0
 * when s does not start one (overlong, surrogate, past U+10FFFF, cut). */
size_t hg_toml_utf8_seq(const unsigned char *s, size_t len);

#endif
