/* Building an answer (see httpd_resp.h). */
#include "httpd_resp.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hg_httpd_resp_status(struct httpd_resp *r, int status)
{
	if (status >= 100 && status <= 599)
		r->status = status;
}

void hg_httpd_resp_type(struct httpd_resp *r, const char *type)
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

void hg_httpd_resp_append(struct httpd_resp *r, const char *data, size_t len)
{
	if (!len || !resp_reserve(r, len))
		return;
	memcpy(r->buf + HEAD_RESERVE + r->len, data, len);
	r->len += len;
}

void hg_httpd_resp_header(struct httpd_resp *r, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	if (!nl || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || nl + vl + 4 > EXTRA_MAX - r->extra_len)
		return;
	int n = snprintf(r->extra + r->extra_len, EXTRA_MAX - r->extra_len, "%s: %s\r\n", name, value);
	if (n > 0)
		r->extra_len += (size_t)n;
}

void hg_httpd_resp_printf(struct httpd_resp *r, const char *fmt, ...)
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

const char *hg_httpd_status_reason(int status)
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
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

void hg_httpd_resp_reset(struct httpd_resp *r, size_t max)
{
	r->status = 200;
	r->type = "text/plain; charset=utf-8";
	r->len = 0;
	r->max = max;
	r->overflow = false;
	r->again = false;
	r->extra_len = 0;
}

void hg_httpd_resp_finish(struct httpd_resp *r, bool keep_alive, bool head, const char **out, size_t *outlen)
{
	bool nobody = r->status == 204 || r->status == 304 || r->status < 200;
	size_t blen = nobody ? 0 : r->len;
	char hbuf[HEAD_RESERVE];
	int hn = snprintf(hbuf, sizeof hbuf,
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n%.*s\r\n",
			  r->status, hg_httpd_status_reason(r->status), r->type, blen,
			  keep_alive ? "keep-alive" : "close", (int)r->extra_len, r->extra);
	/* Cannot exceed: the type is capped at TYPE_MAX and the rest is short. */
	if (hn < 0 || (size_t)hn >= sizeof hbuf)
		hn = 0;
	char *start = r->buf + HEAD_RESERVE - hn;
	memcpy(start, hbuf, (size_t)hn);
	*out = start;
	*outlen = (size_t)hn + (head ? 0 : blen);
}

void hg_httpd_resp_again(struct httpd_resp *r) { r->again = true; }
