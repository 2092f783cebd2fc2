/* Zero-copy line protocol parser. The grammar follows the reference decoder
 * of the InfluxData line-protocol corpus (github.com/influxdata/line-protocol
 * v2), checked case by case by tests/unit/base/test_lp_corpus.c:
 *  - a backslash escapes the next byte only when that byte is special in the
 *    token (", " in names; ",= " in keys and tag values; "\\" and '"' in
 *    strings); otherwise the backslash is an ordinary byte;
 *  - control bytes are not allowed in names, keys and tag values;
 *  - quoted strings may span lines; every token must be valid UTF-8;
 *  - a repeated tag key is an error, a repeated field key keeps the last.
 * Nothing is allocated: metric views point into the input, or into the
 * caller's scratch when escapes had to be removed. */
#include "lp.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	B_CTL = 1,    /* 0x00-0x1f, 0x7f */
	B_COMMA = 2,
	B_SPACE = 4,
	B_EQ = 8,
	B_NL = 16,
	B_HI = 32,    /* >= 0x80: part of a multi-byte UTF-8 sequence */
};

static unsigned char cls[256];

/* Filled on first hg_lp_parser_init; idempotent (the agent parses on its one
 * loop thread). */
static void cls_init(void)
{
	static bool done;
	if (done)
		return;
	for (int c = 0; c < 256; c++) {
		unsigned char f = 0;
		if (c < 0x20 || c == 0x7f)
			f |= B_CTL;
		if (c >= 0x80)
			f |= B_HI;
		cls[c] = f;
	}
	cls[','] |= B_COMMA;
	cls[' '] |= B_SPACE;
	cls['='] |= B_EQ;
	cls['\n'] |= B_NL;
	done = true;
}

#define NAME_STOP (B_CTL | B_COMMA | B_SPACE)
#define NAME_ESC (B_COMMA | B_SPACE)
#define KEY_STOP (B_CTL | B_COMMA | B_SPACE | B_EQ)
#define KEY_ESC (B_COMMA | B_SPACE | B_EQ)
/* Tag values, unlike keys, may hold control bytes other than '\n'. */
#define TAGVAL_STOP (B_NL | B_COMMA | B_SPACE | B_EQ)
#define VALUE_STOP (B_COMMA | B_SPACE | B_NL)

struct tok {
	const char *b, *e;
	bool esc, hi;
};

static inline unsigned cl(const char *q) { return cls[(unsigned char)*q]; }

/* Scans a token up to the first byte of class stop that is not escaped. */
static const char *scan(struct tok *t, const char *q, const char *end, unsigned stop, unsigned esc)
{
	t->b = q;
	t->esc = t->hi = false;
	while (q < end) {
		unsigned c = cl(q);
		if (*q == '\\' && q + 1 < end && (cl(q + 1) & esc)) {
			t->esc = true;
			q += 2;
			continue;
		}
		if (c & stop)
			break;
		if (c & B_HI)
			t->hi = true;
		q++;
	}
	t->e = q;
	return q;
}

