/* prometheus_remote_write against the fault server: the request (headers,
 * snappy framing, the decoded WriteRequest with exact names, sorted labels,
 * values and millisecond timestamps), name sanitizing, and how each answer
 * maps to a write_result. */
#include <snappy-c.h>

#include "check.h"
#include "fault_server.h"
#include "output_check.h"
#include "prompb.pb-c.h"
#include "prw_encode.h"

#define TOKEN "rw-Token-5150"

static Prompb__WriteRequest *decode(yajl_val r)
{
	size_t n, plain_len = 0;
	unsigned char *b = body_bytes(r, &n);
	CHECK(b != NULL);
	if (!b)
		return NULL;
	CHECK(snappy_uncompressed_length((char *)b, n, &plain_len) == SNAPPY_OK);
	char *plain = malloc(plain_len + 1);
	Prompb__WriteRequest *w = NULL;
	if (snappy_uncompress((char *)b, n, plain, &plain_len) == SNAPPY_OK)
		w = prompb__write_request__unpack(NULL, plain_len, (uint8_t *)plain);
	CHECK(w != NULL);
	free(plain);
	free(b);
	return w;
}

/* "name=value,name=value" of a series' labels, in order. */
static const char *labels_of(const Prompb__TimeSeries *ts)
{
	static char buf[1024];
	buf[0] = '\0';
	for (size_t i = 0; i < ts->n_labels; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s=%s", i ? "," : "", ts->labels[i]->name,
			 ts->labels[i]->value);
	return buf;
}

static void check_sample(const Prompb__TimeSeries *ts, double v, int64_t ms)
{
	CHECK_INT(ts->n_samples, 1);
	if (ts->n_samples != 1)
		return;
	CHECK(ts->samples[0]->value == v);
	CHECK_INT(ts->samples[0]->timestamp, ms);
}

static void test_sanitize(void)
{
	char out[64];
	CHECK_INT(hg_prw_sanitize("cpu_usage_idle", 14, true, out), 14);
	CHECK_STR(out, "cpu_usage_idle");
	CHECK_INT(hg_prw_sanitize("a:b", 3, true, out), 3);
	CHECK_STR(out, "a:b");
	CHECK_INT(hg_prw_sanitize("a:b", 3, false, out), 3);
	CHECK_STR(out, "a_b");
	CHECK_INT(hg_prw_sanitize("__x__", 5, false, out), 5); /* valid: left alone, not trimmed */
	CHECK_STR(out, "__x__");
	CHECK(hg_prw_sanitize("cpu.usage-idle", 14, true, out) > 0);
	CHECK_STR(out, "cpu_usage_idle");
	CHECK(hg_prw_sanitize("1abc", 4, true, out) > 0); /* a bad first character is dropped */
	CHECK_STR(out, "abc");
	CHECK_INT(hg_prw_sanitize("-1abc", 5, true, out), 0); /* would start with a digit */
	CHECK(hg_prw_sanitize("h\xc3\xa9llo w\xc3\xb6rld!", 15, true, out) > 0); /* one '_' per character */
	CHECK_STR(out, "h_llo_w_rld");
	CHECK_INT(hg_prw_sanitize("...", 3, true, out), 0);
	CHECK_INT(hg_prw_sanitize("", 0, true, out), 0);
}

static const char batch[] =
	"cpu,cpu=cpu0,host=a usage_idle=99.5,usage_user=0.25 1700000000123456789\n"
	"mem,host=a used=123i,free=42u,active=true,desc=\"text\" 1700000000000000000\n"
	"prometheus,job=node go_goroutines=7 1700000001000000000\n"
	"weird\\ name,Zone=eu,a-b=1,a_b=2,__name__=x,\\ =y v=-1.5e-3 1700000002999999999\n"
	"disk,path=/ free=18446744073709551615u,neg=-9223372036854775808i 1700000000000000000\n"
	"old v=1 -1500000\n";

