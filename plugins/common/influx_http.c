/* Shared by the InfluxDB outputs; see influx_http.h. */
#include "influx_http.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>
#include "url_redact.h"

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_list(char **l)
{
	for (char **p = l; p && *p; p++)
		free(*p);
	free(l);
}

static char *header_line(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s: %s", name, value);
	return s;
}

static char **build_headers(const char *ctype, const char *encoding, const char *extra, const struct strmap *user)
{
	size_t n = 0;
	char **l = calloc(user->n + 4, sizeof(*l));
	if (!l)
		return NULL;
	if (!(l[n++] = header_line("Content-Type", ctype)))
		goto fail;
	if (encoding && !(l[n++] = header_line("Content-Encoding", encoding)))
		goto fail;
	if (extra && !(l[n++] = strdup(extra)))
		goto fail;
	for (size_t i = 0; i < user->n; i++)
		if (!(l[n++] = header_line(user->k[i], user->v[i])))
			goto fail;
	return l;
fail:
	free_list(l);
	return NULL;
}

int hg_influx_http_url_check(const char *option, const char *url, char *err, size_t errlen)
{
	if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0)
		return 0;
	/* Telegraf also speaks udp:// and unix://. Only the scheme is shown
	 * ("udp" of "udp://u:p@h"): the rest may hold credentials. */
	const char *p = strstr(url, "://");
	size_t n = p ? (size_t)(p - url) : 0;
	if (n > 16 || strcspn(url, "@:/?#") < n)
		n = 0; /* not a scheme: show nothing of it */
	if (n)
		snprintf(err, errlen, "%s: %.*s:// URLs are not supported (only http:// and https://)", option, (int)n,
			 url);
	else
		snprintf(err, errlen, "%s: (no scheme) URLs are not supported (only http:// and https://)", option);
	return OUTPUT_UNSUPPORTED;
}

const char *const hg_influx_content_encodings[] = { "gzip", "identity", NULL };

/* The loader refuses other content_encodings at the value; this check
 * guards a config built without it (tests, bench/). */