static bool utf8_valid(const unsigned char *s, const unsigned char *e)
{
	while (s < e) {
		unsigned c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t n;
		unsigned min;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(e - s) <= n)
			return false;
		unsigned cp = c & (0x3f >> n);
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

struct ctx {
	struct lp_parser *p;
	const char *rec;   /* first byte of the record */
	const char *phys;  /* start of the physical line the record starts on */
	unsigned line;     /* its line number */
	char *err;
	size_t errlen;
};

static void describe(char *buf, size_t n, const char *q, const char *end)
{
	if (q >= end) {
		snprintf(buf, n, "end of input");
		return;
	}
	unsigned char c = (unsigned char)*q;
	if (c == '\n')
		snprintf(buf, n, "newline");
	else if (c < 0x20 || c >= 0x7f)
		snprintf(buf, n, "byte 0x%02x", c);
	else
		snprintf(buf, n, "'%c'", c);
}

/* Formats "at line L:C: ..." for position at, then skips the rest of the
 * physical line so that the next call starts on the next line. */
static int fail(struct ctx *x, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, const char *at, const char *fmt, ...)
{
	struct lp_parser *p = x->p;
	unsigned line = x->line;
	const char *ls = x->phys;
	for (const char *q = x->phys; q < at; q++) {
		if (*q == '\n') {
			line++;
			ls = q + 1;
		}
	}
	if (x->err && x->errlen) {
		int n = snprintf(x->err, x->errlen, "at line %u:%zu: ", line, (size_t)(at - ls) + 1);
		if (n >= 0 && (size_t)n < x->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	const char *nl = at < p->end ? memchr(at, '\n', (size_t)(p->end - at)) : NULL;
	const char *stop = nl ? nl : p->end;
	p->line = x->line;
	p->line_start = x->rec;
	p->line_len = (size_t)(stop - x->rec);
	p->pos = nl ? nl + 1 : p->end;
	return -1;
}

/* The token as a view: into the input when it has no escapes, else its
 * unescaped copy in the scratch. Returns false when the scratch is full. */
static bool materialize(struct lp_parser *p, const struct tok *t, unsigned esc, bool string, struct sv *out)
{
	if (!t->esc) {
		*out = (struct sv){ t->b, (size_t)(t->e - t->b) };
		return true;
	}
	size_t need = (size_t)(t->e - t->b);
	if (!p->scratch || p->scratch_cap - p->scratch_used < need)
		return false;
	char *d = p->scratch + p->scratch_used, *d0 = d;
	for (const char *q = t->b; q < t->e; q++) {
		if (*q == '\\' && q + 1 < t->e && (string ? (q[1] == '\\' || q[1] == '"') : (cl(q + 1) & esc) != 0))
			q++;
		*d++ = *q;
	}
	p->scratch_used += (size_t)(d - d0);
	*out = (struct sv){ d0, (size_t)(d - d0) };
	return true;
}

static bool parse_u64(const char *b, const char *e, uint64_t *v)
{
	if (b == e)
		return false;
	uint64_t r = 0;
	for (; b < e; b++) {
		if (*b < '0' || *b > '9')
			return false;
		unsigned d = (unsigned)(*b - '0');
		if (r > (UINT64_MAX - d) / 10)
			return false;
		r = r * 10 + d;
	}
	*v = r;
	return true;
}

/* -1: bad syntax, -2: out of range. */
static int parse_i64(const char *b, const char *e, int64_t *v)
{
	bool neg = b < e && *b == '-';
	if (neg)
		b++;
	if (b == e)
		return -1;
	for (const char *q = b; q < e; q++)
		if (*q < '0' || *q > '9')
			return -1;
	uint64_t u;
	if (!parse_u64(b, e, &u))
		return -2;
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return -2;
		*v = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return -2;
		*v = (int64_t)u;
	}
	return 0;
}

/* Decimal float syntax only: strtod alone would also take hex, "inf",
 * "nan" and leading blanks, which line protocol does not. */
static bool float_syntax(const char *b, const char *e)
{
	const char *q = b;
	if (q < e && *q == '-')
		q++;
	size_t digits = 0;
	while (q < e && *q >= '0' && *q <= '9')
		q++, digits++;
	if (q < e && *q == '.') {
		q++;
		while (q < e && *q >= '0' && *q <= '9')
			q++, digits++;
	}
	if (!digits)
		return false;
	if (q < e && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < e && (*q == '+' || *q == '-'))
			q++;
		if (q == e || *q < '0' || *q > '9')
			return false;
		while (q < e && *q >= '0' && *q <= '9')
			q++;
	}
	return q == e;
}

/* -1: bad syntax, -2: out of range, -3: too long to convert. */
static int parse_float(struct lp_parser *p, const char *b, const char *e, double *v)
{
	if (!float_syntax(b, e))
		return -1;
	size_t n = (size_t)(e - b);
	char tmp[128], *endp;
	double d;
	if (n < sizeof tmp) {
		memcpy(tmp, b, n);
		tmp[n] = 0;
		d = strtod(tmp, &endp);
		if (endp != tmp + n)
			return -1;
	} else if (p->scratch && p->scratch_cap - p->scratch_used > n) {
		/* Long digit strings are valid; the free part of the scratch
		 * holds the NUL-terminated copy strtod needs, briefly. */
		char *c = p->scratch + p->scratch_used;
		memcpy(c, b, n);
		c[n] = 0;
		d = strtod(c, &endp);
		if (endp != c + n)
			return -1;
	} else {
		return -3;
	}
	if (isinf(d))
		return -2;
	*v = d;
	return 0;
}

static int parse_field_value(struct ctx *x, const char **qp, struct metric_field *f)
{
	struct lp_parser *p = x->p;
	const char *q = *qp, *end = p->end;
	if (q == end || *q == '\n')
		return fail(x, q, "expected field value after field key, found %s", q == end ? "end of input" : "newline");
	if (*q == '"') {
		struct tok t = { .b = q + 1 };
		const char *s = q + 1;
		while (s < end && *s != '"') {
			if (*s == '\\' && s + 1 < end && (s[1] == '\\' || s[1] == '"')) {
				t.esc = true;
				s += 2;
				continue;
			}
			if ((unsigned char)*s >= 0x80)
				t.hi = true;
			s++;
		}
		if (s == end)
			return fail(x, q, "expected closing quote for string field value, found end of input");
		t.e = s;
		if (t.hi && !utf8_valid((const unsigned char *)t.b, (const unsigned char *)t.e))
			return fail(x, q, "invalid UTF-8 in string field value");
		f->type = FIELD_STRING;
		if (!materialize(p, &t, 0, true, &f->v.s))
			return fail(x, q, "scratch buffer too small to unescape string field value");
		*qp = s + 1;
		return 0;
	}
	struct tok t;
	const char *e = scan(&t, q, end, VALUE_STOP, 0);
	/* A CR before the newline ends the line (CRLF input). */
	if (e > t.b && e[-1] == '\r' && (e == end || *e == '\n'))
		t.e = --e;
	size_t n = (size_t)(t.e - t.b);
	char c0 = *t.b, last = t.e[-1];
	int rc;
	if (c0 == '-' || c0 == '.' || (c0 >= '0' && c0 <= '9')) {
		if (last == 'i') {
			f->type = FIELD_INT;
			rc = parse_i64(t.b, t.e - 1, &f->v.i);
			if (rc == -1)
				return fail(x, q, "invalid integer value syntax");
		} else if (last == 'u') {
			f->type = FIELD_UINT;
			bool digits = t.e - 1 > t.b;
			for (const char *d = t.b; d < t.e - 1; d++)
				digits = digits && *d >= '0' && *d <= '9';
			if (!digits)
				return fail(x, q, "invalid unsigned integer value syntax");
			rc = parse_u64(t.b, t.e - 1, &f->v.u) ? 0 : -2;
		} else {
			f->type = FIELD_FLOAT;
			rc = parse_float(p, t.b, t.e, &f->v.f);
			if (rc == -1)
				return fail(x, q, "invalid float value syntax");
			if (rc == -3)
				return fail(x, q, "float value longer than the scratch buffer");
		}
		if (rc == -2)
			return fail(x, q, "value out of range");
	} else if (c0 == 't' || c0 == 'T' || c0 == 'f' || c0 == 'F') {
		static const char *const truth[] = { "t", "T", "true", "True", "TRUE" };
		static const char *const lies[] = { "f", "F", "false", "False", "FALSE" };
		f->type = FIELD_BOOL;
		bool ok = false;
		for (size_t i = 0; i < 5 && !ok; i++) {
			if (n == strlen(truth[i]) && memcmp(t.b, truth[i], n) == 0)
				ok = f->v.b = true;
			else if (n == strlen(lies[i]) && memcmp(t.b, lies[i], n) == 0)
				ok = true, f->v.b = false;
		}
		if (!ok)
			return fail(x, q, "invalid bool value");
	} else {
		return fail(x, q, "field value has unrecognized type");
	}
	*qp = t.e;
	return 0;
}

/* At a line end: '\n', "\r\n" or the end of the input. */
static bool at_eol(const char *q, const char *end)
{
	return q == end || *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] == '\n'));
}