static void test_request(void)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n"
		 "  - prometheus_remote_write:\n"
		 "      url: \"%s/api/v1/write\"\n"
		 "      bearer_token: " TOKEN "\n"
		 "      headers: {X-Scope-OrgID: team-a}\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	CHECK_INT(o.p->uint_support(o.state), 1);
	fs_reset(&fs);
	struct write_result r = write_batch(&o, batch, 6);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 0);
	yajl_val t = fs_requests(&fs), q = fs_at(t, 0);
	CHECK_INT(fs_count(t), 1);
	CHECK_STR(fs_get(q, "method"), "POST");
	CHECK_STR(fs_get(q, "path"), "/api/v1/write");
	CHECK_STR(fs_header(q, "content-type"), "application/x-protobuf");
	CHECK_STR(fs_header(q, "content-encoding"), "snappy");
	CHECK_STR(fs_header(q, "x-prometheus-remote-write-version"), "0.1.0");
	CHECK_STR(fs_header(q, "user-agent"), "heliograph/" HG_VERSION);
	CHECK_STR(fs_header(q, "authorization"), "Bearer " TOKEN);
	CHECK_STR(fs_header(q, "x-scope-orgid"), "team-a");
	Prompb__WriteRequest *w = decode(q);
	CHECK(w && w->n_timeseries == 10);
	if (w && w->n_timeseries == 10) {
		Prompb__TimeSeries **s = w->timeseries;
		/* Ordered by sample time, not line order (stable: equal times keep
		 * line order), so no series' samples go out newest first. */
		CHECK_STR(labels_of(s[0]), "__name__=old_v");
		check_sample(s[0], 1, -2); /* milliseconds round down, also before 1970 */
		CHECK_STR(labels_of(s[1]), "__name__=mem_used,host=a");
		check_sample(s[1], 123, 1700000000000);
		CHECK_STR(labels_of(s[2]), "__name__=mem_free,host=a");
		check_sample(s[2], 42, 1700000000000);
		CHECK_STR(labels_of(s[3]), "__name__=mem_active,host=a"); /* desc (a string) is skipped */
		check_sample(s[3], 1, 1700000000000);
		CHECK_STR(labels_of(s[4]), "__name__=disk_free,path=/");
		check_sample(s[4], 18446744073709551615.0, 1700000000000);
		CHECK_STR(labels_of(s[5]), "__name__=disk_neg,path=/");
		check_sample(s[5], -9223372036854775808.0, 1700000000000);
		CHECK_STR(labels_of(s[6]), "__name__=cpu_usage_idle,cpu=cpu0,host=a");
		check_sample(s[6], 99.5, 1700000000123);
		CHECK_STR(labels_of(s[7]), "__name__=cpu_usage_user,cpu=cpu0,host=a");
		check_sample(s[7], 0.25, 1700000000123);
		CHECK_STR(labels_of(s[8]), "__name__=go_goroutines,job=node"); /* measurement "prometheus" */
		check_sample(s[8], 7, 1700000001000);
		/* Upper case sorts before "__name__"; a-b and a_b collide: the first wins;
		 * a tag called __name__ and one with no valid name are dropped. */
		CHECK_STR(labels_of(s[9]), "Zone=eu,__name__=weird_name_v,a_b=1");
		check_sample(s[9], -1.5e-3, 1700000002999);
	}
	prompb__write_request__free_unpacked(w, NULL);
	yajl_tree_free(t);
	out_close(&o);
}

static void test_statuses(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - prometheus_remote_write:\n      url: \"%s/push\"\n      username: u\n"
		 "      password: " TOKEN "\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200},"
		       " {\"status\": 500, \"body\": \"storage full\"},"
		       " {\"status\": 503, \"headers\": {\"Retry-After\": \"3\"}},"
		       " {\"status\": 429, \"headers\": {\"Retry-After\": \"7\"}, \"body\": \"too many requests\"},"
		       " {\"status\": 400, \"body\": \"out of order sample\"},"
		       " {\"status\": 404, \"body\": \"404 page not found\"},"
		       " {\"status\": 413},"
		       " {\"status\": 401, \"body\": \"bad credentials for u/" TOKEN "\"},"
		       " {\"close\": true}, {\"close\": true}]");
	const char *one = "m v=1 1700000000000000000\n";
	struct write_result r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_OK);
	yajl_val t = fs_requests(&fs);
	CHECK_STR(fs_header(fs_at(t, 0), "authorization"), "Basic dTpydy1Ub2tlbi01MTUw"); /* u:rw-Token-5150 */
	yajl_tree_free(t);
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 0);
	CHECK(strstr(r.message, "HTTP 500") && strstr(r.message, "storage full") && strstr(r.message, "/push"));
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 3000);
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 7000);
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_DROP);
	CHECK(strstr(r.message, "HTTP 400") && strstr(r.message, "out of order sample"));
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_DROP);
	CHECK(strstr(r.message, "HTTP 404"));
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_TOO_LARGE);
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(strstr(r.message, "authentication failed") && !strstr(r.message, TOKEN));
	r = write_batch(&o, one, 1);
	/* Connection dropped without an answer (twice: curl retries once on a
	 * fresh connection when a reused one dies). */
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(request_count() >= 9);

	/* Nothing numeric: nothing to send, and that is a success. */
	fs_reset(&fs);
	r = write_batch(&o, "log msg=\"hello\" 1700000000000000000\n", 1);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 0);
	CHECK_INT(request_count(), 0);
	/* A malformed line is counted as dropped; the rest is written. */
	r = write_batch(&o, "m v=1 1700000000000000000\nthis is not line protocol\nm v=2 1700000001000000000\n", 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 1);
	t = fs_requests(&fs);
	CHECK_INT(fs_count(t), 1);
	Prompb__WriteRequest *w = decode(fs_at(t, 0));
	CHECK(w && w->n_timeseries == 2);
	if (w && w->n_timeseries == 2)
		check_sample(w->timeseries[1], 2, 1700000001000);
	prompb__write_request__free_unpacked(w, NULL);
	yajl_tree_free(t);
	out_close(&o);
}

