/* See deploy_check_query.h. */
#include "deploy_check_query.h"
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "deploy_check.h"

void hg_dcq_add(struct dcq_text *b, const char *fmt, ...)
{
	if (b->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->buf + b->n, sizeof b->buf - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof b->buf - b->n)
		b->overflow = true;
	else
		b->n += (size_t)k;
}

/* s with each character of `special` (and the backslash) escaped by a
 * backslash: a string literal ('), an identifier (") or a regex (/). */
static void escaped(struct dcq_text *b, const char *s, char special)
{
	for (; *s && !b->overflow; s++) {
		if (*s == special || (*s == '\\' && special != '/'))
			hg_dcq_add(b, "\\");
		hg_dcq_add(b, "%c", *s);
	}
}

void hg_dcq_str(struct dcq_text *b, const char *s)
{
	hg_dcq_add(b, "'");
	escaped(b, s, '\'');
	hg_dcq_add(b, "'");
}

void hg_dcq_ident(struct dcq_text *b, const char *s)
{
	hg_dcq_add(b, "\"");
	escaped(b, s, '"');
	hg_dcq_add(b, "\"");
}

void hg_dcq_regex(struct dcq_text *b, const char *s)
{
	hg_dcq_add(b, "/");
	escaped(b, s, '/');
	hg_dcq_add(b, "/");
}

/* WHERE: the namespace, the pods, the span. */
void hg_dcq_where(struct dcq_text *b, const char *ns, const char *pods, int64_t from, int64_t to)
{
	hg_dcq_add(b, " WHERE \"namespace\" = ");
	hg_dcq_str(b, ns);
	hg_dcq_add(b, " AND \"pod_name\" =~ ");
	hg_dcq_regex(b, pods);
	hg_dcq_add(b, " AND time >= %" PRId64 " AND time < %" PRId64, from, to);
}

/* ---- the error-rate expression ---- */

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

/* One `name{matchers}` at *sp; advances *sp. 0, or -1 with err. */
static int parse_series(const char **sp, int version, struct dc_series_expr *out, char *err, size_t errlen)
{
	const char *s = skip_ws(*sp), *start = s;
	while (name_char(*s, s == start))
		s++;
	if (s == start) {
		snprintf(err, errlen, "expected a metric name at '%.40s'", start);
		return -1;
	}
	char metric[256];
	if ((size_t)(s - start) >= sizeof metric) {
		snprintf(err, errlen, "metric name too long");
		return -1;
	}
	snprintf(metric, sizeof metric, "%.*s", (int)(s - start), start);
	if (version == 2) {
		snprintf(out->measurement, sizeof out->measurement, "prometheus");
		snprintf(out->field, sizeof out->field, "%s", metric);
	} else {
		snprintf(out->measurement, sizeof out->measurement, "%s", metric);
		snprintf(out->field, sizeof out->field, "counter");
	}
	struct dcq_text w = { .n = 0 };
	s = skip_ws(s);
	if (*s == '{') {
		s = skip_ws(s + 1);
		while (*s != '}') {
			const char *ls = s;
			while (name_char(*s, s == ls))
				s++;
			if (s == ls) {
				snprintf(err, errlen, "expected a label name at '%.40s'", ls);
				return -1;
			}
			char label[256];
			snprintf(label, sizeof label, "%.*s", (int)(s - ls), ls);
			s = skip_ws(s);
			const char *op;
			if (strncmp(s, "=~", 2) == 0 || strncmp(s, "!~", 2) == 0 || strncmp(s, "!=", 2) == 0) {
				op = s[0] == '=' ? "=~" : s[1] == '~' ? "!~" : "!=";
				s += 2;
			} else if (*s == '=') {
				op = "=";
				s++;
			} else {
				snprintf(err, errlen, "expected =, !=, =~ or !~ after label %.100s", label);
				return -1;
			}
			s = skip_ws(s);
			if (*s != '"') {
				snprintf(err, errlen, "the value of label %.100s must be in double quotes", label);
				return -1;
			}
			char val[512];
			size_t n = 0;
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (n + 1 >= sizeof val) {
					snprintf(err, errlen, "the value of label %.100s is too long", label);
					return -1;
				}
				val[n++] = *s;
			}
			val[n] = '\0';
			if (*s != '"') {
				snprintf(err, errlen, "unterminated value of label %.100s", label);
				return -1;
			}
			s = skip_ws(s + 1);
			hg_dcq_add(&w, " AND ");
			hg_dcq_ident(&w, label);
			hg_dcq_add(&w, " %s ", op);
			if (op[1] == '~') {
				/* PromQL anchors its regexes; InfluxQL does not. InfluxDB
				 * (Go's regexp, as PromQL) reports a bad one. */
				char anchored[600];
				snprintf(anchored, sizeof anchored, "^(?:%s)$", val);
				hg_dcq_regex(&w, anchored);
			} else {
				hg_dcq_str(&w, val);
			}
			if (*s == ',')
				s = skip_ws(s + 1);
			else if (*s != '}') {
				snprintf(err, errlen, "expected ',' or '}' at '%.40s'", s);
				return -1;
			}
		}
		s++;
	}
	if (w.overflow || w.n >= sizeof out->where) {
		snprintf(err, errlen, "too many label matchers");
		return -1;
	}
	memcpy(out->where, w.buf, w.n + 1);
	*sp = s;
	return 0;
}

int hg_dc_rate_parse(const char *expr, int version, struct dc_rate *out, char *err, size_t errlen)
{
	char why[256];
	const char *s = expr;
	*out = (struct dc_rate){ 0 };
	if (parse_series(&s, version, &out->num, why, sizeof why) < 0)
		goto bad;
	s = skip_ws(s);
	if (*s != '/') {
		snprintf(why, sizeof why, "expected '/' between the errors and all requests");
		goto bad;
	}
	s++;
	if (parse_series(&s, version, &out->den, why, sizeof why) < 0)
		goto bad;
	if (*skip_ws(s)) {
		snprintf(why, sizeof why, "unexpected '%.40s' at the end", skip_ws(s));
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "'%.200s': %s", expr, why);
	return -1;
}

int hg_dc_workload_pods(const char *name, const char *hash, char *out, size_t outlen)
{
	size_t n = strlen(name);
	if (n == 0 || n > 253 || !isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
		return -1;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.'))
			return -1;
	if (hash) {
		for (const char *p = hash; *p; p++)
			if (!isalnum((unsigned char)*p))
				return -1;
		if (!*hash)
			return -1;
	}
	/* '.' is the only regex character a DNS-1123 name holds. */
	char quoted[600];
	size_t k = 0;
	for (const char *p = name; *p && k + 3 < sizeof quoted; p++) {
		if (*p == '.')
			quoted[k++] = '\\';
		quoted[k++] = *p;
	}
	quoted[k] = '\0';
	snprintf(out, outlen, "^%s-%s-[a-z0-9]+$", quoted, hash ? hash : "[a-z0-9]+");
	return 0;
}
