/* The HTTP server on its loop in the main thread, a client thread talking to
 * it with libcurl and raw sockets, then telling the loop to stop: the
 * addresses it listens on, keep-alive, limits and malformed requests over
 * real connections, pipelining, HTTP/1.0, idle timeouts, and "Expect:
 * 100-continue". The harness: httpd_harness.h; attacks are in
 * test_httpd_attacks.c. */
#include "check.h"
#include "httpd_harness.h"

struct body {
	char s[4096];
	size_t n;
};

static size_t collect(char *p, size_t sz, size_t nm, void *ud)
{
	struct body *b = ud;
	size_t n = sz * nm;
	size_t room = sizeof b->s - 1 - b->n;
	size_t c = n < room ? n : room;
	memcpy(b->s + b->n, p, c);
	b->n += c;
	b->s[b->n] = 0;
	return n;
}

/* One request on handle h (reused across calls for keep-alive). */
static long req(CURL *h, const char *path, const char *post, struct body *b)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	b->n = 0;
	b->s[0] = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	if (curl_easy_perform(h) != CURLE_OK)
		return -1;
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* Sends raw bytes and reads until the server closes (or 5 s pass). */
static int raw(const char *send_bytes, size_t len, char *out, size_t cap, double *secs)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	if (len && send(fd, send_bytes, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	size_t n = 0;
	int eof = 0;
	for (;;) {
		ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
		if (r == 0) {
			eof = 1;
			break;
		}
		if (r < 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	out[n] = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	close(fd);
	return eof;
}

static void *client(void *arg)
{
	(void)arg;
	CURL *h = curl_easy_init();
	struct body b;
	long conns = -1;

	CHECK_INT(req(h, "/health", NULL, &b), 200);
	CHECK_STR(b.s, "ok\n");
	char *ct = NULL;
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	CHECK_STR(ct, "text/plain; charset=utf-8");

	/* keep-alive: the second request reuses the connection */
	CHECK_INT(req(h, "/nope", NULL, &b), 404);
	CHECK_STR(b.s, "no such path\n");
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	CHECK_INT(conns, 0);

	CHECK_INT(req(h, "/echo", "hello body", &b), 200);
	CHECK_STR(b.s, "hello body");
	CHECK_INT(req(h, "/query?a=1&b=2", NULL, &b), 200);
	CHECK_STR(b.s, "[a=1&b=2]");
	CHECK_INT(req(h, "/big", NULL, &b), 500);

	/* body over max_body (100) */
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	CHECK_INT(req(h, "/echo", big, &b), 413);

	char out[8192];
	double secs = 0;
	/* malformed: 400 and the connection is closed */
	const char *bad = "GARBAGE\r\n\r\n";
	CHECK_INT(raw(bad, strlen(bad), out, sizeof out, NULL), 1);
	CHECK(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	CHECK(strstr(out, "Connection: close\r\n") != NULL);
	const char *bad2 = "GET /health HTTP/1.1\r\nHost x\r\n\r\n";
	CHECK_INT(raw(bad2, strlen(bad2), out, sizeof out, NULL), 1);
	CHECK(strncmp(out, "HTTP/1.1 400 ", 13) == 0);

	/* headers over max_header (1024) */
	char hdr[3000];
	int n = snprintf(hdr, sizeof hdr, "GET /health HTTP/1.1\r\nX-Long: %02000d\r\n\r\n", 0);
	CHECK_INT(raw(hdr, (size_t)n, out, sizeof out, NULL), 1);
	CHECK(strncmp(out, "HTTP/1.1 431 ", 13) == 0);

	/* the server still serves others */
	CURL *h2 = curl_easy_init();
	CHECK_INT(req(h2, "/health", NULL, &b), 200);
	curl_easy_cleanup(h2);

	/* pipelined: both answered in order, then closed as asked */
	const char *pipe2 = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
			    "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
			    "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	CHECK_INT(raw(pipe2, strlen(pipe2), out, sizeof out, NULL), 1);
	char *r1 = strstr(out, "HTTP/1.1 200 OK\r\n");
	char *r2 = r1 ? strstr(r1 + 1, "HTTP/1.1 200 OK\r\n") : NULL;
	char *r3 = r2 ? strstr(r2, "HTTP/1.1 404 Not Found\r\n") : NULL;
	CHECK(r1 == out && r2 && r3);
	/* the HEAD answer carries the length but no body */
	CHECK(r2 && strncmp(r2 - 3, "ok\n", 3) == 0);
	CHECK(r3 && strstr(r2, "Content-Length: 3\r\n") && r3 - strstr(r2, "\r\n\r\n") == 4);

	/* HTTP/1.0 without keep-alive is closed after one answer */
	const char *old = "GET /health HTTP/1.0\r\n\r\n";
	CHECK_INT(raw(old, strlen(old), out, sizeof out, &secs), 1);
	CHECK(strstr(out, "\r\n\r\nok\n") != NULL);
	CHECK(strstr(out, "Connection: close\r\n") != NULL);
	CHECK(secs < 0.25); /* closed by the answer, not the idle timer */

	/* an idle connection is closed by the server (idle timeout 300 ms) */
	CHECK_INT(raw("", 0, out, sizeof out, &secs), 1);
	CHECK(secs > 0.2 && secs < 3);
	/* so is one that sent half a request */
	CHECK_INT(raw("GET /hea", 8, out, sizeof out, &secs), 1);
	CHECK_INT(strlen(out), 0);

	curl_easy_cleanup(h);
	uv_async_send(&done);
	return NULL;
}

static void on_done(uv_async_t *a)
{
	hg_httpd_stop(srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void test_addresses(uv_loop_t *loop)
{
	char err[256];
	struct httpd *h;
	CHECK(hg_httpd_start(loop, "nonsense", NULL, handler, NULL, &h, err, sizeof err) < 0);
	CHECK(strstr(err, "nonsense") != NULL);
	CHECK(hg_httpd_start(loop, "127.0.0.1:99999", NULL, handler, NULL, &h, err, sizeof err) < 0);
	CHECK(hg_httpd_start(loop, "no.such.host:80", NULL, handler, NULL, &h, err, sizeof err) < 0);
	CHECK_INT(hg_httpd_start(loop, ":0", NULL, handler, NULL, &h, err, sizeof err), 0);
	CHECK(h && hg_httpd_port(h) > 0);
	hg_httpd_stop(h);
	CHECK_INT(hg_httpd_start(loop, "localhost:0", NULL, handler, NULL, &h, err, sizeof err), 0);
	CHECK(h && hg_httpd_port(h) > 0);
	/* the same port twice: the second bind fails with a message */
	struct httpd *h2;
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", hg_httpd_port(h));
	CHECK(hg_httpd_start(loop, addr, NULL, handler, NULL, &h2, err, sizeof err) < 0);
	CHECK(strstr(err, "address already in use") != NULL);
	hg_httpd_stop(h);
	if (hg_httpd_start(loop, "[::1]:0", NULL, handler, NULL, &h, err, sizeof err) == 0) {
		CHECK(hg_httpd_port(h) > 0);
		hg_httpd_stop(h);
	} else {
		fprintf(stderr, "note: no IPv6 loopback here (%s)\n", err);
	}
	uv_run(loop, UV_RUN_DEFAULT);
}

/* "Expect: 100-continue": the server says "100 Continue" once the head is
 * in, and the final answer after the body; a head refused (413 here) gets
 * its final answer instead, no 100. */
static void *expect_continue(void *arg)
{
	(void)arg;
	char out[4096];
	int fd = dial();
	put(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CHECK(read_until(fd, out, sizeof out, "\r\n\r\n"));
	CHECK_STR(out, "HTTP/1.1 100 Continue\r\n\r\n");
	put(fd, "hello");
	CHECK(read_until(fd, out, sizeof out, "\r\n\r\nhello"));
	CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	close(fd);
	fd = dial();
	put(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 500\r\n\r\n");
	CHECK_INT(closed_by_server(fd, out, sizeof out), 1);
	CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
	close(fd);
	uv_async_send(&done);
	return NULL;
}

static void test_start_addresses(void)
{
	test_addresses(&main_loop);
}

/* One server with small limits; the client thread's requests (client()). */
static void test_serve(void)
{
	char err[256];
	struct httpd_opts o = { .max_header = 1024, .max_body = 100, .max_response = 64 * 1024, .idle_timeout_ms = 300 };
	CHECK_INT(hg_httpd_start(&main_loop, "127.0.0.1:0", &o, handler, NULL, &srv, err, sizeof err), 0);
	port = hg_httpd_port(srv);
	CHECK(port > 0);
	uv_async_init(&main_loop, &done, on_done);
	pthread_t t;
	pthread_create(&t, NULL, client, NULL);
	uv_run(&main_loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
}

static void test_expect_continue(void)
{
	struct httpd_opts cont = { .max_body = 100 };
	run_attack(&main_loop, &cont, expect_continue);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_start_addresses),
		CHECK_CASE(test_serve),
		CHECK_CASE(test_expect_continue),
	};
	return CHECK_RUN_WITH(argc, argv, cases, httpd_setup, httpd_teardown);
}
