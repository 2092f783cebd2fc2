/* The harness of the opentelemetry output's tests (test_output_opentelemetry_*.c):
 * readers of a decoded ExportMetricsServiceRequest (attributes as "k=v,...",
 * a metric by name and type, its one point) and checks of a number point's
 * value, time and attributes; the encoder run alone on line protocol.
 * Test-only; every function is static. Include after check.h. */
#ifndef HG_OTLP_CHECK_H
#define HG_OTLP_CHECK_H
#define OTLP_FN static __attribute__((unused))

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_metrics.pb-c.h"
#include "otlp_encode.h"

/* "k=v,k=v" of a key/value list (string values). */
OTLP_FN const char *kvs(Otlp__KeyValue **kv, size_t n)
{
	static char buf[512];
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const Otlp__AnyValue *v = kv[i]->value;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s=%s", i ? "," : "", kv[i]->key,
			 v && v->value_case == OTLP__ANY_VALUE__VALUE_STRING_VALUE ? v->string_value : "?");
	}
	return buf;
}

OTLP_FN const Otlp__NumberDataPoint *point(const Otlp__Metric *m, size_t i)
{
	CHECK(m->data_case == OTLP__METRIC__DATA_GAUGE);
	if (m->data_case != OTLP__METRIC__DATA_GAUGE || i >= m->gauge->n_data_points)
		return NULL;
	return m->gauge->data_points[i];
}

OTLP_FN void check_double(const Otlp__NumberDataPoint *p, double v, uint64_t t, const char *attrs)
{
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_INT(p->value_case, OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
	CHECK(p->as_double == v);
	CHECK(p->time_unix_nano == t);
	CHECK_INT(p->start_time_unix_nano, 0);
	CHECK_STR(kvs(p->attributes, p->n_attributes), attrs);
}

OTLP_FN void check_int(const Otlp__NumberDataPoint *p, int64_t v, uint64_t t, const char *attrs)
{
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_INT(p->value_case, OTLP__NUMBER_DATA_POINT__VALUE_AS_INT);
	CHECK_INT(p->as_int, v);
	CHECK(p->time_unix_nano == t);
	CHECK_STR(kvs(p->attributes, p->n_attributes), attrs);
}

/* The encoder alone on lp; the decoded request, st filled. */
OTLP_FN Otlp__ExportMetricsServiceRequest *encode_lp(const char *lp, struct otlp_stats *st)
{
	struct otlp_encoder e;
	struct strmap none = { 0 };
	char err[128];
	CHECK_INT(hg_otlp_encoder_init(&e, &none, err, sizeof err), 0);
	const unsigned char *out;
	size_t len;
	CHECK_INT(hg_otlp_encode(&e, lp, strlen(lp), 0, &out, &len, st, err, sizeof err), 0);
	Otlp__ExportMetricsServiceRequest *q = len ? otlp__export_metrics_service_request__unpack(NULL, len, out) : NULL;
	CHECK(q != NULL);
	hg_otlp_encoder_free(&e);
	return q;
}

/* The metric called name, checked to be of type data_case. */
OTLP_FN const Otlp__Metric *find(const Otlp__ExportMetricsServiceRequest *q, const char *name, Otlp__Metric__DataCase dc)
{
	if (!q || q->n_resource_metrics != 1 || q->resource_metrics[0]->n_scope_metrics != 1)
		return NULL;
	const Otlp__ScopeMetrics *sm = q->resource_metrics[0]->scope_metrics[0];
	for (size_t i = 0; i < sm->n_metrics; i++) {
		if (strcmp(sm->metrics[i]->name, name) == 0) {
			if (sm->metrics[i]->data_case != dc)
				fprintf(stderr, "%s: data case %d, expected %d\n", name, sm->metrics[i]->data_case, dc);
			CHECK_INT(sm->metrics[i]->data_case, dc);
			return sm->metrics[i]->data_case == dc ? sm->metrics[i] : NULL;
		}
	}
	fprintf(stderr, "no metric %s\n", name);
	CHECK(!"metric missing");
	return NULL;
}

OTLP_FN size_t n_metrics(const Otlp__ExportMetricsServiceRequest *q)
{
	return q && q->n_resource_metrics == 1 && q->resource_metrics[0]->n_scope_metrics == 1
		       ? q->resource_metrics[0]->scope_metrics[0]->n_metrics
		       : 0;
}

/* A cumulative monotonic Sum with one point. */
OTLP_FN const Otlp__NumberDataPoint *sum_point(const Otlp__ExportMetricsServiceRequest *q, const char *name)
{
	const Otlp__Metric *m = find(q, name, OTLP__METRIC__DATA_SUM);
	if (!m)
		return NULL;
	CHECK_INT(m->sum->aggregation_temporality, OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	CHECK(m->sum->is_monotonic);
	CHECK_INT(m->sum->n_data_points, 1);
	return m->sum->n_data_points ? m->sum->data_points[0] : NULL;
}

OTLP_FN const Otlp__NumberDataPoint *gauge_point(const Otlp__ExportMetricsServiceRequest *q, const char *name)
{
	const Otlp__Metric *m = find(q, name, OTLP__METRIC__DATA_GAUGE);
	if (!m)
		return NULL;
	CHECK_INT(m->gauge->n_data_points, 1);
	return m->gauge->n_data_points ? m->gauge->data_points[0] : NULL;
}

#endif
