/* opentelemetry (OTLP/HTTP) against the fault server: the request headers,
 * the decoded ExportMetricsServiceRequest (resource, scope, metric names,
 * data points with exact values, timestamps and attributes), gzip on and
 * off, and how each answer (with protobuf Status and partial-success
 * bodies) maps to a write_result; lines at time 0, before 1970 and with
 * bytes that are not UTF-8; the config's checks. The metric types (the
 * encoder alone) are in test_output_opentelemetry_types.c. */
#include "check.h"
#include "fault_server.h"
#include "config_values.h"
#include "output_check.h"
#include "otlp_check.h"

#define API_KEY "otel-Key-2718"

static Otlp__ExportMetricsServiceRequest *decode(yajl_val r)
{
	size_t n;
	unsigned char *b = body_bytes(r, &n);
	CHECK(b != NULL);
	Otlp__ExportMetricsServiceRequest *q = b ? otlp__export_metrics_service_request__unpack(NULL, n, b) : NULL;
	CHECK(q != NULL);
	free(b);
	return q;
}


static const char batch[] =
	"cpu,cpu=cpu0,host=a usage_idle=99.5,usage_user=0.25 1700000000123456789\n"
	"cpu,cpu=cpu1,host=a usage_idle=98.25,usage_user=1.5 1700000000123456789\n"
	"mem,host=a used=123i,free=18446744073709551615u,small=42u,active=true,desc=\"text\" 1700000000000000000\n"
	"weird\\ name,k\\ x=v\\,1 v=-1.5 1700000002999999999\n";

static void check_batch(const Otlp__ExportMetricsServiceRequest *q, const char *resource)
{
	CHECK(q->n_resource_metrics == 1);
	if (q->n_resource_metrics != 1)
		return;
	const Otlp__ResourceMetrics *rm = q->resource_metrics[0];
	CHECK(rm->resource != NULL);
	if (rm->resource)
		CHECK_STR(kvs(rm->resource->attributes, rm->resource->n_attributes), resource);
	CHECK(rm->n_scope_metrics == 1);
	if (rm->n_scope_metrics != 1)
		return;
	const Otlp__ScopeMetrics *sm = rm->scope_metrics[0];
	CHECK(sm->scope && strcmp(sm->scope->name, "heliograph") == 0 && strcmp(sm->scope->version, HG_VERSION) == 0);
	CHECK_INT(sm->n_metrics, 7);
	if (sm->n_metrics != 7)
		return;
	Otlp__Metric **m = sm->metrics;
	/* One gauge per name, in order of first appearance; a point per line. */
	CHECK_STR(m[0]->name, "cpu_usage_idle");
	CHECK_INT(m[0]->gauge->n_data_points, 2);
	check_double(point(m[0], 0), 99.5, 1700000000123456789ULL, "cpu=cpu0,host=a");
	check_double(point(m[0], 1), 98.25, 1700000000123456789ULL, "cpu=cpu1,host=a");
	CHECK_STR(m[1]->name, "cpu_usage_user");
	CHECK_INT(m[1]->gauge->n_data_points, 2);
	check_double(point(m[1], 0), 0.25, 1700000000123456789ULL, "cpu=cpu0,host=a");
	check_double(point(m[1], 1), 1.5, 1700000000123456789ULL, "cpu=cpu1,host=a");
	CHECK_STR(m[2]->name, "mem_used");
	check_int(point(m[2], 0), 123, 1700000000000000000ULL, "host=a");
	CHECK_STR(m[3]->name, "mem_free"); /* beyond int64: a double */
	check_double(point(m[3], 0), 18446744073709551615.0, 1700000000000000000ULL, "host=a");
	CHECK_STR(m[4]->name, "mem_small");
	check_int(point(m[4], 0), 42, 1700000000000000000ULL, "host=a");
	CHECK_STR(m[5]->name, "mem_active"); /* desc (a string) is skipped */
	check_int(point(m[5], 0), 1, 1700000000000000000ULL, "host=a");
	CHECK_STR(m[6]->name, "weird name_v"); /* OTLP names are not sanitized */
	check_double(point(m[6], 0), -1.5, 1700000002999999999ULL, "k x=v,1");
}

