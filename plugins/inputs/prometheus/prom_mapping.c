/* Telegraf's mapping of Prometheus samples to metrics (its prometheus
 * parser, metric_v1.go and metric_v2.go), applied to the sample stream.
 *
 * metric_version 1: measurement = family name; counter/gauge/untyped give
 * one field "counter"/"gauge"/"value"; a histogram series gives one metric
 * with a field per bucket (named by its le, Go's %v) plus "count" and
 * "sum"; a summary series one per quantile plus "count" and "sum".
 * metric_version 2: measurement "prometheus", field = family name; a
 * histogram gives <name>_count/<name>_sum, one <name>_bucket line per le
 * tag (an +Inf bucket added when missing), a summary <name>_count/_sum and
 * one <name> line per quantile tag.
 *
 * Telegraf first collects whole families (expfmt); here the samples of one
 * histogram/summary series are grouped while they are adjacent, which they
 * are in every exposition seen in practice. A series that comes back later
 * yields a second line with the same series key and timestamp, which
 * InfluxDB merges into the first. */
#include "prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc.h"
#include "float_fmt.h"
#include "metric.h"

#define GROUP_ARENA (32 * 1024)
#define GROUP_FIELDS 512
#define KEY_MAX 320 /* family name (< 256) + suffix */

struct gfield {
	struct sv key;
	double v;
};

struct prom_map {
	struct acc *acc;
	int version;
	const char *url;
	const char *url_key;      /* name of the url tag (url_tag option) */
	bool ignore_ts;
	const char *const *extra; /* key, value pairs added last (pod tags) */
	size_t nextra;
	/* the open histogram/summary series; its strings live in arena */
	bool open;
	enum prom_type type;
	struct sv fam;
	size_t nlabels;
	struct prom_label labels[PROM_MAX_LABELS];
	struct gfield fields[GROUP_FIELDS];
	size_t nfields;
	bool has_count, has_sum, inf_seen;
	double count, sum;
	int64_t ts_ms;
	size_t used;
	char arena[GROUP_ARENA];
	char key[KEY_MAX], key2[KEY_MAX], num[40];
};

/* ---- Go's shortest 'g' formatting ---- */

