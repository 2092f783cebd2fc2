/* The influxdb and influxdb_v2 outputs against the scriptable fault server:
 * what they send, and how each answer maps to a write_result. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "check.h"
#include "config.h"
#include "config_values.h"
#include "fault_server.h"
#include "httpc.h"
#include "influx_http.h"
#include "plugin.h"

#define PASSWORD "hunter2-Secret"
#define TOKEN "tok-XYZ-987"

static struct fault_server fs;
static uv_loop_t loop;
static struct httpc *hc;

/* Every message any write produced, to check no secret ever leaks. */
static char all_messages[16384];

struct out {
	struct agent_config cfg;
	const struct output_plugin *p;
	void *state;
};

struct wres {
	bool done;
	struct write_result r;
};

static void on_written(void *arg, const struct write_result *r)
{
	struct wres *w = arg;
	w->done = true;
	w->r = *r;
	strncat(all_messages, r->message, sizeof(all_messages) - strlen(all_messages) - 2);
	strcat(all_messages, "\n");
}

static int out_open(struct out *o, const char *yaml)
{
	char err[512];
	if (hg_config_load_buffer(&o->cfg, "test.yaml", yaml, strlen(yaml), err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	if (o->cfg.noutputs != 1)
		return -1;
	o->p = o->cfg.outputs[0].plugin;
	struct plugin_env env = { .loop = &loop, .http = hc, .agent = &o->cfg, .instance_name = o->p->name };
	if (o->p->init(&o->state, o->cfg.outputs[0].config, &env, err, sizeof(err)) != 0) {
		fprintf(stderr, "init: %s\n", err);
		hg_config_free(&o->cfg);
		return -1;
	}
	return 0;
}

static void out_close(struct out *o)
{
	o->p->free(o->state);
	hg_config_free(&o->cfg);
}

static void settle(void)
{
	while (hg_httpc_active(hc) > 0)
		uv_run(&loop, UV_RUN_ONCE);
}

static struct write_result write_batch(struct out *o, const char *lines, size_t nmetrics)
{
	struct batch b = { .data = (char *)lines, .len = strlen(lines), .cap = strlen(lines), .nmetrics = nmetrics };
	struct wres w = { 0 };
	o->p->write(o->state, &b, on_written, &w);
	while (!w.done)
		uv_run(&loop, UV_RUN_ONCE);
	settle(); /* e.g. a CREATE DATABASE the write triggered */
	return w.r;
}

/* The last recorded request whose path is path (caller frees *tree). */
static yajl_val last_to(const char *path, yajl_val *tree)
{
	*tree = fs_requests(&fs);
	yajl_val found = NULL;
	for (size_t i = 0; i < fs_count(*tree); i++)
		if (strcmp(fs_get(fs_at(*tree, i), "path"), path) == 0)
			found = fs_at(*tree, i);
	return found;
}

static size_t count_to(const char *path)
{
	yajl_val t = fs_requests(&fs);
	size_t n = 0;
	for (size_t i = 0; i < fs_count(t); i++)
		n += strcmp(fs_get(fs_at(t, i), "path"), path) == 0;
	yajl_tree_free(t);
	return n;
}

static const char batch3[] = "cpu,host=a usage_idle=99.5 1700000000000000000\n"
			     "mem,host=a used=123i 1700000000000000000\n"
			     "disk,host=a,path=/ free=42u 1700000000000000000\n";

static void test_v1_request(void)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n"
		 "  - influxdb:\n"
		 "      urls: [\"%s/\"]\n"
		 "      database: my db\n"
		 "      retention_policy: rp1\n"
		 "      write_consistency: one\n"
		 "      username: alice\n"
		 "      password: " PASSWORD "\n"
		 "      skip_database_creation: true\n"
		 "      http_headers: {X-Env: test, X-Team: infra}\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	CHECK_INT(o.p->uint_support(o.state), 0);
	fs_reset(&fs);
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 0);
	yajl_val t, q = last_to("/write", &t);
	CHECK(q != NULL);
	CHECK_STR(fs_get(q, "method"), "POST");
	CHECK_STR(fs_param(q, "db"), "my db");
	CHECK_STR(fs_param(q, "rp"), "rp1");
	CHECK_STR(fs_param(q, "consistency"), "one");
	CHECK_STR(fs_param(q, "precision"), "n");
	CHECK_STR(fs_header(q, "content-encoding"), "gzip");
	CHECK_STR(fs_header(q, "content-type"), "text/plain; charset=utf-8");
	CHECK_STR(fs_get(q, "body"), batch3);
	CHECK_STR(fs_header(q, "user-agent"), "heliograph/" HG_VERSION);
	CHECK_STR(fs_header(q, "authorization"), "Basic YWxpY2U6aHVudGVyMi1TZWNyZXQ="); /* alice:hunter2-Secret */
	CHECK_STR(fs_header(q, "x-env"), "test");
	CHECK_STR(fs_header(q, "x-team"), "infra");
	yajl_tree_free(t);
	/* skip_database_creation: no /query at all. */
	CHECK_INT(count_to("/query"), 0);

	/* A bigger batch through the same (reused) gzip buffer. */
	size_t n = 3000, len = 0;
	char *big = malloc(n * 64);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "net,host=a,iface=eth%zu bytes_recv=%zui %zu\n", i % 7, i * 1000, i);
	fs_reset(&fs);
	r = write_batch(&o, big, n);
	CHECK_INT(r.status, WRITE_OK);
	q = last_to("/write", &t);
	CHECK_STR(fs_get(q, "body"), big);
	const char *path[] = { "raw_len", NULL };
	yajl_val raw = yajl_tree_get(q, path, yajl_t_number);
	CHECK(raw && YAJL_GET_INTEGER(raw) > 0 && (size_t)YAJL_GET_INTEGER(raw) < len / 4);
	yajl_tree_free(t);
	free(big);
	out_close(&o);
}