static void test_request(void)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "outputs:\n"
		 "  - opentelemetry:\n"
		 "      url: \"%s/v1/metrics\"\n"
		 "      headers: {api-key: " API_KEY "}\n"
		 "      attributes: {service.name: heliograph, host.name: node-1}\n",
		 fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	CHECK_INT(o.p->uint_support(o.state), 1);
	fs_reset(&fs);
	struct write_result r = write_batch(&o, batch, 4);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 0);
	yajl_val t = fs_requests(&fs), q = fs_at(t, 0);
	CHECK_INT(fs_count(t), 1);
	CHECK_STR(fs_get(q, "method"), "POST");
	CHECK_STR(fs_get(q, "path"), "/v1/metrics");
	CHECK_STR(fs_header(q, "content-type"), "application/x-protobuf");
	CHECK_STR(fs_header(q, "content-encoding"), "gzip");
	CHECK_STR(fs_header(q, "user-agent"), "heliograph/" HG_VERSION);
	CHECK_STR(fs_header(q, "api-key"), API_KEY);
	Otlp__ExportMetricsServiceRequest *req = decode(q);
	if (req)
		check_batch(req, "service.name=heliograph,host.name=node-1");
	otlp__export_metrics_service_request__free_unpacked(req, NULL);
	yajl_tree_free(t);

	/* The same batch again through the reused buffers and tables. */
	fs_reset(&fs);
	CHECK_INT(write_batch(&o, batch, 4).status, WRITE_OK);
	t = fs_requests(&fs);
	req = decode(fs_at(t, 0));
	if (req)
		check_batch(req, "service.name=heliograph,host.name=node-1");
	otlp__export_metrics_service_request__free_unpacked(req, NULL);
	yajl_tree_free(t);
	out_close(&o);

	/* compression: none */
	snprintf(yaml, sizeof(yaml), "outputs:\n  - opentelemetry:\n      url: \"%s/otlp\"\n      compression: none\n",
		 fs.base);
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	CHECK_INT(write_batch(&o, batch, 4).status, WRITE_OK);
	t = fs_requests(&fs);
	q = fs_at(t, 0);
	CHECK(fs_header(q, "content-encoding") == NULL);
	req = decode(q);
	if (req)
		check_batch(req, "");
	otlp__export_metrics_service_request__free_unpacked(req, NULL);
	yajl_tree_free(t);
	out_close(&o);
}

/* Many names and points: the name table grows (rehash) mid-batch. */
static void test_many_names(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - opentelemetry:\n      url: \"%s/v1/metrics\"\n", fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	size_t n = 3000, len = 0;
	char *big = malloc(n * 96);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "m%zu,host=a v=%zui,w=%zu.5 %zu\n", i % 1000, i, i, 1700000000000000000 + i);
	fs_reset(&fs);
	CHECK_INT(write_batch(&o, big, n).status, WRITE_OK);
	yajl_val t = fs_requests(&fs);
	Otlp__ExportMetricsServiceRequest *req = decode(fs_at(t, 0));
	if (req && req->n_resource_metrics == 1 && req->resource_metrics[0]->n_scope_metrics == 1) {
		const Otlp__ScopeMetrics *sm = req->resource_metrics[0]->scope_metrics[0];
		CHECK_INT(sm->n_metrics, 2000);
		if (sm->n_metrics == 2000) {
			/* m999_w: lines 999, 1999, 2999 */
			const Otlp__Metric *m = sm->metrics[2 * 999 + 1];
			CHECK_STR(m->name, "m999_w");
			CHECK_INT(m->gauge->n_data_points, 3);
			check_double(point(m, 2), 2999.5, 1700000000000002999ULL, "host=a");
			check_int(point(sm->metrics[0], 1), 1000, 1700000000000001000ULL, "host=a");
		}
	}
	otlp__export_metrics_service_request__free_unpacked(req, NULL);
	yajl_tree_free(t);
	free(big);
	out_close(&o);
}

/* One write per scripted answer, in order: what the output makes of each.
 * Bodies: ExportMetricsServiceResponse{partial_success{rejected_data_points: 3,
 * error_message: "bad"}} and google.rpc.Status{code: 3, message: "invalid"}.
 * -1: not checked; message "": the whole message is empty, else a part of it. */
