/* See pb_http.h. */
#include "pb_http.h"

#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gzip_body.h"
#include "influx_http.h"
#include "log.h"

struct pb_http {
	struct httpc *http;
	pb_map_fn map;
	char label[96];
	char *url;
	char where[128];
	char **headers; /* NULL-terminated "Name: value" */
	char *user, *pass, *token, *user_agent, *tls_ca, *tls_cert, *tls_key, *proxy;
	bool insecure;
	int64_t timeout_ms;
	char *body;
	size_t body_len, body_cap;
	struct gzip_body z;
	/* The write in flight: one at a time, the body buffer is shared. */
	bool busy, closed;
	write_done_fn done;
	void *done_arg;
	size_t bad_lines; /* of the write in flight: dropped when it succeeds */
	char bad_reason[160]; /* why, for the log: the first one's parse error */
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void destroy(struct pb_http *h)
{
	free(h->url);
	for (char **p = h->headers; p && *p; p++)
		wipe_free(*p); /* user headers may carry API keys */
	free(h->headers);
	free(h->user);
	wipe_free(h->pass);
	wipe_free(h->token);
	free(h->user_agent);
	free(h->tls_ca);
	free(h->tls_cert);
	free(h->tls_key);
	free(h->proxy);
	hg_gzip_body_free(&h->z);
	free(h->body);
	free(h);
}

static char *dup_opt(const char *s, bool *ok)
{
	if (!s || !s[0])
		return NULL;
	char *d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

static bool fixed_has(const char *const *fixed, const char *name)
{
	size_t n = strlen(name);
	for (; fixed && *fixed; fixed++)
		if (strncasecmp(*fixed, name, n) == 0 && (*fixed)[n] == ':')
			return true;
	return false;
}

int hg_pb_http_check(const struct pb_http_cfg *cfg, char *err, size_t errlen)
{
	const char *u = cfg->url;
	if (!u || !u[0]) {
		snprintf(err, errlen, "url: required");
		return -1;
	}
	int rc = hg_influx_http_url_check("url", u, err, errlen);
	if (rc != 0)
		return rc;
	bool user = cfg->username && cfg->username[0], token = cfg->bearer_token && cfg->bearer_token[0];
	if (user && token) {
		snprintf(err, errlen, "username and bearer_token: set one of them, not both");
		return -1;
	}
	return 0;
}

struct pb_http *hg_pb_http_new(const struct pb_http_cfg *cfg, struct httpc *http, const char *label,
			    const char *const *fixed_headers, pb_map_fn map, char *err, size_t errlen)
{
	if (hg_pb_http_check(cfg, err, errlen) != 0)
		return NULL;
	const char *u = cfg->url;
	bool user = cfg->username && cfg->username[0];
	size_t nfixed = 0;
	while (fixed_headers && fixed_headers[nfixed])
		nfixed++;
	for (size_t i = 0; i < cfg->headers.n; i++) {
		if (fixed_has(fixed_headers, cfg->headers.k[i])) {
			snprintf(err, errlen, "headers: %s is set by the output and cannot be changed", cfg->headers.k[i]);
			return NULL;
		}
	}
	struct pb_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bool ok = true;
	h->http = http;
	h->map = map;
	snprintf(h->label, sizeof(h->label), "%s", label ? label : "outputs");
	h->url = dup_opt(u, &ok);
	hg_influx_url_redact(u, h->where, sizeof(h->where));
	h->user = user ? dup_opt(cfg->username, &ok) : NULL;
	if (user && !(h->pass = strdup(cfg->password ? cfg->password : "")))
		ok = false;
	h->token = dup_opt(cfg->bearer_token, &ok);
	h->user_agent = dup_opt(cfg->user_agent, &ok);
	h->tls_ca = dup_opt(cfg->tls_ca, &ok);
	h->tls_cert = dup_opt(cfg->tls_cert, &ok);
	h->tls_key = dup_opt(cfg->tls_key, &ok);
	h->proxy = dup_opt(cfg->http_proxy, &ok);
	h->insecure = cfg->insecure_skip_verify;
	h->timeout_ms = cfg->timeout_ns / 1000000;
	h->headers = calloc(nfixed + cfg->headers.n + 1, sizeof(char *));
	ok = ok && h->headers;
	for (size_t i = 0; ok && i < nfixed; i++)
		ok = (h->headers[i] = strdup(fixed_headers[i])) != NULL;
	for (size_t i = 0; ok && i < cfg->headers.n; i++) {
		size_t n = strlen(cfg->headers.k[i]) + strlen(cfg->headers.v[i]) + 3;
		if ((h->headers[nfixed + i] = malloc(n)))
			snprintf(h->headers[nfixed + i], n, "%s: %s", cfg->headers.k[i], cfg->headers.v[i]);
		else
			ok = false;
	}
	if (!ok) {
		destroy(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return h;
}

void hg_pb_http_close(struct pb_http *h)
{
	if (!h)
		return;
	/* httpc has no per-request cancel: the callback sees closed and frees. */
	h->closed = true;
	if (!h->busy)
		destroy(h);
}

bool hg_pb_http_busy(const struct pb_http *h)
{
	return h->busy;
}

static int reserve(struct pb_http *h, size_t need, char *err, size_t errlen)
{
	if (need <= h->body_cap)
		return 0;
	char *nb = realloc(h->body, need);
	if (!nb) {
		snprintf(err, errlen, "out of memory for a %zu-byte request body", need);
		return -1;
	}
	h->body = nb;
	h->body_cap = need;
	return 0;
}

int hg_pb_http_snappy(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen)
{
	size_t n = snappy_max_compressed_length(len);
	if (reserve(h, n, err, errlen) != 0)
		return -1;
	if (snappy_compress(in, len, h->body, &n) != SNAPPY_OK) {
		snprintf(err, errlen, "snappy compression failed");
		return -1;
	}
	h->body_len = n;
	return 0;
}

int hg_pb_http_gzip(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen)
{
	return hg_gzip_body_compress(&h->z, in, len, &h->body, &h->body_cap, &h->body_len, err, errlen);
}

int hg_pb_http_copy(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen)
{
	if (reserve(h, len ? len : 1, err, errlen) != 0)
		return -1;
	memcpy(h->body, in, len);
	h->body_len = len;
	return 0;
}

void hg_pb_done_now(write_done_fn done, void *arg, enum write_status st, const char *msg)
{
	struct write_result w = { .status = st };
	snprintf(w.message, sizeof(w.message), "%s", msg);
	done(arg, &w);
}

void hg_pb_done_empty(write_done_fn done, void *arg, size_t bad_lines, const char *first_error)
{
	struct write_result w = { .status = WRITE_OK, .dropped_lines = bad_lines };
	if (bad_lines)
		snprintf(w.message, sizeof(w.message), "%zu line(s) not sent: %s", bad_lines, first_error);
	done(arg, &w);
}

void hg_pb_body_text(const struct httpc_response *r, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!r->body || r->body_len == 0)
		return;
	size_t n = r->body_len < outlen - 1 ? r->body_len : outlen - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->body[i];
		if (c == '\n' || c == '\r' || c == '\t') {
			c = ' ';
		} else if (c < 0x20 || c == 0x7f) {
			out[0] = '\0'; /* a binary body (e.g. protobuf) reads as noise in a log */
			return;
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
}

static void sent(void *arg, const struct httpc_response *r)
{
	struct pb_http *h = arg;
	h->busy = false;
	if (h->closed) {
		destroy(h); /* the runner freed the output: nobody waits for the result */
		return;
	}
	struct write_result w;
	memset(&w, 0, sizeof(w));
	if (r->curl_code != 0) {
		w.status = WRITE_RETRY;
		snprintf(w.message, sizeof(w.message), "%s: %s", h->where,
			 r->error && r->error[0] ? r->error : "transfer failed");
	} else {
		h->map(r, h->where, &w);
	}
	hg_influx_scrub(w.message, h->pass);
	hg_influx_scrub(w.message, h->token);
	if (w.status == WRITE_OK && w.message[0] && w.dropped_lines == 0)
		log_warn(h->label, "%s", w.message);
	if (w.status == WRITE_OK && h->bad_lines) {
		/* Lines this output could not encode are dropped with the batch's
		 * success: the log must say why, beside what the server said. */
		size_t n = strlen(w.message);
		snprintf(w.message + n, sizeof(w.message) - n, "%s%zu line(s) not sent: %s",
			 n ? "; " : "", h->bad_lines, h->bad_reason);
		w.dropped_lines += h->bad_lines;
	}
	h->done(h->done_arg, &w);
}

void hg_pb_http_send(struct pb_http *h, size_t bad_lines, const char *bad_reason, write_done_fn done, void *arg)
{
	if (h->busy) {
		hg_pb_done_now(done, arg, WRITE_RETRY, "a write is already in flight");
		return;
	}
	struct httpc_request q = {
		.method = "POST",
		.url = h->url,
		.headers = (const char *const *)h->headers,
		.body = h->body,
		.body_len = h->body_len,
		.timeout_ms = h->timeout_ms,
		.username = h->user,
		.password = h->pass,
		.bearer_token = h->token,
		.proxy = h->proxy,
		.user_agent = h->user_agent,
		.tls = { h->tls_ca, h->tls_cert, h->tls_key, h->insecure },
		.max_response = 64 * 1024, /* error bodies are small; a misbehaving server can't grow us */
	};
	char err[256];
	if (hg_httpc_send(h->http, &q, sent, h, err, sizeof(err)) != 0) {
		hg_influx_scrub(err, h->pass);
		hg_influx_scrub(err, h->token);
		hg_pb_done_now(done, arg, WRITE_RETRY, err);
		return;
	}
	h->busy = true;
	h->bad_lines = bad_lines;
	snprintf(h->bad_reason, sizeof(h->bad_reason), "%s", bad_lines && bad_reason ? bad_reason : "");
	h->done = done;
	h->done_arg = arg;
}
