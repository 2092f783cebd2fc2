/* See hg_otlp_encode.h. */
#include "otlp_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_dist.h"
#include "otlp_shape.h"

struct otlp_group {
	const char *name;
	size_t len;
	uint64_t hash;
	enum otlp_kind kind; /* that of the first point; points of another kind are not sent */
	void **pts;          /* data points of kind's type, in the arena; doubled as it fills */
	size_t n, cap;
};

static Otlp__KeyValue *string_kv(struct arena *a, const char *k, size_t kl, const char *v, size_t vl)
{
	Otlp__KeyValue *kv = hg_arena_alloc(a, sizeof(*kv));
	Otlp__AnyValue *av = hg_arena_alloc(a, sizeof(*av));
	if (!kv || !av)
		return NULL;
	otlp__key_value__init(kv);
	otlp__any_value__init(av);
	if (!(kv->key = hg_arena_strndup(a, k, kl)) || !(av->string_value = hg_arena_strndup(a, v, vl)))
		return NULL;
	av->value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	kv->value = av;
	return kv;
}

int hg_otlp_encoder_init(struct otlp_encoder *e, const struct strmap *attrs, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	if (attrs->n) {
		e->res_attrs = hg_arena_alloc(&e->keep, attrs->n * sizeof(*e->res_attrs));
		if (!e->res_attrs)
			goto oom;
		for (size_t i = 0; i < attrs->n; i++) {
			e->res_attrs[i] = string_kv(&e->keep, attrs->k[i], strlen(attrs->k[i]), attrs->v[i],
						    strlen(attrs->v[i]));
			if (!e->res_attrs[i])
				goto oom;
		}
		e->n_res_attrs = attrs->n;
	}
	return 0;
oom:
	hg_otlp_encoder_free(e);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int rehash(struct otlp_encoder *e, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));
	if (!s)
		return -1;
	for (size_t g = 0; g < e->ngroups; g++) {
		size_t i = e->groups[g].hash & (nslots - 1);
		while (s[i])
			i = (i + 1) & (nslots - 1);
		s[i] = (uint32_t)(g + 1);
	}
	free(e->slots);
	e->slots = s;
	e->nslots = nslots;
	return 0;
}

/* The group for name (copied into the arena when new, of kind), or NULL. */
static struct otlp_group *group_for(struct otlp_encoder *e, const char *name, size_t len, enum otlp_kind kind)
{
	uint64_t h = fnv1a(name, len);
	size_t i = h & (e->nslots - 1);
	for (; e->slots[i]; i = (i + 1) & (e->nslots - 1)) {
		struct otlp_group *g = &e->groups[e->slots[i] - 1];
		if (g->hash == h && g->len == len && memcmp(g->name, name, len) == 0)
			return g;
	}
	if (e->ngroups == e->gcap) {
		size_t cap = e->gcap ? e->gcap * 2 : 256;
		struct otlp_group *ng = realloc(e->groups, cap * sizeof(*ng));
		if (!ng)
			return NULL;
		e->groups = ng;
		e->gcap = cap;
	}
	struct otlp_group *g = &e->groups[e->ngroups];
	if (!(g->name = hg_arena_strndup(&e->a, name, len)))
		return NULL;
	g->len = len;
	g->hash = h;
	g->kind = kind;
	g->pts = NULL;
	g->n = g->cap = 0;
	e->slots[i] = (uint32_t)(++e->ngroups);
	/* Keep the table at most half full. */
	if (e->ngroups * 2 > e->nslots && rehash(e, e->nslots * 2) != 0)
		return NULL;
	return g;
}

static int group_add(struct arena *a, struct otlp_group *g, void *p)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4;
		void **np = hg_arena_alloc(a, cap * sizeof(*np));
		if (!np)
			return -1;
		if (g->n)
			memcpy(np, g->pts, g->n * sizeof(*np));
		g->pts = np;
		g->cap = cap;
	}
	g->pts[g->n++] = p;
	return 0;
}

/* Integers stay integers (as_int) while they fit; the rest are doubles. */
static bool point_value(const struct metric_field *f, Otlp__NumberDataPoint *p)
{
	switch (f->type) {
	case FIELD_FLOAT:
		p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
		p->as_double = f->v.f;
		return true;
	case FIELD_INT:
		p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
		p->as_int = f->v.i;
		return true;
	case FIELD_UINT:
		if (f->v.u <= (uint64_t)INT64_MAX) {
			p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
			p->as_int = (int64_t)f->v.u;
		} else {
			p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
			p->as_double = (double)f->v.u;
		}
		return true;
	case FIELD_BOOL:
		p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
		p->as_int = f->v.b ? 1 : 0;
		return true;
	case FIELD_STRING:
		break;
	}
	return false;
}