static const struct {
	const char *answer;
	enum write_status status;
	int dropped_lines, retry_after_ms;
	const char *message;
} statuses[] = {
	{ "{\"status\": 200, \"content_type\": \"application/x-protobuf\","
	  " \"body\": \"\\n\\u0007\\b\\u0003\\u0012\\u0003bad\"}", WRITE_OK, 0, -1, "3 data point(s) rejected: bad" },
	{ "{\"status\": 200, \"content_type\": \"application/x-protobuf\", \"body\": \"\"}", WRITE_OK, -1, -1, "" },
	{ "{\"status\": 400, \"content_type\": \"application/x-protobuf\","
	  " \"body\": \"\\b\\u0003\\u0012\\u0007invalid\"}", WRITE_DROP, -1, -1, "(HTTP 400): invalid" },
	/* OTLP: a 500 must not be retried */
	{ "{\"status\": 500, \"body\": \"internal\"}", WRITE_DROP, -1, -1, "(HTTP 500): internal" },
	{ "{\"status\": 502}", WRITE_RETRY, -1, 0, NULL },
	{ "{\"status\": 503, \"headers\": {\"Retry-After\": \"2\"}}", WRITE_RETRY, -1, 2000, NULL },
	{ "{\"status\": 504}", WRITE_RETRY, -1, -1, NULL },
	{ "{\"status\": 429, \"headers\": {\"Retry-After\": \"7\"}}", WRITE_RETRY, -1, 7000, NULL },
	{ "{\"status\": 413}", WRITE_TOO_LARGE, -1, -1, NULL },
	{ "{\"status\": 401, \"body\": \"no key\"}", WRITE_RETRY, -1, -1, "authentication failed" },
	{ "{\"status\": 404, \"body\": \"not here\"}", WRITE_DROP, -1, -1, "(HTTP 404): not here" },
};

static void test_statuses(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - opentelemetry:\n      url: \"%s/v1/metrics\"\n", fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	char script[2048] = "["; /* the answers, in order */
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		strcat(strcat(script, i ? "," : ""), statuses[i].answer);
	fs_script(&fs, strcat(script, "]"));
	const char *one = "m v=1 1700000000000000000\n";
	struct write_result r;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		int before = check_failures;
		r = write_batch(&o, one, 1);
		CHECK_INT(r.status, statuses[i].status);
		if (statuses[i].dropped_lines >= 0)
			CHECK_INT(r.dropped_lines, statuses[i].dropped_lines);
		if (statuses[i].retry_after_ms >= 0)
			CHECK_INT(r.retry_after_ms, statuses[i].retry_after_ms);
		if (statuses[i].message && !statuses[i].message[0])
			CHECK_STR(r.message, "");
		else if (statuses[i].message)
			CHECK(strstr(r.message, statuses[i].message) != NULL);
		CHECK_ROW(before, statuses[i].answer);
	}
	CHECK_INT(request_count(), 11);

	fs_reset(&fs);
	r = write_batch(&o, "log msg=\"only text\" 1700000000000000000\n", 1);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(request_count(), 0);
	r = write_batch(&o, "m v=1 1700000000000000000\nnot line protocol\n", 2);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 1);
	CHECK_INT(request_count(), 1);
	/* The line dropped here is named with its reason, not an empty one. */
	CHECK(strstr(r.message, "1 line(s) not sent: ") != NULL);
	CHECK(strstr(r.message, "1 line(s) not sent: at line 2:") != NULL);

	/* A 400 whose body is a partial success (not a Status) gives its reason. */
	fs_reset(&fs);
	fs_script(&fs, "[{\"status\": 400, \"content_type\": \"application/x-protobuf\","
		       "  \"body\": \"\\n\\u0007\\b\\u0003\\u0012\\u0003bad\"}]");
	r = write_batch(&o, one, 1);
	CHECK_INT(r.status, WRITE_DROP);
	CHECK(strstr(r.message, "(HTTP 400): 3 data point(s) rejected: bad") != NULL);

	/* Freed while a slow write is in flight: no callback, no leak. */
	fs_script(&fs, "[{\"status\": 200, \"delay\": 0.3}]");
	struct batch b = { .data = (char *)one, .len = strlen(one), .cap = strlen(one), .nmetrics = 1 };
	struct wres w = { 0 };
	o.p->write(o.state, &b, on_written, &w);
	out_close(&o);
	while (hg_httpc_active(hc) > 0)
		uv_run(&loop, UV_RUN_ONCE);
	CHECK(!w.done);
}

/* The points the agent itself must not bend: time 0 stays 0 (with or
 * without the "0" written), a time before 1970 is not wrapped into 2554 but
 * dropped with its reason, and bytes that are not UTF-8 (a scraped label)
 * become U+FFFD instead of costing the line. */
