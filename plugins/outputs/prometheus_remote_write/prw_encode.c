/* See hg_prw_encode.h. */
#include "prw_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static bool first_ok(unsigned char c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static bool rest_ok(unsigned char c, bool metric)
{
	return first_ok(c, metric) || (c >= '0' && c <= '9');
}

static bool valid_name(const char *s, size_t n, bool metric)
{
	if (n == 0 || !first_ok((unsigned char)s[0], metric))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!rest_ok((unsigned char)s[i], metric))
			return false;
	return true;
}

size_t hg_prw_sanitize(const char *in, size_t n, bool metric, char *out)
{
	if (valid_name(in, n, metric)) {
		memcpy(out, in, n);
		out[n] = '\0';
		return n;
	}
	size_t o = 0;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if ((c & 0xC0) == 0x80)
			continue; /* UTF-8 continuation: its lead byte already counted for the character */
		if (first) {
			if (first_ok(c, metric))
				out[o++] = (char)c;
			first = false;
		} else {
			out[o++] = rest_ok(c, metric) ? (char)c : '_';
		}
	}
	size_t b = 0;
	while (b < o && out[b] == '_')
		b++;
	while (o > b && out[o - 1] == '_')
		o--;
	memmove(out, out + b, o - b);
	o -= b;
	out[o] = '\0';
	/* Dropping the first character can leave a digit in front. */
	return valid_name(out, o, metric) ? o : 0;
}

/* The metric's tags as sorted labels with unique names (the first wins when
 * sanitizing made two equal); empty values are left out, as Prometheus
 * reads an empty label as an absent one. -1 when out of memory. */
static int tag_labels(struct arena *a, const struct metric *m, Prompb__Label **out, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < m->ntags; i++) {
		const struct metric_tag *t = &m->tags[i];
		if (t->value.len == 0)
			continue;
		char *name = hg_arena_alloc(a, t->key.len + 1);
		Prompb__Label *l = hg_arena_alloc(a, sizeof(*l));
		if (!name || !l)
			return -1;
		if (hg_prw_sanitize(t->key.p, t->key.len, false, name) == 0 || strcmp(name, "__name__") == 0)
			continue;
		prompb__label__init(l);
		l->name = name;
		if (!(l->value = hg_arena_strndup(a, t->value.p, t->value.len)))
			return -1;
		out[(*n)++] = l;
	}
	/* Line protocol tags arrive sorted by key; sanitizing can reorder them.
	 * Insertion sort: stable, so of two keys that sanitize alike the first
	 * in line order wins; one pass when sanitizing reordered nothing. */
	for (size_t i = 1; i < *n; i++) {
		Prompb__Label *l = out[i];
		size_t j = i;
		for (; j > 0 && strcmp(out[j - 1]->name, l->name) > 0; j--)
			out[j] = out[j - 1];
		out[j] = l;
	}
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (k == 0 || strcmp(out[k - 1]->name, out[i]->name) != 0)
			out[k++] = out[i];
	*n = k;
	return 0;
}

/* Booleans are samples of 1 and 0, as Telegraf's prometheus serializer writes them. */
static bool sample_value(const struct metric_field *f, double *v)
{
	return hg_metric_field_double(f, true, v);
}

static int64_t ns_to_ms(int64_t ns)
{
	int64_t ms = ns / 1000000;
	return (ns % 1000000 < 0) ? ms - 1 : ms; /* floor, also before 1970 */
}

static int64_t ts_time(const Prompb__TimeSeries *t)
{
	return t->samples[0]->timestamp;
}

/* Stable merge sort of the series by sample time (bottom-up, through tmp).
 * Prometheus appends a request's samples in request order and checks a
 * series' order only when committing: of two samples of one series sent
 * newest first it keeps the newer, drops the older and still answers 204.
 * Sorted by time, every series' samples arrive oldest first; stable, so
 * samples with one timestamp keep their line order. */
static void sort_by_time(Prompb__TimeSeries **s, Prompb__TimeSeries **tmp, size_t n)
{
	size_t i = 1;
	while (i < n && ts_time(s[i - 1]) <= ts_time(s[i]))
		i++;
	if (i >= n)
		return; /* the usual batch: already in time order */
	Prompb__TimeSeries **src = s, **dst = tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				dst[k++] = ts_time(src[b]) < ts_time(src[a]) ? src[b++] : src[a++];
			while (a < mid)
				dst[k++] = src[a++];
			while (b < hi)
				dst[k++] = src[b++];
		}
		Prompb__TimeSeries **x = src;
		src = dst;
		dst = x;
	}
	if (src != s)
		memcpy(s, src, n * sizeof(*s));
}