/* Adds p (of kind's data point type) to the metric called name. A name
 * that already holds another kind keeps it and p is not sent, counted as a
 * conflict: influx2otel refuses such a point the same way ("value type
 * conflict"), and one OTLP metric has one type. */
static int add_point(struct otlp_encoder *e, const char *name, size_t len, enum otlp_kind kind, void *p,
		     struct otlp_stats *st)
{
	struct otlp_group *g = group_for(e, name, len, kind);
	if (!g)
		return -1;
	if (g->kind != kind) {
		if (st->conflicts++ == 0)
			snprintf(st->first_conflict, sizeof(st->first_conflict), "%.*s", (int)(len > 120 ? 120 : len),
				 name);
		return 0;
	}
	if (group_add(&e->a, g, p) != 0)
		return -1;
	st->points++;
	return 0;
}

/* The line as one histogram or summary point named after the measurement. */
static int encode_dist(struct otlp_encoder *e, const struct metric *m, enum otlp_kind kind, Otlp__KeyValue **attrs,
		       size_t nattrs, struct otlp_stats *st)
{
	void *p;
	if (kind == OTLP_KIND_HISTOGRAM) {
		Otlp__HistogramDataPoint *h = hg_otlp_histogram_point(&e->a, &e->dist, m);
		if (!h)
			return -1;
		h->n_attributes = nattrs;
		h->attributes = attrs;
		h->time_unix_nano = (uint64_t)m->time_ns;
		p = h;
	} else {
		Otlp__SummaryDataPoint *q = hg_otlp_summary_point(&e->a, &e->dist, m);
		if (!q)
			return -1;
		q->n_attributes = nattrs;
		q->attributes = attrs;
		q->time_unix_nano = (uint64_t)m->time_ns;
		p = q;
	}
	return add_point(e, m->name.p, m->name.len, kind, p, st);
}