static void test_edge_lines(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), "outputs:\n  - opentelemetry:\n      url: \"%s/v1/metrics\"\n", fs.base);
	struct out o;
	CHECK_INT(out_open(&o, yaml), 0);
	fs_reset(&fs);
	struct write_result r = write_batch(&o,
					    "zero_ts,src=x v=42 0\n"
					    "zero_ts,src=y v=43\n"
					    "neg,src=x v=1 -1000000000\n"
					    "prom,path=/a\xff\xfe\xff" "b,q=\xe0\x80\x80" "x v=7 1700000000000000000\n"
					    "prom,path=ok\xc3\xa9 v=8 1700000000000000001\n",
					    5);
	CHECK_INT(r.status, WRITE_OK);
	CHECK_INT(r.dropped_lines, 1);
	CHECK(strstr(r.message, "1 line(s) not sent: timestamp -1000000000 is before 1970") != NULL);
	yajl_val t = fs_requests(&fs);
	Otlp__ExportMetricsServiceRequest *req = decode(fs_at(t, 0));
	if (req && req->n_resource_metrics == 1 && req->resource_metrics[0]->n_scope_metrics == 1) {
		const Otlp__ScopeMetrics *sm = req->resource_metrics[0]->scope_metrics[0];
		CHECK_INT(sm->n_metrics, 2);
		if (sm->n_metrics == 2) {
			CHECK_STR(sm->metrics[0]->name, "zero_ts_v");
			CHECK_INT(sm->metrics[0]->gauge->n_data_points, 2);
			check_double(point(sm->metrics[0], 0), 42, 0, "src=x");
			check_double(point(sm->metrics[0], 1), 43, 0, "src=y");
			CHECK_STR(sm->metrics[1]->name, "prom_v");
			CHECK_INT(sm->metrics[1]->gauge->n_data_points, 2);
			/* One U+FFFD per run of bad bytes, as Go's strings.ToValidUTF8. */
			check_double(point(sm->metrics[1], 0), 7, 1700000000000000000ULL,
				     "path=/a\xef\xbf\xbd" "b,q=\xef\xbf\xbd" "x");
			check_double(point(sm->metrics[1], 1), 8, 1700000000000000001ULL, "path=ok\xc3\xa9");
		}
	}
	otlp__export_metrics_service_request__free_unpacked(req, NULL);
	yajl_tree_free(t);
	out_close(&o);
}

static void test_bad_config(void)
{
	struct out o;
	char err[512], yaml[512];
	/* The loader refuses a compression it does not know, at the value. */
	CHECK_INT(out_open_err(&o, "outputs:\n  - opentelemetry: {compression: snappy}\n", err, sizeof(err)), -1);
	CHECK_STR(err, "test.yaml:2:34: option \"compression\": expected gzip or none, got \"snappy\"");
	/* A config built without the loader (tests) meets the plugin's own check. */
	{
		struct agent_config cfg;
		static const char y0[] = "outputs:\n  - opentelemetry: {}\n";
		CHECK_INT(hg_config_load_buffer(&cfg, "t.yaml", y0, strlen(y0), err, sizeof(err)), 0);
		const struct opt_desc *co = hg_opt_find(cfg.outputs[0].plugin->options, "compression");
		CHECK(co != NULL);
		if (co) {
			char **f = (char **)((char *)cfg.outputs[0].config + co->offset);
			free(*f);
			*f = strdup("snappy");
		}
		CHECK(cfg.outputs[0].plugin->check(cfg.outputs[0].config, err, sizeof(err)) != 0);
		CHECK_STR(err, "compression: \"snappy\" is not gzip or none");
		hg_config_free(&cfg);
	}
	snprintf(yaml, sizeof(yaml), "outputs:\n  - opentelemetry: {url: \"%s\", headers: {Content-Type: x}}\n", fs.base);
	CHECK_INT(out_open_err(&o, yaml, err, sizeof(err)), -1);
	CHECK(strstr(err, "Content-Type") != NULL);
	/* The default URL is the collector's OTLP/HTTP one. */
	CHECK_INT(out_open(&o, "outputs:\n  - opentelemetry: {}\n"), 0);
	out_close(&o);
}

static void suite_teardown(void)
{
	CHECK(strstr(all_messages, API_KEY) == NULL);
	out_check_stop();
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_request),
		CHECK_CASE(test_many_names),
		CHECK_CASE(test_statuses),
		CHECK_CASE(test_edge_lines),
		CHECK_CASE(test_bad_config),
	};
	return CHECK_RUN_WITH(argc, argv, cases, out_check_start, suite_teardown);
}
