/* ${VAR}, ${VAR:-default} (unset or empty) and ${VAR-default} (unset only) expansion of
 * config values. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "strbuf.h"

/* Whether a reference expanded at the end of b begins a URL's host: b ends
 * with "://", or with "@" after a "://" and no '/', '?' or '#' since
 * (userinfo). */
static int at_url_host(const struct strbuf *b)
{
	if (b->len >= 3 && memcmp(b->p + b->len - 3, "://", 3) == 0)
		return 1;
	if (b->len == 0 || b->p[b->len - 1] != '@')
		return 0;
	for (size_t i = b->len - 1; i >= 3; i--) {
		if (memchr("/?#", b->p[i - 1], 3))
			return memcmp(b->p + i - 3, "://", 3) == 0;
	}
	return 0;
}

/* Adds the value of a reference. Where the reference is a URL's whole host
 * and the value a literal IPv6 address, the value goes in brackets (RFC
 * 3986 3.2.2): "https://${NODE_IP}:10250" with NODE_IP fd00::1 (an IPv6
 * cluster's status.hostIP) is https://[fd00::1]:10250, not the invalid
 * https://fd00::1:10250. An IPv4 address, a name, an already bracketed
 * value or one with a port is added as it is. */
static void add_value(struct strbuf *b, const char *v, size_t n, int url_host)
{
	char a[64];
	struct in6_addr in6;
	if (url_host && n < sizeof a && memchr(v, ':', n)) {
		memcpy(a, v, n);
		a[n] = '\0';
		if (inet_pton(AF_INET6, a, &in6) == 1) {
			hg_strbuf_append(b, "[", 1);
			hg_strbuf_append(b, v, n);
			hg_strbuf_append(b, "]", 1);
			return;
		}
	}
	hg_strbuf_append(b, v, n);
}

/* Expands s[0..len) into b. Defaults may hold references themselves; depth
 * bounds that recursion. */
static int expand(struct strbuf *b, const char *s, size_t len, int depth, char *err, size_t errlen)
{
	if (depth > 8) {
		snprintf(err, errlen, "${...} references nested too deeply");
		return -1;
	}
	size_t i = 0;
	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		if (!d) {
			hg_strbuf_append(b, s + i, len - i);
			break;
		}
		size_t at = (size_t)(d - s);
		hg_strbuf_append(b, s + i, at - i);
		/* "$${" is a literal "${"; any other '$' is itself. */
		if (at + 2 < len && s[at + 1] == '$' && s[at + 2] == '{') {
			hg_strbuf_append(b, "${", 2);
			i = at + 3;
			continue;
		}
		if (at + 1 >= len || s[at + 1] != '{') {
			hg_strbuf_append(b, "$", 1);
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
		int has_def = 0, def_if_empty = 0;
		if (end < len && s[end] == '}') {
			/* ${VAR} */
		} else if ((end + 1 < len && s[end] == ':' && s[end + 1] == '-') || (end < len && s[end] == '-')) {
			has_def = 1;
			def_if_empty = s[end] == ':';
			dstart = end + (def_if_empty ? 2 : 1);
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
			snprintf(err, errlen, "bad ${...} reference (expected ${VAR}, ${VAR:-default} or ${VAR-default})");
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
		/* The whole host: "://" (or userinfo "@") before, the end of the
		 * value or the host's end after. */
		int url_host = at_url_host(b) && (end + 1 >= len || memchr(":/?#", s[end + 1], 4));
		if (has_def && (!val || (def_if_empty && !*val))) {
			/* The default is expanded on its own, then added as the value. */
			struct strbuf d = { 0 };
			hg_strbuf_append(&d, "", 0);
			if (expand(&d, s + dstart, end - dstart, depth + 1, err, errlen) < 0 || d.oom) {
				if (d.oom)
					b->oom = 1;
				free(d.p);
				return d.oom ? 0 : -1;
			}
			add_value(b, d.p, d.len, url_host);
			free(d.p);
		} else if (val) {
			add_value(b, val, strlen(val), url_host);
		}
		i = end + 1;
	}
	return 0;
}

char *hg_env_expand(const char *s, char *err, size_t errlen)
{
	struct strbuf b = { 0 };
	hg_strbuf_append(&b, "", 0);
	if (expand(&b, s, strlen(s), 0, err, errlen) < 0 || b.oom) {
		if (b.oom)
			snprintf(err, errlen, "out of memory");
		free(b.p);
		return NULL;
	}
	return b.p;
}
