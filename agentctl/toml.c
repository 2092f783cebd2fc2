/* TOML parsing: a single pass over the buffer building the tree of toml.h.
 * Recursion (arrays, inline tables, key paths) is bounded by TOML_MAX_DEPTH
 * and allocation by TOML_MAX_NODES and TOML_MAX_BYTES. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define MAX_PATH TOML_MAX_KEY_PARTS

struct keypath {
	char *seg[MAX_PATH];
	int n;
	int line;
};

/* Records the first error; fail() below is the form parsers use. */
__attribute__((format(printf, 2, 3))) static void note_error(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Only the first error counts: later ones come from unwinding. */
	if (ps->err[0] == '\0')
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name, ps->line, msg);
}

/* An error: -1, visibly at the call site. A variadic function's result is
 * opaque to the static analyser (it does not follow such calls), which
 * then followed error returns as successes into half-built nodes. */
#define fail(ps, ...) (note_error((ps), __VA_ARGS__), -1)

/* The character at p for a message: 'c' when printable ASCII, else its
 * code ("U+00E9", "byte 0x0C"), so no raw byte reaches the message. */
static const char *chdesc(const struct parser *ps, const char *p, char *buf, size_t len)
{
	unsigned char c = (unsigned char)*p;
	if (c >= 0x20 && c < 0x7f) {
		snprintf(buf, len, "'%c'", c);
		return buf;
	}
	size_t n = hg_toml_utf8_seq((const unsigned char *)p, (size_t)(ps->end - p));
	if (n > 1) {
		unsigned long cp = c & (0x7F >> n);
		for (size_t i = 1; i < n; i++)
			cp = (cp << 6) | ((unsigned char)p[i] & 0x3F);
		snprintf(buf, len, "U+%04lX", cp);
	} else {
		snprintf(buf, len, "byte 0x%02X", c);
	}
	return buf;
}

static int sb_put(struct parser *ps, struct strbuf *b, const char *s, size_t n)
{
	return hg_strbuf_append(b, s, n) ? 0 : fail(ps, "out of memory");
}

static struct toml_node *node_new(struct parser *ps, enum toml_type t, int line)
{
	if (ps->doc->nodes >= TOML_MAX_NODES) {
		note_error(ps, "more than %d values", TOML_MAX_NODES);
		return NULL;
	}
	struct toml_node *n = calloc(1, sizeof(*n));
	if (!n) {
		note_error(ps, "out of memory");
		return NULL;
	}
	ps->doc->nodes++;
	n->type = t;
	n->line = line;
	return n;
}

static void node_drop(struct toml_node *n)
{
	/* A node not yet linked into the tree. */
	if (!n)
		return;
	struct toml_doc d = { n, 0 };
	hg_toml_free(&d);
}