static void test_v1_statuses(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - influxdb:\n      urls: [\"%s\"]\n      username: bob\n      password: " PASSWORD
		 "\n      skip_database_creation: true\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 200, \"body\": \"\"},"
		       " {\"status\": 500, \"body\": \"{\\\"error\\\":\\\"engine: cache maximum memory size exceeded\\\"}\"},"
		       " {\"status\": 429, \"headers\": {\"Retry-After\": \"7\"}, \"body\": \"{\\\"error\\\":\\\"slow down\\\"}\"},"
		       " {\"status\": 413, \"body\": \"{\\\"error\\\":\\\"Request Entity Too Large\\\"}\"},"
		       " {\"status\": 400, \"body\": \"{\\\"error\\\":\\\"partial write: unable to parse 'bad line': invalid field format dropped=2\\\"}\"},"
		       " {\"status\": 400, \"body\": \"{\\\"error\\\":\\\"partial write: points beyond retention policy dropped=1 for database: telegraf\\\"}\"},"
		       " {\"status\": 400, \"body\": \"{\\\"error\\\":\\\"partial write: unable to parse 'a b': invalid field format\\\\nunable to parse 'c d': invalid field format dropped=0\\\"}\"},"
		       " {\"status\": 400, \"body\": \"{\\\"error\\\":\\\"unable to parse 'x': missing fields\\\"}\"},"
		       " {\"status\": 401, \"body\": \"{\\\"error\\\":\\\"authorization failed for bob/" PASSWORD "\\\"}\"},"
		       " {\"status\": 403, \"body\": \"{\\\"error\\\":\\\"forbidden\\\"}\"}"
		       "]");
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 0);
	CHECK(strstr(r.message, "HTTP 500") && strstr(r.message, "cache maximum memory size exceeded"));

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 7000);
	CHECK(strstr(r.message, "429") != NULL);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_TOO_LARGE);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 2);
	CHECK(strstr(r.message, "invalid field format") != NULL);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 1);

	/* As InfluxDB 1.6 answers unparsable lines: dropped=0, each line listed. */
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 2);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_DROP);
	CHECK(strstr(r.message, "missing fields") != NULL);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(strstr(r.message, "authentication failed") != NULL);
	CHECK(strstr(r.message, "check username/password or token") != NULL);
	CHECK(strstr(r.message, "bob/***") != NULL); /* the server echoed it; we don't */

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(strstr(r.message, "authentication failed (HTTP 403)") != NULL);

	/* Nothing scripted left: the server's default 204. */
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(count_to("/write"), 11);
	out_close(&o);
}

