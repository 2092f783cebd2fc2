/* httpc against a real server (tests/servers/http_fault_server.py) on a
 * real uv loop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "check.h"
#include "fault_server.h"
#include "httpc.h"

static struct fault_server fs;
static uv_loop_t loop;
static struct httpc *hc;

struct result {
	bool done;
	long status;
	int curl_code;
	char error[CURL_ERROR_SIZE];
	char body[2048];
	size_t body_len;
	bool truncated;
	int64_t retry_after_ms;
	char content_type[64];
	size_t streamed, chunks;
	size_t abort_after; /* on_data returns false once this much arrived (0 = never) */
};

static void on_done(void *arg, const struct httpc_response *r)
{
	struct result *res = arg;
	res->done = true;
	res->status = r->status;
	res->curl_code = r->curl_code;
	snprintf(res->error, sizeof(res->error), "%s", r->error ? r->error : "(null)");
	res->body_len = r->body_len;
	snprintf(res->body, sizeof(res->body), "%s", r->body ? r->body : "(null)");
	res->truncated = r->body_truncated;
	res->retry_after_ms = r->retry_after_ms;
	snprintf(res->content_type, sizeof(res->content_type), "%s", r->content_type ? r->content_type : "");
}

static bool on_data(void *arg, const char *p, size_t n)
{
	struct result *res = arg;
	(void)p;
	res->streamed += n;
	res->chunks++;
	return !(res->abort_after && res->streamed >= res->abort_after);
}

static void wait_done(struct result *res, size_t n)
{
	for (;;) {
		size_t ndone = 0;
		for (size_t i = 0; i < n; i++)
			ndone += res[i].done;
		if (ndone == n)
			return;
		uv_run(&loop, UV_RUN_ONCE);
	}
}

static void run(const struct httpc_request *q, struct result *res)
{
	char err[256];
	memset(res, 0, sizeof(*res) - sizeof(res->abort_after));
	int rc = hg_httpc_send(hc, q, on_done, res, err, sizeof(err));
	CHECK_INT(rc, 0);
	if (rc == 0)
		wait_done(res, 1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_get(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/hello?x=1", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"body\": \"hello world\", \"content_type\": \"text/plain\"}]");
	const char *hdrs[] = { "X-Custom: yes", NULL };
	struct httpc_request q = { .method = "GET", .url = url, .headers = hdrs, .user_agent = "heliograph-test/1",
				   .username = "user", .password = "s3cret", .timeout_ms = 5000 };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.curl_code, CURLE_OK);
	CHECK_STR(res.error, "");
	CHECK_STR(res.body, "hello world");
	CHECK_INT(res.body_len, 11);
	CHECK(!res.truncated);
	CHECK_INT(res.retry_after_ms, -1);
	CHECK_STR(res.content_type, "text/plain");
	yajl_val reqs = fs_requests(&fs);
	CHECK_INT(fs_count(reqs), 1);
	yajl_val r = fs_at(reqs, 0);
	CHECK_STR(fs_get(r, "method"), "GET");
	CHECK_STR(fs_get(r, "path"), "/hello");
	CHECK_STR(fs_get(r, "query"), "x=1");
	CHECK_STR(fs_header(r, "user-agent"), "heliograph-test/1");
	CHECK_STR(fs_header(r, "x-custom"), "yes");
	CHECK_STR(fs_header(r, "authorization"), "Basic dXNlcjpzM2NyZXQ="); /* user:s3cret */
	CHECK(fs_header(r, "expect") == NULL);
	yajl_tree_free(reqs);
}

static void test_post_bearer(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/api", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 201, \"body\": \"{}\"}]");
	static const char body[] = "cpu usage=1 1\nmem used=2u 2\n";
	const char *hdrs[] = { "Content-Type: text/plain", NULL };
	struct httpc_request q = { .method = "POST", .url = url, .headers = hdrs, .body = body,
				   .body_len = sizeof(body) - 1, .bearer_token = "tok-123" };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.status, 201);
	CHECK_STR(res.content_type, "application/json");
	yajl_val reqs = fs_requests(&fs);
	yajl_val r = fs_at(reqs, 0);
	CHECK_STR(fs_get(r, "method"), "POST");
	CHECK_STR(fs_get(r, "body"), body);
	CHECK_STR(fs_header(r, "authorization"), "Bearer tok-123");
	CHECK_STR(fs_header(r, "content-type"), "text/plain");
	yajl_tree_free(reqs);

	/* Other methods keep their body. */
	fs_reset(&fs);
	q.method = "PUT";
	run(&q, &res);
	CHECK_INT(res.status, 204);
	reqs = fs_requests(&fs);
	CHECK_STR(fs_get(fs_at(reqs, 0), "method"), "PUT");
	CHECK_STR(fs_get(fs_at(reqs, 0), "body"), body);
	yajl_tree_free(reqs);
}