/* Out-of-order tags searched for duplicates one by one (cheap up to here). */
#define DUP_SCAN_MAX 64

static int parse_record(struct ctx *x, const char *q, struct metric *m)
{
	struct lp_parser *p = x->p;
	const char *end = p->end;
	struct tok t;
	char what[16];

	hg_metric_reset(m, (struct sv){ NULL, 0 });
	const char *e = scan(&t, q, end, NAME_STOP, NAME_ESC);
	if (e == q) {
		describe(what, sizeof what, q, end);
		return fail(x, q, "invalid character %s at start of measurement name", what);
	}
	if (t.hi && !utf8_valid((const unsigned char *)t.b, (const unsigned char *)t.e))
		return fail(x, q, "invalid UTF-8 in measurement name");
	if (!materialize(p, &t, NAME_ESC, false, &m->name))
		return fail(x, q, "scratch buffer too small to unescape measurement name");
	q = e;

	bool tags_in_order = true;
	const char *first_unscanned = NULL; /* first tag key not searched for as a duplicate */
	x->p->tags_sorted = false;
	while (q < end && *q == ',') {
		const char *kb = ++q;
		struct sv key, val;
		q = scan(&t, q, end, KEY_STOP, KEY_ESC);
		if (q == kb) {
			describe(what, sizeof what, q, end);
			return fail(x, q, "expected tag key after comma, found %s", what);
		}
		if (t.hi && !utf8_valid((const unsigned char *)t.b, (const unsigned char *)t.e))
			return fail(x, kb, "invalid UTF-8 in tag key");
		if (!materialize(p, &t, KEY_ESC, false, &key))
			return fail(x, kb, "scratch buffer too small to unescape tag key");
		if (q == end || *q != '=') {
			describe(what, sizeof what, q, end);
			return fail(x, q, "expected '=' after tag key, found %s", what);
		}
		const char *vb = ++q;
		q = scan(&t, q, end, TAGVAL_STOP, KEY_ESC);
		if (q == vb) {
			describe(what, sizeof what, q, end);
			return fail(x, q, "expected tag value after '=', found %s", what);
		}
		if (t.hi && !utf8_valid((const unsigned char *)t.b, (const unsigned char *)t.e))
			return fail(x, vb, "invalid UTF-8 in tag value");
		if (!materialize(p, &t, KEY_ESC, false, &val))
			return fail(x, vb, "scratch buffer too small to unescape tag value");
		/* Tags in key order (the usual case) cannot repeat one another: only
		 * an out-of-order key is searched for, so a long sorted tag list
		 * costs n comparisons, not n^2. Past DUP_SCAN_MAX tags the search
		 * is left for one sort at the end (n log n). */
		if (m->ntags && (!tags_in_order || hg_sv_cmp(m->tags[m->ntags - 1].key, key) >= 0)) {
			tags_in_order = false;
			if (m->ntags < DUP_SCAN_MAX) {
				for (size_t i = 0; i < m->ntags; i++)
					if (sv_eq(m->tags[i].key, key))
						return fail(x, kb, "duplicate tag key");
			} else if (!first_unscanned) {
				first_unscanned = kb;
			}
		}
		if (m->ntags == METRIC_MAX_TAGS)
			return fail(x, kb, "more than %d tags", METRIC_MAX_TAGS);
		if (!hg_metric_reserve_tags(m, m->ntags + 1))
			return fail(x, kb, "out of memory for %zu tags", m->ntags + 1);
		m->tags[m->ntags++] = (struct metric_tag){ key, val };
	}
	if (q == end || *q != ' ') {
		describe(what, sizeof what, q, end);
		return fail(x, q, "expected tag key or field but found %s", what);
	}
	if (first_unscanned) {
		hg_metric_sort_tags(m);
		x->p->tags_sorted = true;
		for (size_t i = 1; i < m->ntags; i++)
			if (sv_eq(m->tags[i - 1].key, m->tags[i].key))
				return fail(x, first_unscanned, "duplicate tag key");
	}
	while (q < end && *q == ' ')
		q++;

	for (;;) {
		const char *kb = q;
		struct metric_field f;
		q = scan(&t, q, end, KEY_STOP, KEY_ESC);
		if (q == kb) {
			describe(what, sizeof what, q, end);
			return fail(x, q, "invalid character %s at start of field key", what);
		}
		if (t.hi && !utf8_valid((const unsigned char *)t.b, (const unsigned char *)t.e))
			return fail(x, kb, "invalid UTF-8 in field key");
		if (!materialize(p, &t, KEY_ESC, false, &f.key))
			return fail(x, kb, "scratch buffer too small to unescape field key");
		if (q == end || *q != '=') {
			describe(what, sizeof what, q, end);
			return fail(x, q, "expected '=' after field key, found %s", what);
		}
		q++;
		if (parse_field_value(x, &q, &f) < 0)
			return -1;
		hg_metric_field_sv(m, &f);
		if (m->overflow)
			return fail(x, kb, "more than %d fields", METRIC_MAX_FIELDS);
		if (q < end && *q == ',') {
			q++;
			continue;
		}
		break;
	}

	const char *rest = q;
	while (q < end && *q == ' ')
		q++;
	if (q != rest && !at_eol(q, end)) {
		const char *tb = q;
		while (q < end && *q != ' ' && *q != '\n' && !(*q == '\r' && at_eol(q, end)))
			q++;
		int64_t ts;
		int rc = parse_i64(tb, q, &ts);
		if (rc == -1)
			return fail(x, tb, "invalid timestamp");
		if (rc == -2 || __builtin_mul_overflow(ts, p->precision_ns, &m->time_ns))
			return fail(x, tb, "timestamp out of range");
		while (q < end && *q == ' ')
			q++;
		if (!at_eol(q, end)) {
			describe(what, sizeof what, q, end);
			return fail(x, q, "unexpected %s after timestamp", what);
		}
	} else {
		if (!at_eol(q, end)) {
			describe(what, sizeof what, q, end);
			return fail(x, q, "unexpected %s after field", what);
		}
		m->time_ns = p->default_time_ns;
	}

	const char *next = q;
	if (next < end && *next == '\r')
		next++;
	if (next < end && *next == '\n')
		next++;
	p->line = x->line;
	p->line_start = x->rec;
	p->line_len = (size_t)(q - x->rec);
	p->pos = next;
	return 1;
}