static int add_kid(struct parser *ps, struct toml_node *parent, struct toml_node *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct toml_node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return fail(ps, "out of memory");
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* ---- lexical helpers ---- */

static int at_end(struct parser *ps)
{
	return ps->p >= ps->end;
}

static void skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static int at_newline(struct parser *ps)
{
	return !at_end(ps) && (*ps->p == '\n' || (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'));
}

static void eat_newline(struct parser *ps)
{
	if (*ps->p == '\r')
		ps->p++;
	ps->p++;
	ps->line++;
}

static int skip_comment(struct parser *ps)
{
	if (at_end(ps) || *ps->p != '#')
		return 0;
	while (!at_end(ps) && !at_newline(ps)) {
		unsigned char c = (unsigned char)*ps->p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(ps, "control character in a comment");
		ps->p++;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays and inline tables). */
static int skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (skip_comment(ps) < 0)
			return -1;
		if (!at_newline(ps))
			return 0;
		eat_newline(ps);
	}
}

/* After a key/value or header: only a comment, then the end of the line. */
static int end_of_line(struct parser *ps)
{
	skip_ws(ps);
	if (skip_comment(ps) < 0)
		return -1;
	if (at_end(ps))
		return 0;
	char cd[16];
	if (!at_newline(ps))
		return fail(ps, "unexpected %s after the value (one key = value per line)", chdesc(ps, ps->p, cd, sizeof cd));
	eat_newline(ps);
	return 0;
}

/* ---- strings ---- */

static int put_utf8(struct parser *ps, struct strbuf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return fail(ps, "escape \\u%lX is not a Unicode scalar value", cp);
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sb_put(ps, b, u, n);
}

static int escape(struct parser *ps, struct strbuf *b)
{
	/* ps->p is past the backslash. */
	if (at_end(ps))
		return fail(ps, "unterminated string");
	char c = *ps->p++;
	const char *rep = NULL;
	char cd[16];
	switch (c) {
	case 'b': rep = "\b"; break;
	case 't': rep = "\t"; break;
	case 'n': rep = "\n"; break;
	case 'f': rep = "\f"; break;
	case 'r': rep = "\r"; break;
	case 'e': rep = "\x1b"; break;
	case '"': rep = "\""; break;
	case '\\': rep = "\\"; break;
	case 'u':
	case 'U': {
		int digits = c == 'u' ? 4 : 8;
		unsigned long cp = 0;
		for (int i = 0; i < digits; i++) {
			if (at_end(ps))
				return fail(ps, "short \\%c escape", c);
			char h = *ps->p;
			int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
				: h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
			char cd[16];
			if (v < 0)
				return fail(ps, "bad hex digit %s in \\%c escape", chdesc(ps, ps->p, cd, sizeof cd), c);
			ps->p++;
			cp = cp * 16 + (unsigned long)v;
		}
		return put_utf8(ps, b, cp);
	}
	default:
		if (c > 0x20 && c < 0x7f)
			return fail(ps, "unknown escape \\%c", c);
		return fail(ps, "unknown escape: \\ before %s", chdesc(ps, ps->p - 1, cd, sizeof cd));
	}
	return sb_put(ps, b, rep, 1);
}

static int bad_char(unsigned char c, int multiline)
{
	if (c == '\t' || (multiline && (c == '\n' || c == '\r')))
		return 0;
	return c < 0x20 || c == 0x7f;
}

/* A string starting at ps->p (its opening quote); fills b. */
static int parse_string(struct parser *ps, struct strbuf *b)
{
	char q = *ps->p;
	int multi = ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q;
	ps->p += multi ? 3 : 1;
	if (sb_put(ps, b, "", 0) < 0)
		return -1;
	if (multi && at_newline(ps))
		eat_newline(ps); /* a newline right after the opening quotes is trimmed */
	for (;;) {
		if (at_end(ps))
			return fail(ps, "unterminated string");
		char c = *ps->p;
		if (c == q) {
			if (!multi) {
				ps->p++;
				return 0;
			}
			if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q) {
				/* Up to two quotes may precede the closing three. */
				int extra = 0;
				while (extra < 2 && ps->p + 3 + extra < ps->end && ps->p[3 + extra] == q)
					extra++;
				if (extra && sb_put(ps, b, ps->p, (size_t)extra) < 0)
					return -1;
				ps->p += 3 + extra;
				return 0;
			}
			ps->p++;
			if (sb_put(ps, b, &c, 1) < 0)
				return -1;
			continue;
		}
		if (at_newline(ps)) {
			if (!multi)
				return fail(ps, "newline in a single-line string");
			eat_newline(ps);
			if (sb_put(ps, b, "\n", 1) < 0)
				return -1;
			continue;
		}
		if (bad_char((unsigned char)c, 0))
			return fail(ps, "control character 0x%02x in a string", (unsigned char)c);
		if (c == '\\' && q == '"') {
			ps->p++;
			if (multi) {
				/* Line-ending backslash: trims whitespace up to the next text. */
				const char *s = ps->p;
				while (s < ps->end && (*s == ' ' || *s == '\t'))
					s++;
				if (s < ps->end && (*s == '\n' || *s == '\r')) {
					ps->p = s;
					while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t' || at_newline(ps))) {
						if (at_newline(ps))
							eat_newline(ps);
						else
							ps->p++;
					}
					continue;
				}
			}
			if (escape(ps, b) < 0)
				return -1;
			continue;
		}
		ps->p++;
		if (sb_put(ps, b, &c, 1) < 0)
			return -1;
	}
}

