/* Line protocol -> OTLP ExportMetricsServiceRequest, the mapping of
 * Telegraf's opentelemetry output (influx2otel's "prometheus-v1" schema):
 * prometheus v1 gauge/counter lines as a Gauge/Sum named after the
 * measurement, v1 histogram/summary lines as one Histogram/Summary point,
 * the counters of Telegraf's inputs as Sums named measurement_field, every
 * other numeric field a Gauge named measurement_field (otlp_shape.h); the
 * tags are data point attributes. One resource (configured attributes) and
 * one scope (heliograph and its version) per request. */
#ifndef HG_OTLP_ENCODE_H
#define HG_OTLP_ENCODE_H
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "lp_batch.h"
#include "options.h"
#include "otlp_dist.h"
#include "otlp_metrics.pb-c.h"

struct otlp_stats {
	size_t points;        /* data points written */
	size_t metrics;       /* distinct metric names */
	size_t string_fields; /* skipped: OTLP gauges carry numbers only */
	size_t bad_lines;     /* malformed lines, and lines before 1970 (OTLP time is unsigned) */
	size_t utf8_repaired; /* lines sent with U+FFFD for bytes that are not UTF-8 */
	size_t conflicts;     /* points not sent: their name is a metric of another type in the batch */
	char first_error[160];
	char first_conflict[128]; /* the first such name */
};

struct otlp_group;

struct otlp_encoder {
	struct lp_batch_reader rd;
	struct arena a;       /* per batch */
	struct arena keep;    /* the resource attributes, for the encoder's life */
	Otlp__KeyValue **res_attrs;
	size_t n_res_attrs;
	struct otlp_group *groups; /* one per metric name in the batch */
	size_t ngroups, gcap;
	uint32_t *slots; /* hash of names -> group index + 1 */
	size_t nslots;
	Otlp__Metric **metrics;
	size_t metrics_cap;
	unsigned char *pb;
	size_t pb_cap;
	char *fixed;          /* the batch with invalid UTF-8 replaced, when it has any */
	size_t fixed_cap;
	struct otlp_dist_scratch dist; /* a histogram/summary line's bounds, sorted */
};

/* Resource attributes (string values) from attrs. 0, or -1 with err. */
int hg_otlp_encoder_init(struct otlp_encoder *e, const struct strmap *attrs, char *err, size_t errlen);
/* Encodes data into *out (owned by e, valid until the next call); *outlen 0
 * when no point came out. Lines without a timestamp get now_ns. Bytes that
 * are not UTF-8 (OTLP strings must be) become U+FFFD, one per run, as Go's
 * strings.ToValidUTF8 does, rather than costing the line. A line before
 * 1970 is not sent: OTLP time is unsigned nanoseconds since the epoch, and
 * the wrapped value would read as the year 2554. 0, or -1 with err (out of
 * memory). */
int hg_otlp_encode(struct otlp_encoder *e, const char *data, size_t len, int64_t now_ns, const unsigned char **out,
		size_t *outlen, struct otlp_stats *st, char *err, size_t errlen);
void hg_otlp_encoder_free(struct otlp_encoder *e);

#endif