void hg_lp_parser_init(struct lp_parser *p, const char *buf, size_t len, int64_t precision_ns, int64_t default_time_ns,
		    char *scratch, size_t scratch_cap)
{
	cls_init();
	if (precision_ns <= 0)
		precision_ns = 1;
	/* The reference truncates the default time to the precision, as if the
	 * line had carried a timestamp in that precision. */
	int64_t q = default_time_ns / precision_ns;
	if (default_time_ns % precision_ns < 0)
		q--;
	*p = (struct lp_parser){
		.buf = buf,
		.end = buf ? buf + len : buf,
		.pos = buf,
		.line = 1,
		.line_start = buf,
		.line_len = 0,
		.default_time_ns = q * precision_ns,
		.precision_ns = precision_ns,
		.scratch = scratch,
		.scratch_cap = scratch ? scratch_cap : 0,
	};
}

int hg_lp_parse_next(struct lp_parser *p, struct metric *m, char *err, size_t errlen)
{
	/* Line number of pos: the last record's line plus the newlines between
	 * its start and pos (its own end, and any inside quoted strings). */
	unsigned line = p->line;
	for (const char *q = p->line_start; q < p->pos;) {
		const char *nl = memchr(q, '\n', (size_t)(p->pos - q));
		if (!nl)
			break;
		line++;
		q = nl + 1;
	}
	p->scratch_used = 0;
	const char *q = p->pos, *end = p->end;
	for (;;) {
		const char *phys = q;
		while (q < end && *q == ' ')
			q++;
		struct ctx x = { p, q, phys, line, err, errlen };
		if (q == end) {
			p->pos = end;
			p->line = line;
			p->line_start = end;
			p->line_len = 0;
			return 0;
		}
		if (*q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n')) {
			q += *q == '\n' ? 1 : 2;
			line++;
			continue;
		}
		if (*q == '#') {
			/* As the reference: comments hold printable text (and tabs). */
			const char *c = q;
			while (c < end && *c != '\n') {
				if ((cl(c) & B_CTL) && *c != '\t' && !(*c == '\r' && at_eol(c, end)))
					return fail(&x, c, "invalid character in comment line");
				c++;
			}
			q = c < end ? c + 1 : end;
			line += c < end;
			continue;
		}
		return parse_record(&x, q, m);
	}
}