/* ---- keys ---- */

static int is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void path_free(struct keypath *k)
{
	for (int i = 0; i < k->n; i++)
		free(k->seg[i]);
	k->n = 0;
}

/* k as written in a header, for messages: [inputs.cpu.tags], with
 * segments that are not bare keys quoted. */
static const char *path_text(const struct keypath *k, char *buf, size_t len)
{
	size_t o = 0;
	/* Room for the longest step (a 6-byte escape) and the NUL. */
	for (int i = 0; i < k->n && o + 8 < len; i++) {
		const char *seg = k->seg[i];
		int bare = *seg != '\0';
		for (const char *c = seg; *c && bare; c++)
			bare = is_bare(*c);
		if (i)
			buf[o++] = '.';
		if (!bare)
			buf[o++] = '"';
		for (const char *c = seg; *c && o + 8 < len; c++) {
			unsigned char ch = (unsigned char)*c;
			if (ch == '"' || ch == '\\')
				o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
			else if (ch < 0x20 || ch == 0x7f)
				o += (size_t)snprintf(buf + o, len - o, "\\u%04X", ch);
			else
				buf[o++] = (char)ch;
		}
		if (!bare)
			buf[o++] = '"';
	}
	buf[o] = '\0';
	return buf;
}

static int parse_key(struct parser *ps, struct keypath *k)
{
	k->n = 0;
	k->line = ps->line;
	for (;;) {
		skip_ws(ps);
		if (k->n == MAX_PATH)
			return fail(ps, "key has more than %d parts", MAX_PATH);
		struct strbuf b = { 0 };
		if (!at_end(ps) && (*ps->p == '"' || *ps->p == '\'')) {
			if (ps->end - ps->p >= 3 && ps->p[1] == *ps->p && ps->p[2] == *ps->p)
				return fail(ps, "a key cannot be a multi-line string");
			if (parse_string(ps, &b) < 0) {
				free(b.p);
				return -1;
			}
		} else {
			const char *s = ps->p;
			while (!at_end(ps) && is_bare(*ps->p))
				ps->p++;
			if (ps->p == s) {
				char cd[16];
				if (at_end(ps) || at_newline(ps))
					return fail(ps, "expected a key");
				return fail(ps, "unexpected %s where a key was expected", chdesc(ps, ps->p, cd, sizeof cd));
			}
			if (sb_put(ps, &b, s, (size_t)(ps->p - s)) < 0) {
				free(b.p);
				return -1;
			}
		}
		k->seg[k->n++] = b.p;
		skip_ws(ps);
		if (at_end(ps) || *ps->p != '.')
			return 0;
		ps->p++;
	}
}

/* ---- values ---- */

static int parse_value(struct parser *ps, struct toml_node *n, int depth);
static int set_path(struct parser *ps, struct toml_node *t, struct keypath *k, struct toml_node *val);

