/* libFuzzer target for the opentelemetry output's encoder (line protocol ->
 * OTLP), which now repairs bytes that are not UTF-8 itself. Whatever the
 * batch, the request must decode with protobuf-c, every string in it
 * (metric names, attribute keys and values) must be valid UTF-8 (a receiver
 * refuses the whole request otherwise), no time may be a wrapped negative
 * one, and the points counted must be the points sent, of every type
 * (gauge, sum, histogram, summary). Sums are cumulative and monotonic;
 * histograms have one bucket more than bounds, bounds in order and no
 * NaN or +Inf among them, at most one sum; summaries' quantiles in order. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../plugins/outputs/opentelemetry/otlp_encode.h"

#define ASSERT(c)                                                                         \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* Plain RFC 3629 check, written apart from the encoder's repair. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int str_ok(const char *s)
{
	return utf8_ok((const unsigned char *)s, strlen(s));
}

static void attrs_ok(Otlp__KeyValue **kv, size_t n)
{
	for (size_t a = 0; a < n; a++) {
		ASSERT(str_ok(kv[a]->key));
		ASSERT(str_ok(kv[a]->value->string_value));
	}
}

static void number_ok(const Otlp__NumberDataPoint *dp)
{
	ASSERT(dp->time_unix_nano <= (uint64_t)INT64_MAX);
	ASSERT(dp->start_time_unix_nano == 0);
	attrs_ok(dp->attributes, dp->n_attributes);
}

/* The data points of met, checked. */
static size_t check_metric(const Otlp__Metric *met)
{
	switch (met->data_case) {
	case OTLP__METRIC__DATA_GAUGE:
		for (size_t p = 0; p < met->gauge->n_data_points; p++)
			number_ok(met->gauge->data_points[p]);
		return met->gauge->n_data_points;
	case OTLP__METRIC__DATA_SUM:
		ASSERT(met->sum->aggregation_temporality ==
		       OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
		ASSERT(met->sum->is_monotonic);
		for (size_t p = 0; p < met->sum->n_data_points; p++)
			number_ok(met->sum->data_points[p]);
		return met->sum->n_data_points;
	case OTLP__METRIC__DATA_HISTOGRAM:
		ASSERT(met->histogram->aggregation_temporality ==
		       OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
		for (size_t p = 0; p < met->histogram->n_data_points; p++) {
			const Otlp__HistogramDataPoint *h = met->histogram->data_points[p];
			ASSERT(h->time_unix_nano <= (uint64_t)INT64_MAX);
			ASSERT(h->n_bucket_counts == h->n_explicit_bounds + 1);
			ASSERT(h->n_sum <= 1);
			for (size_t i = 0; i < h->n_explicit_bounds; i++) {
				ASSERT(!isnan(h->explicit_bounds[i]));
				ASSERT(!(isinf(h->explicit_bounds[i]) && h->explicit_bounds[i] > 0));
				ASSERT(i == 0 || h->explicit_bounds[i - 1] <= h->explicit_bounds[i]);
			}
			attrs_ok(h->attributes, h->n_attributes);
		}
		return met->histogram->n_data_points;
	case OTLP__METRIC__DATA_SUMMARY:
		for (size_t p = 0; p < met->summary->n_data_points; p++) {
			const Otlp__SummaryDataPoint *q = met->summary->data_points[p];
			ASSERT(q->time_unix_nano <= (uint64_t)INT64_MAX);
			for (size_t i = 1; i < q->n_quantile_values; i++)
				ASSERT(q->quantile_values[i - 1]->quantile <= q->quantile_values[i]->quantile);
			attrs_ok(q->attributes, q->n_attributes);
		}
		return met->summary->n_data_points;
	default:
		ASSERT(!"unexpected metric type");
	}
	return 0;
}

static struct otlp_encoder enc;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		struct strmap none = { 0 };
		char err[128];
		ASSERT(hg_otlp_encoder_init(&enc, &none, err, sizeof err) == 0);
		ready = 1;
	}
	const unsigned char *out;
	size_t outlen;
	struct otlp_stats st;
	char err[128];
	if (hg_otlp_encode(&enc, (const char *)data, size, 0, &out, &outlen, &st, err, sizeof err) != 0)
		return 0; /* out of memory */
	if (outlen == 0) {
		ASSERT(st.points == 0);
		return 0;
	}
	Otlp__ExportMetricsServiceRequest *q = otlp__export_metrics_service_request__unpack(NULL, outlen, out);
	ASSERT(q != NULL);
	size_t points = 0;
	for (size_t r = 0; r < q->n_resource_metrics; r++) {
		for (size_t s = 0; s < q->resource_metrics[r]->n_scope_metrics; s++) {
			const Otlp__ScopeMetrics *sm = q->resource_metrics[r]->scope_metrics[s];
			for (size_t m = 0; m < sm->n_metrics; m++) {
				const Otlp__Metric *met = sm->metrics[m];
				ASSERT(str_ok(met->name));
				points += check_metric(met);
			}
		}
	}
	ASSERT(points == st.points);
	otlp__export_metrics_service_request__free_unpacked(q, NULL);
	return 0;
}
