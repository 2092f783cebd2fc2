/* The HTTP server's bounds on what a request may cost, at the parse step:
 * head_check answering from the head without reading the body, the body
 * budget shared by connections (503 with Retry-After, 413 when it could
 * never fit), and gzip bodies inflated in slices within max_body. The
 * harness: httpd_harness.h. */
#include "check.h"
#include "httpd_harness.h"

static int handler_calls;
static void counting_handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	handler_calls++;
	handler(ud, req, resp);
}

/* Refuses anything without "Authorization: Token ok". */
static bool token_check(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)ud;
	struct sv t = hg_httpd_auth_credentials(hg_httpd_req_header(req, "Authorization"), "Token");
	if (t.p && t.len == 2 && memcmp(t.p, "ok", 2) == 0)
		return false;
	CHECK_INT(req->body.len, 0);
	hg_httpd_resp_status(resp, 401);
	hg_httpd_resp_printf(resp, "no\n");
	return true;
}

/* head_check answers from the head: the body is not read, the handler not
 * called, the connection not kept. With the right token the same request
 * reads its body. */
static void test_head_check(void)
{
	struct httpd_opts o = { .head_check = token_check, .max_body = 1 << 20 };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	const char *in = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\nabc";
	size_t used;
	handler_calls = 0;
	CHECK_INT(hg_httpd_parse_feed(p, in, strlen(in), &used), HTTPD_PARSE_REQUEST);
	CHECK(hg_httpd_parse_early(p));
	CHECK(used < strlen(in)); /* the body's bytes were not taken */
	CHECK(!hg_httpd_parse_keep_alive(p));
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(p, counting_handler, NULL, &out, &outlen);
	CHECK_INT(handler_calls, 0);
	CHECK(strncmp(out, "HTTP/1.1 401 ", 13) == 0);
	CHECK(memmem(out, outlen, "Connection: close\r\n", 19) != NULL);
	CHECK(outlen > 3 && memcmp(out + outlen - 3, "no\n", 3) == 0);
	hg_httpd_parse_free(p);

	p = hg_httpd_parse_new(&o);
	in = "POST /echo HTTP/1.1\r\nHost: a\r\nAuthorization: token ok\r\nContent-Length: 3\r\n\r\nabc";
	CHECK_INT(hg_httpd_parse_feed(p, in, strlen(in), &used), HTTPD_PARSE_REQUEST);
	CHECK(!hg_httpd_parse_early(p));
	hg_httpd_parse_respond(p, counting_handler, NULL, &out, &outlen);
	CHECK_INT(handler_calls, 1);
	CHECK(strncmp(out, "HTTP/1.1 200 ", 13) == 0 && memcmp(out + outlen - 3, "abc", 3) == 0);
	hg_httpd_parse_free(p);
}

/* Two connections share one body budget of 100 bytes: a declared body
 * takes its size at the head, what does not fit is 503 with Retry-After
 * (413 when it could never fit), a chunked body is charged as it grows,
 * and everything is given back once the answer is built. */
