/* Showing URLs without the credentials they may carry. */
#include "url_redact.h"

#include <stdio.h>
#include <string.h>

static bool contains_ci(const char *s, size_t len, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= len; i++) {
		size_t k = 0;
		while (k < w && (s[i + k] | 0x20) == word[k])
			k++;
		if (k == w)
			return true;
	}
	return false;
}

bool hg_url_param_secret(const char *name, size_t len)
{
	/* Substrings, not a list of exact names: exporters and gateways name
	 * them every way (X-Amz-Signature, private_token, apiKey, sessionToken). */
	static const char *const words[] = { "token", "passw", "secret", "key", "auth", "sig", "credential" };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (contains_ci(name, len, words[i]))
			return true;
	return (len == 4 && contains_ci(name, len, "pass")) || (len == 3 && contains_ci(name, len, "pwd"));
}

struct out {
	char *p;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;
	if (n > room)
		n = room;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

const char *hg_url_host(const char *url, size_t *len)
{
	const char *sep = strstr(url, "://");
	/* "scheme://" only at the start, not a "://" inside a path or query */
	const char *host = sep && strcspn(url, "/?#") == (size_t)(sep - url) + 1 ? sep + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	for (const char *c = end; c > host; c--)
		if (c[-1] == '@') {
			host = c;
			break;
		}
	*len = (size_t)(end - host);
	return host;
}

const char *hg_url_redact(const char *url, char *out, size_t outlen)
{
	if (!outlen)
		return out;
	struct out o = { out, 0, outlen };
	out[0] = '\0';
	size_t hlen;
	const char *sep = strstr(url, "://");
	const char *host = hg_url_host(url, &hlen);
	if (sep && host > sep)
		put(&o, url, (size_t)(sep + 3 - url)); /* the scheme */
	size_t before_query = strcspn(host, "?#");
	put(&o, host, before_query);
	const char *q = host + before_query;
	if (*q != '?') {
		put(&o, q, strlen(q));
		return out;
	}
	put(&o, "?", 1);
	q++;
	size_t qlen = strcspn(q, "#");
	const char *qend = q + qlen;
	while (q < qend) {
		const char *amp = memchr(q, '&', (size_t)(qend - q));
		const char *pend = amp ? amp : qend;
		const char *eq = memchr(q, '=', (size_t)(pend - q));
		size_t nlen = (size_t)((eq ? eq : pend) - q);
		if (eq && hg_url_param_secret(q, nlen)) {
			put(&o, q, nlen + 1);
			put(&o, "redacted", 8);
		} else {
			put(&o, q, (size_t)(pend - q));
		}
		if (amp)
			put(&o, "&", 1);
		q = amp ? amp + 1 : qend;
	}
	put(&o, qend, strlen(qend));
	return out;
}