static int encode_metric(struct otlp_encoder *e, const struct metric *m, struct otlp_stats *st)
{
	struct arena *a = &e->a;
	if (m->time_ns < 0) {
		if (st->bad_lines++ == 0)
			snprintf(st->first_error, sizeof(st->first_error),
				 "timestamp %lld is before 1970, which OTLP (unsigned ns since the epoch) cannot carry",
				 (long long)m->time_ns);
		return 0;
	}
	Otlp__KeyValue **attrs = NULL;
	size_t nattrs = 0;
	/* The tags, shared by every data point of this line. */
	if (m->ntags) {
		if (!(attrs = hg_arena_alloc(a, m->ntags * sizeof(*attrs))))
			return -1;
		for (size_t i = 0; i < m->ntags; i++) {
			const struct metric_tag *t = &m->tags[i];
			if (!(attrs[nattrs++] = string_kv(a, t->key.p, t->key.len, t->value.p, t->value.len)))
				return -1;
		}
	}
	struct otlp_shape sh;
	hg_otlp_shape_of(m, &sh);
	if (sh.form == OTLP_FORM_DIST)
		return encode_dist(e, m, sh.kind, attrs, nattrs, st);
	/* measurement "prometheus" is Telegraf's prometheus metric_version 2:
	 * the field is the metric name (influx2otel's v2 gauge). */
	bool v2 = sv_eq_c(m->name, "prometheus");
	char name[1024];
	for (size_t i = 0; i < m->nfields; i++) {
		const struct metric_field *f = &m->fields[i];
		Otlp__NumberDataPoint *p = hg_arena_alloc(a, sizeof(*p));
		if (!p)
			return -1;
		otlp__number_data_point__init(p);
		if (!point_value(f, p)) {
			st->string_fields++;
			continue;
		}
		p->n_attributes = nattrs;
		p->attributes = attrs;
		p->time_unix_nano = (uint64_t)m->time_ns;
		int rc;
		if (sh.form == OTLP_FORM_VALUE && i == sh.value) {
			rc = add_point(e, m->name.p, m->name.len, sh.kind, p, st);
		} else if (v2) {
			rc = add_point(e, f->key.p, f->key.len, OTLP_KIND_GAUGE, p, st);
		} else {
			size_t len = m->name.len + 1 + f->key.len;
			char *n = name;
			if (len >= sizeof(name) && !(n = hg_arena_alloc(a, len + 1)))
				return -1;
			memcpy(n, m->name.p, m->name.len);
			n[m->name.len] = '_';
			memcpy(n + m->name.len + 1, f->key.p, f->key.len);
			rc = add_point(e, n, len, hg_otlp_field_kind(m->name, f->key), p, st);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Length of the UTF-8 sequence at s (1 to 4), or 0 when s starts none:
 * RFC 3629, no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
	    (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return n;
}

/* Points *data at a copy with each run of bytes that are not UTF-8
 * replaced by U+FFFD, when there is any (else leaves it), and counts the
 * lines changed. 0, or -1 when out of memory. */
static int repair_utf8(struct otlp_encoder *e, const char **data, size_t *len, size_t *lines)
{
	const unsigned char *s = (const unsigned char *)*data, *end = s + *len, *p = s;
	for (size_t n; p < end && (n = utf8_len(p, end)) != 0;)
		p += n;
	if (p >= end)
		return 0; /* all valid: the common case costs one scan */
	size_t need = (size_t)(p - s) + (size_t)(end - p) * 3;
	if (need > e->fixed_cap) {
		char *f = realloc(e->fixed, need);
		if (!f)
			return -1;
		e->fixed = f;
		e->fixed_cap = need;
	}
	memcpy(e->fixed, s, (size_t)(p - s));
	size_t o = (size_t)(p - s);
	bool line_counted = false;
	while (p < end) {
		size_t n = utf8_len(p, end);
		if (n) {
			if (*p == '\n')
				line_counted = false;
			memcpy(e->fixed + o, p, n);
			o += n;
			p += n;
			continue;
		}
		while (p < end && !utf8_len(p, end))
			p++;
		memcpy(e->fixed + o, "\xEF\xBF\xBD", 3);
		o += 3;
		if (!line_counted)
			(*lines)++;
		line_counted = true;
	}
	*data = e->fixed;
	*len = o;
	return 0;
}

/* m as g's metric: a Gauge, a cumulative monotonic Sum (influx2otel's
 * counter), a cumulative Histogram or a Summary, holding g's points. */
static int set_data(struct arena *a, Otlp__Metric *m, const struct otlp_group *g)
{
	otlp__metric__init(m);
	m->name = (char *)g->name;
	switch (g->kind) {
	case OTLP_KIND_GAUGE: {
		Otlp__Gauge *d = hg_arena_alloc(a, sizeof(*d));
		if (!d)
			return -1;
		otlp__gauge__init(d);
		d->n_data_points = g->n;
		d->data_points = (Otlp__NumberDataPoint **)g->pts;
		m->data_case = OTLP__METRIC__DATA_GAUGE;
		m->gauge = d;
		return 0;
	}
	case OTLP_KIND_SUM: {
		Otlp__Sum *d = hg_arena_alloc(a, sizeof(*d));
		if (!d)
			return -1;
		otlp__sum__init(d);
		d->n_data_points = g->n;
		d->data_points = (Otlp__NumberDataPoint **)g->pts;
		d->aggregation_temporality = OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		d->is_monotonic = true;
		m->data_case = OTLP__METRIC__DATA_SUM;
		m->sum = d;
		return 0;
	}
	case OTLP_KIND_HISTOGRAM: {
		Otlp__Histogram *d = hg_arena_alloc(a, sizeof(*d));
		if (!d)
			return -1;
		otlp__histogram__init(d);
		d->n_data_points = g->n;
		d->data_points = (Otlp__HistogramDataPoint **)g->pts;
		d->aggregation_temporality = OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m->data_case = OTLP__METRIC__DATA_HISTOGRAM;
		m->histogram = d;
		return 0;
	}
	case OTLP_KIND_SUMMARY: {
		Otlp__Summary *d = hg_arena_alloc(a, sizeof(*d));
		if (!d)
			return -1;
		otlp__summary__init(d);
		d->n_data_points = g->n;
		d->data_points = (Otlp__SummaryDataPoint **)g->pts;
		m->data_case = OTLP__METRIC__DATA_SUMMARY;
		m->summary = d;
		return 0;
	}
	}
	return -1;
}

static int build(struct otlp_encoder *e, Otlp__ExportMetricsServiceRequest *req)
{
	struct arena *a = &e->a;
	if (e->ngroups > e->metrics_cap) {
		Otlp__Metric **nm = realloc(e->metrics, e->ngroups * sizeof(*nm));
		if (!nm)
			return -1;
		e->metrics = nm;
		e->metrics_cap = e->ngroups;
	}
	for (size_t i = 0; i < e->ngroups; i++) {
		Otlp__Metric *m = hg_arena_alloc(a, sizeof(*m));
		if (!m || set_data(a, m, &e->groups[i]) != 0)
			return -1;
		e->metrics[i] = m;
	}
	Otlp__ResourceMetrics *rm = hg_arena_alloc(a, sizeof(*rm));
	Otlp__ResourceMetrics **rms = hg_arena_alloc(a, sizeof(*rms));
	Otlp__Resource *res = hg_arena_alloc(a, sizeof(*res));
	Otlp__ScopeMetrics *sm = hg_arena_alloc(a, sizeof(*sm));
	Otlp__ScopeMetrics **sms = hg_arena_alloc(a, sizeof(*sms));
	Otlp__InstrumentationScope *scope = hg_arena_alloc(a, sizeof(*scope));
	if (!rm || !rms || !res || !sm || !sms || !scope)
		return -1;
	otlp__resource__init(res);
	res->n_attributes = e->n_res_attrs;
	res->attributes = e->res_attrs;
	otlp__instrumentation_scope__init(scope);
	scope->name = (char *)"heliograph";
	scope->version = (char *)HG_VERSION;
	otlp__scope_metrics__init(sm);
	sm->scope = scope;
	sm->n_metrics = e->ngroups;
	sm->metrics = e->metrics;
	sms[0] = sm;
	otlp__resource_metrics__init(rm);
	rm->resource = res;
	rm->n_scope_metrics = 1;
	rm->scope_metrics = sms;
	rms[0] = rm;
	otlp__export_metrics_service_request__init(req);
	req->n_resource_metrics = 1;
	req->resource_metrics = rms;
	return 0;
}

int hg_otlp_encode(struct otlp_encoder *e, const char *data, size_t len, int64_t now_ns, const unsigned char **out,
		size_t *outlen, struct otlp_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	*out = NULL;
	*outlen = 0;
	hg_arena_reset(&e->a);
	e->ngroups = 0;
	if (e->nslots == 0) {
		if (rehash(e, 1024) != 0)
			goto oom;
	} else {
		memset(e->slots, 0, e->nslots * sizeof(*e->slots));
	}
	if (repair_utf8(e, &data, &len, &st->utf8_repaired) != 0 || hg_lp_batch_begin(&e->rd, data, len, now_ns) != 0)
		goto oom;
	for (const struct metric *m; (m = hg_lp_batch_next(&e->rd));)
		if (encode_metric(e, m, st) != 0)
			goto oom;
	/* encode_metric counted the lines before 1970; the reader the malformed ones. */
	st->bad_lines += e->rd.bad_lines;
	if (e->rd.bad_lines)
		memcpy(st->first_error, e->rd.first_error, sizeof(st->first_error));
	st->metrics = e->ngroups;
	if (st->points == 0)
		return 0;
	Otlp__ExportMetricsServiceRequest req;
	if (build(e, &req) != 0)
		goto oom;
	size_t need = otlp__export_metrics_service_request__get_packed_size(&req);
	if (need > e->pb_cap) {
		unsigned char *p = realloc(e->pb, need);
		if (!p)
			goto oom;
		e->pb = p;
		e->pb_cap = need;
	}
	*outlen = otlp__export_metrics_service_request__pack(&req, e->pb);
	*out = e->pb;
	hg_arena_reset(&e->a);
	return 0;
oom:
	hg_arena_reset(&e->a);
	snprintf(err, errlen, "out of memory encoding the batch");
	return -1;
}

void hg_otlp_encoder_free(struct otlp_encoder *e)
{
	hg_lp_batch_free(&e->rd);
	hg_arena_free(&e->a);
	hg_arena_free(&e->keep);
	free(e->groups);
	free(e->slots);
	free(e->metrics);
	free(e->pb);
	free(e->fixed);
	hg_otlp_dist_scratch_free(&e->dist);
	memset(e, 0, sizeof(*e));
}
