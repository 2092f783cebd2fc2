/* TOML values: strings with their escapes, numbers, booleans, date-times,
 * ${ENV} references and arrays; comments and blank runs between them.
 * Tables and inline tables are toml.c's (an inline table inside an array
 * comes back here for its values). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "toml_internal.h"

int hg_toml_skip_comment(struct parser *ps)
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
int hg_toml_skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (hg_toml_skip_comment(ps) < 0)
			return -1;
		if (!at_newline(ps))
			return 0;
		eat_newline(ps);
	}
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
				return fail(ps, "bad hex digit %s in \\%c escape", hg_toml_chdesc(ps, ps->p, cd, sizeof cd), c);
			ps->p++;
			cp = cp * 16 + (unsigned long)v;
		}
		return put_utf8(ps, b, cp);
	}
	default:
		if (c > 0x20 && c < 0x7f)
			return fail(ps, "unknown escape \\%c", c);
		return fail(ps, "unknown escape: \\ before %s", hg_toml_chdesc(ps, ps->p - 1, cd, sizeof cd));
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
int hg_toml_parse_string(struct parser *ps, struct strbuf *b)
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

/* ---- values ---- */

static int parse_array(struct parser *ps, struct toml_node *n, int depth)
{
	n->type = TOML_ARRAY;
	n->sealed = true;
	ps->p++;
	int open_line = ps->line;
	for (;;) {
		if (hg_toml_skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated array opened at line %d", open_line);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		struct toml_node *e = hg_toml_node_new(ps, TOML_STRING, ps->line);
		if (!e || hg_toml_add_kid(ps, n, e) < 0) {
			hg_toml_node_drop(e);
			return -1;
		}
		if (hg_toml_parse_value(ps, e, depth + 1) < 0)
			return -1;
		if (hg_toml_skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated array opened at line %d", open_line);
		char cd[16];
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p != ']')
			return fail(ps, "expected ',' or ']' in an array, found %s", hg_toml_chdesc(ps, ps->p, cd, sizeof cd));
	}
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
		return fail(ps, "unexpected %s where a value was expected", hg_toml_chdesc(ps, ps->p, cd, sizeof cd));
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

int hg_toml_parse_value(struct parser *ps, struct toml_node *n, int depth)
{
	if (depth > TOML_MAX_DEPTH)
		return fail(ps, "values nested more than %d deep", TOML_MAX_DEPTH);
	if (at_end(ps))
		return fail(ps, "expected a value");
	char c = *ps->p;
	if (c == '"' || c == '\'') {
		struct strbuf b = { 0 };
		int rc = hg_toml_parse_string(ps, &b);
		n->type = TOML_STRING;
		n->s = b.p;
		n->len = b.len;
		return rc;
	}
	if (c == '[')
		return parse_array(ps, n, depth);
	if (c == '{')
		return hg_toml_parse_inline_table(ps, n, depth);
	if (c == '$')
		return parse_env_ref(ps, n);
	return parse_scalar(ps, n);
}
