/* The listener's write path, driven through the real HTTP request step
 * (httpd_parse) into a capture accumulator: status, InfluxDB-style error
 * bodies, precision, gzip (and its bounds), max line size, db/rp tags,
 * request headers. The socket side and the raw pass-through to outputs are
 * tested through the agent by tests/integration/test_influxdb_listener.sh. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "listener_write.h"
#include "check.h"
#include "httpd.h"

#define NOW 1700000000123456789LL

struct ctx {
	struct lw *lw;
	struct acc *acc;
	enum lw_api api;
	char seen_enc[32];
};

static void handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	struct ctx *c = ud;
	struct sv e = hg_httpd_req_header(req, "content-encoding");
	snprintf(c->seen_enc, sizeof c->seen_enc, "%.*s", (int)e.len, e.p ? e.p : "");
	hg_lw_handle(c->lw, c->acc, c->api, req, resp, NOW);
}

static char resp_text[1 << 16];

/* Sends one request; returns the status, resp_text holds the whole answer. */
static int request(struct ctx *c, const char *target, const char *extra_headers, const char *body, size_t blen)
{
	char head[1024];
	int hn = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n", target,
			  extra_headers, blen);
	size_t n = (size_t)hn + blen;
	char *in = malloc(n);
	memcpy(in, head, (size_t)hn);
	memcpy(in + hn, body, blen);
	/* As the listener sets httpd up: max_body as lw's, gzip decompressed by httpd. */
	struct httpd_opts o = { .max_body = 65536, .inflate_gzip = true };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	size_t used;
	int r = hg_httpd_parse_feed(p, in, n, &used);
	CHECK_INT(r, HTTPD_PARSE_REQUEST);
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(p, handler, c, &out, &outlen);
	if (outlen >= sizeof resp_text)
		outlen = sizeof resp_text - 1;
	memcpy(resp_text, out, outlen);
	resp_text[outlen] = 0;
	hg_httpd_parse_free(p);
	free(in);
	return atoi(resp_text + 9);
}

static int post(struct ctx *c, const char *target, const char *body)
{
	return request(c, target, "", body, strlen(body));
}

static const char *resp_body(void)
{
	const char *b = strstr(resp_text, "\r\n\r\n");
	return b ? b + 4 : "";
}

