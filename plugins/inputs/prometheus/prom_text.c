/* Prometheus text exposition (0.0.4) and OpenMetrics 1.0 text, parsed line
 * by line as the body streams in. Memory is the line buffer, a sample
 * scratch and a fixed table of the families whose TYPE was seen (to find
 * the family of a sample that comes back after another family, as expfmt
 * does with its map); nothing is allocated per line or per sample. A bad
 * line is counted with its number and skipped; the rest of the document
 * still counts, which is kinder to a node than expfmt's all-or-nothing.
 * This file is the sample path; the document around it (HELP/TYPE lines,
 * # EOF, the end of input) is prom_text_meta.c's. */
#include "prom_text_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- lexing helpers ---- */

static bool label_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool label_char(char c)
{
	return label_start(c) || (c >= '0' && c <= '9');
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

/* ---- samples ---- */

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
				hg_prom_text_error(t, "histogram sample without _bucket/_sum/_count suffix");
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
			hg_prom_text_error(t, "histogram sample without _bucket/_sum/_count suffix");
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
			hg_prom_text_error(t, "invalid label name");
			return NULL;
		}
		size_t lnl = (size_t)(p - ln);
		if (lnl == 8 && memcmp(ln, "__name__", 8) == 0) {
			hg_prom_text_error(t, "label name __name__ is reserved");
			return NULL;
		}
		p = skip_blanks(p, end);
		if (p == end || *p != '=') {
			hg_prom_text_error(t, "expected '=' after label name");
			return NULL;
		}
		p = skip_blanks(p + 1, end);
		if (p == end || *p != '"') {
			hg_prom_text_error(t, "expected '\"' to start a label value");
			return NULL;
		}
		char *v = ++p, *w = v;
		for (;;) {
			if (p == end) {
				hg_prom_text_error(t, "unterminated label value");
				return NULL;
			}
			char c = *p++;
			if (c == '"')
				break;
			if (c == '\\') {
				if (p == end) {
					hg_prom_text_error(t, "unterminated label value");
					return NULL;
				}
				c = *p++;
				if (c == 'n')
					c = '\n';
				else if (c != '\\' && c != '"') {
					hg_prom_text_error(t, "invalid escape sequence in label value");
					return NULL;
				}
			}
			*w++ = c;
		}
		if (s->nlabels == PROM_MAX_LABELS) {
			hg_prom_text_error(t, "more than %d labels", PROM_MAX_LABELS);
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
		hg_prom_text_error(t, "expected ',' or '}' after label value");
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
			hg_prom_text_error(t, "%s label is not a number", key);
			return false;
		}
		s->labels[i] = s->labels[--s->nlabels];
		return true;
	}
	hg_prom_text_error(t, "%s sample without %s label", key[0] == 'l' ? "bucket" : "quantile", key);
	return false;
}

static void parse_sample(struct prom_text *t, char *p, char *end)
{
	char *name = p;
	while (p < end && name_char(*p))
		p++;
	if (p == name || !name_start(*name)) {
		hg_prom_text_error(t, "invalid metric name");
		return;
	}
	size_t nlen = (size_t)(p - name);
	if (p < end && *p != '{' && !is_blank(*p)) {
		hg_prom_text_error(t, "invalid character after metric name");
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
		hg_prom_text_error(t, v == p ? "missing sample value" : "sample value is not a number");
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
				hg_prom_text_error(t, "timestamp is not a number");
				return;
			}
			s->ts_ms = llround(sec * 1000.0);
		} else if (!parse_int64(ts, p, &s->ts_ms)) {
			hg_prom_text_error(t, "timestamp is not an integer");
			return;
		}
		s->has_ts = true;
		p = skip_blanks(p, end);
	}
	/* OpenMetrics exemplar (" # {labels} value [ts]"): ignored. */
	if (p < end && !(t->om && *p == '#')) {
		hg_prom_text_error(t, "unexpected text after the sample");
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

/* Out of line, as it was while finish() called it too: inlined into
 * feed's copy loop it cost 1% more instructions per sample (callgrind,
 * bench_prom on the k8s 1.35 cadvisor body). */
__attribute__((noinline)) static void parse_line(struct prom_text *t, char *p, char *end)
{
	p = skip_blanks(p, end);
	if (p < end && end[-1] == '\r')
		end--;
	if (p == end)
		return;
	if (t->eof_seen) {
		hg_prom_text_error(t, "content after # EOF");
		return;
	}
	if (*p == '#')
		hg_prom_text_comment(t, p + 1, end);
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
				hg_prom_text_error(t, "line longer than %zu bytes", t->cap);
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
