/* TOML parsing: a single pass over the buffer building the tree of toml.h.
 * This file reads the structure (keys, [tables], [[arrays of tables]],
 * inline tables) and checks redefinitions; toml_lex.c reads the values.
 * Recursion (arrays, inline tables, key paths) is bounded by TOML_MAX_DEPTH
 * and allocation by TOML_MAX_NODES and TOML_MAX_BYTES. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "toml_internal.h"

#define MAX_PATH TOML_MAX_KEY_PARTS

struct keypath {
	char *seg[MAX_PATH];
	int n;
	int line;
};

void hg_toml_note_error(struct parser *ps, const char *fmt, ...)
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

const char *hg_toml_chdesc(const struct parser *ps, const char *p, char *buf, size_t len)
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

struct toml_node *hg_toml_node_new(struct parser *ps, enum toml_type t, int line)
{
	if (ps->doc->nodes >= TOML_MAX_NODES) {
		hg_toml_note_error(ps, "more than %d values", TOML_MAX_NODES);
		return NULL;
	}
	struct toml_node *n = calloc(1, sizeof(*n));
	if (!n) {
		hg_toml_note_error(ps, "out of memory");
		return NULL;
	}
	ps->doc->nodes++;
	n->type = t;
	n->line = line;
	return n;
}

void hg_toml_node_drop(struct toml_node *n)
{
	/* A node not yet linked into the tree. */
	if (!n)
		return;
	struct toml_doc d = { n, 0 };
	hg_toml_free(&d);
}

int hg_toml_add_kid(struct parser *ps, struct toml_node *parent, struct toml_node *kid)
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

/* After a key/value or header: only a comment, then the end of the line. */
static int end_of_line(struct parser *ps)
{
	skip_ws(ps);
	if (hg_toml_skip_comment(ps) < 0)
		return -1;
	if (at_end(ps))
		return 0;
	char cd[16];
	if (!at_newline(ps))
		return fail(ps, "unexpected %s after the value (one key = value per line)",
			    hg_toml_chdesc(ps, ps->p, cd, sizeof cd));
	eat_newline(ps);
	return 0;
}

/* ---- keys ---- */

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
			if (hg_toml_parse_string(ps, &b) < 0) {
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
				return fail(ps, "unexpected %s where a key was expected", hg_toml_chdesc(ps, ps->p, cd, sizeof cd));
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

/* ---- inline tables ---- */

static int set_path(struct parser *ps, struct toml_node *t, struct keypath *k, struct toml_node *val);

int hg_toml_parse_inline_table(struct parser *ps, struct toml_node *n, int depth)
{
	n->type = TOML_TABLE;
	ps->p++;
	int first = 1;
	for (;;) {
		/* Telegraf's own configs keep inline tables on one line; newlines are accepted anyway. */
		if (hg_toml_skip_blank(ps) < 0)
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
		struct toml_node *v = hg_toml_node_new(ps, TOML_STRING, k.line);
		int rc = v ? hg_toml_parse_value(ps, v, depth + 1) : -1;
		if (rc == 0)
			rc = set_path(ps, n, &k, v);
		else
			hg_toml_node_drop(v);
		path_free(&k);
		if (rc < 0)
			return -1;
		first = 0;
		if (hg_toml_skip_blank(ps) < 0)
			return -1;
		if (at_end(ps))
			return fail(ps, "unterminated inline table");
		if (*ps->p == '}') {
			ps->p++;
			break;
		}
		char cd[16];
		if (*ps->p != ',')
			return fail(ps, "expected ',' or '}' in an inline table, found %s", hg_toml_chdesc(ps, ps->p, cd, sizeof cd));
		ps->p++;
	}
	n->sealed = true;
	for (size_t i = 0; i < n->n; i++)
		n->kids[i]->sealed = true;
	return 0;
}

/* ---- tables ---- */

static struct toml_node *new_table(struct parser *ps, struct toml_node *parent, const char *key, int line)
{
	struct toml_node *t = hg_toml_node_new(ps, TOML_TABLE, line);
	if (!t)
		return NULL;
	t->key = strdup(key);
	if (!t->key || hg_toml_add_kid(ps, parent, t) < 0) {
		if (!t->key)
			hg_toml_note_error(ps, "out of memory");
		hg_toml_node_drop(t);
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
			hg_toml_note_error(ps, "key '%s' is already defined (line %d) as a %s", k->seg[i], c->line,
			           c->sealed && c->type == TOML_TABLE ? "closed inline table" : hg_toml_type_name(c->type));
			return NULL;
		} else if (c->sealed) {
			hg_toml_note_error(ps, "inline table '%s' (line %d) cannot be extended", k->seg[i], c->line);
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
		hg_toml_node_drop(val);
		return -1;
	}
	struct toml_node *old = hg_toml_get(parent, last);
	if (old) {
		hg_toml_node_drop(val);
		return fail(ps, "key '%s' is already defined at line %d", last, old->line);
	}
	val->key = strdup(last);
	if (!val->key) {
		hg_toml_node_drop(val);
		return fail(ps, "out of memory");
	}
	if (hg_toml_add_kid(ps, parent, val) < 0) {
		hg_toml_node_drop(val);
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
			t = hg_toml_node_new(ps, TOML_ARRAY, k.line);
			if (t && !(t->key = strdup(last)))
				hg_toml_note_error(ps, "out of memory");
			if (!t || !t->key || hg_toml_add_kid(ps, parent, t) < 0) {
				hg_toml_node_drop(t);
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
		struct toml_node *e = hg_toml_node_new(ps, TOML_TABLE, k.line);
		if (!e || hg_toml_add_kid(ps, t, e) < 0) {
			hg_toml_node_drop(e);
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
			hg_toml_note_error(ps, "table [%s] is already defined at line %d", path_text(&k, full, sizeof full), t->line);
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
	struct toml_node *v = hg_toml_node_new(ps, TOML_STRING, k.line);
	int rc = v ? hg_toml_parse_value(ps, v, 0) : -1;
	if (rc == 0)
		rc = set_path(ps, cur, &k, v);
	else
		hg_toml_node_drop(v);
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
	doc->root = hg_toml_node_new(&ps, TOML_TABLE, 1);
	if (!doc->root)
		return -1;
	struct toml_node *cur = doc->root;
	int rc = 0;
	while (rc == 0) {
		skip_ws(&ps);
		if (hg_toml_skip_comment(&ps) < 0) {
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
