/* deploy-check's pieces that need no InfluxDB: the sample comparison
 * (quantiles, Hodges-Lehmann shift, Mann-Whitney z) on shapes whose answer
 * is known, the InfluxDB answer reader on valid and malformed answers, the
 * error-rate expression and the pod regexes. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "deploy_check.h"
#include "deploy_stats.h"
#include "influx_answer.h"

static void quantiles(void)
{
	double v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };
	hg_ds_sort(v, 10);
	CHECK(v[0] == 1 && v[9] == 10);
	CHECK(hg_ds_quantile(v, 10, 0.5) == 5);  /* nearest rank: the 5th of 10 */
	CHECK(hg_ds_quantile(v, 10, 0.95) == 10);
	CHECK(hg_ds_quantile(v, 10, 0.05) == 1);
	CHECK(hg_ds_quantile(v, 1, 0.5) == 1);
}

static double lcg(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (double)((*s >> 8) & 0xffff) / 65536.0;
}

static void shifts(void)
{
	enum { N = 60 };
	double b[N], a[N];
	unsigned seed = 7;
	/* A clean shift of +100 on noise of +-5: found, and significant. */
	for (int i = 0; i < N; i++) {
		b[i] = 200 + 10 * (lcg(&seed) - 0.5);
		a[i] = 300 + 10 * (lcg(&seed) - 0.5);
	}
	hg_ds_sort(b, N);
	hg_ds_sort(a, N);
	struct ds_shift sh;
	CHECK(hg_ds_compare(b, N, a, N, &sh) == 0);
	CHECK(fabs(sh.hl - 100) < 5);
	CHECK(sh.z > 6);
	CHECK(hg_ds_exceeds(200, 200 + sh.hl, 0.2, 32));
	/* Flapping between 100 and 300, 29 of 60 high before and 31 after: the
	 * medians are 100 and 300, the shift is 0 and z is noise. */
	for (int i = 0; i < N; i++) {
		b[i] = i < 29 ? 300 : 100;
		a[i] = i < 31 ? 300 : 100;
	}
	hg_ds_sort(b, N);
	hg_ds_sort(a, N);
	CHECK(hg_ds_quantile(b, N, 0.5) == 100 && hg_ds_quantile(a, N, 0.5) == 300);
	CHECK(hg_ds_compare(b, N, a, N, &sh) == 0);
	CHECK(sh.hl == 0);
	CHECK(sh.z < DS_Z_SIGNIFICANT);
	/* Identical sets: no shift, z 0. */
	CHECK(hg_ds_compare(b, N, b, N, &sh) == 0);
	CHECK(sh.hl == 0 && fabs(sh.z) < 1e-9);
	/* Large sets are subsampled: same answer, bounded work. */
	size_t big = 200000;
	double *x = malloc(big * sizeof *x), *y = malloc(big * sizeof *y);
	for (size_t i = 0; i < big; i++) {
		x[i] = (double)i;
		y[i] = (double)i + 1000;
	}
	CHECK(hg_ds_compare(x, big, y, big, &sh) == 0);
	CHECK(fabs(sh.hl - 1000) < 800);
	free(x);
	free(y);
	/* Thresholds: both relative and absolute must pass; a fall never does. */
	CHECK(!hg_ds_exceeds(100, 110, 0.2, 1));
	CHECK(!hg_ds_exceeds(100, 130, 0.2, 50));
	CHECK(hg_ds_exceeds(100, 130, 0.2, 20));
	CHECK(!hg_ds_exceeds(100, 50, 0.2, 0));
	CHECK(hg_ds_exceeds(0, 2, 0.5, 1));
}