static void test_cap(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/big", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"body_size\": 100000}]");
	struct httpc_request q = { .url = url, .max_response = 1000 };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.curl_code, CURLE_OK);
	CHECK_INT(res.body_len, 1000);
	CHECK_INT(strlen(res.body), 1000);
	CHECK(res.truncated);
	CHECK(strncmp(res.body, "abcdefghijklmnopqrstuvwxyzabc", 29) == 0);
}

static void test_stream(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/stream", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"body_size\": 300000, \"chunk\": 16384}]");
	struct httpc_request q = { .url = url, .max_response = 10, .on_data = on_data };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.status, 200);
	CHECK_INT(res.curl_code, CURLE_OK);
	CHECK_INT(res.streamed, 300000);
	CHECK(res.chunks > 1);
	CHECK_INT(res.body_len, 0);
	CHECK(!res.truncated);

	/* The consumer can stop a transfer. */
	fs_script(&fs, "[{\"status\": 200, \"body_size\": 300000, \"chunk\": 16384}]");
	res.abort_after = 1;
	run(&q, &res);
	CHECK_INT(res.curl_code, CURLE_WRITE_ERROR);
	CHECK(res.streamed < 300000);
}

/* A request sent from inside a streamed body's on_data (a scrape whose metrics fill an output's
 * batch, whose write goes through the same client): curl forbids adding a handle from within
 * its callbacks, so the client adds it once the callback's action has ended, and it completes. */
struct nested {
	struct result outer, inner;
	const char *url;
	int send_rc;
	char err[256];
	bool sent;
};

static bool on_data_sends(void *arg, const char *p, size_t n)
{
	struct nested *t = arg;
	(void)p;
	t->outer.streamed += n;
	if (!t->sent) {
		t->sent = true;
		struct httpc_request q = { .url = t->url };
		t->send_rc = hg_httpc_send(hc, &q, on_done, &t->inner, t->err, sizeof t->err);
	}
	return true;
}

static void on_outer_done(void *arg, const struct httpc_response *r)
{
	on_done(&((struct nested *)arg)->outer, r);
}

static void test_send_from_callback(void)
{
	char url[128], url2[128];
	snprintf(url, sizeof(url), "%s/stream", fs.base);
	snprintf(url2, sizeof(url2), "%s/inner", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"body_size\": 300000, \"chunk\": 16384}, {\"status\": 204}]");
	static struct nested t;
	memset(&t, 0, sizeof t);
	t.url = url2;
	struct httpc_request q = { .url = url, .on_data = on_data_sends };
	char err[256];
	CHECK_INT(hg_httpc_send(hc, &q, on_outer_done, &t, err, sizeof err), 0);
	struct result *both[2] = { &t.outer, &t.inner };
	while (!both[0]->done || (t.sent && t.send_rc == 0 && !both[1]->done))
		uv_run(&loop, UV_RUN_ONCE);
	CHECK(t.sent);
	CHECK_INT(t.send_rc, 0);
	CHECK_INT(t.outer.status, 200);
	CHECK_INT(t.outer.streamed, 300000);
	CHECK_INT(t.inner.curl_code, CURLE_OK);
	CHECK_INT(t.inner.status, 204);
	CHECK_STR(t.inner.error, "");
}

static void test_timeout(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/slow", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"delay\": 2}]");
	struct httpc_request q = { .url = url, .timeout_ms = 300 };
	struct result res = { 0 };
	double t0 = now_s();
	run(&q, &res);
	double took = now_s() - t0;
	CHECK_INT(res.curl_code, CURLE_OPERATION_TIMEDOUT);
	CHECK_INT(res.status, 0);
	CHECK(res.error[0] != '\0');
	CHECK(took >= 0.25 && took < 1.5);
}

static void test_retry_after(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/ra", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 429, \"headers\": {\"Retry-After\": \"7\"}}]");
	struct httpc_request q = { .url = url };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.status, 429);
	CHECK_INT(res.retry_after_ms, 7000);

	/* HTTP-date form, 30 s ahead. */
	char date[64], json[256];
	time_t t = time(NULL) + 30;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(json, sizeof(json), "[{\"status\": 503, \"headers\": {\"Retry-After\": \"%s\"}}]", date);
	fs_script(&fs, json);
	run(&q, &res);
	CHECK_INT(res.status, 503);
	CHECK(res.retry_after_ms >= 28000 && res.retry_after_ms <= 30000);

	/* A date in the past means "now"; garbage means absent. */
	fs_script(&fs, "[{\"status\": 503, \"headers\": {\"Retry-After\": \"Wed, 21 Oct 2015 07:28:00 GMT\"}}]");
	run(&q, &res);
	CHECK_INT(res.retry_after_ms, 0);
	fs_script(&fs, "[{\"status\": 503, \"headers\": {\"Retry-After\": \"soon-ish\"}}]");
	run(&q, &res);
	CHECK_INT(res.retry_after_ms, -1);
}

