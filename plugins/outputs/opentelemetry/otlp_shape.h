/* Which OTLP metric type a line becomes, read from the line alone.
 *
 * Telegraf's opentelemetry output hands influx2otel (influxdb-observability)
 * each metric with its in-memory value type (gauge, counter, histogram,
 * summary, untyped). Our lines come back from a line protocol buffer or
 * spool, where that type is gone, so it is recovered here:
 * - the shapes of Telegraf's prometheus input (metric_version 1) are
 *   recognised from the field names: a "gauge" or "counter" field, or
 *   fields that are all bucket bounds / quantiles plus "count" and "sum";
 * - the fields our own inputs emit where Telegraf's call acc.AddCounter
 *   are listed in a table (otlp_shape.c), each entry with its source;
 * - everything else is a gauge per field, as influx2otel's fallback. */
#ifndef HG_OTLP_SHAPE_H
#define HG_OTLP_SHAPE_H
#include <stdbool.h>
#include "metric.h"

enum otlp_kind { OTLP_KIND_GAUGE, OTLP_KIND_SUM, OTLP_KIND_HISTOGRAM, OTLP_KIND_SUMMARY };

enum otlp_form {
	OTLP_FORM_FIELDS, /* one point per numeric field, named m_f (or f for measurement "prometheus") */
	OTLP_FORM_VALUE,  /* prometheus v1 gauge/counter: field `value` is one point named m, the
			     other numeric fields are gauges m_f */
	OTLP_FORM_DIST,   /* prometheus v1 histogram/summary: the whole line is one point named m */
};

struct otlp_shape {
	enum otlp_form form;
	enum otlp_kind kind; /* VALUE: GAUGE or SUM; DIST: HISTOGRAM or SUMMARY */
	size_t value;        /* VALUE: index of the gauge/counter field */
};

void hg_otlp_shape_of(const struct metric *m, struct otlp_shape *s);

/* FIELDS form: SUM when Telegraf's input marks the field a counter, else GAUGE. */
enum otlp_kind hg_otlp_field_kind(struct sv measurement, struct sv field);

/* A field name as a bucket bound or quantile: what Go's strconv.ParseFloat
 * takes (decimal, exponent, Inf/Infinity spellings), NaN and hexadecimal
 * excepted. */
bool hg_otlp_bound(struct sv key, double *out);

/* Field values of the shapes above: true for float, int and uint fields. */
bool hg_otlp_numeric(const struct metric_field *f, double *out);

#endif