static void test_v1_create_database(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - influxdb:\n      urls: [\"%s\"]\n      database: 'we\"ird'\n      content_encoding: identity\n",
		 fs.base);
	fs_reset(&fs);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	settle();
	/* At init, asynchronously. */
	yajl_val t, q = last_to("/query", &t);
	CHECK(q != NULL);
	CHECK_STR(fs_get(q, "method"), "POST");
	CHECK_STR(fs_get(q, "body"), "q=CREATE%20DATABASE%20%22we%5C%22ird%22"); /* CREATE DATABASE "we\"ird" */
	CHECK_STR(fs_header(q, "content-type"), "application/x-www-form-urlencoded");
	yajl_tree_free(t);

	/* The database vanished: CREATE DATABASE, then the same batch again at once, within the
	 * same write: the runner sees it written, so it has no backoff to wait out. */
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\": \"/write\", \"status\": 404, \"body\": \"{\\\"error\\\":\\\"database not found: \\\\\\\"we\\\\\\\"ird\\\\\\\"\\\"}\"},"
		       " {\"path\": \"/query\", \"status\": 200, \"body\": \"{\\\"results\\\":[{\\\"statement_id\\\":0}]}\"}]");
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(count_to("/query"), 1);
	CHECK_INT(count_to("/write"), 2);
	t = fs_requests(&fs);
	CHECK_INT(fs_count(t), 3);
	if (fs_count(t) == 3) { /* in this order: the second write after CREATE's answer */
		CHECK_STR(fs_get(fs_at(t, 0), "path"), "/write");
		CHECK_STR(fs_get(fs_at(t, 1), "path"), "/query");
		CHECK_STR(fs_get(fs_at(t, 2), "path"), "/write");
		CHECK_STR(fs_get(fs_at(t, 2), "body"), batch3);
	}
	yajl_tree_free(t);
	q = last_to("/write", &t);
	CHECK(fs_header(q, "content-encoding") == NULL); /* identity */
	CHECK_STR(fs_get(q, "body"), batch3);
	CHECK_STR(fs_param(q, "db"), "we\"ird");
	CHECK(fs_param(q, "rp") == NULL);
	yajl_tree_free(t);

	/* CREATE DATABASE did not help (the write still answers 404): one resend only, then the
	 * runner gets a retry to make within the flush interval, not the exponential backoff. */
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\": \"/write\", \"status\": 404, \"body\": \"{\\\"error\\\":\\\"database not found: x\\\"}\"},"
		       " {\"path\": \"/query\", \"status\": 200, \"body\": \"{\\\"results\\\":[{}]}\"},"
		       " {\"path\": \"/write\", \"status\": 404, \"body\": \"{\\\"error\\\":\\\"database not found: x\\\"}\"}]");
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(r.retry_at_flush);
	CHECK_INT(r.retry_after_ms, 0);
	CHECK(strstr(r.message, "still not found after CREATE DATABASE") != NULL);
	CHECK_INT(count_to("/write"), 2);
	CHECK_INT(count_to("/query"), 1);
	/* The next write of the runner is again allowed one CREATE and resend. */
	fs_reset(&fs);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	out_close(&o);
}

static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static void test_v1_failover(void)
{
	char yaml[512];
	int dead = closed_port();
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n  - influxdb:\n      urls: [\"http://u:" PASSWORD "@127.0.0.1:%d\", \"%s\"]\n"
		 "      skip_database_creation: true\n      timeout: 2s\n",
		 dead, fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	char want[64];
	snprintf(want, sizeof(want), "http://127.0.0.1:%d", dead);
	CHECK(strstr(r.message, want) != NULL); /* named, without its userinfo */
	CHECK_INT(count_to("/write"), 0);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(count_to("/write"), 1);
	/* It stays on the URL that works. */
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(count_to("/write"), 2);
	/* A 5xx moves on too (back to the dead one, which fails over again). */
	fs_script(&fs, "[{\"status\": 503}]");
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(strstr(r.message, want) != NULL);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	out_close(&o);
}

static void test_v1_free_while_pending(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - influxdb:\n      urls: [\"%s\"]\n", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\": \"/write\", \"status\": 204, \"delay\": 0.3}]");
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0); /* a CREATE DATABASE is in flight */
	struct batch b = { .data = (char *)batch3, .len = strlen(batch3), .nmetrics = 3 };
	struct wres w = { 0 };
	/* Freed while the write waits for CREATE DATABASE. */
	o.p->write(o.state, &b, on_written, &w);
	CHECK_INT(hg_httpc_active(hc), 1);
	out_close(&o);
	settle(); /* ASan would catch a callback touching freed state */
	CHECK(!w.done);
	/* Freed while the write is in flight. */
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\": \"/write\", \"status\": 204, \"delay\": 0.3}]");
	CHECK_INT(out_open(&o, yaml), 0);
	settle(); /* CREATE DATABASE answered */
	memset(&w, 0, sizeof w);
	o.p->write(o.state, &b, on_written, &w);
	CHECK_INT(hg_httpc_active(hc), 1);
	out_close(&o);
	settle();
	CHECK(!w.done);
}

