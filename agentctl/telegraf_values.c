/* Telegraf's value readings, restated for the agent (see telegraf_values.h).
 * Sources of the rules: Telegraf's config/envvar.go (compose-go templates;
 * undeclared and invalid references are kept), config/types.go (Duration)
 * and config/secret.go (@{store:key}). */
#include "telegraf_values.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "toml.h"
#include "url_redact.h"

/* ---- environment references ---- */

/* A '$' that must reach the agent as itself is held back until the next
 * character is known: the agent reads "$${" as a literal "${" and any other
 * '$' as itself, so only a '$' before '{' needs doubling, and none can stand
 * right before a reference. */
struct emit {
	FILE *out;
	int pend;
};

static void lit(struct emit *e, char c)
{
	if (e->pend) {
		fputs(c == '{' ? "$$" : "$", e->out);
		e->pend = 0;
	}
	if (c == '$')
		e->pend = 1;
	else
		fputc(c, e->out);
}

static void lit_done(struct emit *e)
{
	if (e->pend)
		fputc('$', e->out);
	e->pend = 0;
}

static int name0(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static int namec(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

static int translate(struct emit *e, const char *s, size_t len, int depth, const char **why)
{
	int rc = 0;
	if (depth > 8) {
		*why = "${...} defaults nested more than 8 deep";
		return -1;
	}
	for (size_t i = 0; i < len;) {
		if (s[i] != '$') {
			lit(e, s[i++]);
			continue;
		}
		if (i + 1 < len && s[i + 1] == '$') { /* $$: an escaped '$' */
			lit(e, '$');
			i += 2;
			continue;
		}
		size_t nm = i + 1 + (i + 1 < len && s[i + 1] == '{'), ne = nm;
		if (ne < len && name0(s[ne]))
			while (ne < len && namec(s[ne]))
				ne++;
		if (ne == nm) { /* "$ ", "$1", "${1}": Telegraf keeps them as they are */
			lit(e, s[i++]);
			continue;
		}
		int n = (int)(ne - nm);
		if (e->pend) {
			*why = "a '$' right before a variable reference cannot be written for the agent";
			return -1;
		}
		if (nm == i + 1) { /* $VAR */
			fprintf(e->out, "${%.*s-$%.*s}", n, s + nm, n, s + nm);
			i = ne;
			continue;
		}
		if (ne < len && s[ne] == '}') { /* ${VAR} */
			fprintf(e->out, "${%.*s-$${%.*s}}", n, s + nm, n, s + nm);
			i = ne + 1;
			continue;
		}
		size_t m = ne;
		int colon = m < len && s[m] == ':';
		m += (size_t)colon;
		char op = m < len ? s[m] : '\0';
		size_t end = ++m;
		for (int nest = 0; end < len; end++) {
			if (s[end] == '$' && end + 1 < len && s[end + 1] == '{') {
				nest++;
				end++;
			} else if (s[end] == '}' && nest-- == 0) {
				break;
			}
		}
		if ((op != '-' && op != '?' && op != '+') || end >= len) { /* invalid: kept */
			lit(e, s[i++]);
			continue;
		}
		if (op == '+') {
			*why = "${VAR:+value} and ${VAR+value} have no equivalent in the agent's configuration";
			return -1;
		}
		if (op == '?') {
			/* Telegraf refuses to start when VAR is unset (or empty with ':'). */
			fprintf(e->out, "${%.*s}", n, s + nm);
			*why = "${VAR:?message}: the agent does not check that the variable is set (unset reads as empty)";
			rc = 1;
		} else {
			fprintf(e->out, colon ? "${%.*s:-" : "${%.*s-", n, s + nm);
			struct emit d = { e->out, 0 };
			int r = translate(&d, s + m, end - m, depth + 1, why);
			if (r < 0)
				return -1;
			lit_done(&d);
			fputc('}', e->out);
			if (r > 0)
				rc = 1;
		}
		i = end + 1;
	}
	return rc;
}

int hg_telegraf_env_to_agent(FILE *out, const char *s, size_t len, const char **why)
{
	struct emit e = { out, 0 };
	int rc = translate(&e, s, len, 0, why);
	if (rc >= 0)
		lit_done(&e);
	return rc;
}

/* ---- durations ---- */

int hg_telegraf_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		double ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 }, /* Telegraf's days */
	};
	if (!*s || isspace((unsigned char)*s))
		return -1;
	char *end;
	/* A number alone is seconds, integer first (exact), then float. */
	errno = 0;
	long long secs = strtoll(s, &end, 10);
	if (!*end && !errno) {
		if (secs < 0)
			return -2;
		if (secs > INT64_MAX / 1000000000LL)
			return -3;
		*ns = secs * 1000000000LL;
		return 0;
	}
	double f = strtod(s, &end);
	if (!*end) {
		if (!isfinite(f))
			return -1;
		if (f < 0)
			return -2;
		if (f * 1e9 >= 9.2e18)
			return -3;
		*ns = (int64_t)llround(f * 1e9);
		return 0;
	}
	/* A Go duration: [-+]? then (number unit)+, or "0". */
	const char *p = s;
	int neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (!strcmp(p, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return -1;
	long double total = 0;
	while (*p) {
		const char *q = p;
		while (isdigit((unsigned char)*q))
			q++;
		int digits = q > p;
		if (*q == '.') {
			q++;
			while (isdigit((unsigned char)*q))
				q++, digits = 1;
		}
		if (!digits)
			return -1;
		long double v = strtold(p, NULL);
		size_t best = 0;
		double unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);
			if (ul > best && !strncmp(q, units[i].u, ul)) {
				best = ul;
				unit = units[i].ns;
			}
		}
		if (!best)
			return -1;
		total += v * unit;
		p = q + best;
	}
	if (neg && total > 0)
		return -2;
	if (total >= 9.2e18L)
		return -3;
	*ns = (int64_t)llroundl(total);
	return 0;
}