static void answers(void)
{
	char err[512];
	struct influx_answer a;
	const char *ok = "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"m\",\"tags\":{\"pod_name\":\"p1\"},"
			 "\"columns\":[\"time\",\"v\",\"s\"],\"values\":[[1796649659000000000,2.5,null],[2,3,\"x\"]]}]}]}";
	CHECK(hg_influx_answer_parse(ok, &a, err, sizeof err) == 0);
	CHECK_INT(a.nseries, 1);
	const struct ia_series *s = &a.series[0];
	CHECK_STR(hg_ia_tag(s, "pod_name"), "p1");
	CHECK(hg_ia_tag(s, "node_name") == NULL);
	CHECK_INT(hg_ia_col(s, "v"), 1);
	CHECK_INT(hg_ia_col(s, "nope"), -1);
	double v;
	int64_t t;
	CHECK(hg_ia_num(s, 0, 1, &v) && v == 2.5);
	CHECK(hg_ia_num(s, 1, 1, &v) && v == 3);
	CHECK(!hg_ia_num(s, 0, 2, &v));
	CHECK(!hg_ia_num(s, 2, 1, &v));
	CHECK(!hg_ia_num(s, 0, 3, &v));
	CHECK_STR(hg_ia_str(s, 1, 2), "x");
	CHECK(hg_ia_int(s, 0, 0, &t) && t == 1796649659000000000LL);
	hg_influx_answer_free(&a);

	CHECK(hg_influx_answer_parse("{\"results\":[{\"statement_id\":0}]}", &a, err, sizeof err) == 0);
	CHECK_INT(a.nseries, 0);
	hg_influx_answer_free(&a);

	static const struct {
		const char *body, *says;
	} bad[] = {
		{ "{\"results\":[{\"statement_id\":0,\"error\":\"database not found: x\"}]}", "InfluxDB: database not found: x" },
		{ "{\"error\":\"authorization failed\"}", "InfluxDB: authorization failed" },
		{ "<html>", "not JSON" },
		{ "{\"results\":[]}", "no \"results\"" },
		{ "{\"results\":[{\"series\":[{\"columns\":[\"a\",\"b\"],\"values\":[[1]]}]}]}", "as long as" },
		{ "{\"results\":[{\"series\":[{\"columns\":[1],\"values\":[[1]]}]}]}", "column name" },
		{ "{\"results\":[{\"series\":[{\"tags\":{\"a\":1},\"columns\":[\"a\"]}]}]}", "tag value" },
		{ "{\"results\":[{\"series\":{}}]}", "not an array" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		CHECK(hg_influx_answer_parse(bad[i].body, &a, err, sizeof err) == -1);
		CHECK(strstr(err, bad[i].says) != NULL);
		CHECK(a.root == NULL && a.series == NULL);
	}
}

static void rates(void)
{
	char err[512];
	struct dc_rate r;
	CHECK(hg_dc_rate_parse("http_requests_total{code=~\"5..\", method != \"GET\"} / http_requests_total", 1, &r, err,
			    sizeof err) == 0);
	CHECK_STR(r.num.measurement, "http_requests_total");
	CHECK_STR(r.num.field, "counter");
	CHECK_STR(r.num.where, " AND \"code\" =~ /^(?:5..)$/ AND \"method\" != 'GET'");
	CHECK_STR(r.den.where, "");
	CHECK(hg_dc_rate_parse("errs{path=\"/a'b\"} / reqs", 2, &r, err, sizeof err) == 0);
	CHECK_STR(r.num.measurement, "prometheus");
	CHECK_STR(r.num.field, "errs");
	CHECK_STR(r.num.where, " AND \"path\" = '/a\\'b'");
	CHECK_STR(r.den.field, "reqs");
	CHECK(hg_dc_rate_parse("errs{p=~\"a/b\"} / reqs", 1, &r, err, sizeof err) == 0);
	CHECK_STR(r.num.where, " AND \"p\" =~ /^(?:a\\/b)$/");
	static const char *const bad[] = { "", "errs", "errs / ", "errs{code=5} / r", "errs{code=\"5\" / r", "{} / r",
					   "errs / reqs extra", "errs{code==\"5\"} / r" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		CHECK(hg_dc_rate_parse(bad[i], 1, &r, err, sizeof err) == -1);
		CHECK(err[0] != '\0');
	}
}

static void pods(void)
{
	char re[600];
	CHECK(hg_dc_workload_pods("shop", NULL, re, sizeof re) == 0);
	CHECK_STR(re, "^shop-[a-z0-9]+-[a-z0-9]+$");
	CHECK(hg_dc_workload_pods("shop.v2", "5d4f6b7c8", re, sizeof re) == 0);
	CHECK_STR(re, "^shop\\.v2-5d4f6b7c8-[a-z0-9]+$");
	CHECK(hg_dc_workload_pods("Shop", NULL, re, sizeof re) == -1);
	CHECK(hg_dc_workload_pods("shop-", NULL, re, sizeof re) == -1);
	CHECK(hg_dc_workload_pods("shop", "a-b", re, sizeof re) == -1);
	CHECK(hg_dc_workload_pods("", NULL, re, sizeof re) == -1);
}

/* A stand-in for InfluxDB: answers each query of hg_deploy_check_run from the
 * window it asks for (before: time >= 1000, after: time >= 5000) and what it
 * selects, and keeps the queries. */
struct fake {
	char queries[16][1024];
	int n;
	bool usage; /* answer the kubernetes input's query with data */
};

static char *dup_text(const char *s)
{
	char *p = malloc(strlen(s) + 1);
	strcpy(p, s);
	return p;
}

static int fake_query(void *arg, const char *q, char **body, char *err, size_t errlen)
{
	struct fake *f = arg;
	(void)err;
	(void)errlen;
	if (f->n < 16)
		snprintf(f->queries[f->n++], sizeof f->queries[0], "%s", q);
	bool after = strstr(q, "time >= 5000 ") != NULL;
	bool prev = strstr(q, "last(") != NULL;
	char rows[4096] = "";
	if (prev) {
		/* Earlier counts exist for nothing: the before window's old pod
		 * counts from its first value there, the after window's new pod from 0. */
		*body = dup_text("{\"results\":[{\"statement_id\":0}]}");
		return 0;
	}
	if (strstr(q, "\"restarts_total\", \"state_code\"")) {
		size_t n = 0;
		for (int i = 0; i < 12; i++)
			n += (size_t)snprintf(rows + n, sizeof rows - n, "%s[%d,%d,0,null]", i ? "," : "", (after ? 5000 : 1000) + i,
					      after ? 2 + (i >= 6) : 5);
		char buf[8192];
		snprintf(buf, sizeof buf,
			 "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"kubernetes_pod_container\",\"tags\":"
			 "{\"container_name\":\"app\",\"pod_name\":\"%s\",\"readiness\":\"ready\",\"state\":\"running\"},"
			 "\"columns\":[\"time\",\"restarts_total\",\"state_code\",\"state_reason\"],\"values\":[%s]}]}]}",
			 after ? "shop-b-2" : "shop-a-1", rows);
		*body = dup_text(buf);
		return 0;
	}
	if (strstr(q, "cpu_usage_nanocores") && f->usage) {
		size_t n = 0;
		for (int i = 0; i < 12; i++)
			n += (size_t)snprintf(rows + n, sizeof rows - n, "%s[%d,100000000,104857600],[%d,20000000,0]",
					      i ? "," : "", 1000 + i, 1000 + i);
		char buf[8192];
		snprintf(buf, sizeof buf,
			 "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"kubernetes_pod_container\",\"tags\":"
			 "{\"pod_name\":\"p\"},\"columns\":[\"time\",\"cpu_usage_nanocores\",\"memory_working_set_bytes\"],"
			 "\"values\":[%s]}]}]}", rows);
		*body = dup_text(buf);
		return 0;
	}
	*body = dup_text("{\"results\":[{\"statement_id\":0}]}");
	return 0;
}

static void judging(void)
{
	struct dc_params p = {
		.namespace_ = "o'brien", .pods_before = "^shop-[a-z0-9]+-[0-9]+$", .pods_after = "^shop-[a-z0-9]+-[0-9]+$",
		.before_from = 1000, .before_to = 2000, .after_from = 5000, .after_to = 6000, .min_samples = 10,
		.min_requests = 20, .max_not_ready = 10, .cpu_rel = 0.3, .cpu_abs = 50, .mem_rel = 0.2,
		.mem_abs = 32 * 1048576.0, .p95_rel = 0.5, .err_abs = 1, .err_rel = 0.5,
	};
	struct fake f = { .n = 0 };
	struct dc_result r;
	char err[256];
	CHECK(hg_deploy_check_run(&p, fake_query, &f, &r, err, sizeof err) == 0);
	/* before: 5 -> 5 from its first value: 0; after: a new pod 2 -> 3 from 0: 3. */
	CHECK(r.sig[DC_RESTARTS].before == 0 && r.sig[DC_RESTARTS].after == 3);
	CHECK(r.sig[DC_RESTARTS].verdict == DC_DEGRADED);
	CHECK_STR(r.sig[DC_RESTARTS].detail, "shop-b-2/app +3");
	/* No usage data: those signals are missing, and degraded still wins. */
	CHECK(r.sig[DC_CPU_MEDIAN].verdict == DC_MISSING && strstr(r.sig[DC_CPU_MEDIAN].detail, "0 per-pod samples"));
	CHECK(!r.sig[DC_ERROR_RATE].used);
	CHECK(r.verdict == DC_DEGRADED);
	/* The namespace is a quoted string literal, the regex a regex literal. */
	CHECK_INT(f.n, 6);
	CHECK(strstr(f.queries[1], "WHERE \"namespace\" = 'o\\'brien' AND \"pod_name\" =~ /^shop-[a-z0-9]+-[0-9]+$/ "
				   "AND time >= 1000 AND time < 2000") != NULL);
	CHECK(strstr(f.queries[0], "time >= 0 AND time < 1000 GROUP BY \"pod_name\", \"container_name\"") != NULL);

	/* With restarts allowed and usage data, per pod (the containers of one
	 * gather summed: 120m, 100Mi) and identical windows: healthy. */
	p.max_restarts = 5;
	f = (struct fake){ .usage = true };
	CHECK(hg_deploy_check_run(&p, fake_query, &f, &r, err, sizeof err) == 0);
	CHECK(r.sig[DC_CPU_MEDIAN].before == 120 && r.sig[DC_MEM_MEDIAN].after == 104857600);
	CHECK(r.sig[DC_RESTARTS].verdict == DC_OK);
	CHECK(r.verdict == DC_OK);
	/* min_samples above what there is: not enough data. */
	p.min_samples = 13;
	CHECK(hg_deploy_check_run(&p, fake_query, &f, &r, err, sizeof err) == 0);
	CHECK(r.verdict == DC_MISSING);
	CHECK(strstr(r.sig[DC_RESTARTS].detail, "12 kube_inventory samples") != NULL);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(judging),
		CHECK_CASE(quantiles),
		CHECK_CASE(shifts),
		CHECK_CASE(answers),
		CHECK_CASE(rates),
		CHECK_CASE(pods),
	};
	return CHECK_RUN(argc, argv, cases);
}
