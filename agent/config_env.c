/* ${VAR} and ${VAR:-default} expansion of config values. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

/* Growable output of env_expand. */
struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Expands s[0..len) into b. Defaults may hold references themselves; depth
 * bounds that recursion. */
static int expand(struct sbuf *b, const char *s, size_t len, int depth, char *err, size_t errlen)
{
	if (depth > 8) {
		snprintf(err, errlen, "${...} references nested too deeply");
		return -1;
	}
	size_t i = 0;
	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		if (!d) {
			sb_add(b, s + i, len - i);
			break;
		}
		size_t at = (size_t)(d - s);
		sb_add(b, s + i, at - i);
		/* "$${" is a literal "${"; any other '$' is itself. */
		if (at + 2 < len && s[at + 1] == '$' && s[at + 2] == '{') {
			sb_add(b, "${", 2);
			i = at + 3;
			continue;
		}
		if (at + 1 >= len || s[at + 1] != '{') {
			sb_add(b, "$", 1);
			i = at + 1;
			continue;
		}
		size_t nm = at + 2, ne = nm;
		while (ne < len && (isalnum((unsigned char)s[ne]) || s[ne] == '_'))
			ne++;
		if (ne == nm || isdigit((unsigned char)s[nm])) {
			snprintf(err, errlen, "bad variable name in ${...} reference");
			return -1;
		}
		/* Find the closing brace, skipping nested ${...} in a default. */
		size_t end = ne, dstart = 0;
		int has_def = 0;
		if (end < len && s[end] == '}') {
			/* ${VAR} */
		} else if (end + 1 < len && s[end] == ':' && s[end + 1] == '-') {
			has_def = 1;
			dstart = end + 2;
			int nest = 0;
			for (end = dstart; end < len; end++) {
				if (s[end] == '$' && end + 1 < len && s[end + 1] == '{') {
					nest++;
					end++;
				} else if (s[end] == '}') {
					if (nest == 0)
						break;
					nest--;
				}
			}
		} else if (end >= len) {
			snprintf(err, errlen, "unterminated ${...} reference");
			return -1;
		} else {
			snprintf(err, errlen, "bad ${...} reference (expected ${VAR} or ${VAR:-default})");
			return -1;
		}
		if (end >= len) {
			snprintf(err, errlen, "unterminated ${...} reference");
			return -1;
		}
		char name[256];
		if (ne - nm >= sizeof(name)) {
			snprintf(err, errlen, "variable name too long in ${...} reference");
			return -1;
		}
		memcpy(name, s + nm, ne - nm);
		name[ne - nm] = '\0';
		const char *val = getenv(name);
		if (has_def && (!val || !*val)) {
			if (expand(b, s + dstart, end - dstart, depth + 1, err, errlen) < 0)
				return -1;
		} else if (val) {
			sb_add(b, val, strlen(val));
		}
		i = end + 1;
	}
	return 0;
}

char *env_expand(const char *s, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	sb_add(&b, "", 0);
	if (expand(&b, s, strlen(s), 0, err, errlen) < 0 || b.oom) {
		if (b.oom)
			snprintf(err, errlen, "out of memory");
		free(b.p);
		return NULL;
	}
	return b.p;
}
