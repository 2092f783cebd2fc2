/* A Telegraf prometheus v1 histogram or summary line (fields named by bucket
 * bound or quantile, plus count and sum; see otlp_shape.h) as one OTLP
 * HistogramDataPoint or SummaryDataPoint, built in the batch's arena.
 * Attributes and times are the caller's. */
#ifndef HG_OTLP_DIST_H
#define HG_OTLP_DIST_H
#include <stddef.h>
#include "arena.h"
#include "metric.h"
#include "otlp_metrics.pb-c.h"

struct otlp_pair {
	double key, value;
};

/* Reused between lines and batches; grows to the widest line seen. */
struct otlp_dist_scratch {
	struct otlp_pair *p;
	size_t cap;
};

/* NULL when out of memory. */
Otlp__HistogramDataPoint *hg_otlp_histogram_point(struct arena *a, struct otlp_dist_scratch *s, const struct metric *m);
Otlp__SummaryDataPoint *hg_otlp_summary_point(struct arena *a, struct otlp_dist_scratch *s, const struct metric *m);
void hg_otlp_dist_scratch_free(struct otlp_dist_scratch *s);

#endif
