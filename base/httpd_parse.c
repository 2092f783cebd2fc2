/* The socket-free half of the HTTP server: bytes in, one request out, one
 * response's bytes back. Every buffer is per connection and bounded by the
 * options, so a client can make us hold at most max_header + max_body +
 * max_response bytes. */
#include "httpd.h"
#include <http_parser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The status line and headers are written in front of the body once its
 * length is known, into space reserved ahead of it: one contiguous write. */
#define HEAD_RESERVE 768
#define TYPE_MAX 128
#define EXTRA_MAX 256

struct httpd_resp {
	int status;
	const char *type;
	char *buf; /* HEAD_RESERVE bytes, then the body */
	size_t len, cap, max; /* len counts body bytes only */
	bool overflow;
	char extra[EXTRA_MAX]; /* extra header lines, each ending in CRLF */
	size_t extra_len;
};

/* http-parser (built without HTTP_PARSER_STRICT, as Debian's is) takes bare
 * LF line ends, folded header lines and blanks inside a header name. A
 * proxy in front of us may read such a head differently (a folded
 * Transfer-Encoding, "Content-Length :"), which is how requests are
 * smuggled, so the head is checked byte by byte before http-parser sees it
 * and refused with 400, as RFC 9112 servers do. */
struct head_scan {
	bool done;       /* the empty line ending the head was seen */
	bool past_start; /* the request line is over: lines are header fields */
	bool cr;         /* the last byte was CR */
	bool in_name;    /* before the first ':' of a header line */
	size_t line_len; /* bytes of the current line, CR not counted */
};

struct httpd_parse {
	http_parser hp;
	struct httpd_opts o;
	size_t hdr_bytes; /* bytes fed before the headers completed */
	bool headers_done, complete, keep_alive;
	int err_status;
	char *url;
	size_t url_len;
	char *body;
	size_t body_len, body_cap;
	/* Header names and values, copied as they arrive (http-parser may hand
	 * a token over in pieces); bounded by max_header like the URL. */
	char *hbuf;
	size_t hbuf_len;
	struct httpd_header hdrs[HTTPD_MAX_HEADERS];
	size_t nhdrs;
	bool in_field, hdr_skip; /* in_field: the last piece was a header name */
	struct httpd_req req;
	struct httpd_resp resp;
	struct head_scan scan;
};

void httpd_opts_defaults(struct httpd_opts *o, const struct httpd_opts *in)
{
	*o = in ? *in : (struct httpd_opts){ 0 };
	if (!o->max_header)
		o->max_header = 8 * 1024;
	if (!o->max_body)
		o->max_body = 64 * 1024;
	if (!o->max_response)
		o->max_response = 4 * 1024 * 1024;
	if (!o->idle_timeout_ms)
		o->idle_timeout_ms = 30000;
	if (!o->header_timeout_ms)
		o->header_timeout_ms = 10000;
	if (!o->body_timeout_ms)
		o->body_timeout_ms = 30000;
	if (!o->max_conns)
		o->max_conns = 64;
}

static struct httpd_parse *P(http_parser *hp) { return hp->data; }

static int on_message_begin(http_parser *hp)
{
	struct httpd_parse *p = P(hp);
	p->url_len = p->body_len = 0;
	p->hbuf_len = p->nhdrs = 0;
	p->in_field = p->hdr_skip = false;
	return 0;
}

/* Appends to hbuf and grows *v (whose bytes end at hbuf_len). */
static int hdr_append(struct httpd_parse *p, struct sv *v, const char *at, size_t len)
{
	if (len > p->o.max_header - p->hbuf_len) {
		p->err_status = 431;
		return -1;
	}
	memcpy(p->hbuf + p->hbuf_len, at, len);
	p->hbuf_len += len;
	v->len += len;
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct httpd_parse *p = P(hp);
	if (!p->in_field) {
		/* A new header starts. */
		p->in_field = true;
		p->hdr_skip = p->nhdrs == HTTPD_MAX_HEADERS;
		if (!p->hdr_skip)
			p->hdrs[p->nhdrs++] = (struct httpd_header){ { p->hbuf + p->hbuf_len, 0 }, { NULL, 0 } };
	}
	return p->hdr_skip ? 0 : hdr_append(p, &p->hdrs[p->nhdrs - 1].name, at, len);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct httpd_parse *p = P(hp);
	if (p->hdr_skip || !p->nhdrs)
		return 0;
	struct httpd_header *h = &p->hdrs[p->nhdrs - 1];
	if (p->in_field) {
		p->in_field = false;
		h->value = (struct sv){ p->hbuf + p->hbuf_len, 0 };
	}
	return hdr_append(p, &h->value, at, len);
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	struct httpd_parse *p = P(hp);
	/* Cannot normally trigger (the header allowance is the same size), but
	 * the copy must not depend on that. */
	if (len > p->o.max_header - p->url_len) {
		p->err_status = 414;
		return -1;
	}
	memcpy(p->url + p->url_len, at, len);
	p->url_len += len;
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	struct httpd_parse *p = P(hp);
	p->headers_done = true;
	/* ULLONG_MAX means no Content-Length (chunked or none). */
	if (hp->content_length != ULLONG_MAX && hp->content_length > p->o.max_body) {
		p->err_status = 413;
		return -1;
	}
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct httpd_parse *p = P(hp);
	if (len > p->o.max_body - p->body_len) {
		p->err_status = 413;
		return -1;
	}
	if (p->body_cap - p->body_len < len) {
		size_t cap = p->body_cap ? p->body_cap : 4096;
		while (cap - p->body_len < len)
			cap *= 2;
		if (cap > p->o.max_body)
			cap = p->o.max_body;
		char *b = realloc(p->body, cap);
		if (!b) {
			p->err_status = 503;
			return -1;
		}
		p->body = b;
		p->body_cap = cap;
	}
	memcpy(p->body + p->body_len, at, len);
	p->body_len += len;
	return 0;
}

