/* The harness of the HTTP server tests (test_httpd_*.c): the handler every
 * server and parser here answers with, a parser fed whole or byte by byte,
 * and for the tests that run a server: its loop (in the main thread, started
 * by httpd_setup), a client thread's sockets (dial, put, read until a text or
 * the server's close), the server's counters read through the loop (query,
 * await_stats: the client synchronises on the server's state, not on
 * sleeps), and run_attack, one server bounded by its options against one
 * client thread. Test-only; every definition is static. Include after check.h. */
#ifndef HG_HTTPD_HARNESS_H
#define HG_HTTPD_HARNESS_H
#define HD_FN static __attribute__((unused))

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "httpd.h"

HD_FN int port;
HD_FN uv_async_t done;
HD_FN struct httpd *srv;

HD_FN void handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)ud;
	if (req->body_error) {
		hg_httpd_resp_status(resp, req->body_error);
		return;
	}
	if (sv_eq_c(req->path, "/health")) {
		hg_httpd_resp_append(resp, "ok\n", 3);
	} else if (sv_eq_c(req->path, "/echo") && strcmp(req->method, "POST") == 0) {
		hg_httpd_resp_type(resp, "application/octet-stream");
		hg_httpd_resp_append(resp, req->body.p, req->body.len);
	} else if (sv_eq_c(req->path, "/query")) {
		hg_httpd_resp_printf(resp, "[%.*s]", (int)req->query.len, req->query.p);
	} else if (sv_eq_c(req->path, "/big")) {
		static char kb[1024];
		for (int i = 0; i < 100; i++)
			hg_httpd_resp_append(resp, kb, sizeof kb);
	} else {
		hg_httpd_resp_status(resp, 404);
		hg_httpd_resp_printf(resp, "no such path\n");
	}
}

/* Feeds in whole (or one byte at a time) until the parser has a verdict. */
HD_FN int feed_all(struct httpd_parse *p, const char *in, size_t len, bool bytewise)
{
	size_t off = 0, used;
	int r = HTTPD_PARSE_MORE;
	while (off < len && r == HTTPD_PARSE_MORE) {
		r = hg_httpd_parse_feed(p, in + off, bytewise ? 1 : len - off, &used);
		off += used;
	}
	return r;
}

/* --- availability under attack (issue 16) ---
 * The client thread asks the loop for hg_httpd_get_stats through q_async and
 * waits for the answer, so it synchronises on the server's state, not on
 * sleeps. */
HD_FN uv_async_t q_async;
HD_FN pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
HD_FN pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
HD_FN struct httpd_stats q_st;
HD_FN unsigned q_gen;

HD_FN void on_query(uv_async_t *a)
{
	(void)a;
	pthread_mutex_lock(&q_mu);
	hg_httpd_get_stats(srv, &q_st);
	q_gen++;
	pthread_cond_broadcast(&q_cv);
	pthread_mutex_unlock(&q_mu);
}

HD_FN void query(struct httpd_stats *out)
{
	pthread_mutex_lock(&q_mu);
	unsigned g = q_gen;
	uv_async_send(&q_async);
	while (q_gen == g)
		pthread_cond_wait(&q_cv, &q_mu);
	*out = q_st;
	pthread_mutex_unlock(&q_mu);
}

HD_FN double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Asks until pred holds, for at most 5 s; the last answer in *st. */
HD_FN bool await_stats(struct httpd_stats *st, bool (*pred)(const struct httpd_stats *))
{
	double end = mono() + 5;
	do {
		query(st);
		if (pred(st))
			return true;
		sched_yield();
	} while (mono() < end);
	return false;
}

HD_FN int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

HD_FN void put(int fd, const char *s)
{
	CHECK(send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s));
}

/* Reads until the text holds want (true) or the peer closes or 5 s pass. */
HD_FN bool read_until(int fd, char *out, size_t cap, const char *want)
{
	size_t n = 0;
	out[0] = 0;
	while (n < cap - 1) {
		ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = 0;
		if (want && strstr(out, want))
			return true;
	}
	return false;
}

/* 1 when the server closed fd (EOF or reset, within 5 s), after reading
 * what it sent into out. */
HD_FN int closed_by_server(int fd, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (;;) {
		ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r < 0)
			return 0;
		n += (size_t)r;
		out[n] = 0;
		if (n == cap - 1)
			return 0;
	}
}

HD_FN bool still_open(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

HD_FN void on_done_attack(uv_async_t *a)
{
	hg_httpd_stop(srv);
	uv_close((uv_handle_t *)a, NULL);
	uv_close((uv_handle_t *)&q_async, NULL);
}

HD_FN void run_attack(uv_loop_t *loop, const struct httpd_opts *o, void *(*fn)(void *))
{
	char err[256];
	CHECK_INT(hg_httpd_start(loop, "127.0.0.1:0", o, handler, NULL, &srv, err, sizeof err), 0);
	port = hg_httpd_port(srv);
	uv_async_init(loop, &done, on_done_attack);
	uv_async_init(loop, &q_async, on_query);
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
}

HD_FN uv_loop_t main_loop; /* the server's, in the main thread */

/* The server tests (CHECK_RUN_WITH): libcurl and the loop, once. */
HD_FN int httpd_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&main_loop);
	return 0;
}

HD_FN void httpd_teardown(void)
{
	CHECK_INT(uv_loop_close(&main_loop), 0);
	curl_global_cleanup();
}

#endif
