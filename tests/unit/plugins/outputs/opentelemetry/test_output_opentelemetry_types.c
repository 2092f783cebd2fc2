/* The opentelemetry output's encoder alone: the metric types it gives lines.
 * Telegraf prometheus v1 gauge/counter/untyped/histogram/summary lines, the
 * counters of Telegraf's inputs as cumulative monotonic Sums (a table, one
 * row per field), and type conflicts within a batch. The requests it sends
 * are in test_output_opentelemetry_http.c. */
#include "check.h"
#include "otlp_check.h"

/* Telegraf prometheus v1 lines (as our prometheus input writes them) take
 * influx2otel's types and names: gauge -> Gauge m, counter -> Sum m,
 * untyped (value) -> Gauge m_value, histogram -> Histogram m, summary ->
 * Summary m. */
static void test_prometheus_v1(void)
{
	struct otlp_stats st;
	Otlp__ExportMetricsServiceRequest *q = encode_lp(
		"go_goroutines,url=u gauge=42 1700000000000000000\n"
		"x_total,code=200,url=u counter=1027 1700000000000000001\n"
		"up,url=u value=1 1700000000000000002\n"
		/* fields out of order, as a user's line may be; cumulative le counts */
		"req_seconds,url=u 1=3,0.1=1,+Inf=4,count=4,sum=1.5,0.5=2 1700000000000000003\n"
		/* counts that are not cumulative are kept as they are */
		"odd,url=u 1=5,2=3,+Inf=9,count=9,sum=0 1700000000000000004\n"
		"rpc_seconds,url=u 0.99=0.4,0.5=0.2,count=10,sum=3 1700000000000000005\n"
		/* a summary without quantiles (client_python's default) */
		"bare_seconds count=2,sum=0.5 1700000000000000006\n"
		/* a histogram without buckets but +Inf, integer values */
		"h_int +Inf=7i,count=7i,sum=21i 1700000000000000007\n"
		/* a gauge field with others: they stay gauges m_f (influx2otel drops them) */
		"g gauge=1,extra=2 1700000000000000008\n",
		&st);
	CHECK_INT(st.points, 10);
	CHECK_INT(st.conflicts, 0);
	CHECK_INT(n_metrics(q), 10);

	const Otlp__NumberDataPoint *p = gauge_point(q, "go_goroutines");
	check_double(p, 42, 1700000000000000000ULL, "url=u");
	p = sum_point(q, "x_total");
	check_double(p, 1027, 1700000000000000001ULL, "code=200,url=u");
	p = gauge_point(q, "up_value");
	check_double(p, 1, 1700000000000000002ULL, "url=u");
	check_double(gauge_point(q, "g"), 1, 1700000000000000008ULL, "");
	check_double(gauge_point(q, "g_extra"), 2, 1700000000000000008ULL, "");

	const Otlp__Metric *m = find(q, "req_seconds", OTLP__METRIC__DATA_HISTOGRAM);
	if (m) {
		CHECK_INT(m->histogram->aggregation_temporality,
			  OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
		CHECK_INT(m->histogram->n_data_points, 1);
		const Otlp__HistogramDataPoint *h = m->histogram->data_points[0];
		CHECK_INT(h->n_explicit_bounds, 3);
		CHECK_INT(h->n_bucket_counts, 4);
		if (h->n_explicit_bounds == 3 && h->n_bucket_counts == 4) {
			CHECK(h->explicit_bounds[0] == 0.1 && h->explicit_bounds[1] == 0.5 && h->explicit_bounds[2] == 1);
			/* le counts 1, 2, 3, 4 -> one observation per bucket */
			for (size_t i = 0; i < 4; i++)
				CHECK_INT(h->bucket_counts[i], 1);
		}
		CHECK_INT(h->count, 4);
		CHECK_INT(h->n_sum, 1);
		CHECK(h->n_sum == 1 && h->sum[0] == 1.5);
		CHECK(h->time_unix_nano == 1700000000000000003ULL);
		CHECK_INT(h->start_time_unix_nano, 0);
		CHECK_STR(kvs(h->attributes, h->n_attributes), "url=u");
	}
	m = find(q, "odd", OTLP__METRIC__DATA_HISTOGRAM);
	if (m && m->histogram->n_data_points == 1) {
		const Otlp__HistogramDataPoint *h = m->histogram->data_points[0];
		CHECK_INT(h->n_bucket_counts, 3);
		if (h->n_bucket_counts == 3) {
			CHECK_INT(h->bucket_counts[0], 5);
			CHECK_INT(h->bucket_counts[1], 3);
			CHECK_INT(h->bucket_counts[2], 9);
		}
		/* a sum of 0 is sent: OTLP's sum is optional, and present */
		CHECK(h->n_sum == 1 && h->sum[0] == 0);
	}
	m = find(q, "h_int", OTLP__METRIC__DATA_HISTOGRAM);
	if (m && m->histogram->n_data_points == 1) {
		const Otlp__HistogramDataPoint *h = m->histogram->data_points[0];
		CHECK_INT(h->n_explicit_bounds, 0);
		CHECK(h->n_bucket_counts == 1 && h->bucket_counts[0] == 7);
		CHECK_INT(h->count, 7);
		CHECK(h->n_sum == 1 && h->sum[0] == 21);
	}
	m = find(q, "rpc_seconds", OTLP__METRIC__DATA_SUMMARY);
	if (m && m->summary->n_data_points == 1) {
		const Otlp__SummaryDataPoint *s = m->summary->data_points[0];
		CHECK_INT(s->count, 10);
		CHECK(s->sum == 3);
		CHECK_INT(s->n_quantile_values, 2);
		if (s->n_quantile_values == 2) {
			CHECK(s->quantile_values[0]->quantile == 0.5 && s->quantile_values[0]->value == 0.2);
			CHECK(s->quantile_values[1]->quantile == 0.99 && s->quantile_values[1]->value == 0.4);
		}
		CHECK(s->time_unix_nano == 1700000000000000005ULL);
		CHECK_STR(kvs(s->attributes, s->n_attributes), "url=u");
	}
	m = find(q, "bare_seconds", OTLP__METRIC__DATA_SUMMARY);
	if (m && m->summary->n_data_points == 1) {
		CHECK_INT(m->summary->data_points[0]->count, 2);
		CHECK(m->summary->data_points[0]->sum == 0.5);
		CHECK_INT(m->summary->data_points[0]->n_quantile_values, 0);
	}
	otlp__export_metrics_service_request__free_unpacked(q, NULL);

	/* A histogram line without the +Inf bucket is taken for a summary (the
	 * exposition formats require +Inf in every histogram); metric_version 2
	 * lines are gauges named by their field. */
	q = encode_lp("noinf 0.5=1,1=2,count=2,sum=1\n"
		      "prometheus,url=u go_goroutines=5 1\n",
		      &st);
	find(q, "noinf", OTLP__METRIC__DATA_SUMMARY);
	check_double(gauge_point(q, "go_goroutines"), 5, 1, "url=u");
	otlp__export_metrics_service_request__free_unpacked(q, NULL);
}

/* Fields Telegraf's inputs add with AddCounter are cumulative monotonic
 * Sums; the rest of the same lines stay gauges. One row per metric of the
 * batch below: its type, whether its point is an int, value and attributes. */
static const struct {
	const char *name;
	bool sum, is_int;
	double value;
	const char *attrs;
} counters[] = {
	{ "cpu_time_user", true, false, 10.5, "cpu=cpu0" },
	{ "cpu_usage_user", false, false, 1.5, "cpu=cpu0" },
	{ "net_bytes_sent", true, true, 100, "interface=eth0" },
	{ "net_packets_recv", true, true, 7, "interface=eth0" },
	{ "net_speed", true, true, 1000, "interface=eth0" },
	{ "system_uptime", true, true, 3600, "" },
	{ "system_load1", false, false, 0.5, "" },
	{ "swap_in", true, true, 4096, "" },
	{ "swap_total", false, true, 1000, "" },
	{ "diskio_reads", true, true, 3, "name=sda" },
	{ "diskio_io_util", true, false, 0.5, "name=sda" },
	{ "kernel_context_switches", true, true, 99, "" },
	{ "kernel_entropy_avail", true, true, 256, "" },
	{ "pressure_total", true, true, 12, "resource=cpu,type=some" },
	{ "pressure_avg10", false, false, 0.1, "resource=cpu,type=some" },
	{ "conntrack_found", true, true, 3, "cpu=all" },
	{ "conntrack_ip_conntrack_count", false, false, 9, "" },
	{ "interrupts_count", false, true, 5, "cpu=cpu0,irq=0" },
	{ "mem_used", false, true, 1, "" },
};

static void test_input_counters(void)
{
	struct otlp_stats st;
	Otlp__ExportMetricsServiceRequest *q = encode_lp(
		"cpu,cpu=cpu0 time_user=10.5,usage_user=1.5 5\n"
		"net,interface=eth0 bytes_sent=100u,packets_recv=7u,speed=1000i 5\n"
		"system load1=0.5,uptime=3600u,uptime_format=\" 1:00\" 5\n"
		"swap in=4096u,total=1000u 5\n"
		"diskio,name=sda reads=3u,io_util=0.5 5\n"
		"kernel context_switches=99i,entropy_avail=256i 5\n"
		"pressure,resource=cpu,type=some total=12u,avg10=0.1 5\n"
		"conntrack,cpu=all found=3u 5\n"
		"conntrack ip_conntrack_count=9 5\n"
		/* interrupts' cpu_as_tag line: a lone count is not a histogram */
		"interrupts,cpu=cpu0,irq=0 count=5i 5\n"
		"mem used=1u 5\n",
		&st);
	CHECK_INT(st.points, 19);
	CHECK_INT(st.string_fields, 1);
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
		int before = check_failures;
		const Otlp__NumberDataPoint *p = counters[i].sum ? sum_point(q, counters[i].name)
								 : gauge_point(q, counters[i].name);
		if (counters[i].is_int)
			check_int(p, (int64_t)counters[i].value, 5, counters[i].attrs);
		else
			check_double(p, counters[i].value, 5, counters[i].attrs);
		CHECK_ROW(before, counters[i].name);
	}
	otlp__export_metrics_service_request__free_unpacked(q, NULL);
}

/* A name that is already a metric of another type in the batch keeps its
 * type; the other point is not sent and is counted (influx2otel: "value
 * type conflict"). */
static void test_type_conflict(void)
{
	struct otlp_stats st;
	Otlp__ExportMetricsServiceRequest *q = encode_lp("x counter=1 1\n"
							 "x gauge=2 2\n"
							 "x 0.5=1,count=1,sum=1 3\n"
							 "x counter=3 4\n",
							 &st);
	CHECK_INT(st.points, 2);
	CHECK_INT(st.conflicts, 2);
	CHECK_STR(st.first_conflict, "x");
	const Otlp__Metric *m = find(q, "x", OTLP__METRIC__DATA_SUM);
	CHECK(m && m->sum->n_data_points == 2);
	otlp__export_metrics_service_request__free_unpacked(q, NULL);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_prometheus_v1),
		CHECK_CASE(test_input_counters),
		CHECK_CASE(test_type_conflict),
	};
	return CHECK_RUN(argc, argv, cases);
}