void hg_telegraf_put_duration(FILE *out, int64_t ns)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = { { "h", 3600000000000LL }, { "m", 60000000000LL }, { "s", 1000000000LL },
		      { "ms", 1000000LL },      { "us", 1000LL },         { "ns", 1 } };
	if (ns == 0) {
		fputs("\"0s\"", out);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			fprintf(out, "\"%lld%s\"", (long long)(ns / units[i].ns), units[i].u);
			return;
		}
	}
}

/* ---- URLs ---- */

int hg_telegraf_url_usable(const char *url)
{
	if (strchr(url, '$'))
		return 1;
	return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

void hg_telegraf_url_shown(const char *url, char *buf, size_t len)
{
	const char *sep = strstr(url, "://");
	size_t hl;
	const char *host = hg_url_host(url, &hl);
	if (hl == 0) /* unix:///path: the path is the address */
		hl = strcspn(host, "?#");
	char *raw = malloc(strlen(url) + 1);
	if (!raw) {
		snprintf(buf, len, "(a URL)");
		return;
	}
	size_t o = 0;
	if (sep && host > sep) {
		o = (size_t)(sep + 3 - url);
		memcpy(raw, url, o);
	}
	memcpy(raw + o, host, hl);
	raw[o + hl] = '\0';
	char *shown = hg_telegraf_shown_name(raw);
	snprintf(buf, len, "%s", shown ? shown : "(a URL)");
	free(shown);
	free(raw);
}

/* ---- secret stores ---- */

long hg_telegraf_secret_ref(const char *s, size_t len, size_t *reflen)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '@' || s[i + 1] != '{')
			continue;
		size_t j = i + 2, k;
		while (j < len && namec(s[j]))
			j++;
		if (j == i + 2 || j >= len || s[j] != ':')
			continue;
		for (k = j + 1; k < len && namec(s[k]); k++)
			;
		if (k == j + 1 || k >= len || s[k] != '}')
			continue;
		*reflen = k + 1 - i;
		return (long)i;
	}
	return -1;
}

/* ---- names ---- */

char *hg_telegraf_shown_name(const char *name)
{
	size_t len = strlen(name);
	char *out = malloc(len * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)name + i;
		size_t n = hg_toml_utf8_seq(p, len - i);
		if (n == 1 && (*p < 0x20 || *p == 0x7f))
			n = 0;
		if (!n) {
			o += sprintf(o, "\\x%02X", *p);
			i++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		i += n;
	}
	*o = '\0';
	return out;
}