static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s); /* nothing listens there now */
	return ntohs(a.sin_port);
}

static void test_refused(void)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", closed_port());
	struct httpc_request q = { .url = url, .timeout_ms = 2000 };
	struct result res = { 0 };
	run(&q, &res);
	CHECK_INT(res.curl_code, CURLE_COULDNT_CONNECT);
	CHECK_INT(res.status, 0);
	CHECK(res.error[0] != '\0');
	CHECK_STR(res.body, "");

	/* Connection dropped without a response. curl retries once by itself
	 * when that happens on a reused connection, hence two. */
	snprintf(url, sizeof(url), "%s/drop", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"close\": true}, {\"close\": true}]");
	run(&q, &res);
	CHECK(res.curl_code != CURLE_OK);
	CHECK_INT(res.status, 0);
}

static void test_concurrent(void)
{
	enum { N = 10 };
	char urls[N][128], json[2048];
	size_t off = (size_t)snprintf(json, sizeof(json), "[");
	for (int i = 0; i < N; i++) {
		snprintf(urls[i], sizeof(urls[i]), "%s/c%d", fs.base, i);
		off += (size_t)snprintf(json + off, sizeof(json) - off,
					"%s{\"path\": \"/c%d\", \"status\": 200, \"body\": \"reply %d\", \"delay\": 0.4}",
					i ? "," : "", i, i);
	}
	snprintf(json + off, sizeof(json) - off, "]");
	fs_reset(&fs);
	fs_script(&fs, json);
	struct result res[N];
	memset(res, 0, sizeof(res));
	char err[256];
	double t0 = now_s();
	for (int i = 0; i < N; i++) {
		struct httpc_request q = { .url = urls[i], .timeout_ms = 5000 };
		CHECK_INT(hg_httpc_send(hc, &q, on_done, &res[i], err, sizeof(err)), 0);
	}
	CHECK_INT(hg_httpc_active(hc), N);
	wait_done(res, N);
	double took = now_s() - t0;
	CHECK_INT(hg_httpc_active(hc), 0);
	for (int i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof(want), "reply %d", i);
		CHECK_INT(res[i].status, 200);
		CHECK_STR(res[i].body, want);
	}
	/* Serially this would take 4 s. */
	CHECK(took < 2.0);
	yajl_val reqs = fs_requests(&fs);
	CHECK_INT(fs_count(reqs), N);
	yajl_tree_free(reqs);
}

static void test_free_pending(void)
{
	uv_loop_t l2;
	uv_loop_init(&l2);
	struct httpc *c2 = hg_httpc_new(&l2);
	CHECK(c2 != NULL);
	char url[128], err[256];
	snprintf(url, sizeof(url), "%s/pending", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"delay\": 1}]");
	struct httpc_request q = { .url = url };
	struct result res = { 0 };
	CHECK_INT(hg_httpc_send(c2, &q, on_done, &res, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++)
		uv_run(&l2, UV_RUN_NOWAIT);
	hg_httpc_free(c2);
	CHECK(res.done);
	CHECK_INT(res.curl_code, CURLE_ABORTED_BY_CALLBACK);
	uv_run(&l2, UV_RUN_DEFAULT); /* lets the handles close */
	CHECK_INT(uv_loop_close(&l2), 0);
}

static int suite_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (fs_start(&fs) != 0) {
		fprintf(stderr, "cannot start the fault server\n");
		return 1;
	}
	uv_loop_init(&loop);
	hc = hg_httpc_new(&loop);
	CHECK(hc != NULL);
	return 0;
}

static void suite_teardown(void)
{
	hg_httpc_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), 0);
	fs_stop(&fs);
	curl_global_cleanup();
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_get),
		CHECK_CASE(test_post_bearer),
		CHECK_CASE(test_cap),
		CHECK_CASE(test_stream),
		CHECK_CASE(test_send_from_callback),
		CHECK_CASE(test_timeout),
		CHECK_CASE(test_retry_after),
		CHECK_CASE(test_refused),
		CHECK_CASE(test_concurrent),
		CHECK_CASE(test_free_pending),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