static int add_series(struct prw_encoder *e, size_t n, Prompb__TimeSeries *ts)
{
	if (n == e->series_cap) {
		size_t cap = e->series_cap ? e->series_cap * 2 : 1024;
		Prompb__TimeSeries **s = realloc(e->series, cap * sizeof(*s));
		if (!s)
			return -1;
		e->series = s;
		Prompb__TimeSeries **t = realloc(e->sort_tmp, cap * sizeof(*t));
		if (!t)
			return -1;
		e->sort_tmp = t;
		e->series_cap = cap;
	}
	e->series[n] = ts;
	return 0;
}

/* One series per numeric field of m; appends to e->series from *n on. */
static int encode_metric(struct prw_encoder *e, const struct metric *m, size_t *n, struct prw_stats *st)
{
	struct arena *a = &e->a;
	Prompb__Label **tags = m->ntags ? hg_arena_alloc(a, m->ntags * sizeof(*tags)) : NULL;
	size_t ntags;
	if ((m->ntags && !tags) || tag_labels(a, m, tags, &ntags) != 0)
		return -1;
	bool bare = sv_eq_c(m->name, "prometheus");
	int64_t ms = ns_to_ms(m->time_ns);
	for (size_t i = 0; i < m->nfields; i++) {
		const struct metric_field *f = &m->fields[i];
		double v;
		if (!sample_value(f, &v)) {
			st->string_fields++;
			continue;
		}
		size_t rawlen = bare ? f->key.len : m->name.len + 1 + f->key.len;
		char *raw = hg_arena_alloc(a, rawlen + 1), *name = hg_arena_alloc(a, rawlen + 1);
		if (!raw || !name)
			return -1;
		if (bare)
			memcpy(raw, f->key.p, f->key.len);
		else
			snprintf(raw, rawlen + 1, "%.*s_%.*s", (int)m->name.len, m->name.p, (int)f->key.len, f->key.p);
		if (hg_prw_sanitize(raw, rawlen, true, name) == 0) {
			st->bad_names++;
			continue;
		}
		Prompb__TimeSeries *ts = hg_arena_alloc(a, sizeof(*ts));
		Prompb__Label *nl = hg_arena_alloc(a, sizeof(*nl));
		Prompb__Label **labels = hg_arena_alloc(a, (ntags + 1) * sizeof(*labels));
		Prompb__Sample *s = hg_arena_alloc(a, sizeof(*s));
		Prompb__Sample **sp = hg_arena_alloc(a, sizeof(*sp));
		if (!ts || !nl || !labels || !s || !sp)
			return -1;
		prompb__label__init(nl);
		nl->name = (char *)"__name__";
		nl->value = name;
		/* Labels sorted by name, __name__ among them (it sorts after upper case). */
		size_t k = 0, j = 0;
		while (j < ntags && strcmp(tags[j]->name, "__name__") < 0)
			labels[k++] = tags[j++];
		labels[k++] = nl;
		while (j < ntags)
			labels[k++] = tags[j++];
		prompb__sample__init(s);
		s->value = v;
		s->timestamp = ms;
		sp[0] = s;
		prompb__time_series__init(ts);
		ts->n_labels = ntags + 1;
		ts->labels = labels;
		ts->n_samples = 1;
		ts->samples = sp;
		if (add_series(e, *n, ts) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

int hg_prw_encode(struct prw_encoder *e, const char *data, size_t len, int64_t now_ns, const unsigned char **out,
	       size_t *outlen, struct prw_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	*out = NULL;
	*outlen = 0;
	hg_arena_reset(&e->a);
	if (hg_lp_batch_begin(&e->rd, data, len, now_ns) != 0)
		goto oom;
	size_t n = 0;
	for (const struct metric *m; (m = hg_lp_batch_next(&e->rd));)
		if (encode_metric(e, m, &n, st) != 0)
			goto oom;
	st->bad_lines = e->rd.bad_lines;
	memcpy(st->first_error, e->rd.first_error, sizeof(st->first_error));
	st->samples = n;
	if (n == 0)
		return 0;
	sort_by_time(e->series, e->sort_tmp, n);
	Prompb__WriteRequest req;
	prompb__write_request__init(&req);
	req.n_timeseries = n;
	req.timeseries = e->series;
	size_t need = prompb__write_request__get_packed_size(&req);
	if (need > e->pb_cap) {
		unsigned char *p = realloc(e->pb, need);
		if (!p)
			goto oom;
		e->pb = p;
		e->pb_cap = need;
	}
	*outlen = prompb__write_request__pack(&req, e->pb);
	*out = e->pb;
	hg_arena_reset(&e->a);
	return 0;
oom:
	hg_arena_reset(&e->a);
	snprintf(err, errlen, "out of memory encoding the batch");
	return -1;
}

void hg_prw_encoder_free(struct prw_encoder *e)
{
	hg_lp_batch_free(&e->rd);
	hg_arena_free(&e->a);
	free(e->series);
	free(e->sort_tmp);
	free(e->pb);
	memset(e, 0, sizeof(*e));
}
