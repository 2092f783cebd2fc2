/* The prometheus input's text parser: every ok_* case of the expfmt parse
 * corpus gives the expected metrics (metric_version 1), every error_* case
 * is rejected with a counted error for the reason the corpus names, and
 * every real exposition in the fixtures parses without error, one sample
 * per sample line, however the body is split into chunks. */
#include "check.h"
#include "prom_check.h"

#define CASES "prometheus-text/expfmt-parse-cases/"

static void expect_ok(const char *file, const char *want)
{
	size_t len;
	char *d = pr_read(file, &len);
	size_t chunks[] = { 0, 1, 7 };
	for (size_t i = 0; i < 3; i++) {
		struct prom_run r;
		pr_text(&r, d, len, false, 1, chunks[i]);
		if (r.errors)
			fprintf(stderr, "%s: %s\n", file, r.first_error);
		CHECK_INT(r.errors, 0);
		CHECK_STR(r.out, want);
		pr_free(&r);
	}
	free(d);
}

/* Rejected as is, and still rejected (for the same reason) once a final
 * newline is added, except where the missing newline is the error. */
static void expect_error(const char *name, const char *reason)
{
	char file[128];
	snprintf(file, sizeof file, CASES "%s.prom", name);
	size_t len;
	char *d = pr_read(file, &len);
	struct prom_run r;
	pr_text(&r, d, len, false, 1, 3);
	CHECK(r.errors >= 1);
	pr_free(&r);
	char *nl = malloc(len + 2);
	memcpy(nl, d, len);
	size_t n = len;
	if (!n || nl[n - 1] != '\n')
		nl[n++] = '\n';
	pr_text(&r, nl, n, false, 1, 0);
	if (!reason) {
		CHECK_INT(r.errors, 0);
	} else {
		CHECK(r.errors >= 1);
		if (!strstr(r.first_error, reason)) {
			fprintf(stderr, "%s: first error \"%s\", expected \"%s\"\n", name, r.first_error, reason);
			check_failures++;
		}
	}
	pr_free(&r);
	free(nl);
	free(d);
}

static int sample_lines(const char *d, bool om)
{
	int n = 0;
	for (const char *p = d; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && *p != '#') {
			const char *sp = memchr(p, '{', len);
			const char *name_end = sp ? sp : memchr(p, ' ', len);
			bool created = om && name_end && name_end - p > 8 && memcmp(name_end - 8, "_created", 8) == 0;
			n += !created;
		}
		p = e ? e + 1 : p + len;
	}
	return n;
}

static void expect_clean(const char *file, bool om)
{
	size_t len;
	char *d = pr_read(file, &len);
	struct prom_run whole, bytes;
	pr_text(&whole, d, len, om, 1, 0);
	pr_text(&bytes, d, len, om, 1, 1);
	if (whole.errors)
		fprintf(stderr, "%s: %s\n", file, whole.first_error);
	CHECK_INT(whole.errors, 0);
	CHECK_INT(whole.samples, sample_lines(d, om));
	CHECK(whole.out[0] != '\0');
	CHECK(strcmp(whole.out, bytes.out) == 0);
	pr_free(&whole);
	pr_free(&bytes);
	free(d);
}

static void text_case(const char *text, bool om, int version, const char *want, int errors)
{
	struct prom_run r;
	pr_text(&r, text, strlen(text), om, version, 0);
	CHECK_INT(r.errors, errors);
	if (want)
		CHECK_STR(r.out, want);
	pr_free(&r);
}

static void test_ok_files(void)
{
	expect_ok(CASES "ok_1.prom", "another_metric value=-3000 103948000000\n"
				     "minimal_metric value=1.234 NOW\n"
				     "no_labels value=3 NOW\n");
	/* name: NaN dropped; escapes undone (the newline is re-escaped by line
	 * protocol); name2's +Inf/-Inf have no line protocol spelling. */
	expect_ok(CASES "ok_2.prom", "name,basename=base\"v\\al\\nue,labelname=val2 counter=0.23 1234567890000000\n");
	/* Out-of-order summary samples regroup by series; the latest
	 * timestamp of a series wins; NaN quantiles are dropped. */
	expect_ok(CASES "ok_3.prom", "another_summary,n1=val1,n2=val2 0.3=-1.2 NOW\n"
				     "another_summary,n1=val1,n2=val2 count=20 NOW\n"
				     "decoy value=-1 NOW\n"
				     "fake_sum,n1=val1 value=2001 NOW\n"
				     "my_summary,n1=val1 0.5=110,0.9=140,count=42,sum=4711 2000000\n"
				     "my_summary,n1=val1,n2=val2 count=5 5000000\n"
				     "my_summary,n1=val2 sum=8 15000000\n"
				     "my_summary,n1=val3 0.2=4711 NOW\n");
	expect_ok(CASES "ok_4.prom", "request_duration_microseconds 100=123,120=412,144=592,172.8=1524,+Inf=2693,"
				     "count=2693,sum=1756047.3 NOW\n");
	expect_ok(CASES "ok_minimal.prom", "m value=0 NOW\n");
}

