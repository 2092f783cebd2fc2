/* libFuzzer target for the HTTP server's request step: the bytes a client
 * sends, cut into reads of a size the first byte picks, go through exactly
 * the parse/respond sequence a connection runs (pipelining included). */
#include <stdint.h>
#include <string.h>
#include "httpd.h"

static void handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)ud;
	if (req->path.len > 1 && req->path.p[1] == 'n')
		hg_httpd_resp_status(resp, 404);
	hg_httpd_resp_printf(resp, "%s %.*s?%.*s\n", req->method, (int)req->path.len, req->path.p, (int)req->query.len,
			  req->query.p);
	hg_httpd_resp_append(resp, req->body.p, req->body.len);
}

/* Answers from the head (the body unread) for paths starting "/x". */
static bool head_check(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)ud;
	if (req->body.len || req->body_error)
		__builtin_trap(); /* no body exists yet */
	if (req->path.len < 2 || req->path.p[1] != 'x')
		return false;
	hg_httpd_resp_status(resp, 401);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	/* Small limits so the 413/431/503 paths are reachable with small
	 * inputs; gzip bodies are decompressed (in small slices), and paths
	 * starting "/x" are answered from the head. */
	struct httpd_opts o = { .max_header = 512, .max_body = 256, .max_body_total = 384, .max_response = 1024,
				.inflate_gzip = true, .head_check = head_check };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	if (!p)
		return 0;
	size_t off = 0;
	/* The server moves a connection from its head deadline to its body
	 * deadline when headers_done turns true: it must not turn back within
	 * a request, and must be false when the next one starts. */
	bool head_done = false;
	while (off < size) {
		size_t n = size - off < cut ? size - off : cut;
		size_t used = 0;
		int r = hg_httpd_parse_feed(p, (const char *)data + off, n, &used);
		if (used > n)
			__builtin_trap();
		const char *out;
		size_t outlen;
		if (r == HTTPD_PARSE_MORE) {
			/* "100 Continue" is only ever due once a head is complete. */
			if (hg_httpd_parse_expects_continue(p) && !hg_httpd_parse_headers_done(p))
				__builtin_trap();
			if (head_done && !hg_httpd_parse_headers_done(p))
				__builtin_trap();
			head_done = hg_httpd_parse_headers_done(p);
			off += n;
			continue;
		}
		while (hg_httpd_parse_decode(p, 7))
			;
		hg_httpd_parse_respond(p, handler, NULL, &out, &outlen);
		if (outlen < 12 || memcmp(out, "HTTP/1.1 ", 9) != 0)
			__builtin_trap();
		if (r == HTTPD_PARSE_ERROR || !hg_httpd_parse_keep_alive(p))
			break;
		off += used;
		hg_httpd_parse_next(p);
		if (hg_httpd_parse_headers_done(p))
			__builtin_trap();
		head_done = false;
	}
	hg_httpd_parse_free(p);
	return 0;
}