int hg_influx_http_check(const struct influx_http_cfg *cfg, char *err, size_t errlen)
{
	const char *enc = cfg->content_encoding ? cfg->content_encoding : "gzip";
	if (strcmp(enc, "gzip") != 0 && strcmp(enc, "identity") != 0) {
		snprintf(err, errlen, "content_encoding: \"%s\" is not gzip or identity", enc);
		return -1;
	}
	if (cfg->urls.n == 0) {
		snprintf(err, errlen, "urls: at least one URL is needed");
		return -1;
	}
	if (cfg->max_in_flight < 1 || cfg->max_in_flight > OUTPUT_IN_FLIGHT_MAX) {
		snprintf(err, errlen, "max_in_flight: %lld is not between 1 and %d", (long long)cfg->max_in_flight,
			 OUTPUT_IN_FLIGHT_MAX);
		return -1;
	}
	for (size_t i = 0; i < cfg->urls.n; i++) {
		int rc = hg_influx_http_url_check("urls", cfg->urls.v[i], err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int hg_influx_http_init(struct influx_http *h, const struct influx_http_cfg *cfg, struct httpc *http,
		     const char *extra_header, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->http = http;
	if (hg_influx_http_check(cfg, err, errlen) != 0)
		return -1;
	h->max_in_flight = (unsigned)cfg->max_in_flight;
	h->gzip = !cfg->content_encoding || strcmp(cfg->content_encoding, "gzip") == 0;
	if (!(h->urls = calloc(cfg->urls.n, sizeof(*h->urls))))
		goto oom;
	h->nurls = cfg->urls.n;
	for (size_t i = 0; i < cfg->urls.n; i++) {
		if (!(h->urls[i] = strdup(cfg->urls.v[i])))
			goto oom;
		size_t l = strlen(h->urls[i]);
		while (l > 0 && h->urls[i][l - 1] == '/')
			h->urls[i][--l] = '\0';
	}
	h->write_headers = build_headers("text/plain; charset=utf-8", h->gzip ? "gzip" : NULL, extra_header,
					 &cfg->http_headers);
	h->query_headers = build_headers("application/x-www-form-urlencoded", NULL, extra_header, &cfg->http_headers);
	if (!h->write_headers || !h->query_headers)
		goto oom;
	h->timeout_ms = cfg->timeout_ns / 1000000;
	h->failback_ms = cfg->failback_interval_ns / 1000000;
	h->user_agent = xstrdup(cfg->user_agent);
	h->tls_ca = xstrdup(cfg->tls_ca);
	h->tls_cert = xstrdup(cfg->tls_cert);
	h->tls_key = xstrdup(cfg->tls_key);
	h->proxy = xstrdup(cfg->http_proxy);
	h->insecure = cfg->insecure_skip_verify;
	return 0;
oom:
	hg_influx_http_free(h);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void hg_influx_http_free(struct influx_http *h)
{
	for (size_t i = 0; h->urls && i < h->nurls; i++)
		free(h->urls[i]);
	free(h->urls);
	for (size_t i = 0; h->health_urls && i < h->nurls; i++)
		free(h->health_urls[i]);
	free(h->health_urls);
	free(h->probes);
	free(h->label);
	/* The extra header may hold a token: wipe before handing memory back. */
	for (char **p = h->write_headers; p && *p; p++)
		explicit_bzero(*p, strlen(*p));
	for (char **p = h->query_headers; p && *p; p++)
		explicit_bzero(*p, strlen(*p));
	free_list(h->write_headers);
	free_list(h->query_headers);
	free(h->user_agent);
	free(h->tls_ca);
	free(h->tls_cert);
	free(h->tls_key);
	free(h->proxy);
	hg_gzip_body_free(&h->z);
	free(h->gz);
	memset(h, 0, sizeof(*h));
}

void hg_influx_http_request(const struct influx_http *h, struct httpc_request *q, bool query)
{
	q->method = "POST";
	q->headers = (const char *const *)(query ? h->query_headers : h->write_headers);
	q->timeout_ms = h->timeout_ms;
	q->user_agent = h->user_agent;
	q->proxy = h->proxy;
	q->tls.ca_file = h->tls_ca;
	q->tls.cert_file = h->tls_cert;
	q->tls.key_file = h->tls_key;
	q->tls.insecure_skip_verify = h->insecure;
	q->max_response = 64 * 1024; /* error bodies are small; a misbehaving server can't grow us */
}

int hg_influx_http_body(struct influx_http *h, const char *in, size_t len, const char **out, size_t *outlen, char *err,
		     size_t errlen)
{
	if (!h->gzip) {
		*out = in;
		*outlen = len;
		return 0;
	}
	if (hg_gzip_body_compress(&h->z, in, len, &h->gz, &h->gz_cap, outlen, err, errlen) != 0)
		return -1;
	*out = h->gz;
	return 0;
}

char *hg_influx_url(const char *base, const char *path, const char *query)
{
	size_t n = strlen(base) + strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s%s", base, path, query ? "?" : "", query ? query : "");
	return s;
}

char *hg_influx_query_add(char *q, const char *name, const char *value)
{
	if (!value || !value[0])
		return q;
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc) {
		free(q);
		return NULL;
	}
	size_t old = q ? strlen(q) : 0;
	size_t n = old + strlen(name) + strlen(esc) + 3;
	char *s = realloc(q, n);
	if (s)
		snprintf(s + old, n - old, "%s%s=%s", old ? "&" : "", name, esc);
	else
		free(q);
	curl_free(esc);
	return s;
}

char *hg_influx_create_database_body(const char *db)
{
	size_t n = strlen(db);
	char *stmt = malloc(2 * n + 20), *p = stmt;
	if (!stmt)
		return NULL;
	p += sprintf(p, "CREATE DATABASE \"");
	for (const char *c = db; *c; c++) {
		if (*c == '"' || *c == '\\')
			*p++ = '\\';
		*p++ = *c;
	}
	strcpy(p, "\"");
	char *body = hg_influx_query_add(NULL, "q", stmt);
	free(stmt);
	return body;
}

bool hg_influx_database_missing(const struct httpc_response *r)
{
	return r->curl_code == 0 && r->status == 404 && r->body && strstr(r->body, "database not found");
}

bool hg_influx_query_succeeded(const struct httpc_response *r)
{
	/* /query answers 200 even when the statement failed: the error is in the body. */
	return r->curl_code == 0 && r->status >= 200 && r->status < 300 && !(r->body && strstr(r->body, "\"error\""));
}

void hg_influx_url_redact(const char *url, char *out, size_t outlen)
{
	size_t hlen;
	const char *host = hg_url_host(url, &hlen);
	const char *sep = strstr(url, "://");
	int scheme = sep && host > sep ? (int)(sep + 3 - url) : 0;
	const char *path = host + hlen;
	snprintf(out, outlen, "%.*s%.*s%.*s", scheme, url, (int)hlen, host, (int)strcspn(path, "?#"), path);
}

void hg_influx_error_text(const struct httpc_response *r, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!r->body || r->body_len == 0)
		return;
	yajl_val v = NULL;
	if (!r->body_truncated && r->body[0] == '{')
		v = yajl_tree_parse(r->body, NULL, 0);
	if (v) {
		static const char *const keys[] = { "error", "message" };
		for (size_t i = 0; i < 2 && !out[0]; i++) {
			const char *path[] = { keys[i], NULL };
			yajl_val s = yajl_tree_get(v, path, yajl_t_string);
			if (s)
				snprintf(out, outlen, "%s", YAJL_GET_STRING(s));
		}
		yajl_tree_free(v);
		if (out[0])
			return;
	}
	snprintf(out, outlen, "%.*s", (int)r->body_len, r->body);
	/* One line for the log. */
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

/* Lines a partial write rejected. InfluxDB 1.x says "dropped=N", but for
 * unparsable lines it has been seen to say dropped=0 (1.6) while listing
 * every bad line as "unable to parse '...'", so the larger count wins. The
 * raw body is used: the message text is cut for the log. */
static size_t partial_dropped(const char *body)
{
	size_t dropped = 0, parse_errors = 0;
	const char *d = strstr(body, "dropped=");
	if (d)
		dropped = (size_t)strtoull(d + 8, NULL, 10);
	for (const char *p = strstr(body, "unable to parse"); p; p = strstr(p + 15, "unable to parse"))
		parse_errors++;
	return dropped > parse_errors ? dropped : parse_errors;
}

/* Messages are cut to fit write_result on purpose. */
__attribute__((format(printf, 2, 3))) static void msgf(struct write_result *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
}

bool hg_influx_failover(const struct httpc_response *r)
{
	return r->curl_code != 0 || r->status >= 500;
}

void hg_influx_result(const struct httpc_response *r, const char *url, struct write_result *w)
{
	char where[128], text[200];
	hg_influx_url_redact(url, where, sizeof(where));
	memset(w, 0, sizeof(*w));
	if (r->curl_code != 0) {
		w->status = WRITE_RETRY;
		msgf(w, "%s: %s", where, r->error && r->error[0] ? r->error : "transfer failed");
		return;
	}
	long st = r->status;
	if (st >= 200 && st < 300) {
		w->status = WRITE_OK;
		return;
	}
	hg_influx_error_text(r, text, sizeof(text));
	const char *sep = text[0] ? ": " : "";
	if (st == 401 || st == 403) {
		w->status = WRITE_RETRY;
		msgf(w,
			 "%s: authentication failed (HTTP %ld), check username/password or token%s%s", where, st, sep, text);
	} else if (st == 413) {
		w->status = WRITE_TOO_LARGE;
		msgf(w, "%s: request too large (HTTP 413)%s%s", where, sep, text);
	} else if (st == 400 || st == 422) {
		if (strstr(r->body, "partial write")) {
			/* InfluxDB wrote the other lines; resending them gains nothing. */
			w->status = WRITE_OK;
			w->dropped_lines = partial_dropped(r->body);
			msgf(w, "%s: %zu line(s) rejected (HTTP %ld): %s", where,
				 w->dropped_lines, st, text);
		} else {
			w->status = WRITE_DROP;
			msgf(w, "%s: batch rejected (HTTP %ld)%s%s", where, st, sep, text);
		}
	} else {
		/* 429, 5xx and anything unexpected: keep the data and try again. */
		w->status = WRITE_RETRY;
		w->retry_after_ms = r->retry_after_ms > 0 ? r->retry_after_ms : 0;
		msgf(w, "%s: HTTP %ld%s%s", where, st, sep, text);
	}
}

void hg_influx_scrub(char *msg, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n == 0)
		return;
	size_t k = n < 3 ? n : 3; /* never longer than what it replaces */
	for (char *p = strstr(msg, secret); p; p = strstr(p + k, secret)) {
		memcpy(p, "***", k);
		memmove(p + k, p + n, strlen(p + n) + 1);
	}
}

void hg_influx_fail_now(write_done_fn done, void *arg, const char *msg)
{
	struct write_result w = { .status = WRITE_RETRY };
	snprintf(w.message, sizeof(w.message), "%s", msg);
	done(arg, &w);
}

int hg_influx_begin_write(struct influx_http *h, bool busy, const struct batch *b, char *const *write_urls,
		       size_t *url_idx, struct httpc_request *q, write_done_fn done, void *arg)
{
	char err[256];
	if (busy) {
		hg_influx_fail_now(done, arg, "a write is already in flight");
		return -1;
	}
	const char *body;
	size_t len;
	if (hg_influx_http_body(h, b->data, b->len, &body, &len, err, sizeof(err)) != 0) {
		hg_influx_fail_now(done, arg, err);
		return -1;
	}
	memset(q, 0, sizeof(*q));
	hg_influx_http_request(h, q, false);
	*url_idx = h->cur;
	q->url = write_urls[*url_idx];
	q->body = body;
	q->body_len = len;
	return 0;
}