/* A write made while CREATE DATABASE is in flight is sent after its answer, not beside it:
 * InfluxDB could otherwise take the write first and answer "database not found". */
static void test_v1_write_waits_for_create(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - influxdb:\n      urls: [\"%s\"]\n      database: fresh\n", fs.base);
	fs_reset(&fs);
	fs_script(&fs, "[{\"path\": \"/query\", \"status\": 200, \"body\": \"{\\\"results\\\":[{}]}\", \"delay\": 0.3}]");
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	yajl_val t = fs_requests(&fs);
	CHECK_INT(fs_count(t), 2);
	if (fs_count(t) == 2) {
		CHECK_STR(fs_get(fs_at(t, 0), "path"), "/query");
		CHECK_STR(fs_get(fs_at(t, 1), "path"), "/write");
		const char *answered[] = { "answered", NULL }, *received[] = { "received", NULL };
		yajl_val qa = yajl_tree_get(fs_at(t, 0), answered, yajl_t_number);
		yajl_val wr = yajl_tree_get(fs_at(t, 1), received, yajl_t_number);
		CHECK(qa && wr && YAJL_GET_DOUBLE(wr) >= YAJL_GET_DOUBLE(qa));
	}
	yajl_tree_free(t);
	out_close(&o);
}

static void test_v2(void)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n"
		 "  - influxdb_v2:\n"
		 "      urls: [\"%s\"]\n"
		 "      token: " TOKEN "\n"
		 "      organization: my org\n"
		 "      bucket: metrics/raw\n"
		 "      user_agent: custom-agent\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	CHECK_INT(o.p->uint_support(o.state), 1);
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 204},"
		       " {\"status\": 422, \"body\": \"{\\\"code\\\":\\\"unprocessable entity\\\",\\\"message\\\":\\\"failure writing points to database: partial write: points beyond retention policy dropped=3\\\"}\"},"
		       " {\"status\": 400, \"body\": \"{\\\"code\\\":\\\"invalid\\\",\\\"message\\\":\\\"unable to parse 'x y': invalid field format\\\"}\"},"
		       " {\"status\": 401, \"body\": \"{\\\"code\\\":\\\"unauthorized\\\",\\\"message\\\":\\\"unauthorized access\\\"}\"},"
		       " {\"status\": 503, \"headers\": {\"Retry-After\": \"2\"}}]");
	struct write_result r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	yajl_val t, q = last_to("/api/v2/write", &t);
	CHECK(q != NULL);
	CHECK_STR(fs_param(q, "org"), "my org");
	CHECK_STR(fs_param(q, "bucket"), "metrics/raw");
	CHECK_STR(fs_param(q, "precision"), "ns");
	CHECK_STR(fs_header(q, "authorization"), "Token " TOKEN);
	CHECK_STR(fs_header(q, "user-agent"), "custom-agent");
	CHECK_STR(fs_header(q, "content-encoding"), "gzip");
	CHECK_STR(fs_get(q, "body"), batch3);
	yajl_tree_free(t);

	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 3);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_DROP);
	CHECK(strstr(r.message, "invalid field format") != NULL);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK(strstr(r.message, "authentication failed") != NULL);
	r = write_batch(&o, batch3, 3);
	CHECK_INT(r.status, WRITE_RETRY);
	CHECK_INT(r.retry_after_ms, 2000);
	out_close(&o);
}