/* Pausing makes http_parser_execute return right after this request, so
 * pipelined bytes that follow wait until the response is out. */
static int on_message_complete(http_parser *hp)
{
	struct httpd_parse *p = P(hp);
	p->complete = true;
	p->keep_alive = http_should_keep_alive(hp) && !hp->upgrade;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

struct httpd_parse *httpd_parse_new(const struct httpd_opts *opts)
{
	struct httpd_parse *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	httpd_opts_defaults(&p->o, opts);
	p->url = malloc(p->o.max_header);
	p->hbuf = malloc(p->o.max_header);
	p->resp.cap = HEAD_RESERVE + 1024;
	p->resp.buf = malloc(p->resp.cap);
	if (!p->url || !p->hbuf || !p->resp.buf) {
		httpd_parse_free(p);
		return NULL;
	}
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
	return p;
}

void httpd_parse_free(struct httpd_parse *p)
{
	if (!p)
		return;
	free(p->url);
	free(p->hbuf);
	free(p->body);
	free(p->resp.buf);
	free(p);
}

/* 0, or -1 at the first byte no strict server accepts. Stops at the end of
 * the head: the body is not line-structured. */
static int scan_head(struct head_scan *sc, const char *d, size_t n)
{
	for (size_t i = 0; i < n && !sc->done; i++) {
		char c = d[i];
		if (c == '\n') {
			if (!sc->cr)
				return -1; /* bare LF */
			sc->cr = false;
			if (sc->line_len == 0 && sc->past_start)
				sc->done = true;
			else if (sc->line_len > 0)
				sc->past_start = true; /* empty lines before the request line are allowed */
			sc->line_len = 0;
			sc->in_name = sc->past_start;
			continue;
		}
		if (sc->cr)
			return -1; /* CR not followed by LF */
		if (c == '\r') {
			sc->cr = true;
			continue;
		}
		bool blank = c == ' ' || c == '\t';
		if (sc->line_len == 0 && sc->past_start && blank)
			return -1; /* obs-fold: a header continued on the next line */
		if (sc->in_name) {
			if (c == ':')
				sc->in_name = false;
			else if (blank)
				return -1; /* "Name :" or "Na me:" */
		}
		sc->line_len++;
	}
	return 0;
}

static int fail(struct httpd_parse *p, int status)
{
	if (!p->err_status)
		p->err_status = status;
	p->keep_alive = false;
	return HTTPD_PARSE_ERROR;
}

int httpd_parse_feed(struct httpd_parse *p, const char *data, size_t len, size_t *used)
{
	size_t off = 0;
	*used = 0;
	if (p->err_status)
		return HTTPD_PARSE_ERROR;
	while (off < len) {
		size_t n = len - off;
		/* Feeding no more than the header allowance bounds the headers
		 * exactly, whatever http-parser's own (80 KiB) limit is. */
		if (!p->headers_done) {
			if (p->hdr_bytes >= p->o.max_header)
				return fail(p, 431);
			if (n > p->o.max_header - p->hdr_bytes)
				n = p->o.max_header - p->hdr_bytes;
		}
		if (!p->headers_done && !p->scan.done && scan_head(&p->scan, data + off, n) != 0)
			return fail(p, 400);
		size_t got = http_parser_execute(&p->hp, &settings, data + off, n);
		if (!p->headers_done)
			p->hdr_bytes += got;
		off += got;
		*used = off;
		if (p->complete)
			return HTTPD_PARSE_REQUEST;
		enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
		if (e == HPE_HEADER_OVERFLOW)
			return fail(p, 431);
		if (e != HPE_OK || p->hp.upgrade || got < n)
			return fail(p, 400);
	}
	if (!p->headers_done && p->hdr_bytes >= p->o.max_header)
		return fail(p, 431);
	return HTTPD_PARSE_MORE;
}

bool httpd_parse_keep_alive(const struct httpd_parse *p) { return p->keep_alive && !p->err_status; }
bool httpd_parse_headers_done(const struct httpd_parse *p) { return p->headers_done; }
int httpd_parse_error_status(const struct httpd_parse *p) { return p->err_status; }

void httpd_parse_next(struct httpd_parse *p)
{
	p->complete = p->headers_done = false;
	p->hdr_bytes = 0;
	p->scan = (struct head_scan){ 0 };
	p->url_len = p->body_len = 0;
	http_parser_pause(&p->hp, 0);
}

/* --- responses --- */

void httpd_resp_status(struct httpd_resp *r, int status)
{
	if (status >= 100 && status <= 599)
		r->status = status;
}

void httpd_resp_type(struct httpd_resp *r, const char *type)
{
	if (type && strlen(type) < TYPE_MAX && !strpbrk(type, "\r\n"))
		r->type = type;
}

static bool resp_reserve(struct httpd_resp *r, size_t extra)
{
	if (r->overflow || extra > r->max - r->len) {
		r->overflow = true;
		return false;
	}
	size_t need = HEAD_RESERVE + r->len + extra;
	if (need <= r->cap)
		return true;
	size_t cap = r->cap;
	while (cap < need)
		cap *= 2;
	char *b = realloc(r->buf, cap);
	if (!b) {
		r->overflow = true;
		return false;
	}
	r->buf = b;
	r->cap = cap;
	return true;
}

void httpd_resp_append(struct httpd_resp *r, const char *data, size_t len)
{
	if (!len || !resp_reserve(r, len))
		return;
	memcpy(r->buf + HEAD_RESERVE + r->len, data, len);
	r->len += len;
}

void httpd_resp_header(struct httpd_resp *r, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	if (!nl || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || nl + vl + 4 > EXTRA_MAX - r->extra_len)
		return;
	int n = snprintf(r->extra + r->extra_len, EXTRA_MAX - r->extra_len, "%s: %s\r\n", name, value);
	if (n > 0)
		r->extra_len += (size_t)n;
}

static bool ascii_ieq(struct sv a, const char *b)
{
	size_t n = strlen(b);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char x = a.p[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

struct sv httpd_req_header(const struct httpd_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (ascii_ieq(req->headers[i].name, name))
			return req->headers[i].value.p ? req->headers[i].value : (struct sv){ "", 0 };
	return (struct sv){ NULL, 0 };
}

struct sv httpd_auth_credentials(struct sv h, const char *scheme)
{
	size_t k = strlen(scheme), i = k;
	if (!h.p || h.len <= k || !ascii_ieq((struct sv){ h.p, k }, scheme) || h.p[k] != ' ')
		return (struct sv){ NULL, 0 };
	while (i < h.len && h.p[i] == ' ')
		i++;
	return (struct sv){ h.p + i, h.len - i };
}

void httpd_resp_printf(struct httpd_resp *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0 || !resp_reserve(r, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(r->buf + HEAD_RESERVE + r->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

static void resp_reset(struct httpd_resp *r, size_t max)
{
	r->status = 200;
	r->type = "text/plain; charset=utf-8";
	r->len = 0;
	r->max = max;
	r->overflow = false;
	r->extra_len = 0;
}

/* 204 and 304 carry no body and HEAD only describes one. */
void httpd_parse_respond(struct httpd_parse *p, httpd_handler handler, void *ud, const char **out, size_t *outlen)
{
	struct httpd_resp *r = &p->resp;
	resp_reset(r, p->o.max_response);
	bool head = false;
	if (p->err_status) {
		r->status = p->err_status;
		httpd_resp_printf(r, "%s\n", reason(r->status));
	} else {
		p->req.method = http_method_str((enum http_method)p->hp.method);
		head = p->hp.method == HTTP_HEAD;
		size_t q = 0;
		while (q < p->url_len && p->url[q] != '?')
			q++;
		p->req.path = (struct sv){ p->url, q };
		p->req.query = q < p->url_len ? (struct sv){ p->url + q + 1, p->url_len - q - 1 } : (struct sv){ p->url, 0 };
		p->req.body = (struct sv){ p->body ? p->body : p->url, p->body_len };
		p->req.headers = p->hdrs;
		p->req.nheaders = p->nhdrs;
		handler(ud, &p->req, r);
		if (r->overflow) {
			resp_reset(r, p->o.max_response);
			r->status = 500;
			httpd_resp_printf(r, "response too large\n");
		}
	}
	bool nobody = r->status == 204 || r->status == 304 || r->status < 200;
	size_t blen = nobody ? 0 : r->len;
	char hbuf[HEAD_RESERVE];
	int hn = snprintf(hbuf, sizeof hbuf,
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n%.*s\r\n",
			  r->status, reason(r->status), r->type, blen,
			  httpd_parse_keep_alive(p) ? "keep-alive" : "close", (int)r->extra_len, r->extra);
	/* Cannot exceed: the type is capped at TYPE_MAX and the rest is short. */
	if (hn < 0 || (size_t)hn >= sizeof hbuf)
		hn = 0;
	char *start = r->buf + HEAD_RESERVE - hn;
	memcpy(start, hbuf, (size_t)hn);
	*out = start;
	*outlen = (size_t)hn + (head ? 0 : blen);
}
