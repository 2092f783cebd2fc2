/* The protobuf exposition: a stream of io.prometheus.client.MetricFamily
 * messages, each after its length as a varint. Bytes are gathered until a
 * whole message is in (one buffer, grown up to max_message and reused),
 * decoded with protobuf-c, walked into samples and freed. A message over
 * the bound is skipped by its length, so one huge family costs an error,
 * not the agent's memory. */
#include "prom.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.pb-c.h"

typedef Io__Prometheus__Client__MetricFamily MetricFamily;
typedef Io__Prometheus__Client__Metric Metric;

enum state { READ_LEN, READ_MSG, SKIP_MSG };

struct prom_proto {
	prom_sample_fn on_sample;
	prom_error_fn on_error;
	void *arg;
	size_t max;
	uint8_t *buf;
	size_t len, cap;
	enum state st;
	uint64_t need, varint;
	unsigned shift;
	unsigned long msgno, errors, families, samples;
	struct prom_sample s;
};

static void proto_error(struct prom_proto *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void proto_error(struct prom_proto *p, const char *fmt, ...)
{
	char msg[192];
	int n = snprintf(msg, sizeof msg, "message %lu: ", p->msgno);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	p->errors++;
	if (p->on_error)
		p->on_error(p->arg, msg);
}

struct prom_proto *hg_prom_proto_new(size_t max_message, prom_sample_fn on_sample, prom_error_fn on_error, void *arg)
{
	struct prom_proto *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->max = max_message ? max_message : (4u << 20);
	p->on_sample = on_sample;
	p->on_error = on_error;
	p->arg = arg;
	hg_prom_proto_reset(p);
	return p;
}

void hg_prom_proto_free(struct prom_proto *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

void hg_prom_proto_reset(struct prom_proto *p)
{
	p->st = READ_LEN;
	p->len = 0;
	p->need = p->varint = 0;
	p->shift = 0;
	p->msgno = p->errors = p->families = p->samples = 0;
}

unsigned long hg_prom_proto_errors(const struct prom_proto *p)
{
	return p->errors;
}

unsigned long hg_prom_proto_families(const struct prom_proto *p)
{
	return p->families;
}

unsigned long hg_prom_proto_samples(const struct prom_proto *p)
{
	return p->samples;
}

static void emit(struct prom_proto *p, enum prom_part part, double bound, double value)
{
	p->s.part = part;
	p->s.bound = bound;
	p->s.value = value;
	p->samples++;
	p->on_sample(p->arg, &p->s);
}

static void walk_metric(struct prom_proto *p, const MetricFamily *mf, const Metric *m)
{
	struct prom_sample *s = &p->s;
	if (m->n_label > PROM_MAX_LABELS) {
		proto_error(p, "metric of %s has more than %d labels", mf->name, PROM_MAX_LABELS);
		return;
	}
	s->nlabels = 0;
	for (size_t i = 0; i < m->n_label; i++) {
		const char *n = m->label[i]->name ? m->label[i]->name : "";
		const char *v = m->label[i]->value ? m->label[i]->value : "";
		s->labels[s->nlabels++] = (struct prom_label){ sv_c(n), sv_c(v) };
	}
	s->has_ts = m->has_timestamp_ms;
	s->ts_ms = m->has_timestamp_ms ? m->timestamp_ms : 0;
	int type = mf->has_type ? (int)mf->type : IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
	if (type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY) {
		s->type = PROM_SUMMARY;
		const Io__Prometheus__Client__Summary *sm = m->summary;
		if (!sm)
			return;
		for (size_t i = 0; i < sm->n_quantile; i++)
			emit(p, PROM_QUANTILE, sm->quantile[i]->quantile, sm->quantile[i]->value);
		emit(p, PROM_SUM, 0, sm->sample_sum);
		emit(p, PROM_COUNT, 0, (double)sm->sample_count);
		return;
	}
	if (type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM ||
	    type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE_HISTOGRAM) {
		s->type = PROM_HISTOGRAM;
		const Io__Prometheus__Client__Histogram *h = m->histogram;
		if (!h)
			return;
		for (size_t i = 0; i < h->n_bucket; i++) {
			const Io__Prometheus__Client__Bucket *b = h->bucket[i];
			double c = b->has_cumulative_count || !b->has_cumulative_count_float ? (double)b->cumulative_count
											      : b->cumulative_count_float;
			emit(p, PROM_BUCKET, b->upper_bound, c);
		}
		emit(p, PROM_SUM, 0, h->sample_sum);
		emit(p, PROM_COUNT, 0,
		     h->has_sample_count || !h->has_sample_count_float ? (double)h->sample_count : h->sample_count_float);
		return;
	}
	/* As Telegraf: the value and its v1 field name come from whichever of
	 * gauge, counter, untyped the metric carries. */
	if (m->gauge) {
		s->type = PROM_GAUGE;
		emit(p, PROM_VALUE, 0, m->gauge->value);
	} else if (m->counter) {
		s->type = PROM_COUNTER;
		emit(p, PROM_VALUE, 0, m->counter->value);
	} else if (m->untyped) {
		s->type = PROM_UNTYPED;
		emit(p, PROM_VALUE, 0, m->untyped->value);
	}
}

static void decode(struct prom_proto *p, const uint8_t *data, size_t n)
{
	MetricFamily *mf = io__prometheus__client__metric_family__unpack(NULL, n, data);
	if (!mf) {
		proto_error(p, "not a valid MetricFamily message (%zu bytes)", n);
		return;
	}
	if (!mf->name || !mf->name[0]) {
		proto_error(p, "MetricFamily without a name");
		io__prometheus__client__metric_family__free_unpacked(mf, NULL);
		return;
	}
	p->families++;
	p->s.family = sv_c(mf->name);
	for (size_t i = 0; i < mf->n_metric; i++)
		walk_metric(p, mf, mf->metric[i]);
	io__prometheus__client__metric_family__free_unpacked(mf, NULL);
}

static bool grow(struct prom_proto *p, size_t want)
{
	if (want <= p->cap)
		return true;
	size_t cap = p->cap ? p->cap : 4096;
	while (cap < want)
		cap *= 2;
	if (cap > p->max)
		cap = p->max;
	uint8_t *nb = realloc(p->buf, cap);
	if (!nb)
		return false;
	p->buf = nb;
	p->cap = cap;
	return true;
}

void hg_prom_proto_feed(struct prom_proto *p, const char *data, size_t n)
{
	const uint8_t *d = (const uint8_t *)data;
	while (n) {
		if (p->st == READ_LEN) {
			uint8_t b = *d++;
			n--;
			if (p->shift >= 63) {
				/* Ten bytes and still going: nothing to resync on. */
				proto_error(p, "length prefix is not a varint");
				p->st = SKIP_MSG;
				p->need = UINT64_MAX;
				continue;
			}
			p->varint |= (uint64_t)(b & 0x7f) << p->shift;
			p->shift += 7;
			if (b & 0x80)
				continue;
			p->msgno++;
			p->need = p->varint;
			p->varint = 0;
			p->shift = 0;
			p->len = 0;
			if (p->need > p->max) {
				proto_error(p, "MetricFamily of %llu bytes is over the %zu-byte limit", (unsigned long long)p->need,
					    p->max);
				p->st = SKIP_MSG;
			} else if (!grow(p, (size_t)p->need)) {
				proto_error(p, "out of memory for a %llu-byte message", (unsigned long long)p->need);
				p->st = SKIP_MSG;
			} else {
				p->st = READ_MSG;
			}
			if (p->need == 0) { /* an empty message: an unnamed family */
				if (p->st == READ_MSG)
					decode(p, p->buf, 0);
				p->st = READ_LEN;
			}
			continue;
		}
		size_t take = n < p->need - p->len ? n : (size_t)(p->need - p->len);
		if (p->st == READ_MSG)
			memcpy(p->buf + p->len, d, take);
		p->len += take;
		d += take;
		n -= take;
		if (p->len == p->need) {
			if (p->st == READ_MSG)
				decode(p, p->buf, p->len);
			p->st = READ_LEN;
			p->len = 0;
		}
	}
}

void hg_prom_proto_finish(struct prom_proto *p)
{
	if (p->st != READ_LEN || p->shift) {
		if (p->st == READ_LEN)
			p->msgno++;
		if (!(p->st == SKIP_MSG && p->need == UINT64_MAX))
			proto_error(p, "stream ends inside a message");
	}
	p->st = READ_LEN;
	p->len = 0;
	p->shift = 0;
	p->varint = 0;
}
