/* See otlp_dist.h. The conversion is influx2otel's convertHistogramV1,
 * convertSummaryV1 and GetMetrics (influxdb-observability): bounds sorted,
 * Prometheus' cumulative `le` counts turned into per-bucket counts when they
 * are cumulative, the +Inf bound dropped from explicit_bounds (its count
 * stays the last bucket), or, without a +Inf field, a last bucket of
 * count minus the buckets. */
#include "otlp_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_shape.h"

static int by_key(const void *a, const void *b)
{
	double x = ((const struct otlp_pair *)a)->key, y = ((const struct otlp_pair *)b)->key;
	return x < y ? -1 : x > y;
}

/* A count as OTLP's fixed64: Go's uint64(float64) for the values Telegraf
 * produces; negative and NaN (which Go leaves undefined) are 0, too large is
 * the maximum. */
static uint64_t as_count(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

/* The bound fields of m into s, sorted by bound; count and sum (has_sum
 * when m has one). Number of pairs, or -1 when out of memory. */
static long collect(struct otlp_dist_scratch *s, const struct metric *m, uint64_t *count, double *sum, bool *has_sum)
{
	if (m->nfields > s->cap) {
		struct otlp_pair *p = realloc(s->p, m->nfields * sizeof(*p));
		if (!p)
			return -1;
		s->p = p;
		s->cap = m->nfields;
	}
	size_t n = 0;
	*count = 0;
	*sum = 0;
	*has_sum = false;
	double v, b;
	for (size_t i = 0; i < m->nfields; i++) {
		const struct metric_field *f = &m->fields[i];
		if (!hg_otlp_numeric(f, &v))
			continue;
		if (sv_eq_c(f->key, "count"))
			*count = as_count(v);
		else if (sv_eq_c(f->key, "sum"))
			*sum = v, *has_sum = true;
		else if (hg_otlp_bound(f->key, &b))
			s->p[n++] = (struct otlp_pair){ b, v };
	}
	qsort(s->p, n, sizeof(*s->p), by_key);
	return (long)n;
}

Otlp__HistogramDataPoint *hg_otlp_histogram_point(struct arena *a, struct otlp_dist_scratch *s, const struct metric *m)
{
	uint64_t count;
	double sum;
	bool has_sum;
	long nl = collect(s, m, &count, &sum, &has_sum);
	Otlp__HistogramDataPoint *p = hg_arena_alloc(a, sizeof(*p));
	if (nl < 0 || !p)
		return NULL;
	size_t n = (size_t)nl;
	otlp__histogram_data_point__init(p);
	/* n bounds give n + 1 buckets; a +Inf bound is not sent, its bucket is.
	 * A second +Inf field ("+Inf" and "Inf", never from an exposition) is
	 * left out, so no bound is +Inf. */
	bool inf = false;
	for (size_t i = 0; i < n && !inf; i++)
		if (isinf(s->p[i].key) && s->p[i].key > 0)
			inf = true, n = i + 1;
	size_t nb = inf ? n - 1 : n;
	uint64_t *counts = hg_arena_alloc(a, (nb + 1) * sizeof(*counts));
	double *bounds = nb ? hg_arena_alloc(a, nb * sizeof(*bounds)) : NULL;
	double *sums = has_sum ? hg_arena_alloc(a, sizeof(*sums)) : NULL;
	if (!counts || (nb && !bounds) || (has_sum && !sums))
		return NULL;
	bool cumulative = true;
	for (size_t i = 0; i < n; i++) {
		counts[i] = as_count(s->p[i].value);
		if (i && counts[i - 1] > counts[i])
			cumulative = false; /* not Prometheus' `le` counts: kept as they are */
	}
	if (cumulative)
		for (size_t i = n; i-- > 1;)
			counts[i] -= counts[i - 1];
	for (size_t i = 0; i < nb; i++)
		bounds[i] = s->p[i].key;
	if (!inf) {
		uint64_t rest = count;
		for (size_t i = 0; i < n; i++)
			rest -= counts[i];
		counts[n] = rest <= count ? rest : count; /* as influx2otel: count when the buckets exceed it */
	}
	p->n_bucket_counts = nb + 1;
	p->bucket_counts = counts;
	p->n_explicit_bounds = nb;
	p->explicit_bounds = bounds;
	p->count = count;
	if (has_sum) {
		sums[0] = sum;
		p->n_sum = 1;
		p->sum = sums;
	}
	return p;
}

Otlp__SummaryDataPoint *hg_otlp_summary_point(struct arena *a, struct otlp_dist_scratch *s, const struct metric *m)
{
	uint64_t count;
	double sum;
	bool has_sum;
	long nl = collect(s, m, &count, &sum, &has_sum);
	Otlp__SummaryDataPoint *p = hg_arena_alloc(a, sizeof(*p));
	if (nl < 0 || !p)
		return NULL;
	size_t n = (size_t)nl;
	otlp__summary_data_point__init(p);
	p->count = count;
	p->sum = sum;
	if (n) {
		Otlp__SummaryDataPoint__ValueAtQuantile **qv = hg_arena_alloc(a, n * sizeof(*qv));
		Otlp__SummaryDataPoint__ValueAtQuantile *q = hg_arena_alloc(a, n * sizeof(*q));
		if (!qv || !q)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			otlp__summary_data_point__value_at_quantile__init(&q[i]);
			q[i].quantile = s->p[i].key;
			q[i].value = s->p[i].value;
			qv[i] = &q[i];
		}
		p->n_quantile_values = n;
		p->quantile_values = qv;
	}
	return p;
}

void hg_otlp_dist_scratch_free(struct otlp_dist_scratch *s)
{
	free(s->p);
	s->p = NULL;
	s->cap = 0;
}