static int parse_array(struct parser *ps, struct toml_node *n, int depth)
{
	n->type = TOML_ARRAY;
	n->sealed = true;
	ps->p++;
	int open_line = ps->line;
	for (;;) {
		if (skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated array opened at line %d", open_line);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		struct toml_node *e = node_new(ps, TOML_STRING, ps->line);
		if (!e || add_kid(ps, n, e) < 0) {
			node_drop(e);
			return -1;
		}
		if (parse_value(ps, e, depth + 1) < 0)
			return -1;
		if (skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated array opened at line %d", open_line);
		char cd[16];
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p != ']')
			return fail(ps, "expected ',' or ']' in an array, found %s", chdesc(ps, ps->p, cd, sizeof cd));
	}
}

static int parse_inline_table(struct parser *ps, struct toml_node *n, int depth)
{
	n->type = TOML_TABLE;
	ps->p++;
	int first = 1;
	for (;;) {
		/* Telegraf's own configs keep inline tables on one line; newlines are accepted anyway. */
		if (skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated inline table");
		if (*ps->p == '}' && first) {
			ps->p++;
			break;
		}
		struct keypath k;
		if (parse_key(ps, &k) < 0) {
			path_free(&k);
			return -1;
		}
		skip_ws(ps);
		if (at_end(ps) || *ps->p != '=') {
			path_free(&k);
			return fail(ps, "expected '=' after a key in an inline table");
		}
		ps->p++;
		skip_ws(ps);
		struct toml_node *v = node_new(ps, TOML_STRING, k.line);
		int rc = v ? parse_value(ps, v, depth + 1) : -1;
		if (rc == 0)
			rc = set_path(ps, n, &k, v);
		else
			node_drop(v);
		path_free(&k);
		if (rc < 0)
			return -1;
		first = 0;
		if (skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated inline table");
		if (*ps->p == '}') {
			ps->p++;
			break;
		}
		char cd[16];
		if (*ps->p != ',')
			return fail(ps, "expected ',' or '}' in an inline table, found %s", chdesc(ps, ps->p, cd, sizeof cd));
		ps->p++;
	}
	n->sealed = true;
	for (size_t i = 0; i < n->n; i++)
		n->kids[i]->sealed = true;
	return 0;
}

static int digits_ok(const char *s, size_t len, int (*isdig)(char))
{
	/* Underscores only between two digits. */
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_') {
			if (i == 0 || i + 1 == len || !isdig(s[i - 1]) || !isdig(s[i + 1]))
				return 0;
		} else if (!isdig(s[i])) {
			return 0;
		}
	}
	return 1;
}

static int isdec(char c) { return c >= '0' && c <= '9'; }
static int ishex(char c) { return isdec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int isoct(char c) { return c >= '0' && c <= '7'; }
static int isbin(char c) { return c == '0' || c == '1'; }

static int looks_datetime(const char *s, size_t len)
{
	/* 1979-05-27..., or a local time 07:32:00 */
	if (len >= 10 && isdec(s[0]) && isdec(s[1]) && isdec(s[2]) && isdec(s[3]) && s[4] == '-')
		return 1;
	return len >= 8 && isdec(s[0]) && isdec(s[1]) && s[2] == ':';
}

static int parse_scalar(struct parser *ps, struct toml_node *n)
{
	const char *s = ps->p;
	while (!at_end(ps) && (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':'))
		ps->p++;
	/* A date and a time separated by one space. */
	if (ps->p - s == 10 && looks_datetime(s, 10) && ps->end - ps->p >= 3 && ps->p[0] == ' ' && isdec(ps->p[1]) &&
	    isdec(ps->p[2])) {
		ps->p++;
		while (!at_end(ps) && (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':'))
			ps->p++;
	}
	size_t len = (size_t)(ps->p - s);
	char cd[16];
	if (!len) {
		if (at_end(ps) || at_newline(ps))
			return fail(ps, "expected a value");
		return fail(ps, "unexpected %s where a value was expected", chdesc(ps, ps->p, cd, sizeof cd));
	}
	char tok[128];
	if (len >= sizeof(tok))
		return fail(ps, "value too long: %.20s...", s);
	memcpy(tok, s, len);
	tok[len] = '\0';
	if (!strcmp(tok, "true") || !strcmp(tok, "false")) {
		n->type = TOML_BOOL;
		n->b = tok[0] == 't';
		return 0;
	}
	const char *t = tok;
	int sign = 0;
	if (*t == '+' || *t == '-')
		sign = *t++ == '-' ? -1 : 1;
	if (!strcmp(t, "inf") || !strcmp(t, "nan")) {
		n->type = TOML_FLOAT;
		n->f = t[0] == 'i' ? (sign < 0 ? -INFINITY : INFINITY) : NAN;
		return 0;
	}
	if (!sign && looks_datetime(tok, len)) {
		n->type = TOML_DATETIME;
		n->s = strdup(tok);
		n->len = len;
		return n->s ? 0 : fail(ps, "out of memory");
	}
	char clean[128];
	size_t cl = 0;
	for (const char *c = tok; *c; c++)
		if (*c != '_')
			clean[cl++] = *c;
	clean[cl] = '\0';
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		int (*dig)(char) = base == 16 ? ishex : base == 8 ? isoct : isbin;
		if (sign || !digits_ok(t + 2, strlen(t + 2), dig))
			return fail(ps, "bad integer '%s'", tok);
		errno = 0;
		unsigned long long v = strtoull(clean + 2, NULL, base);
		if (errno || v > INT64_MAX)
			return fail(ps, "integer '%s' out of range", tok);
		n->type = TOML_INT;
		n->i = (int64_t)v;
		return 0;
	}
	size_t tl = strlen(t);
	if (!isdec(t[0]))
		return fail(ps, "bad value '%s' (strings need quotes)", tok);
	int is_float = strpbrk(t, ".eE") != NULL;
	if (!is_float) {
		if (!digits_ok(t, tl, isdec) || (t[0] == '0' && tl > 1))
			return fail(ps, "bad value '%s' (strings need quotes)", tok);
		errno = 0;
		long long v = strtoll(clean, NULL, 10);
		if (errno)
			return fail(ps, "integer '%s' out of range", tok);
		n->type = TOML_INT;
		n->i = v;
		return 0;
	}
	/* A float: digits, optional .digits, optional e[+-]digits. */
	const char *c = t;
	const char *ip = c;
	while (*c && (isdec(*c) || *c == '_'))
		c++;
	if (!digits_ok(ip, (size_t)(c - ip), isdec))
		return fail(ps, "bad float '%s'", tok);
	if (*c == '.') {
		const char *fp = ++c;
		while (*c && (isdec(*c) || *c == '_'))
			c++;
		if (!digits_ok(fp, (size_t)(c - fp), isdec))
			return fail(ps, "bad float '%s'", tok);
	}
	if (*c == 'e' || *c == 'E') {
		c++;
		if (*c == '+' || *c == '-')
			c++;
		const char *ep = c;
		while (*c && (isdec(*c) || *c == '_'))
			c++;
		if (!digits_ok(ep, (size_t)(c - ep), isdec))
			return fail(ps, "bad float '%s'", tok);
	}
	if (*c)
		return fail(ps, "bad float '%s'", tok);
	n->type = TOML_FLOAT;
	n->f = strtod(clean, NULL);
	return 0;
}

/* An unquoted $NAME or ${...} where a value belongs: Telegraf replaces
 * it in the text before parsing (its sample config does so for numbers and
 * booleans: port = ${PORT}); the converter writes the reference. */
static int parse_env_ref(struct parser *ps, struct toml_node *n)
{
	const char *s = ps->p++;
	if (!at_end(ps) && *ps->p == '{') {
		int nest = 0;
		for (ps->p++;; ps->p++) {
			if (at_end(ps) || at_newline(ps))
				return fail(ps, "unterminated ${...} reference");
			if (*ps->p == '$' && ps->p + 1 < ps->end && ps->p[1] == '{') {
				nest++;
				ps->p++;
			} else if (*ps->p == '}' && nest-- == 0) {
				ps->p++;
				break;
			}
		}
	} else {
		while (!at_end(ps) && (is_bare(*ps->p) && *ps->p != '-'))
			ps->p++;
		if (ps->p - s == 1)
			return fail(ps, "unexpected '$' where a value was expected");
	}
	n->type = TOML_STRING;
	n->unquoted = true;
	n->len = (size_t)(ps->p - s);
	n->s = malloc(n->len + 1);
	if (!n->s)
		return fail(ps, "out of memory");
	memcpy(n->s, s, n->len);
	n->s[n->len] = '\0';
	return 0;
}

static int parse_value(struct parser *ps, struct toml_node *n, int depth)
{
	if (depth > TOML_MAX_DEPTH)
		return fail(ps, "values nested more than %d deep", TOML_MAX_DEPTH);
	if (at_end(ps))
		return fail(ps, "expected a value");
	char c = *ps->p;
	if (c == '"' || c == '\'') {
		struct strbuf b = { 0 };
		int rc = parse_string(ps, &b);
		n->type = TOML_STRING;
		n->s = b.p;
		n->len = b.len;
		return rc;
	}
	if (c == '[')
		return parse_array(ps, n, depth);
	if (c == '{')
		return parse_inline_table(ps, n, depth);
	if (c == '$')
		return parse_env_ref(ps, n);
	return parse_scalar(ps, n);
}

/* ---- tables ---- */

static struct toml_node *new_table(struct parser *ps, struct toml_node *parent, const char *key, int line)
{
	struct toml_node *t = node_new(ps, TOML_TABLE, line);
	if (!t)
		return NULL;
	t->key = strdup(key);
	if (!t->key || add_kid(ps, parent, t) < 0) {
		if (!t->key)
			note_error(ps, "out of memory");
		node_drop(t);
		return NULL;
	}
	return t;
}

/* Walks (creating) the tables of k->seg[0 .. upto) under t. by_dotted:
 * the walk is for a dotted key (a.b = 1), which may not enter tables that
 * were closed or arrays of tables. */
static struct toml_node *walk(struct parser *ps, struct toml_node *t, struct keypath *k, int upto, int by_dotted)
{
	for (int i = 0; i < upto; i++) {
		struct toml_node *c = hg_toml_get(t, k->seg[i]);
		if (!c) {
			c = new_table(ps, t, k->seg[i], k->line);
			if (!c)
				return NULL;
			c->by_dotted = by_dotted;
		} else if (c->type == TOML_ARRAY && c->aot && !by_dotted && c->n) {
			c = c->kids[c->n - 1];
		} else if (c->type != TOML_TABLE || (by_dotted && c->sealed)) {
			note_error(ps, "key '%s' is already defined (line %d) as a %s", k->seg[i], c->line,
			           c->sealed && c->type == TOML_TABLE ? "closed inline table" : hg_toml_type_name(c->type));
			return NULL;
		} else if (c->sealed) {
			note_error(ps, "inline table '%s' (line %d) cannot be extended", k->seg[i], c->line);
			return NULL;
		}
		t = c;
	}
	return t;
}

static int set_path(struct parser *ps, struct toml_node *t, struct keypath *k, struct toml_node *val)
{
	struct toml_node *parent = walk(ps, t, k, k->n - 1, 1);
	const char *last = k->seg[k->n - 1];
	if (!parent) {
		node_drop(val);
		return -1;
	}
	struct toml_node *old = hg_toml_get(parent, last);
	if (old) {
		node_drop(val);
		return fail(ps, "key '%s' is already defined at line %d", last, old->line);
	}
	val->key = strdup(last);
	if (!val->key) {
		node_drop(val);
		return fail(ps, "out of memory");
	}
	if (add_kid(ps, parent, val) < 0) {
		node_drop(val);
		return -1;
	}
	return 0;
}

static int header(struct parser *ps, struct toml_node **cur)
{
	int aot = ps->end - ps->p >= 2 && ps->p[1] == '[';
	ps->p += aot ? 2 : 1;
	struct keypath k;
	int rc = parse_key(ps, &k);
	if (rc == 0) {
		if (aot && (ps->end - ps->p < 2 || ps->p[0] != ']' || ps->p[1] != ']'))
			rc = fail(ps, "expected ']]' to close the array-of-tables header");
		else if (!aot && (at_end(ps) || *ps->p != ']'))
			rc = fail(ps, "expected ']' to close the table header");
		else
			ps->p += aot ? 2 : 1;
	}
	struct toml_node *parent = rc == 0 ? walk(ps, ps->doc->root, &k, k.n - 1, 0) : NULL;
	if (!parent) {
		path_free(&k);
		return -1;
	}
	const char *last = k.seg[k.n - 1];
	struct toml_node *t = hg_toml_get(parent, last);
	if (aot) {
		if (!t) {
			t = node_new(ps, TOML_ARRAY, k.line);
			if (t && !(t->key = strdup(last)))
				note_error(ps, "out of memory");
			if (!t || !t->key || add_kid(ps, parent, t) < 0) {
				node_drop(t);
				path_free(&k);
				return -1;
			}
			t->aot = true;
		} else if (t->type != TOML_ARRAY || !t->aot) {
			char full[256];
			rc = fail(ps, "[[%s]]: '%s' is already defined at line %d as a %s", path_text(&k, full, sizeof full),
				  last, t->line, hg_toml_type_name(t->type));
			path_free(&k);
			return rc;
		}
		struct toml_node *e = node_new(ps, TOML_TABLE, k.line);
		if (!e || add_kid(ps, t, e) < 0) {
			node_drop(e);
			path_free(&k);
			return -1;
		}
		e->explicit_hdr = true;
		*cur = e;
	} else {
		if (!t) {
			t = new_table(ps, parent, last, k.line);
		} else if (t->type != TOML_TABLE || t->explicit_hdr || t->sealed || t->by_dotted) {
			char full[256];
			note_error(ps, "table [%s] is already defined at line %d", path_text(&k, full, sizeof full), t->line);
			t = NULL;
		}
		if (t) {
			t->explicit_hdr = true;
			t->line = k.line;
		}
		*cur = t;
	}
	path_free(&k);
	return *cur ? end_of_line(ps) : -1;
}

static int keyval(struct parser *ps, struct toml_node *cur)
{
	struct keypath k;
	if (parse_key(ps, &k) < 0) {
		path_free(&k);
		return -1;
	}
	skip_ws(ps);
	if (at_end(ps) || *ps->p != '=') {
		path_free(&k);
		return fail(ps, "expected '=' after key");
	}
	ps->p++;
	skip_ws(ps);
	struct toml_node *v = node_new(ps, TOML_STRING, k.line);
	int rc = v ? parse_value(ps, v, 0) : -1;
	if (rc == 0)
		rc = set_path(ps, cur, &k, v);
	else
		node_drop(v);
	path_free(&k);
	return rc < 0 ? -1 : end_of_line(ps);
}

/* TOML and Telegraf read UTF-8 only. Checked before parsing so that the
 * message names the line of the first bad byte (by its value, never the
 * byte itself), and so that no malformed text reaches the YAML written. */
static int check_encoding(struct parser *ps)
{
	const unsigned char *b = (const unsigned char *)ps->p, *e = (const unsigned char *)ps->end;
	if (e - b >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
		return fail(ps, "the file is UTF-16 (byte order mark 0x%02X 0x%02X); Telegraf and TOML read UTF-8: "
				"convert it first, e.g. iconv -f UTF-16 -t UTF-8", b[0], b[1]);
	const unsigned char *line_start = b;
	for (const unsigned char *p = b; p < e;) {
		if (*p == '\n') {
			ps->line++;
			line_start = ++p;
			continue;
		}
		if (*p == 0) {
			/* Every other byte NUL: UTF-16 without a byte order mark. */
			int utf16 = p + 1 < e && p[1] != 0 && ((p > b && p[-1] != 0) || (p + 2 < e && p[2] == 0));
			return fail(ps, "NUL byte at column %d%s", (int)(p - line_start) + 1,
				    utf16 ? " (the file looks like UTF-16: convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8)" : "");
		}
		size_t n = hg_toml_utf8_seq(p, (size_t)(e - p));
		if (!n)
			return fail(ps, "invalid UTF-8 (byte 0x%02X at column %d); TOML files are UTF-8", *p,
				    (int)(p - line_start) + 1);
		p += n;
	}
	ps->line = 1;
	return 0;
}

int hg_toml_parse(struct toml_doc *doc, const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
	memset(doc, 0, sizeof(*doc));
	struct parser ps = { buf, buf + len, 1, name, doc, err, errlen };
	err[0] = '\0';
	if (len > TOML_MAX_BYTES)
		return fail(&ps, "larger than %u bytes", TOML_MAX_BYTES);
	/* A UTF-8 byte order mark is allowed and ignored (as by Telegraf). */
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		ps.p += 3;
	if (check_encoding(&ps) < 0)
		return -1;
	doc->root = node_new(&ps, TOML_TABLE, 1);
	if (!doc->root)
		return -1;
	struct toml_node *cur = doc->root;
	int rc = 0;
	while (rc == 0) {
		skip_ws(&ps);
		if (skip_comment(&ps) < 0) {
			rc = -1;
			break;
		}
		if (at_end(&ps))
			break;
		if (at_newline(&ps)) {
			eat_newline(&ps);
			continue;
		}
		if (*ps.p == '[')
			rc = header(&ps, &cur);
		else
			rc = keyval(&ps, cur);
	}
	if (rc < 0) {
		hg_toml_free(doc);
		return -1;
	}
	return 0;
}
