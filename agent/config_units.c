/* Durations ("10s", "1m30s", "500ms", "1d", Telegraf's bare seconds "10" and "1.5") and sizes ("64MiB", "10MB") of the
 * config. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include "config.h"

/* A decimal number "12", "1.5", ".5": integer part and fraction (digits past
 * the 18th are ignored, far below a nanosecond of any unit). Returns the
 * length consumed, 0 if none. */
static size_t parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, uint64_t *scale, int *overflow)
{
	size_t i = 0;
	*ip = 0;
	*frac = 0;
	*scale = 1;
	*overflow = 0;
	int digits = 0;
	while (isdigit((unsigned char)s[i])) {
		unsigned d = (unsigned)(s[i] - '0');
		if (*ip > (UINT64_MAX - d) / 10)
			*overflow = 1;
		else
			*ip = *ip * 10 + d;
		i++;
		digits++;
	}
	if (s[i] == '.') {
		size_t j = i + 1;
		int fd = 0;
		while (isdigit((unsigned char)s[j])) {
			if (fd < 18) {
				*frac = *frac * 10 + (uint64_t)(s[j] - '0');
				*scale *= 10;
			}
			fd++;
			j++;
		}
		if (fd == 0 && digits == 0)
			return 0;
		i = j;
		digits += fd;
	}
	return digits ? i : 0;
}

/* value = ip * unit + frac / scale * unit, or -1 on overflow past limit. */
static int scale_value(uint64_t ip, uint64_t frac, uint64_t scale, uint64_t unit, uint64_t limit, uint64_t *out)
{
	if (ip > limit / unit)
		return -1;
	uint64_t v = ip * unit;
	uint64_t f = (uint64_t)((long double)frac * (long double)unit / (long double)scale);
	if (f > limit - v)
		return -1;
	*out = v + f;
	return 0;
}

int hg_parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		uint64_t ns;
	} units[] = {
		{ "ns", 1ULL },
		{ "us", 1000ULL },
		{ "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
		{ "\xce\xbcs", 1000ULL }, /* U+03BC greek mu */
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
		{ "m", 60000000000ULL },
		{ "h", 3600000000000ULL },
		{ "d", 86400000000000ULL }, /* Telegraf reads "1d" (and "1.5d") as 24 h */
	};
	if (!s || !*s)
		return -1;
	/* Telegraf reads a bare number, integer or not ("10", "1.5"), as seconds. */
	{
		uint64_t ip, fr, sc, v;
		int of;
		size_t k = parse_decimal(s, &ip, &fr, &sc, &of);
		if (k > 0 && s[k] == '\0') {
			if (of || scale_value(ip, fr, sc, 1000000000ULL, INT64_MAX, &v) < 0)
				return -1;
			*ns = (int64_t)v;
			return 0;
		}
	}
	uint64_t total = 0;
	const char *p = s;
	while (*p) {
		uint64_t ip, fr, sc, v;
		int of;
		size_t n = parse_decimal(p, &ip, &fr, &sc, &of);
		if (!n || of)
			return -1;
		p += n;
		size_t best = 0;
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);
			/* Longest match, so "ms" is not read as "m" then "s". */
			if (ul > best && strncmp(p, units[i].u, ul) == 0) {
				best = ul;
				unit = units[i].ns;
			}
		}
		if (!best)
			return -1;
		p += best;
		if (scale_value(ip, fr, sc, unit, INT64_MAX, &v) < 0 || v > (uint64_t)INT64_MAX - total)
			return -1;
		total += v;
	}
	*ns = (int64_t)total;
	return 0;
}

int hg_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{ "", 1ULL },
		{ "B", 1ULL },
		{ "KB", 1000ULL },
		{ "MB", 1000000ULL },
		{ "GB", 1000000000ULL },
		{ "TB", 1000000000000ULL },
		{ "PB", 1000000000000000ULL },
		{ "EB", 1000000000000000000ULL },
		{ "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
		{ "PiB", 1ULL << 50 },
		{ "EiB", 1ULL << 60 },
	};
	if (!s)
		return -1;
	uint64_t ip, fr, sc;
	int of;
	size_t n = parse_decimal(s, &ip, &fr, &sc, &of);
	if (!n || of)
		return -1;
	const char *u = s + n;
	while (*u == ' ')
		u++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].u) == 0) {
			/* A fraction of a byte is meaningless. */
			if (units[i].mul == 1 && fr)
				return -1;
			return scale_value(ip, fr, sc, units[i].mul, UINT64_MAX, bytes);
		}
	}
	return -1;
}
