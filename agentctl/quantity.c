/* Parsing of Kubernetes quantities (see quantity.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quantity.h"

struct suffix {
	const char *s;
	double mult;
};

static const struct suffix suffixes[] = {
	{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
	{"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
	{"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"", 1.0}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9},
	{"T", 1e12}, {"P", 1e15}, {"E", 1e18},
};

int quantity_parse(const char *s, int64_t *out)
{
	if (!s || !*s || *s == '-')
		return -1;
	const char *p = s;
	if (*p == '+')
		p++;
	size_t digits = 0;
	while ((*p >= '0' && *p <= '9') || *p == '.') {
		digits += *p != '.';
		p++;
	}
	if (!digits)
		return -1;
	char num[64];
	size_t nl = (size_t)(p - s);
	double exp_mult = 1.0;
	/* Decimal exponent form "1e3"/"1E3": strtod reads it with the number. */
	if ((*p == 'e' || *p == 'E') && p[1] && strspn(p + 1, "+-0123456789") == strlen(p + 1)) {
		nl = strlen(s);
		p = s + nl;
	}
	if (nl >= sizeof num)
		return -1;
	memcpy(num, s, nl);
	num[nl] = '\0';
	char *end;
	double v = strtod(num, &end);
	if (*end != '\0' || !isfinite(v))
		return -1;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		if (strcmp(p, suffixes[i].s) == 0) {
			double r = ceil(v * suffixes[i].mult * exp_mult);
			if (r > 9.2e18)
				return -1;
			*out = (int64_t)r;
			return 0;
		}
	}
	return -1;
}

void quantity_format(int64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = {"", "Ki", "Mi", "Gi", "Ti"};
	size_t u = 0;
	double v = (double)bytes;
	while (u + 1 < sizeof units / sizeof *units && (v >= 1024.0 || v <= -1024.0)) {
		v /= 1024.0;
		u++;
	}
	if (v == floor(v))
		snprintf(out, outlen, "%.0f%s", v, units[u]);
	else
		snprintf(out, outlen, "%.1f%s", v, units[u]);
}
