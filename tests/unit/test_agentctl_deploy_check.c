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
	ds_sort(v, 10);
	CHECK(v[0] == 1 && v[9] == 10);
	CHECK(ds_quantile(v, 10, 0.5) == 5);  /* nearest rank: the 5th of 10 */
	CHECK(ds_quantile(v, 10, 0.95) == 10);
	CHECK(ds_quantile(v, 10, 0.05) == 1);
	CHECK(ds_quantile(v, 1, 0.5) == 1);
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
	ds_sort(b, N);
	ds_sort(a, N);
	struct ds_shift sh;
	CHECK(ds_compare(b, N, a, N, &sh) == 0);
	CHECK(fabs(sh.hl - 100) < 5);
	CHECK(sh.z > 6);
	CHECK(ds_exceeds(200, 200 + sh.hl, 0.2, 32));
	/* Flapping between 100 and 300, 29 of 60 high before and 31 after: the
	 * medians are 100 and 300, the shift is 0 and z is noise. */
	for (int i = 0; i < N; i++) {
		b[i] = i < 29 ? 300 : 100;
		a[i] = i < 31 ? 300 : 100;
	}
	ds_sort(b, N);
	ds_sort(a, N);
	CHECK(ds_quantile(b, N, 0.5) == 100 && ds_quantile(a, N, 0.5) == 300);
	CHECK(ds_compare(b, N, a, N, &sh) == 0);
	CHECK(sh.hl == 0);
	CHECK(sh.z < DS_Z_SIGNIFICANT);
	/* Identical sets: no shift, z 0. */
	CHECK(ds_compare(b, N, b, N, &sh) == 0);
	CHECK(sh.hl == 0 && fabs(sh.z) < 1e-9);
	/* Large sets are subsampled: same answer, bounded work. */
	size_t big = 200000;
	double *x = malloc(big * sizeof *x), *y = malloc(big * sizeof *y);
	for (size_t i = 0; i < big; i++) {
		x[i] = (double)i;
		y[i] = (double)i + 1000;
	}
	CHECK(ds_compare(x, big, y, big, &sh) == 0);
	CHECK(fabs(sh.hl - 1000) < 800);
	free(x);
	free(y);
	/* Thresholds: both relative and absolute must pass; a fall never does. */
	CHECK(!ds_exceeds(100, 110, 0.2, 1));
	CHECK(!ds_exceeds(100, 130, 0.2, 50));
	CHECK(ds_exceeds(100, 130, 0.2, 20));
	CHECK(!ds_exceeds(100, 50, 0.2, 0));
	CHECK(ds_exceeds(0, 2, 0.5, 1));
}

static void answers(void)
{
	char err[512];
	struct influx_answer a;
	const char *ok = "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"m\",\"tags\":{\"pod_name\":\"p1\"},"
			 "\"columns\":[\"time\",\"v\",\"s\"],\"values\":[[1796649659000000000,2.5,null],[2,3,\"x\"]]}]}]}";
	CHECK(influx_answer_parse(ok, &a, err, sizeof err) == 0);
	CHECK_INT(a.nseries, 1);
	const struct ia_series *s = &a.series[0];
	CHECK_STR(ia_tag(s, "pod_name"), "p1");
	CHECK(ia_tag(s, "node_name") == NULL);
	CHECK_INT(ia_col(s, "v"), 1);
	CHECK_INT(ia_col(s, "nope"), -1);
	double v;
	int64_t t;
	CHECK(ia_num(s, 0, 1, &v) && v == 2.5);
	CHECK(ia_num(s, 1, 1, &v) && v == 3);
	CHECK(!ia_num(s, 0, 2, &v));
	CHECK(!ia_num(s, 2, 1, &v));
	CHECK(!ia_num(s, 0, 3, &v));
	CHECK_STR(ia_str(s, 1, 2), "x");
	CHECK(ia_int(s, 0, 0, &t) && t == 1796649659000000000LL);
	influx_answer_free(&a);

	CHECK(influx_answer_parse("{\"results\":[{\"statement_id\":0}]}", &a, err, sizeof err) == 0);
	CHECK_INT(a.nseries, 0);
	influx_answer_free(&a);

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
		CHECK(influx_answer_parse(bad[i].body, &a, err, sizeof err) == -1);
		CHECK(strstr(err, bad[i].says) != NULL);
		CHECK(a.root == NULL && a.series == NULL);
	}
}

static void rates(void)
{
	char err[512];
	struct dc_rate r;
	CHECK(dc_rate_parse("http_requests_total{code=~\"5..\", method != \"GET\"} / http_requests_total", 1, &r, err,
			    sizeof err) == 0);
	CHECK_STR(r.num.measurement, "http_requests_total");
	CHECK_STR(r.num.field, "counter");
	CHECK_STR(r.num.where, " AND \"code\" =~ /^(?:5..)$/ AND \"method\" != 'GET'");
	CHECK_STR(r.den.where, "");
	CHECK(dc_rate_parse("errs{path=\"/a'b\"} / reqs", 2, &r, err, sizeof err) == 0);
	CHECK_STR(r.num.measurement, "prometheus");
	CHECK_STR(r.num.field, "errs");
	CHECK_STR(r.num.where, " AND \"path\" = '/a\\'b'");
	CHECK_STR(r.den.field, "reqs");
	CHECK(dc_rate_parse("errs{p=~\"a/b\"} / reqs", 1, &r, err, sizeof err) == 0);
	CHECK_STR(r.num.where, " AND \"p\" =~ /^(?:a\\/b)$/");
	static const char *const bad[] = { "", "errs", "errs / ", "errs{code=5} / r", "errs{code=\"5\" / r", "{} / r",
					   "errs / reqs extra", "errs{code==\"5\"} / r" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		CHECK(dc_rate_parse(bad[i], 1, &r, err, sizeof err) == -1);
		CHECK(err[0] != '\0');
	}
}

static void pods(void)
{
	char re[600];
	CHECK(dc_workload_pods("shop", NULL, re, sizeof re) == 0);
	CHECK_STR(re, "^shop-[a-z0-9]+-[a-z0-9]+$");
	CHECK(dc_workload_pods("shop.v2", "5d4f6b7c8", re, sizeof re) == 0);
	CHECK_STR(re, "^shop\\.v2-5d4f6b7c8-[a-z0-9]+$");
	CHECK(dc_workload_pods("Shop", NULL, re, sizeof re) == -1);
	CHECK(dc_workload_pods("shop-", NULL, re, sizeof re) == -1);
	CHECK(dc_workload_pods("shop", "a-b", re, sizeof re) == -1);
	CHECK(dc_workload_pods("", NULL, re, sizeof re) == -1);
}

int main(void)
{
	quantiles();
	shifts();
	answers();
	rates();
	pods();
	CHECK_DONE();
}
