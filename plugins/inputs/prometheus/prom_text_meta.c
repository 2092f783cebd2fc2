/* The Prometheus text parser's document: creating and resetting it, the
 * metadata lines (# HELP, # TYPE, # UNIT) that give a family its type, and
 * the end of the document, where OpenMetrics asks for # EOF (with or
 * without a final newline) and nothing after it. Sample lines are
 * prom_text.c's. */
#include "prom_text_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hg_prom_text_error(struct prom_text *t, const char *fmt, ...)
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

/* ---- metadata lines ---- */

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
void hg_prom_text_comment(struct prom_text *t, char *p, char *end)
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
		hg_prom_text_error(t, "invalid metric name in %.4s line", kw);
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
			hg_prom_text_error(t, "second HELP line for a metric family");
			return;
		}
		t->fam_help = true;
		for (char *q = p; q < end; q++) {
			if (*q == '\\') {
				if (q + 1 == end || (q[1] != '\\' && q[1] != 'n' && !(t->om && q[1] == '"'))) {
					hg_prom_text_error(t, "invalid escape sequence in HELP");
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
		hg_prom_text_error(t, "unknown metric type");
		return;
	}
	if (t->fam_type) {
		hg_prom_text_error(t, "second TYPE line for a metric family");
		return;
	}
	if (t->fam_samples) {
		hg_prom_text_error(t, "TYPE line after samples of its family");
		return;
	}
	t->fam_type = true;
	t->ftype = ty;
	type_remember(t, t->fam, t->famlen, ty);
}

void hg_prom_text_finish(struct prom_text *t)
{
	if (t->len || t->skipping) {
		t->lineno++;
		/* OpenMetrics lets "# EOF" end without a newline; 0.0.4 does not. */
		char *p = skip_blanks(t->line, t->line + t->len);
		if (t->om && !t->skipping && t->line + t->len - p >= 5 && memcmp(p, "# EOF", 5) == 0) {
			/* As prom_text.c's parse_line takes a "#" line. */
			char *end = t->line + t->len;
			if (end[-1] == '\r')
				end--;
			if (t->eof_seen)
				hg_prom_text_error(t, "content after # EOF");
			else
				hg_prom_text_comment(t, p + 1, end);
		} else {
			hg_prom_text_error(t, "unexpected end of input: last line has no newline");
		}
	}
	if (t->om && !t->eof_seen && t->lineno) {
		hg_prom_text_error(t, "OpenMetrics text without # EOF");
	}
	t->len = 0;
	t->skipping = false;
}