/* As Go's %v (strconv 'g', -1): le and quantile labels in Telegraf. */
size_t hg_prom_go_float(double v, char *out, size_t cap)
{
	if (isnan(v))
		return (size_t)snprintf(out, cap, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
	char res[FLOAT_TEXT_G_MAX];
	size_t n = hg_float_text_g(res, v);
	return (size_t)snprintf(out, cap, "%.*s", (int)n, res);
}

/* ---- emission ---- */

struct prom_map *hg_prom_map_new(void)
{
	struct prom_map *m = calloc(1, sizeof(struct prom_map));
	if (m)
		m->url_key = "url";
	return m;
}

void hg_prom_map_url_tag(struct prom_map *m, const char *key)
{
	m->url_key = key;
}

void hg_prom_map_free(struct prom_map *m)
{
	free(m);
}

void hg_prom_map_begin(struct prom_map *m, struct acc *acc, int version, const char *url, bool ignore_timestamp)
{
	m->acc = acc;
	m->version = version;
	m->url = url;
	m->ignore_ts = ignore_timestamp;
	m->open = false;
	m->extra = NULL;
	m->nextra = 0;
}

void hg_prom_map_extra_tags(struct prom_map *m, const char *const *kv, size_t n)
{
	m->extra = kv;
	m->nextra = n;
}

static int64_t time_of(const struct prom_map *m, bool has_ts, int64_t ts_ms)
{
	/* Telegraf keeps a timestamp only when it is > 0. */
	if (m->ignore_ts || !has_ts || ts_ms <= 0 || ts_ms > INT64_MAX / 1000000)
		return 0;
	return ts_ms * 1000000;
}

static struct metric *start(struct prom_map *m, struct sv name, const struct prom_label *labels, size_t n)
{
	struct metric *mt = hg_acc_metric(m->acc, "");
	mt->name = name;
	for (size_t i = 0; i < n; i++)
		if (labels[i].value.len) /* as Telegraf: an empty label is no tag */
			hg_metric_tag_sv(mt, labels[i].name, labels[i].value);
	if (m->url)
		hg_metric_tag(mt, m->url_key, m->url);
	/* As Telegraf: the target's tags win over the exposition's labels. */
	for (size_t i = 0; i < m->nextra; i++)
		hg_metric_tag(mt, m->extra[2 * i], m->extra[2 * i + 1]);
	return mt;
}

/* Non-finite values have no line protocol spelling: Telegraf's serializer
 * drops them (and a metric left without fields), so they go here already. */
static void add_float(struct metric *mt, struct sv key, double v)
{
	if (!isfinite(v))
		return;
	struct metric_field f = { .key = key, .type = FIELD_FLOAT, .v.f = v };
	hg_metric_field_sv(mt, &f);
}

static void emit(struct prom_map *m, struct metric *mt, int64_t ts)
{
	if (mt->nfields)
		hg_acc_emit(m->acc, mt, ts);
}

static struct sv key_cat(char *buf, struct sv fam, const char *suffix)
{
	size_t sl = strlen(suffix);
	size_t n = fam.len < KEY_MAX - sl - 1 ? fam.len : KEY_MAX - sl - 1;
	memcpy(buf, fam.p, n);
	memcpy(buf + n, suffix, sl + 1);
	return (struct sv){ buf, n + sl };
}

/* expfmt stores counts as uint64: a text "2.7" count is 2. */
static double as_count(double v)
{
	return v >= 0 && v < 18446744073709551616.0 ? (double)(uint64_t)v : v;
}

static bool is_histogram(enum prom_type t)
{
	return t == PROM_HISTOGRAM || t == PROM_GAUGE_HISTOGRAM;
}

static void flush(struct prom_map *m)
{
	if (!m->open)
		return;
	m->open = false;
	int64_t ts = time_of(m, m->ts_ms > 0, m->ts_ms);
	if (m->version == 1) {
		if (!m->nfields && !m->has_count && !m->has_sum)
			return;
		struct metric *mt = start(m, m->fam, m->labels, m->nlabels);
		for (size_t i = 0; i < m->nfields; i++)
			add_float(mt, m->fields[i].key, m->fields[i].v);
		if (m->has_count)
			add_float(mt, sv_c("count"), m->count);
		if (m->has_sum)
			add_float(mt, sv_c("sum"), m->sum);
		emit(m, mt, ts);
		return;
	}
	if (m->has_count || m->has_sum) {
		struct metric *mt = start(m, sv_c("prometheus"), m->labels, m->nlabels);
		if (m->has_count)
			add_float(mt, key_cat(m->key, m->fam, "_count"), m->count);
		if (m->has_sum)
			add_float(mt, key_cat(m->key2, m->fam, "_sum"), m->sum);
		emit(m, mt, ts);
	}
	if (is_histogram(m->type) && !m->inf_seen && m->has_count) {
		struct metric *mt = start(m, sv_c("prometheus"), m->labels, m->nlabels);
		hg_metric_tag(mt, "le", "+Inf");
		add_float(mt, key_cat(m->key, m->fam, "_bucket"), m->count);
		emit(m, mt, ts);
	}
}

static const char *arena_put(struct prom_map *m, struct sv s)
{
	if (m->used + s.len > GROUP_ARENA)
		return NULL;
	char *p = m->arena + m->used;
	if (s.len)
		memcpy(p, s.p, s.len);
	m->used += s.len;
	return p;
}

static bool same_series(const struct prom_map *m, const struct prom_sample *s)
{
	if (!m->open || m->type != s->type || m->nlabels != s->nlabels || !sv_eq(m->fam, s->family))
		return false;
	for (size_t i = 0; i < s->nlabels; i++) {
		bool found = false;
		for (size_t j = 0; j < m->nlabels && !found; j++) {
			size_t k = (i + j) % m->nlabels; /* same order is the usual case: try it first */
			found = sv_eq(m->labels[k].name, s->labels[i].name) && sv_eq(m->labels[k].value, s->labels[i].value);
		}
		if (!found)
			return false;
	}
	return true;
}

static bool open_group(struct prom_map *m, const struct prom_sample *s)
{
	m->used = 0;
	m->nfields = 0;
	m->has_count = m->has_sum = m->inf_seen = false;
	m->ts_ms = 0;
	m->type = s->type;
	const char *f = arena_put(m, s->family);
	if (!f)
		return false;
	m->fam = (struct sv){ f, s->family.len };
	for (size_t i = 0; i < s->nlabels; i++) {
		const char *n = arena_put(m, s->labels[i].name), *v = arena_put(m, s->labels[i].value);
		if (!n || !v)
			return false;
		m->labels[i] = (struct prom_label){ { n, s->labels[i].name.len }, { v, s->labels[i].value.len } };
	}
	m->nlabels = s->nlabels;
	m->open = true;
	return true;
}

/* v1: a bucket or quantile becomes a field named by its bound. */
static void group_field(struct prom_map *m, const struct prom_sample *s, double v)
{
	size_t n = hg_prom_go_float(s->bound, m->num, sizeof m->num);
	if (m->nfields == GROUP_FIELDS || m->used + n > GROUP_ARENA) {
		/* A series with more buckets than a metric holds: emit what we
		 * have and go on with the same series. */
		flush(m);
		if (!open_group(m, s))
			return;
	}
	const char *k = arena_put(m, (struct sv){ m->num, n });
	if (!k)
		return;
	m->fields[m->nfields++] = (struct gfield){ { k, n }, v };
}

static void v2_line(struct prom_map *m, const struct prom_sample *s, const char *tag, const char *suffix, double v)
{
	struct metric *mt = start(m, sv_c("prometheus"), s->labels, s->nlabels);
	hg_prom_go_float(s->bound, m->num, sizeof m->num);
	hg_metric_tag(mt, tag, m->num);
	add_float(mt, key_cat(m->key, s->family, suffix), v);
	emit(m, mt, time_of(m, s->has_ts, s->ts_ms));
}

static void value_sample(struct prom_map *m, const struct prom_sample *s)
{
	if (!isfinite(s->value))
		return; /* Telegraf drops NaN values; no output takes infinities */
	int64_t ts = time_of(m, s->has_ts, s->ts_ms);
	if (m->version == 1) {
		struct metric *mt = start(m, s->family, s->labels, s->nlabels);
		const char *field = s->type == PROM_COUNTER ? "counter" : s->type == PROM_GAUGE ? "gauge" : "value";
		add_float(mt, sv_c(field), s->value);
		emit(m, mt, ts);
		return;
	}
	struct metric *mt = start(m, sv_c("prometheus"), s->labels, s->nlabels);
	add_float(mt, s->family, s->value);
	emit(m, mt, ts);
}

void hg_prom_map_sample(void *map, const struct prom_sample *s)
{
	struct prom_map *m = map;
	if (s->part == PROM_VALUE) {
		/* The open series stays open: expfmt would still merge its
		 * samples that come after an unrelated family's. */
		value_sample(m, s);
		return;
	}
	if (!same_series(m, s)) {
		flush(m);
		if (!open_group(m, s)) {
			m->open = false;
			hg_acc_error(m->acc, "prometheus: labels of a %.*s series too long to group; sample dropped",
				  (int)(s->family.len > 200 ? 200 : s->family.len), s->family.p);
			return;
		}
	}
	if (s->has_ts && s->ts_ms > 0)
		m->ts_ms = s->ts_ms; /* as expfmt: the last timestamp of a series wins */
	switch (s->part) {
	case PROM_BUCKET:
		if (isinf(s->bound) && s->bound > 0)
			m->inf_seen = true;
		if (m->version == 1)
			group_field(m, s, as_count(s->value));
		else
			v2_line(m, s, "le", "_bucket", as_count(s->value));
		break;
	case PROM_QUANTILE:
		if (!isfinite(s->value))
			break;
		if (m->version == 1)
			group_field(m, s, s->value);
		else
			v2_line(m, s, "quantile", "", s->value);
		break;
	case PROM_SUM:
		m->has_sum = true;
		m->sum = s->value;
		break;
	case PROM_COUNT:
		m->has_count = true;
		m->count = as_count(s->value);
		break;
	default:
		break;
	}
}

void hg_prom_map_end(struct prom_map *m)
{
	flush(m);
}
