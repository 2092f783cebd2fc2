/* Prometheus text exposition (0.0.4) and OpenMetrics 1.0 text, parsed line
 * by line as the body streams in. Memory is the line buffer, a sample
 * scratch and a fixed table of the families whose TYPE was seen (to find
 * the family of a sample that comes back after another family, as expfmt
 * does with its map); nothing is allocated per line or per sample. A bad
 * line is counted with its number and skipped; the rest of the document
 * still counts, which is kinder to a node than expfmt's all-or-nothing. */
#include "prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void text_error(struct prom_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_error(struct prom_text *t, const char *fmt, ...)
{
	char msg[192];
	int n = snprintf(msg, sizeof msg, "line %lu: ", t->lineno);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	t->errors++;
	if (t->on_error)
		t->on_error(t->arg, msg);
}

struct prom_text *hg_prom_text_new(size_t max_line, prom_sample_fn on_sample, prom_error_fn on_error, void *arg)
{
	struct prom_text *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cap = max_line < 256 ? 256 : max_line;
	t->line = malloc(t->cap);
	t->names = malloc(NAMES_ARENA);
	if (!t->line || !t->names) {
		hg_prom_text_free(t);
		return NULL;
	}
	t->on_sample = on_sample;
	t->on_error = on_error;
	t->arg = arg;
	hg_prom_text_reset(t, false);
	return t;
}

void hg_prom_text_free(struct prom_text *t)
{
	if (!t)
		return;
	free(t->line);
	free(t->names);
	free(t);
}

void hg_prom_text_reset(struct prom_text *t, bool openmetrics)
{
	t->len = 0;
	t->skipping = false;
	t->om = openmetrics;
	t->eof_seen = false;
	t->lineno = t->errors = t->samples = 0;
	t->famlen = 0;
	t->ftype = PROM_UNTYPED;
	t->fam_help = t->fam_type = t->fam_samples = false;
	memset(t->slots, 0, sizeof t->slots);
	t->ntypes = 0;
	t->names_used = 1;
}

unsigned long hg_prom_text_errors(const struct prom_text *t)
{
	return t->errors;
}

unsigned long hg_prom_text_samples(const struct prom_text *t)
{
	return t->samples;
}

/* ---- the table of typed families ---- */