static void test_bad_config(void)
{
	char err[256];
	struct agent_config cfg;
	/* The loader refuses a content_encoding it does not know, at the value. */
	static const char y[] = "outputs:\n  - influxdb:\n      content_encoding: brotli\n";
	CHECK_INT(hg_config_load_buffer(&cfg, "t.yaml", y, strlen(y), err, sizeof(err)), -1);
	CHECK_STR(err, "t.yaml:3:25: option \"content_encoding\": expected gzip or identity, got \"brotli\"");
	/* A config built without the loader (tests, bench/) meets init's own check. */
	static const char y0[] = "outputs:\n  - influxdb: {}\n";
	CHECK_INT(hg_config_load_buffer(&cfg, "t.yaml", y0, strlen(y0), err, sizeof(err)), 0);
	const struct opt_desc *ce = hg_opt_find(cfg.outputs[0].plugin->options, "content_encoding");
	CHECK(ce != NULL);
	if (ce) {
		char **f = (char **)((char *)cfg.outputs[0].config + ce->offset);
		free(*f);
		*f = strdup("brotli");
	}
	struct plugin_env env = { .loop = &loop, .http = hc, .agent = &cfg, .instance_name = "influxdb" };
	void *st = NULL;
	CHECK(cfg.outputs[0].plugin->init(&st, cfg.outputs[0].config, &env, err, sizeof(err)) != 0);
	CHECK_STR(err, "content_encoding: \"brotli\" is not gzip or identity");
	hg_config_free(&cfg);
	static const char y2[] = "outputs:\n  - influxdb_v2:\n      organization: o\n";
	CHECK_INT(hg_config_load_buffer(&cfg, "t.yaml", y2, strlen(y2), err, sizeof(err)), 0);
	CHECK(cfg.outputs[0].plugin->init(&st, cfg.outputs[0].config, &env, err, sizeof(err)) != 0);
	CHECK(strstr(err, "bucket") != NULL);
	hg_config_free(&cfg);
	/* max_in_flight: 1 to 64; the default is 4 writers. */
	static const char y3[] = "outputs:\n  - influxdb_v2: {organization: o, bucket: b, max_in_flight: 0}\n"
				 "  - influxdb: {max_in_flight: 65}\n  - influxdb: {alias: d, skip_database_creation: true}\n";
	CHECK_INT(hg_config_load_buffer(&cfg, "t.yaml", y3, strlen(y3), err, sizeof(err)), 0);
	for (size_t i = 0; i < 2; i++) {
		err[0] = '\0';
		CHECK(cfg.outputs[i].plugin->init(&st, cfg.outputs[i].config, &env, err, sizeof(err)) != 0);
		CHECK(strstr(err, "max_in_flight") != NULL);
	}
	CHECK_INT(cfg.outputs[2].plugin->init(&st, cfg.outputs[2].config, &env, err, sizeof(err)), 0);
	CHECK_INT(cfg.outputs[2].plugin->max_in_flight(st), 4);
	cfg.outputs[2].plugin->free(st);
	hg_config_free(&cfg);
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
	return 0;
}

/* What the cases logged: never a secret (and, when all ran, something, so
 * that this is no vacuous check; a case run alone may log nothing). */
static void suite_teardown(void)
{
	if (check_all_cases)
		CHECK(all_messages[0] != '\0');
	CHECK(strstr(all_messages, PASSWORD) == NULL);
	CHECK(strstr(all_messages, TOKEN) == NULL);
	hg_httpc_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), 0);
	fs_stop(&fs);
	curl_global_cleanup();
}

/* Only http:// and https:// URLs are written to; a message names the scheme
 * alone, never the credentials a URL may hold. */
static void test_url_check(void)
{
	char err[256] = "";
	CHECK_INT(hg_influx_http_url_check("urls", "http://h:8086", err, sizeof err), 0);
	CHECK_INT(hg_influx_http_url_check("url", "HTTPS://h/api/v1/push", err, sizeof err), 0);
	CHECK_INT(hg_influx_http_url_check("urls", "udp://user:hunter2@h:8089", err, sizeof err), OUTPUT_UNSUPPORTED);
	CHECK_STR(err, "urls: udp:// URLs are not supported (only http:// and https://)");
	CHECK_INT(hg_influx_http_url_check("url", "h:hunter2@x://y", err, sizeof err), OUTPUT_UNSUPPORTED);
	CHECK_STR(err, "url: (no scheme) URLs are not supported (only http:// and https://)");
	CHECK_INT(hg_influx_http_url_check("urls", "localhost:8086", err, sizeof err), OUTPUT_UNSUPPORTED);
	CHECK_STR(err, "urls: (no scheme) URLs are not supported (only http:// and https://)");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_v1_request),
		CHECK_CASE(test_v1_statuses),
		CHECK_CASE(test_v1_create_database),
		CHECK_CASE(test_v1_failover),
		CHECK_CASE(test_v1_free_while_pending),
		CHECK_CASE(test_v1_write_waits_for_create),
		CHECK_CASE(test_v2),
		CHECK_CASE(test_bad_config),
		CHECK_CASE(test_url_check),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