static void test_error_files(void)
{
	expect_error("error_0", NULL); /* only the missing final newline */
	expect_error("error_1", "invalid escape sequence");
	expect_error("error_2", "unterminated label value");
	expect_error("error_3", "invalid label name");
	expect_error("error_4", "__name__");
	expect_error("error_5", "expected '='");
	expect_error("error_6", "expected '\"'");
	expect_error("error_7", "quantile label is not a number");
	expect_error("error_8", "expected ',' or '}'");
	expect_error("error_9", "timestamp is not an integer");
	expect_error("error_10", "unexpected text after the sample");
	expect_error("error_11", "sample value is not a number");
	expect_error("error_12", "second HELP");
	expect_error("error_13", "second TYPE");
	expect_error("error_14", "TYPE line after samples");
	expect_error("error_15", "unknown metric type");
	expect_error("error_16", "invalid metric name in TYPE");
	expect_error("error_17", "invalid metric name");
	expect_error("error_18", "invalid metric name");
	expect_error("error_19", "le label is not a number");
}

static void test_clean_captures(void)
{
	expect_clean("prometheus-text/expfmt-prometheus1x-server-text.prom", false);
	expect_clean("prometheus-text/node_exporter-e2e-output.prom", false);
	expect_clean("prometheus-text/promtool-metrics-test.prom", false);
	expect_clean("prometheus-text/textparse-alltypes-237mfs.prom", false);
	expect_clean("prometheus-text/textparse-1histogram.om.txt", true);
	expect_clean("prometheus-text/textparse-alltypes-5mfs.om.txt", true);
	const char *textfiles[] = { "client_side_timestamp", "different_metric_types", "histogram",
				    "histogram_extra_dimension", "inconsistent_metrics", "summary" };
	for (size_t i = 0; i < sizeof textfiles / sizeof textfiles[0]; i++) {
		char f[160];
		snprintf(f, sizeof f, "prometheus-text/node_exporter-textfile/%s.prom", textfiles[i]);
		expect_clean(f, false);
	}
	expect_clean("cadvisor/metrics-server-test-kind-70pods-metrics-resource.txt", false);
	expect_clean("cadvisor/nri-minikube-k8s1.16-docker-metrics-cadvisor.txt", false);
	expect_clean("cadvisor/nri-minikube-k8s1.35-containerd2.2-metrics-cadvisor.txt", false);
}

/* A value from the 1.35 cadvisor capture, with its ms timestamp. */
static void test_cadvisor_value(void)
{
	{
		size_t len;
		char *d = pr_read("cadvisor/nri-minikube-k8s1.35-containerd2.2-metrics-cadvisor.txt", &len);
		struct prom_run r;
		pr_text(&r, d, len, false, 1, 4096);
		CHECK(strstr(r.out, "machine_cpu_cores,boot_id=3f08706e-fbd4-4afe-ab2e-cb273a74d98b,"
				    "machine_id=e366bd4b77b9d6be2d67552f69964f40,"
				    "system_uuid=e366bd4b77b9d6be2d67552f69964f40 gauge=14 NOW\n") != NULL);
		/* empty labels are no tags */
		CHECK(strstr(r.out, "container_memory_working_set_bytes,id=/kubepods/burstable/"
				    "pod8ac8c3a9ee4d182b8d934f20e971ada7,namespace=kube-system,"
				    "pod=kube-apiserver-datagen-1-35 gauge=222068736 1782468873608000000\n") != NULL);
		CHECK_INT(pr_count_lines(r.out, "container_cpu_usage_seconds_total,"), 58);
		pr_free(&r);
		free(d);
	}
}

static void test_openmetrics(void)
{
	/* OpenMetrics: _total names the counter's family, _created is no
	 * sample, timestamps are float seconds, exemplars are ignored, and
	 * nothing may follow # EOF. */
	text_case("# TYPE jobs counter\n# UNIT jobs seconds\njobs_total{q=\"a\"} 3 1520879607.789 # {trace=\"x\"} 1\n"
		  "jobs_created{q=\"a\"} 1520430000.123\n# EOF\n",
		  true, 1, "jobs,q=a counter=3 1520879607789000000\n", 0);
	text_case("# TYPE jobs counter\njobs_total 3\n# EOF\n", true, 2, "prometheus jobs=3 NOW\n", 0);
	text_case("a 1\n# EOF\nb 2\n", true, 1, "a value=1 NOW\n", 1);
	text_case("a 1\n", true, 1, "a value=1 NOW\n", 1); /* no # EOF */
	/* The same _total in 0.0.4 text is a family of its own. */
	text_case("# TYPE jobs counter\njobs_total 3\n", false, 1, "jobs_total value=3 NOW\n", 0);
}

/* A line over the buffer bound is one error; the next line parses. */
static void test_long_line(void)
{
	{
		size_t big = 70 * 1024;
		char *t = malloc(big + 64);
		memcpy(t, "long{l=\"", 8);
		memset(t + 8, 'x', big);
		strcpy(t + 8 + big, "\"} 1\nshort 2\n");
		text_case(t, false, 1, "short value=2 NOW\n", 1);
		free(t);
	}
}

/* Carriage returns, leading blanks, label-less braces. */
static void test_crlf(void)
{
	text_case("  a{} 1\r\nb 2 -5\r\n", false, 1, "a value=1 NOW\nb value=2 NOW\n", 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_ok_files),
		CHECK_CASE(test_error_files),
		CHECK_CASE(test_clean_captures),
		CHECK_CASE(test_cadvisor_value),
		CHECK_CASE(test_openmetrics),
		CHECK_CASE(test_long_line),
		CHECK_CASE(test_crlf),
	};
	return CHECK_RUN(argc, argv, cases);
}