static size_t gzip_text(const char *in, size_t len, char *out, size_t cap)
{
	z_stream z = { 0 };
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	CHECK_INT(rc, Z_STREAM_END);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static struct ctx shared; /* one listener for the cases */

static void reset(struct ctx *c)
{
	hg_acc_capture_clear(c->acc);
}

static void test_v1_basics(void)
{
	struct ctx *c = &shared;
	reset(c);
	CHECK_INT(post(c, "/write?db=x", "cpu,zone=b,host=a usage=1.5,n=3i 1700000000000000000\n"
					 "# a comment\n\nmem free=10u,ok=t,s=\"a \\\"q\\\"\" 1700000000000000001\n"),
		  204);
	CHECK_STR(hg_acc_capture_text(c->acc), "cpu,host=a,zone=b usage=1.5,n=3i 1700000000000000000\n"
					    "mem free=10u,ok=true,s=\"a \\\"q\\\"\" 1700000000000000001\n");
	CHECK_STR(resp_body(), "");

	/* Precisions: v1 n/ns/u/ms/s/m/h, an unknown one is ns as in InfluxDB 1.x. */
	static const struct {
		const char *target, *line, *want;
	} cases[] = {
		{ "/write?precision=s", "m v=1 1700000000", "m v=1 1700000000000000000\n" },
		{ "/write?precision=ms", "m v=1 1700000000001", "m v=1 1700000000001000000\n" },
		{ "/write?precision=u", "m v=1 1700000000000002", "m v=1 1700000000000002000\n" },
		{ "/write?precision=n", "m v=1 5", "m v=1 5\n" },
		{ "/write?precision=m", "m v=1 2", "m v=1 120000000000\n" },
		{ "/write?precision=h", "m v=1 2", "m v=1 7200000000000\n" },
		{ "/write?precision=weird", "m v=1 7", "m v=1 7\n" },
		/* no timestamp: the receive time, cut to the precision */
		{ "/write?precision=s", "m v=1", "m v=1 1700000000000000000\n" },
		{ "/write", "m v=1", "m v=1 1700000000123456789\n" },
		{ "/api/v2/write?org=o&bucket=b&precision=us", "m v=1 3", "m v=1 3000\n" },
		{ "/api/v2/write?bucket=b&precision=ms", "m v=1", "m v=1 1700000000123000000\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reset(c);
		c->api = strncmp(cases[i].target, "/api/v2/", 8) == 0 ? LW_V2 : LW_V1;
		CHECK_INT(post(c, cases[i].target, cases[i].line), 204);
		if (strcmp(hg_acc_capture_text(c->acc), cases[i].want) != 0)
			fprintf(stderr, "case %zu (%s)\n", i, cases[i].target);
		CHECK_STR(hg_acc_capture_text(c->acc), cases[i].want);
	}
	/* v2 refuses what 2.x refuses */
	reset(c);
	c->api = LW_V2;
	CHECK_INT(post(c, "/api/v2/write?bucket=b&precision=h", "m v=1 1"), 400);
	CHECK_STR(resp_body(),
		  "{\"code\":\"invalid\",\"message\":\"invalid precision; valid precision units are ns, us, ms, and s\"}");
	CHECK_STR(hg_acc_capture_text(c->acc), "");
	c->api = LW_V1;
}

static void test_partial(void)
{
	struct ctx *c = &shared;
	reset(c);
	CHECK_INT(post(c, "/write", "good v=1 1\nbad line here\nalso,bad\ngood v=2 2\nq\"x v=\"unterminated\n"), 400);
	CHECK_STR(hg_acc_capture_text(c->acc), "good v=1 1\ngood v=2 2\n");
	const char *b = resp_body();
	CHECK(strncmp(b, "{\"error\":\"partial write: unable to parse 'bad line here': at line 2:", 66) == 0);
	CHECK(strstr(b, "\\nunable to parse 'also,bad': at line 3:") != NULL);
	/* quotes of the bad line are escaped in the JSON */
	CHECK(strstr(b, "\\nunable to parse 'q\\\"x v=\\\"unterminated': at line 5:") != NULL);
	CHECK(strstr(b, " dropped=3\"}") != NULL);
	CHECK(strstr(resp_text, "\r\nContent-Type: application/json\r\n") != NULL);
	CHECK(strstr(resp_text, "\r\nX-Influxdb-Error: unable to parse 'bad line here': at line 2:") != NULL);

	/* every line bad: no "partial write", as InfluxDB 1.x */
	reset(c);
	CHECK_INT(post(c, "/write", "bad line here\n"), 400);
	CHECK(strncmp(resp_body(), "{\"error\":\"unable to parse 'bad line here': at line 1:", 52) == 0);
	CHECK_STR(hg_acc_capture_text(c->acc), "");

	/* v2 shape */
	reset(c);
	c->api = LW_V2;
	CHECK_INT(post(c, "/api/v2/write?bucket=b", "a v=1 1\nb\n"), 400);
	CHECK(strncmp(resp_body(), "{\"code\":\"invalid\",\"message\":\"partial write: unable to parse 'b': ", 65) == 0);
	CHECK_STR(hg_acc_capture_text(c->acc), "a v=1 1\n");
	c->api = LW_V1;

	/* many bad lines: 20 named, the count of the rest, dropped= all of them */
	reset(c);
	char body[4096] = "ok v=1 1\n";
	for (int i = 0; i < 30; i++)
		strcat(body, "x\n");
	CHECK_INT(post(c, "/write", body), 400);
	CHECK(strstr(resp_body(), "(and 10 more) dropped=30\"}") != NULL);
	size_t named = 0;
	for (const char *p = strstr(resp_body(), "unable to parse"); p; p = strstr(p + 1, "unable to parse"))
		named++;
	CHECK_INT(named, 20);
}

static void test_gzip(void)
{
	struct ctx *c = &shared;
	static char z[1 << 16], big[300 * 1024];
	const char *text = "g,t=1 v=1i 10\ng,t=2 v=2i 20\n";
	size_t zn = gzip_text(text, strlen(text), z, sizeof z);
	reset(c);
	CHECK_INT(request(c, "/write", "Content-Encoding: GZIP\r\n", z, zn), 204);
	CHECK_STR(c->seen_enc, "GZIP");
	CHECK_STR(hg_acc_capture_text(c->acc), text);

	/* two gzip members make one body, as gunzip reads them */
	size_t zn2 = gzip_text("h v=3 30\n", 9, z + zn, sizeof z - zn);
	reset(c);
	CHECK_INT(request(c, "/write", "Content-Encoding: gzip\r\n", z, zn + zn2), 204);
	CHECK_STR(hg_acc_capture_text(c->acc), "g,t=1 v=1i 10\ng,t=2 v=2i 20\nh v=3 30\n");

	/* truncated and not-gzip bodies */
	reset(c);
	CHECK_INT(request(c, "/write", "Content-Encoding: gzip\r\n", z, zn - 5), 400);
	CHECK(strstr(resp_body(), "gzip") != NULL);
	CHECK_INT(request(c, "/write", "Content-Encoding: gzip\r\n", "m v=1 1", 7), 400);
	CHECK_STR(hg_acc_capture_text(c->acc), "");

	/* a bomb: 300 KiB of one repeated line compress to little, but the
	 * decompressed body is bounded by max_body (64 KiB here): 413, nothing
	 * emitted */
	for (size_t i = 0; i + 9 <= sizeof big; i += 9)
		memcpy(big + i, "b v=1 10\n", 9);
	size_t bn = gzip_text(big, sizeof big / 9 * 9, z, sizeof z);
	CHECK(bn < 4096);
	reset(c);
	CHECK_INT(request(c, "/write", "Content-Encoding: gzip\r\n", z, bn), 413);
	CHECK_STR(resp_body(), "{\"error\":\"http: request body too large\"}");
	CHECK_STR(hg_acc_capture_text(c->acc), "");
	CHECK_INT(hg_lw_stats(c->lw)->too_large, 1);
}

static void test_limits_and_tags(void)
{
	struct ctx *c = &shared;
	/* max_line is 100 here */
	char line[300];
	memset(line, 'a', sizeof line);
	memcpy(line + 290, " v=1 1\n", 8);
	reset(c);
	char body[1024];
	snprintf(body, sizeof body, "short v=1 1\n%s", line);
	CHECK_INT(post(c, "/write", body), 400);
	CHECK(strstr(resp_body(), "line longer than max_line_size (100 bytes)") != NULL);
	CHECK(strstr(resp_body(), "...': at line 2") != NULL); /* long lines are quoted cut */
	CHECK_STR(hg_acc_capture_text(c->acc), "short v=1 1\n");

	struct lw_opts o = { .max_body = 65536, .max_line = 100, .database_tag = "database",
			     .retention_policy_tag = "rp", .bucket_tag = "bucket" };
	struct ctx t = { .lw = hg_lw_new(&o), .acc = c->acc, .api = LW_V1 };
	reset(c);
	CHECK_INT(post(&t, "/write?db=my%20db&rp=autogen&u=x", "m,database=old,z=1 v=1 1\nn v=2 2\n"), 204);
	CHECK_STR(hg_acc_capture_text(c->acc), "m,database=my\\ db,rp=autogen,z=1 v=1 1\nn,database=my\\ db,rp=autogen v=2 2\n");
	/* no db: no tag */
	reset(c);
	CHECK_INT(post(&t, "/write", "n v=2 2\n"), 204);
	CHECK_STR(hg_acc_capture_text(c->acc), "n v=2 2\n");
	t.api = LW_V2;
	reset(c);
	CHECK_INT(post(&t, "/api/v2/write?org=o&bucket=b1", "n v=2 2\n"), 204);
	CHECK_STR(hg_acc_capture_text(c->acc), "n,bucket=b1 v=2 2\n");
	hg_lw_free(t.lw);
}

/* The listener's handler as the server runs it: a slice of the body per
 * call, asking to be called again while lines remain. */
#define TEST_SLICE 4096
static int slice_calls;
static void slice_handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	struct ctx *c = ud;
	slice_calls++;
	if (hg_lw_handle_slice(c->lw, c->acc, c->api, req, resp, NOW, req->task, TEST_SLICE))
		hg_httpd_resp_again(resp);
}

/* A connection's request, its head and body fed whole, its body charged to b. */
static struct httpd_parse *fed(struct httpd_budget *b, const char *target, const char *body, size_t blen, char **in)
{
	struct httpd_opts o = { .max_body = 65536, .inflate_gzip = true, .task_free = hg_lw_task_free };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	hg_httpd_parse_share_budget(p, b);
	*in = malloc(blen + 256);
	int hn = snprintf(*in, 256, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", target, blen);
	memcpy(*in + hn, body, blen);
	size_t used;
	CHECK_INT(hg_httpd_parse_feed(p, *in, (size_t)hn + blen, &used), HTTPD_PARSE_REQUEST);
	return p;
}

/* A body of many slices is parsed over several calls (loop turns in the
 * server) while another connection's request is answered in between; its
 * lines, counts, errors and answer are those of the one-go parse, and its
 * body's budget is given back after the answer, or when its connection
 * closes mid-parse (the task freed with it: the sanitizer build checks). */
static void test_sliced(void)
{
	struct ctx *c = &shared;
	static char body[60000];
	size_t blen = 0;
	for (int i = 0; blen < sizeof body - 300; i++) {
		if (i % 97 == 5)
			blen += (size_t)snprintf(body + blen, sizeof body - blen, "bad line %d\n", i);
		else if (i % 211 == 7) /* longer than max_line (100) */
			blen += (size_t)snprintf(body + blen, sizeof body - blen, "long,t=%0120d v=1\n", i);
		else if (i % 3 == 0) /* no timestamp: the receive time, the same for every slice */
			blen += (size_t)snprintf(body + blen, sizeof body - blen, "big,h=a%d v=%di\n", i, i);
		else
			blen += (size_t)snprintf(body + blen, sizeof body - blen, "big,z=1,h=a%d v=%d.5 %d\n", i, i, i);
	}
	CHECK(blen > 10 * TEST_SLICE);

	/* The one-go result. */
	reset(c);
	CHECK_INT(request(c, "/write?precision=s", "", body, blen), 400);
	char *want_text = strdup(hg_acc_capture_text(c->acc));
	char *want_resp = strdup(resp_text);
	CHECK(strstr(want_resp, "partial write: unable to parse 'bad line 5'") != NULL);
	CHECK(strstr(want_resp, "X-Influxdb-Error: unable to parse 'bad line 5'") != NULL);

	reset(c);
	struct httpd_budget b = { .limit = 1 << 20 };
	char *in1, *in2, *in3;
	struct httpd_parse *p1 = fed(&b, "/write?precision=s", body, blen, &in1);
	struct httpd_parse *p2 = fed(&b, "/write", "small v=1 5\n", 12, &in2);
	CHECK(b.used >= blen + 12);
	slice_calls = 0;
	CHECK(hg_httpd_parse_step(p1, slice_handler, c)); /* the first slice; more to come */
	size_t first = strlen(hg_acc_capture_text(c->acc));
	CHECK(first > 0 && first < strlen(want_text));
	CHECK(strncmp(hg_acc_capture_text(c->acc), want_text, first) == 0);

	/* The other connection is answered before p1's next slice. */
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(p2, slice_handler, c, &out, &outlen);
	CHECK(outlen > 12 && strncmp(out, "HTTP/1.1 204", 12) == 0);
	CHECK_STR(hg_acc_capture_text(c->acc) + first, "small v=1 5\n");

	while (hg_httpd_parse_step(p1, slice_handler, c))
		;
	CHECK(slice_calls >= 10);
	hg_httpd_parse_respond(p1, slice_handler, c, &out, &outlen);
	char *got_resp = strndup(out, outlen);
	CHECK_STR(got_resp, want_resp);
	free(got_resp);
	/* The captured lines: the one-go ones, with p2's line where it came. */
	const char *got = hg_acc_capture_text(c->acc);
	CHECK(strncmp(got, want_text, first) == 0);
	CHECK(strncmp(got + first, "small v=1 5\n", 12) == 0);
	CHECK_STR(got + first + 12, want_text + first);
	CHECK_INT((int)b.used, 0); /* both answered: their bodies are freed */

	/* A connection closed mid-parse frees its body and task. */
	reset(c);
	struct httpd_parse *p3 = fed(&b, "/write", body, blen, &in3);
	CHECK(hg_httpd_parse_step(p3, slice_handler, c));
	CHECK(b.used >= blen);
	hg_httpd_parse_free(p3);
	CHECK_INT((int)b.used, 0);

	hg_httpd_parse_free(p1);
	hg_httpd_parse_free(p2);
	free(in1);
	free(in2);
	free(in3);
	free(want_text);
	free(want_resp);
	reset(c);
}

static int suite_setup(void)
{
	static struct lw_opts o = { .max_body = 65536, .max_line = 100 };
	shared = (struct ctx){ .lw = hg_lw_new(&o), .acc = hg_acc_capture_new(), .api = LW_V1 };
	CHECK(shared.lw && shared.acc);
	return 0;
}

static void suite_teardown(void)
{
	hg_lw_free(shared.lw);
	hg_acc_capture_free(shared.acc);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_v1_basics),
		CHECK_CASE(test_partial),
		CHECK_CASE(test_gzip),
		CHECK_CASE(test_limits_and_tags),
		CHECK_CASE(test_sliced),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
