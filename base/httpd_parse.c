/* The socket-free half of the HTTP server: bytes in, one request out, one
 * response's bytes back. Every buffer is per connection and bounded by the
 * options, so a client can make us hold at most max_header + max_body +
 * max_response bytes; the body buffers (and a gzip body's decompressed
 * copy) are also charged to a budget the server's connections share
 * (max_body_total), and released as soon as the answer is built. */
#include "httpd.h"
#include "httpd_frame.h"
#include "httpd_resp.h"
#include <http_parser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct httpd_parse {
	http_parser hp;
	struct httpd_opts o;
	size_t hdr_bytes; /* bytes fed before the headers completed */
	bool headers_done, complete, keep_alive;
	bool early;       /* answered by head_check; the body is not read */
	int err_status;
	char *url;
	size_t url_len;
	char *body;
	size_t body_len, body_cap;
	size_t reserved;  /* budget taken at the head for a Content-Length body */
	size_t charged;   /* budget this request holds (reserved included) */
	struct httpd_budget own_budget, *budget;
	/* gzip decoding (inflate_gzip) */
	bool decoding, zinit, decoded; /* decoded: the body is in zout */
	int body_error;
	/* The handler's work on this request (hg_httpd_parse_step): handling
	 * once it has been called, handled once it answered; task is its
	 * state between calls (see httpd_req.task). */
	bool handling, handled;
	void *task;
	z_stream z;
	char *zout;
	size_t zout_len, zout_cap;
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
	struct chunk_scan chunks;
};

void hg_httpd_opts_defaults(struct httpd_opts *o, const struct httpd_opts *in)
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
	if (!o->write_timeout_ms)
		o->write_timeout_ms = 10000;
	if (!o->max_body_total)
		o->max_body_total = o->max_body > SIZE_MAX / o->max_conns ? SIZE_MAX : o->max_body * o->max_conns;
	/* A body the whole budget cannot hold would be refused for ever: it is
	 * too large (413), not a moment too early (503). */
	if (o->max_body > o->max_body_total)
		o->max_body = o->max_body_total;
}

/* Takes n more bytes of the shared budget for this request: 0, or 413
 * when the request could not have them even alone (too large), or 503
 * (counted) when other connections hold them now (try again later). */
static int budget_take(struct httpd_parse *p, size_t n)
{
	struct httpd_budget *b = p->budget;
	if (n > b->limit - p->charged)
		return 413;
	if (n > b->limit - b->used) {
		b->refusals++;
		return 503;
	}
	b->used += n;
	if (b->used > b->peak)
		b->peak = b->used;
	p->charged += n;
	return 0;
}

/* Frees the body buffers and gives their budget back. */
static void release_body(struct httpd_parse *p)
{
	free(p->body);
	p->body = NULL;
	p->body_len = p->body_cap = 0;
	free(p->zout);
	p->zout = NULL;
	p->zout_len = p->zout_cap = 0;
	if (p->zinit)
		inflateEnd(&p->z);
	p->zinit = p->decoding = p->decoded = false;
	/* The handler's task reads the body: it goes with it (a connection
	 * closed while its body is being handled ends up here too). */
	if (p->task && p->o.task_free)
		p->o.task_free(p->task);
	p->task = NULL;
	p->handling = p->handled = false;
	p->budget->used -= p->charged;
	p->charged = p->reserved = 0;
}

static bool ascii_ieq(struct sv a, const char *b);

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

static void fill_req(struct httpd_parse *p);