static uint32_t hash_name(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static struct type_slot *type_slot(struct prom_text *t, const char *name, size_t n)
{
	uint32_t i = hash_name(name, n) & (TYPES_SLOTS - 1);
	for (;;) {
		struct type_slot *s = &t->slots[i];
		if (s->off == 0 || (s->len == n && memcmp(t->names + s->off, name, n) == 0))
			return s;
		i = (i + 1) & (TYPES_SLOTS - 1);
	}
}

static int type_lookup(struct prom_text *t, const char *name, size_t n)
{
	struct type_slot *s = type_slot(t, name, n);
	return s->off ? s->type : -1;
}

static void type_remember(struct prom_text *t, const char *name, size_t n, enum prom_type type)
{
	struct type_slot *s = type_slot(t, name, n);
	if (s->off) {
		s->type = (uint8_t)type;
		return;
	}
	if (t->ntypes >= TYPES_MAX || t->names_used + n > NAMES_ARENA)
		return;
	memcpy(t->names + t->names_used, name, n);
	s->off = (uint32_t)t->names_used;
	s->len = (uint16_t)n;
	s->type = (uint8_t)type;
	t->names_used += n;
	t->ntypes++;
}

/* ---- lexing helpers ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *skip_blanks(char *p, char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool label_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool label_char(char c)
{
	return label_start(c) || (c >= '0' && c <= '9');
}

static char *token_end(char *p, char *end)
{
	while (p < end && !is_blank(*p))
		p++;
	return p;
}

/* A float as Go's strconv.ParseFloat takes it (decimal, Inf/NaN spellings);
 * the whole token must be the number. */
static bool parse_float(const char *p, const char *end, double *out)
{
	char buf[64];
	size_t n = (size_t)(end - p);
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	const char *q = buf;
	if (*q == '+' || *q == '-')
		q++;
	/* strtod also reads hex without an exponent, which Go refuses. */
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		return false;
	char *e;
	*out = strtod(buf, &e);
	return *e == '\0' && e != buf;
}

static bool parse_int64(const char *p, const char *end, int64_t *out)
{
	const char *q = p;
	bool neg = false;
	if (q < end && (*q == '+' || *q == '-'))
		neg = *q++ == '-';
	if (q == end)
		return false;
	uint64_t v = 0;
	for (; q < end; q++) {
		if (*q < '0' || *q > '9')
			return false;
		if (v > (UINT64_C(1) << 62))
			return false; /* beyond any sane millisecond timestamp */
		v = v * 10 + (uint64_t)(*q - '0');
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* ---- families ---- */

static bool fam_is(const struct prom_text *t, const char *name, size_t n)
{
	return t->famlen == n && memcmp(t->fam, name, n) == 0;
}

static bool switch_family(struct prom_text *t, const char *name, size_t n)
{
	if (fam_is(t, name, n))
		return true;
	if (n >= FAM_MAX) {
		text_error(t, "metric name longer than %d bytes", FAM_MAX - 1);
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

static bool parse_type(const char *p, size_t n, bool om, enum prom_type *out)
{
	static const struct {
		const char *name;
		enum prom_type type;
		bool om_only;
	} types[] = {
		{ "counter", PROM_COUNTER, false },  { "gauge", PROM_GAUGE, false },
		{ "histogram", PROM_HISTOGRAM, false }, { "summary", PROM_SUMMARY, false },
		{ "untyped", PROM_UNTYPED, false },  { "unknown", PROM_UNTYPED, true },
		{ "gaugehistogram", PROM_GAUGE_HISTOGRAM, true }, { "info", PROM_INFO, true },
		{ "stateset", PROM_STATESET, true },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strlen(types[i].name) == n && memcmp(types[i].name, p, n) == 0 && (om || !types[i].om_only)) {
			*out = types[i].type;
			return true;
		}
	}
	return false;
}

/* "# HELP name doc", "# TYPE name type", "# UNIT name unit", "# EOF";
 * anything else after '#' is a comment. */
static void parse_comment(struct prom_text *t, char *p, char *end)
{
	p = skip_blanks(p, end);
	char *kw = p;
	p = token_end(p, end);
	size_t kwlen = (size_t)(p - kw);
	if (t->om && kwlen == 3 && memcmp(kw, "EOF", 3) == 0 && skip_blanks(p, end) == end) {
		t->eof_seen = true;
		return;
	}
	bool help = kwlen == 4 && memcmp(kw, "HELP", 4) == 0;
	bool type = kwlen == 4 && memcmp(kw, "TYPE", 4) == 0;
	bool unit = t->om && kwlen == 4 && memcmp(kw, "UNIT", 4) == 0;
	if (!help && !type && !unit)
		return;
	p = skip_blanks(p, end);
	if (p == end)
		return; /* "# HELP" alone: expfmt reads it as a plain comment */
	char *name = p;
	while (p < end && name_char(*p))
		p++;
	if (p == name || !name_start(*name) || (p < end && !is_blank(*p))) {
		text_error(t, "invalid metric name in %.4s line", kw);
		return;
	}
	size_t nlen = (size_t)(p - name);
	if (p == end)
		return; /* nothing after the name: expfmt ignores the line */
	if (!switch_family(t, name, nlen))
		return;
	p = skip_blanks(p, end);
	if (help) {
		if (t->fam_help) {
			text_error(t, "second HELP line for a metric family");
			return;
		}
		t->fam_help = true;
		for (char *q = p; q < end; q++) {
			if (*q == '\\') {
				if (q + 1 == end || (q[1] != '\\' && q[1] != 'n' && !(t->om && q[1] == '"'))) {
					text_error(t, "invalid escape sequence in HELP");
					return;
				}
				q++;
			}
		}
		return;
	}
	if (unit)
		return;
	char *tt = p;
	p = token_end(p, end);
	enum prom_type ty;
	if (!parse_type(tt, (size_t)(p - tt), t->om, &ty) || skip_blanks(p, end) != end) {
		text_error(t, "unknown metric type");
		return;
	}
	if (t->fam_type) {
		text_error(t, "second TYPE line for a metric family");
		return;
	}
	if (t->fam_samples) {
		text_error(t, "TYPE line after samples of its family");
		return;
	}
	t->fam_type = true;
	t->ftype = ty;
	type_remember(t, t->fam, t->famlen, ty);
}

/* The part a sample named base+suffix plays in a family of type ty, or -2
 * when the suffix does not belong to it. */
static int suffix_part(enum prom_type ty, const char *suf, size_t n, bool om)
{
#define SUF(s) (n == sizeof(s) - 1 && memcmp(suf, s, n) == 0)
	switch (ty) {
	case PROM_SUMMARY:
		if (SUF("_sum"))
			return PROM_SUM;
		if (SUF("_count"))
			return PROM_COUNT;
		break;
	case PROM_HISTOGRAM:
		if (SUF("_bucket"))
			return PROM_BUCKET;
		if (SUF("_sum"))
			return PROM_SUM;
		if (SUF("_count"))
			return PROM_COUNT;
		break;
	case PROM_GAUGE_HISTOGRAM:
		if (SUF("_bucket"))
			return PROM_BUCKET;
		if (SUF("_gsum"))
			return PROM_SUM;
		if (SUF("_gcount"))
			return PROM_COUNT;
		break;
	case PROM_COUNTER:
		if (om && SUF("_total"))
			return PROM_VALUE;
		break;
	case PROM_INFO:
		if (om && SUF("_info"))
			return PROM_VALUE;
		break;
	default:
		break;
	}
	/* _created is a start time, not a sample value: dropped. */
	if (om && SUF("_created") && (ty == PROM_COUNTER || ty == PROM_SUMMARY || ty == PROM_HISTOGRAM))
		return PART_SKIP;
	return -2;
#undef SUF
}

static int own_part(enum prom_type ty)
{
	switch (ty) {
	case PROM_SUMMARY:
		return PROM_QUANTILE;
	case PROM_HISTOGRAM:
	case PROM_GAUGE_HISTOGRAM:
		return -2; /* a histogram has no sample under its bare name */
	default:
		return PROM_VALUE;
	}
}

/* Finds the family of a sample name and the part it plays; switches the
 * current family. Returns the part, PART_SKIP, or -2 on error (reported). */
static int resolve(struct prom_text *t, const char *name, size_t n)
{
	if (t->famlen) {
		if (fam_is(t, name, n)) {
			int part = own_part(t->ftype);
			if (part == -2)
				text_error(t, "histogram sample without _bucket/_sum/_count suffix");
			return part;
		}
		if (n > t->famlen && memcmp(name, t->fam, t->famlen) == 0) {
			int part = suffix_part(t->ftype, name + t->famlen, n - t->famlen, t->om);
			if (part != -2)
				return part;
		}
	}
	int ty = type_lookup(t, name, n);
	if (ty >= 0) {
		switch_family(t, name, n);
		int part = own_part(t->ftype);
		if (part == -2)
			text_error(t, "histogram sample without _bucket/_sum/_count suffix");
		return part;
	}
	static const char *const sufs[] = { "_bucket", "_count", "_sum", "_total", "_created", "_info", "_gcount", "_gsum" };
	for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
		size_t sl = strlen(sufs[i]);
		if (n <= sl || memcmp(name + n - sl, sufs[i], sl) != 0)
			continue;
		ty = type_lookup(t, name, n - sl);
		if (ty < 0)
			continue;
		int part = suffix_part((enum prom_type)ty, sufs[i], sl, t->om);
		if (part == -2)
			continue;
		switch_family(t, name, n - sl);
		return part;
	}
	/* A sample of a family without TYPE: untyped, named after itself. */
	if (!switch_family(t, name, n))
		return -2;
	return PROM_VALUE;
}

/* Reads {name="value",...} in place: values are unescaped over themselves. */
static char *parse_labels(struct prom_text *t, char *p, char *end, struct prom_sample *s)
{
	for (;;) {
		p = skip_blanks(p, end);
		if (p < end && *p == '}')
			return p + 1;
		char *ln = p;
		while (p < end && label_char(*p))
			p++;
		if (p == ln || !label_start(*ln)) {
			text_error(t, "invalid label name");
			return NULL;
		}
		size_t lnl = (size_t)(p - ln);
		if (lnl == 8 && memcmp(ln, "__name__", 8) == 0) {
			text_error(t, "label name __name__ is reserved");
			return NULL;
		}
		p = skip_blanks(p, end);
		if (p == end || *p != '=') {
			text_error(t, "expected '=' after label name");
			return NULL;
		}
		p = skip_blanks(p + 1, end);
		if (p == end || *p != '"') {
			text_error(t, "expected '\"' to start a label value");
			return NULL;
		}
		char *v = ++p, *w = v;
		for (;;) {
			if (p == end) {
				text_error(t, "unterminated label value");
				return NULL;
			}
			char c = *p++;
			if (c == '"')
				break;
			if (c == '\\') {
				if (p == end) {
					text_error(t, "unterminated label value");
					return NULL;
				}
				c = *p++;
				if (c == 'n')
					c = '\n';
				else if (c != '\\' && c != '"') {
					text_error(t, "invalid escape sequence in label value");
					return NULL;
				}
			}
			*w++ = c;
		}
		if (s->nlabels == PROM_MAX_LABELS) {
			text_error(t, "more than %d labels", PROM_MAX_LABELS);
			return NULL;
		}
		s->labels[s->nlabels].name = (struct sv){ ln, lnl };
		s->labels[s->nlabels].value = (struct sv){ v, (size_t)(w - v) };
		s->nlabels++;
		p = skip_blanks(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			return p + 1;
		text_error(t, "expected ',' or '}' after label value");
		return NULL;
	}
}

/* Moves the le or quantile label into s->bound. */
static bool take_bound(struct prom_text *t, struct prom_sample *s, const char *key)
{
	for (size_t i = 0; i < s->nlabels; i++) {
		if (!sv_eq_c(s->labels[i].name, key))
			continue;
		if (!parse_float(s->labels[i].value.p, s->labels[i].value.p + s->labels[i].value.len, &s->bound)) {
			text_error(t, "%s label is not a number", key);
			return false;
		}
		s->labels[i] = s->labels[--s->nlabels];
		return true;
	}
	text_error(t, "%s sample without %s label", key[0] == 'l' ? "bucket" : "quantile", key);
	return false;
}

static void parse_sample(struct prom_text *t, char *p, char *end)
{
	char *name = p;
	while (p < end && name_char(*p))
		p++;
	if (p == name || !name_start(*name)) {
		text_error(t, "invalid metric name");
		return;
	}
	size_t nlen = (size_t)(p - name);
	if (p < end && *p != '{' && !is_blank(*p)) {
		text_error(t, "invalid character after metric name");
		return;
	}
	struct prom_sample *s = &t->s;
	s->nlabels = 0;
	p = skip_blanks(p, end);
	if (p < end && *p == '{') {
		p = parse_labels(t, p + 1, end, s);
		if (!p)
			return;
	}
	p = skip_blanks(p, end);
	char *v = p;
	p = token_end(p, end);
	if (!parse_float(v, p, &s->value)) {
		text_error(t, v == p ? "missing sample value" : "sample value is not a number");
		return;
	}
	s->has_ts = false;
	s->ts_ms = 0;
	p = skip_blanks(p, end);
	if (p < end && !(t->om && *p == '#')) {
		char *ts = p;
		p = token_end(p, end);
		if (t->om) {
			double sec;
			if (!parse_float(ts, p, &sec) || !isfinite(sec) || fabs(sec) > 9e15) {
				text_error(t, "timestamp is not a number");
				return;
			}
			s->ts_ms = llround(sec * 1000.0);
		} else if (!parse_int64(ts, p, &s->ts_ms)) {
			text_error(t, "timestamp is not an integer");
			return;
		}
		s->has_ts = true;
		p = skip_blanks(p, end);
	}
	/* OpenMetrics exemplar (" # {labels} value [ts]"): ignored. */
	if (p < end && !(t->om && *p == '#')) {
		text_error(t, "unexpected text after the sample");
		return;
	}
	int part = resolve(t, name, nlen);
	if (part == -2)
		return;
	t->fam_samples = true;
	if (part == PART_SKIP)
		return;
	s->part = (enum prom_part)part;
	if (s->part == PROM_BUCKET && !take_bound(t, s, "le"))
		return;
	if (s->part == PROM_QUANTILE && !take_bound(t, s, "quantile"))
		return;
	s->family = (struct sv){ t->fam, t->famlen };
	s->type = t->ftype;
	t->samples++;
	t->on_sample(t->arg, s);
}

static void parse_line(struct prom_text *t, char *p, char *end)
{
	p = skip_blanks(p, end);
	if (p < end && end[-1] == '\r')
		end--;
	if (p == end)
		return;
	if (t->eof_seen) {
		text_error(t, "content after # EOF");
		return;
	}
	if (*p == '#')
		parse_comment(t, p + 1, end);
	else
		parse_sample(t, p, end);
}

void hg_prom_text_feed(struct prom_text *t, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (!t->skipping) {
			if (t->len + take > t->cap) {
				t->lineno++;
				text_error(t, "line longer than %zu bytes", t->cap);
				t->lineno--;
				t->skipping = true;
				t->len = 0;
			} else {
				memcpy(t->line + t->len, p, take);
				t->len += take;
			}
		}
		if (!nl)
			return;
		t->lineno++;
		if (!t->skipping)
			parse_line(t, t->line, t->line + t->len);
		t->skipping = false;
		t->len = 0;
		p = nl + 1;
		n -= take + 1;
	}
}

void hg_prom_text_finish(struct prom_text *t)
{
	if (t->len || t->skipping) {
		t->lineno++;
		/* OpenMetrics lets "# EOF" end without a newline; 0.0.4 does not. */
		char *p = skip_blanks(t->line, t->line + t->len);
		if (t->om && !t->skipping && t->line + t->len - p >= 5 && memcmp(p, "# EOF", 5) == 0)
			parse_line(t, t->line, t->line + t->len);
		else
			text_error(t, "unexpected end of input: last line has no newline");
	}
	if (t->om && !t->eof_seen && t->lineno) {
		text_error(t, "OpenMetrics text without # EOF");
	}
	t->len = 0;
	t->skipping = false;
}