/* A big batch through the reused buffers, then the plugin freed while a
 * slow write is in flight: no callback, no leak (ASan), the loop drains. */
static void test_big_and_free_pending(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - prometheus_remote_write:\n      url: \"%s/w\"\n", fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	size_t n = 5000, len = 0;
	char *big = malloc(n * 96);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "net,host=a,interface=eth%zu bytes_recv=%zui,drop_in=%zui %zu000000\n",
				       i % 7, i * 1000, i, 1700000000000 + i);
	fs_reset(&fs);
	struct write_result r = write_batch(&o, big, n);
	CHECK_INT(r.status, WRITE_OK);
	yajl_val t = fs_requests(&fs);
	Prompb__WriteRequest *w = decode(fs_at(t, 0));
	CHECK(w && w->n_timeseries == 2 * n);
	if (w && w->n_timeseries == 2 * n) {
		CHECK_STR(labels_of(w->timeseries[2 * 4999 + 1]), "__name__=net_drop_in,host=a,interface=eth1");
		check_sample(w->timeseries[2 * 4999 + 1], 4999, 1700000004999);
	}
	const char *path[] = { "raw_len", NULL };
	yajl_val raw = yajl_tree_get(fs_at(t, 0), path, yajl_t_number);
	CHECK(raw && (size_t)YAJL_GET_INTEGER(raw) < len / 2); /* snappy did compress */
	prompb__write_request__free_unpacked(w, NULL);
	yajl_tree_free(t);

	fs_script(&fs, "[{\"status\": 204, \"delay\": 0.5}]");
	struct batch b = { .data = big, .len = len, .cap = len, .nmetrics = n };
	struct wres wr = { 0 };
	o.p->write(o.state, &b, on_written, &wr);
	struct wres second = { 0 };
	o.p->write(o.state, &b, on_written, &second); /* one write at a time */
	CHECK(second.done && second.r.status == WRITE_RETRY);
	out_close(&o);
	while (hg_httpc_active(hc) > 0)
		uv_run(&loop, UV_RUN_ONCE);
	CHECK(!wr.done);
	free(big);
}

static void test_bad_config(void)
{
	struct out o;
	char err[512], yaml[512];
	CHECK_INT(out_open_err(&o, "outputs:\n  - prometheus_remote_write: {}\n", err, sizeof(err)), -1);
	CHECK(strstr(err, "url") != NULL);
	CHECK_INT(out_open_err(&o, "outputs:\n  - prometheus_remote_write: {url: \"ftp://x\"}\n", err, sizeof(err)),
		  -1);
	CHECK(strstr(err, "http://") != NULL);
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - prometheus_remote_write:\n      url: \"%s\"\n      username: a\n      bearer_token: b\n",
		 fs.base);
	CHECK_INT(out_open_err(&o, yaml, err, sizeof(err)), -1);
	CHECK(strstr(err, "not both") != NULL);
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - prometheus_remote_write:\n      url: \"%s\"\n      headers: {content-encoding: gzip}\n",
		 fs.base);
	CHECK_INT(out_open_err(&o, yaml, err, sizeof(err)), -1);
	CHECK(strstr(err, "content-encoding") != NULL);
}

static void suite_teardown(void)
{
	CHECK(strstr(all_messages, TOKEN) == NULL);
	out_check_stop();
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_sanitize),
		CHECK_CASE(test_request),
		CHECK_CASE(test_statuses),
		CHECK_CASE(test_big_and_free_pending),
		CHECK_CASE(test_bad_config),
	};
	return CHECK_RUN_WITH(argc, argv, cases, out_check_start, suite_teardown);
}