static void test_budget(void)
{
	struct httpd_opts o = { .max_body = 100, .max_body_total = 100 };
	struct httpd_budget b = { .limit = 100 };
	struct httpd_parse *p1 = hg_httpd_parse_new(&o), *p2 = hg_httpd_parse_new(&o);
	hg_httpd_parse_share_budget(p1, &b);
	hg_httpd_parse_share_budget(p2, &b);
	size_t used;
	const char *h60 = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 60\r\n\r\n";
	CHECK_INT(hg_httpd_parse_feed(p1, h60, strlen(h60), &used), HTTPD_PARSE_MORE);
	CHECK_INT(b.used, 60);
	CHECK_INT(hg_httpd_parse_feed(p2, h60, strlen(h60), &used), HTTPD_PARSE_ERROR);
	CHECK_INT(hg_httpd_parse_error_status(p2), 503);
	CHECK_INT(b.refusals, 1);
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(p2, handler, NULL, &out, &outlen);
	CHECK(strncmp(out, "HTTP/1.1 503 ", 13) == 0);
	CHECK(memmem(out, outlen, "Retry-After: 1\r\n", 16) != NULL);
	CHECK_INT(b.used, 60);
	hg_httpd_parse_free(p2);

	/* p1's body arrives and is answered; the budget is back at 0 before
	 * the next request (a kept-alive connection holds no body). */
	char body[60];
	memset(body, 'x', sizeof body);
	CHECK_INT(hg_httpd_parse_feed(p1, body, sizeof body, &used), HTTPD_PARSE_REQUEST);
	hg_httpd_parse_respond(p1, handler, NULL, &out, &outlen);
	CHECK(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
	CHECK_INT(b.used, 0);
	CHECK_INT(b.peak, 60);
	CHECK(hg_httpd_parse_keep_alive(p1));
	hg_httpd_parse_next(p1);

	/* A chunked body takes budget as its buffer grows (4 KiB steps,
	 * capped at max_body): with 60 bytes held elsewhere, it fails. */
	b.used = 60;
	const char *ch = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n";
	CHECK_INT(hg_httpd_parse_feed(p1, ch, strlen(ch), &used), HTTPD_PARSE_ERROR);
	CHECK_INT(hg_httpd_parse_error_status(p1), 503);
	hg_httpd_parse_free(p1);
	CHECK_INT(b.used, 60);
	b.used = 0;

	/* Larger than the whole budget: 413, not 503 (retrying cannot help). */
	struct httpd_opts small = { .max_body = 1000, .max_body_total = 100 };
	struct httpd_parse *p = hg_httpd_parse_new(&small);
	const char *h200 = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n";
	CHECK_INT(hg_httpd_parse_feed(p, h200, strlen(h200), &used), HTTPD_PARSE_ERROR);
	CHECK_INT(hg_httpd_parse_error_status(p), 413);
	hg_httpd_parse_free(p);
}

static size_t gzip_of(const char *in, size_t len, char *out, size_t cap)
{
	z_stream z = { 0 };
	CHECK_INT(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	CHECK_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

/* inflate_gzip: a gzip body is decompressed in slices of at most the
 * size asked (the server asks for HTTPD_INFLATE_SLICE per loop turn), its
 * decompressed copy counted in the budget; past max_body it is a 413 for
 * the handler to word, broken gzip a 400. */
static void test_inflate_slices(void)
{
	static char plain[300000], z[8192], req[16384];
	for (size_t i = 0; i < sizeof plain; i++)
		plain[i] = (char)('a' + i % 7);
	size_t zn = gzip_of(plain, sizeof plain, z, sizeof z);
	struct httpd_opts o = { .max_body = 512 * 1024, .inflate_gzip = true };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	int hn = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Encoding: GZip\r\nContent-Length: %zu\r\n\r\n", zn);
	memcpy(req + hn, z, zn);
	size_t used;
	CHECK_INT(hg_httpd_parse_feed(p, req, (size_t)hn + zn, &used), HTTPD_PARSE_REQUEST);
	int turns = 0;
	while (hg_httpd_parse_decode(p, 64 * 1024))
		turns++;
	CHECK_INT(turns, 4); /* 300000 bytes: four full 64 KiB slices, then the rest */
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(p, handler, NULL, &out, &outlen);
	CHECK(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
	CHECK(outlen > sizeof plain && memcmp(out + outlen - sizeof plain, plain, sizeof plain) == 0);
	hg_httpd_parse_free(p);

	/* inflating past max_body (100 KiB): body_error 413, body empty */
	struct httpd_opts lim = { .max_body = 100 * 1024, .inflate_gzip = true };
	p = hg_httpd_parse_new(&lim);
	CHECK_INT(hg_httpd_parse_feed(p, req, (size_t)hn + zn, &used), HTTPD_PARSE_REQUEST);
	hg_httpd_parse_respond(p, handler, NULL, &out, &outlen);
	CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
	hg_httpd_parse_free(p);

	/* truncated gzip: 400 */
	p = hg_httpd_parse_new(&o);
	hn = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zn - 8);
	memcpy(req + hn, z, zn - 8);
	CHECK_INT(hg_httpd_parse_feed(p, req, (size_t)hn + zn - 8, &used), HTTPD_PARSE_REQUEST);
	hg_httpd_parse_respond(p, handler, NULL, &out, &outlen);
	CHECK(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	hg_httpd_parse_free(p);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_head_check),
		CHECK_CASE(test_budget),
		CHECK_CASE(test_inflate_slices),
	};
	return CHECK_RUN(argc, argv, cases);
}