static int on_headers_complete(http_parser *hp)
{
	struct httpd_parse *p = P(hp);
	p->headers_done = true;
	fill_req(p);
	/* Credentials and the like are checked before any body byte is read,
	 * so a client without them makes us buffer nothing. */
	if (p->o.head_check) {
		hg_httpd_resp_reset(&p->resp, p->o.max_response);
		if (p->o.head_check(p->o.head_ud, &p->req, &p->resp)) {
			p->early = p->complete = true;
			p->keep_alive = false;
			http_parser_pause(hp, 1);
			return 0;
		}
	}
	/* ULLONG_MAX means no Content-Length (chunked or none). */
	if (hp->content_length != ULLONG_MAX && hp->content_length > p->o.max_body) {
		p->err_status = 413;
		return -1;
	}
	/* A declared body takes its whole size of the shared budget now, so
	 * that what is admitted can always be read; a chunked one is charged
	 * as its buffer grows (on_body). */
	if (hp->content_length != ULLONG_MAX && hp->content_length > 0) {
		if ((p->err_status = budget_take(p, (size_t)hp->content_length)))
			return -1;
		p->reserved = (size_t)hp->content_length;
	}
	struct sv enc = hg_httpd_req_header(&p->req, "Content-Encoding");
	p->decoding = p->o.inflate_gzip && enc.p && ascii_ieq(enc, "gzip");
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
		size_t cap = p->body_cap ? p->body_cap : 4096, limit = p->reserved ? p->reserved : p->o.max_body;
		while (cap - p->body_len < len)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		if (!p->reserved && (p->err_status = budget_take(p, cap - p->body_cap)))
			return -1;
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

struct httpd_parse *hg_httpd_parse_new(const struct httpd_opts *opts)
{
	struct httpd_parse *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	hg_httpd_opts_defaults(&p->o, opts);
	p->url = malloc(p->o.max_header);
	p->hbuf = malloc(p->o.max_header);
	p->resp.cap = HEAD_RESERVE + 1024;
	p->resp.buf = malloc(p->resp.cap);
	if (!p->url || !p->hbuf || !p->resp.buf) {
		hg_httpd_parse_free(p);
		return NULL;
	}
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
	p->own_budget.limit = p->o.max_body_total;
	p->budget = &p->own_budget;
	return p;
}

void hg_httpd_parse_share_budget(struct httpd_parse *p, struct httpd_budget *b)
{
	p->budget->used -= p->charged;
	p->charged = 0;
	p->budget = b;
}

void hg_httpd_parse_free(struct httpd_parse *p)
{
	if (!p)
		return;
	release_body(p);
	free(p->url);
	free(p->hbuf);
	free(p->resp.buf);
	free(p);
}

/* 0, or -1 at the first byte no strict server accepts. Stops at the end of
 * the head: the body is not line-structured. */
static int fail(struct httpd_parse *p, int status)
{
	if (!p->err_status)
		p->err_status = status;
	p->keep_alive = false;
	return HTTPD_PARSE_ERROR;
}

int hg_httpd_parse_feed(struct httpd_parse *p, const char *data, size_t len, size_t *used)
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
		/* Where this slice's body bytes begin, if it has any. */
		size_t body_from = p->headers_done ? 0 : SIZE_MAX, head_end = n;
		if (!p->headers_done && !p->scan.done) {
			if (hg_httpd_scan_head(&p->scan, data + off, n, &head_end) != 0)
				return fail(p, 400);
			if (p->scan.done)
				body_from = head_end;
		}
		size_t got = http_parser_execute(&p->hp, &settings, data + off, n);
		if (p->headers_done && !p->early && (p->hp.flags & F_CHUNKED) && body_from < got &&
		    hg_httpd_scan_chunks(&p->chunks, data + off + body_from, got - body_from) != 0)
			return fail(p, 400);
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

bool hg_httpd_parse_keep_alive(const struct httpd_parse *p) { return p->keep_alive && !p->err_status; }
bool hg_httpd_parse_headers_done(const struct httpd_parse *p) { return p->headers_done; }
int hg_httpd_parse_error_status(const struct httpd_parse *p) { return p->err_status; }

bool hg_httpd_parse_early(const struct httpd_parse *p) { return p->early; }

bool hg_httpd_parse_expects_continue(const struct httpd_parse *p)
{
	if (!p->headers_done || p->complete || p->err_status || p->hp.http_major != 1 || p->hp.http_minor < 1)
		return false;
	struct sv e = hg_httpd_req_header(&p->req, "Expect");
	return e.p && ascii_ieq(e, "100-continue");
}

void hg_httpd_parse_next(struct httpd_parse *p)
{
	p->complete = p->headers_done = p->early = false;
	p->hdr_bytes = 0;
	p->scan = (struct head_scan){ 0 };
	p->chunks = (struct chunk_scan){ 0 };
	p->url_len = 0;
	p->body_error = 0;
	release_body(p);
	/* A big answer (/metrics) leaves a big buffer: give it back too. */
	if (p->resp.cap > HEAD_RESERVE + 64 * 1024) {
		char *b = realloc(p->resp.buf, HEAD_RESERVE + 1024);
		if (b) {
			p->resp.buf = b;
			p->resp.cap = HEAD_RESERVE + 1024;
		}
	}
	http_parser_pause(&p->hp, 0);
}

/* Ends decoding: 0 (done), or the body_error / err_status to answer. */
static bool decode_end(struct httpd_parse *p, int body_error, int err_status)
{
	p->body_error = body_error;
	if (err_status)
		fail(p, err_status);
	if (p->zinit)
		inflateEnd(&p->z);
	p->zinit = p->decoding = false;
	if (!body_error && !err_status) {
		p->decoded = true;
		/* The compressed copy is no longer needed (its budget stays
		 * charged until the answer: simpler, and bounded). */
		free(p->body);
		p->body = NULL;
		p->body_cap = 0;
	}
	return false;
}

bool hg_httpd_parse_decode(struct httpd_parse *p, size_t max_out)
{
	if (!p->complete || p->early || p->err_status || !p->decoding)
		return false;
	if (!p->zinit) {
		p->z = (z_stream){ 0 };
		if (inflateInit2(&p->z, 16 + MAX_WBITS) != Z_OK)
			return decode_end(p, 0, 503);
		p->zinit = true;
		p->z.next_in = (Bytef *)p->body;
		p->z.avail_in = (uInt)p->body_len;
	}
	size_t produced = 0;
	while (produced < max_out) {
		if (p->zout_len == p->zout_cap) {
			if (p->zout_cap >= p->o.max_body)
				return decode_end(p, 413, 0);
			size_t cap = p->zout_cap ? p->zout_cap * 2 : 64 * 1024;
			if (cap > p->o.max_body)
				cap = p->o.max_body;
			int why = budget_take(p, cap - p->zout_cap);
			if (why)
				return decode_end(p, why == 413 ? 413 : 0, why == 413 ? 0 : 503);
			char *b = realloc(p->zout, cap);
			if (!b)
				return decode_end(p, 0, 503);
			p->zout = b;
			p->zout_cap = cap;
		}
		size_t avail = p->zout_cap - p->zout_len;
		if (avail > max_out - produced)
			avail = max_out - produced;
		if (avail > UINT_MAX)
			avail = UINT_MAX;
		p->z.next_out = (Bytef *)p->zout + p->zout_len;
		p->z.avail_out = (uInt)avail;
		int zr = inflate(&p->z, Z_NO_FLUSH);
		size_t n = avail - p->z.avail_out;
		p->zout_len += n;
		produced += n;
		if (zr == Z_STREAM_END) {
			/* Concatenated gzip members are one body, as gunzip reads them. */
			if (p->z.avail_in == 0)
				return decode_end(p, 0, 0);
			if (inflateReset(&p->z) != Z_OK)
				return decode_end(p, 400, 0);
		} else if (zr == Z_BUF_ERROR && p->z.avail_out != 0) {
			return decode_end(p, 400, 0); /* truncated: no input left */
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return decode_end(p, 400, 0);
		}
	}
	return true;
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

struct sv hg_httpd_req_header(const struct httpd_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (ascii_ieq(req->headers[i].name, name))
			return req->headers[i].value.p ? req->headers[i].value : (struct sv){ "", 0 };
	return (struct sv){ NULL, 0 };
}

struct sv hg_httpd_auth_credentials(struct sv h, const char *scheme)
{
	size_t k = strlen(scheme), i = k;
	if (!h.p || h.len <= k || !ascii_ieq((struct sv){ h.p, k }, scheme) || h.p[k] != ' ')
		return (struct sv){ NULL, 0 };
	while (i < h.len && h.p[i] == ' ')
		i++;
	return (struct sv){ h.p + i, h.len - i };
}

static void fill_req(struct httpd_parse *p)
{
	p->req.method = http_method_str((enum http_method)p->hp.method);
	size_t q = 0;
	while (q < p->url_len && p->url[q] != '?')
		q++;
	p->req.path = (struct sv){ p->url, q };
	p->req.query = q < p->url_len ? (struct sv){ p->url + q + 1, p->url_len - q - 1 } : (struct sv){ p->url, 0 };
	p->req.body_error = p->body_error;
	if (p->body_error || !p->headers_done || !p->complete)
		p->req.body = (struct sv){ p->url, 0 };
	else if (p->decoded)
		p->req.body = (struct sv){ p->zout, p->zout_len };
	else
		p->req.body = (struct sv){ p->body ? p->body : p->url, p->body_len };
	p->req.headers = p->hdrs;
	p->req.nheaders = p->nhdrs;
	p->req.task = &p->task;
}

bool hg_httpd_parse_step(struct httpd_parse *p, httpd_handler handler, void *ud)
{
	while (hg_httpd_parse_decode(p, SIZE_MAX))
		;
	if (p->early || p->err_status || p->handled)
		return false;
	if (!p->handling) {
		hg_httpd_resp_reset(&p->resp, p->o.max_response);
		fill_req(p);
		p->handling = true;
	}
	p->resp.again = false;
	handler(ud, &p->req, &p->resp);
	if (p->resp.again)
		return true;
	p->handled = true;
	return false;
}

/* 204 and 304 carry no body and HEAD only describes one. */
void hg_httpd_parse_respond(struct httpd_parse *p, httpd_handler handler, void *ud, const char **out, size_t *outlen)
{
	struct httpd_resp *r = &p->resp;
	bool head = false;
	while (hg_httpd_parse_decode(p, SIZE_MAX))
		;
	if (p->early) {
		/* head_check filled r already. */
		head = p->hp.method == HTTP_HEAD;
		if (r->overflow) {
			hg_httpd_resp_reset(r, p->o.max_response);
			r->status = 500;
			hg_httpd_resp_printf(r, "response too large\n");
		}
	} else if (p->err_status) {
		hg_httpd_resp_reset(r, p->o.max_response);
		r->status = p->err_status;
		hg_httpd_resp_printf(r, "%s\n", hg_httpd_status_reason(r->status));
		if (r->status == 503)
			hg_httpd_resp_header(r, "Retry-After", "1");
	} else {
		head = p->hp.method == HTTP_HEAD;
		while (hg_httpd_parse_step(p, handler, ud))
			;
		if (r->overflow) {
			hg_httpd_resp_reset(r, p->o.max_response);
			r->status = 500;
			hg_httpd_resp_printf(r, "response too large\n");
		}
	}
	/* The answer is built: the body (and its budget) is not needed any more. */
	release_body(p);
	hg_httpd_resp_finish(r, hg_httpd_parse_keep_alive(p), head, out, outlen);
}
