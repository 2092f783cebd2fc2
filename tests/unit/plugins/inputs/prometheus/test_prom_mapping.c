/* Telegraf's metric_version 1 and 2 mappings, line for line, for a
 * histogram, a summary and a counter (from its parser's README/code:
 * v1 fields named by le/quantile plus count/sum and counter/gauge/value;
 * v2 measurement "prometheus", <name>_bucket with an le tag, <name>_count,
 * <name>_sum, a quantile tag), with the url tag the input adds. */
#include "check.h"
#include "prom_check.h"

static const char EXPO[] =
	"# HELP http_request_duration_seconds A histogram of the request duration.\n"
	"# TYPE http_request_duration_seconds histogram\n"
	"http_request_duration_seconds_bucket{code=\"200\",le=\"0.05\"} 24054\n"
	"http_request_duration_seconds_bucket{code=\"200\",le=\"0.1\"} 33444\n"
	"http_request_duration_seconds_bucket{code=\"200\",le=\"1e+06\"} 100392\n"
	"http_request_duration_seconds_bucket{code=\"200\",le=\"+Inf\"} 144320\n"
	"http_request_duration_seconds_sum{code=\"200\"} 53423\n"
	"http_request_duration_seconds_count{code=\"200\"} 144320\n"
	"# TYPE rpc_duration_seconds summary\n"
	"rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
	"rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
	"rpc_duration_seconds{quantile=\"0.999\"} NaN\n"
	"rpc_duration_seconds_sum 1.7560473e+07\n"
	"rpc_duration_seconds_count 2693\n"
	"# TYPE http_requests_total counter\n"
	"http_requests_total{method=\"post\",code=\"200\",empty=\"\"} 1027 1395066363000\n"
	"# TYPE temp gauge\n"
	"temp NaN\n"
	"some_untyped 2.5\n";

static void run(int version, const char *url, const char *want)
{
	struct prom_run r;
	pr_begin(&r, version, url);
	struct prom_text *t = hg_prom_text_new(4096, pr_sample, pr_error, &r);
	hg_prom_text_reset(t, false);
	hg_prom_text_feed(t, EXPO, sizeof EXPO - 1);
	hg_prom_text_finish(t);
	CHECK_INT(hg_prom_text_errors(t), 0);
	hg_prom_text_free(t);
	pr_end(&r);
	CHECK_STR(r.out, want);
	CHECK_STR(hg_acc_capture_errors(r.acc), "");
	pr_free(&r);
}

static void test_v1_v2(void)
{
	run(1, "http://h:9100/metrics",
	    "http_request_duration_seconds,code=200,url=http://h:9100/metrics 0.05=24054,0.1=33444,1e+06=100392,"
	    "+Inf=144320,count=144320,sum=53423 NOW\n"
	    "http_requests_total,code=200,method=post,url=http://h:9100/metrics counter=1027 1395066363000000000\n"
	    "rpc_duration_seconds,url=http://h:9100/metrics 0.5=4773,0.99=76656,count=2693,sum=17560473 NOW\n"
	    "some_untyped,url=http://h:9100/metrics value=2.5 NOW\n");
	run(2, "http://h:9100/metrics",
	    "prometheus,code=200,le=+Inf,url=http://h:9100/metrics http_request_duration_seconds_bucket=144320 NOW\n"
	    "prometheus,code=200,le=0.05,url=http://h:9100/metrics http_request_duration_seconds_bucket=24054 NOW\n"
	    "prometheus,code=200,le=0.1,url=http://h:9100/metrics http_request_duration_seconds_bucket=33444 NOW\n"
	    "prometheus,code=200,le=1e+06,url=http://h:9100/metrics http_request_duration_seconds_bucket=100392 NOW\n"
	    "prometheus,code=200,method=post,url=http://h:9100/metrics http_requests_total=1027 1395066363000000000\n"
	    "prometheus,code=200,url=http://h:9100/metrics http_request_duration_seconds_count=144320,"
	    "http_request_duration_seconds_sum=53423 NOW\n"
	    "prometheus,quantile=0.5,url=http://h:9100/metrics rpc_duration_seconds=4773 NOW\n"
	    "prometheus,quantile=0.99,url=http://h:9100/metrics rpc_duration_seconds=76656 NOW\n"
	    "prometheus,url=http://h:9100/metrics rpc_duration_seconds_count=2693,rpc_duration_seconds_sum=17560473 NOW\n"
	    "prometheus,url=http://h:9100/metrics some_untyped=2.5 NOW\n");
	/* No url tag when url_tag is "". */
	run(1, NULL,
	    "http_request_duration_seconds,code=200 0.05=24054,0.1=33444,1e+06=100392,+Inf=144320,count=144320,sum=53423 NOW\n"
	    "http_requests_total,code=200,method=post counter=1027 1395066363000000000\n"
	    "rpc_duration_seconds 0.5=4773,0.99=76656,count=2693,sum=17560473 NOW\n"
	    "some_untyped value=2.5 NOW\n");
}

/* url_tag names the tag. */
static void test_url_tag(void)
{
	{
		const char *g = "# TYPE g gauge\ng 1\n";
		struct prom_run r;
		pr_begin(&r, 1, "http://h:9100/metrics");
		hg_prom_map_url_tag(r.map, "target");
		struct prom_text *t = hg_prom_text_new(64 * 1024, pr_sample, pr_error, &r);
		CHECK(t != NULL);
		if (t) {
			hg_prom_text_reset(t, false);
			hg_prom_text_feed(t, g, strlen(g));
			hg_prom_text_finish(t);
			hg_prom_text_free(t);
		}
		pr_end(&r);
		CHECK_STR(r.out, "g,target=http://h:9100/metrics gauge=1 NOW\n");
		pr_free(&r);
	}
}

/* v2 adds the +Inf bucket a histogram lacks (Telegraf's infSeen). */
static void test_v2_inf_bucket(void)
{
	{
		const char *h = "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 3\nh_count 4\n";
		struct prom_run r;
		pr_text(&r, h, strlen(h), false, 2, 0);
		CHECK_STR(r.out, "prometheus h_count=4,h_sum=3 NOW\n"
				 "prometheus,le=+Inf h_bucket=4 NOW\n"
				 "prometheus,le=1 h_bucket=2 NOW\n");
		pr_free(&r);
	}
}

/* Go's %v spelling of le/quantile values. */
static void test_go_float(void)
{
	struct {
		double v;
		const char *s;
	} g[] = { { 0.005, "0.005" }, { 1, "1" }, { 2.5, "2.5" }, { 100000, "100000" }, { 1e6, "1e+06" },
		  { 1234567, "1.234567e+06" }, { 0.0001, "0.0001" }, { 0.00001, "1e-05" }, { -12.34, "-12.34" },
		  { 0.1 + 0.2, "0.30000000000000004" }, { 1e21, "1e+21" }, { 123456, "123456" } };
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
		char buf[40];
		hg_prom_go_float(g[i].v, buf, sizeof buf);
		CHECK_STR(buf, g[i].s);
	}
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_v1_v2),
		CHECK_CASE(test_url_tag),
		CHECK_CASE(test_v2_inf_bucket),
		CHECK_CASE(test_go_float),
	};
	return CHECK_RUN(argc, argv, cases);
}
