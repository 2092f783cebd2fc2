/* The accumulator: from an input's scratch metric to line protocol in every
 * output's buffer. Order as Telegraf's: the input's filters select and trim
 * the metric first, then name override/prefix/suffix, the instance tags,
 * the global tags and the host tag (tags the metric already has win); each
 * output's filters then see that metric, and the line is serialized once
 * per serializer flavour. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "agent_internal.h"
#include "filter.h"
#include "log.h"
#include "lp.h"

#define ACC_NAME_MAX 512
#define ACC_LINE_START (16 * 1024)
#define ACC_LINE_MAX (4 * 1024 * 1024)

struct text {
	char *p;
	size_t len, cap;
};

/* What acc_emit needs only while it runs: one per agent, shared by every
 * input's accumulator (the loop is single-threaded and acc_emit does not
 * yield), which keeps ~75 KiB per input off the heap. */
struct acc_scratch {
	struct metric out;        /* a copy for outputs with filters of their own */
	char *line[2];            /* serialized line per flavour: [0] clamped ints, [1] uint */
	size_t line_cap;
	long line_len[2];
};

struct acc {
	struct metric m;          /* what the input fills (it may span loop turns: streaming parsers) */
	struct acc_scratch *sc;   /* the agent's, or own_sc */
	struct acc_scratch *own_sc; /* capture accumulators have their own */
	struct running_input *ri; /* NULL for a capture accumulator */
	int64_t gather_time_ns;
	char name[ACC_NAME_MAX];
	struct text capture, errors;
};

static void text_append(struct text *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *np = realloc(t->p, cap);
		if (!np)
			return;
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = '\0';
}

struct acc_scratch *acc_scratch_new(void)
{
	struct acc_scratch *sc = calloc(1, sizeof *sc);
	if (!sc)
		return NULL;
	sc->line_cap = ACC_LINE_START;
	sc->line[0] = malloc(sc->line_cap);
	sc->line[1] = malloc(sc->line_cap);
	if (!sc->line[0] || !sc->line[1]) {
		acc_scratch_free(sc);
		return NULL;
	}
	return sc;
}

void acc_scratch_free(struct acc_scratch *sc)
{
	if (!sc)
		return;
	free(sc->line[0]);
	free(sc->line[1]);
	metric_release(&sc->out);
	free(sc);
}

static struct acc *acc_alloc(struct acc_scratch *shared)
{
	struct acc *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->sc = shared;
	if (!a->sc && !(a->sc = a->own_sc = acc_scratch_new())) {
		free(a);
		return NULL;
	}
	return a;
}

struct acc *acc_new_for_input(struct running_input *ri)
{
	struct acc *a = acc_alloc(ri->agent->acc_scratch);
	if (a)
		a->ri = ri;
	return a;
}

void acc_free(struct acc *a)
{
	if (!a)
		return;
	acc_scratch_free(a->own_sc);
	metric_release(&a->m);
	free(a->capture.p);
	free(a->errors.p);
	free(a);
}

void acc_begin_gather(struct acc *a, int64_t time_ns)
{
	a->gather_time_ns = time_ns;
}

int64_t acc_gather_time(const struct acc *a)
{
	return a->gather_time_ns;
}

struct metric *acc_metric(struct acc *a, const char *measurement)
{
	metric_reset(&a->m, sv_c(measurement));
	return &a->m;
}

/* Serializes into line[flavour], growing the scratch up to ACC_LINE_MAX:
 * a metric larger than that is refused rather than buffered. */
static long acc_serialize(struct acc *a, const struct metric *m, int flavour, int64_t precision_ns)
{
	/* Capture (no running input) keeps 0 as "not set" for unit tests; for
	 * outputs every metric's time is set by now, so 0 is an explicit epoch. */
	struct lp_opts o = { .precision_ns = 1, .uint_support = flavour == 1, .zero_time_explicit = a->ri != NULL };
	(void)precision_ns;
	for (;;) {
		struct lp_stats st = { 0 };
		long n = lp_serialize(m, &o, a->sc->line[flavour], a->sc->line_cap, &st);
		if (st.dropped_fields && a->ri && flavour == 0)
			a->ri->agent->totals.nan_fields_dropped += st.dropped_fields;
		if (n != -ENOSPC)
			return n;
		if (a->sc->line_cap >= ACC_LINE_MAX)
			return -ENOSPC;
		size_t cap = a->sc->line_cap * 2;
		char *l0 = realloc(a->sc->line[0], cap);
		if (!l0)
			return -ENOMEM;
		a->sc->line[0] = l0;
		char *l1 = realloc(a->sc->line[1], cap);
		if (!l1)
			return -ENOMEM;
		a->sc->line[1] = l1;
		a->sc->line_cap = cap;
		a->sc->line_len[0] = a->sc->line_len[1] = 0; /* both must be redone after a resize */
	}
}

static bool copy_metric(struct metric *dst, const struct metric *src)
{
	if (!metric_reserve(dst, src->nfields) || !metric_reserve_tags(dst, src->ntags))
		return false;
	dst->name = src->name;
	dst->time_ns = src->time_ns;
	dst->overflow = src->overflow;
	dst->ntags = src->ntags;
	dst->nfields = src->nfields;
	if (src->ntags)
		memcpy(dst->tags, src->tags, src->ntags * sizeof src->tags[0]);
	if (src->nfields)
		memcpy(dst->fields, src->fields, src->nfields * sizeof src->fields[0]);
	return true;
}

static int64_t round_time(int64_t t, int64_t precision_ns)
{
	if (precision_ns <= 1)
		return t;
	return (t + precision_ns / 2) / precision_ns * precision_ns;
}

static void apply_name(struct acc *a, struct metric *m, const struct plugin_common *c)
{
	if (!c->name_override && !c->name_prefix && !c->name_suffix)
		return;
	const char *pre = c->name_prefix ? c->name_prefix : "";
	const char *suf = c->name_suffix ? c->name_suffix : "";
	int n;
	if (c->name_override)
		n = snprintf(a->name, sizeof a->name, "%s%s%s", pre, c->name_override, suf);
	else
		n = snprintf(a->name, sizeof a->name, "%s%.*s%s", pre, (int)m->name.len, m->name.p, suf);
	if (n > 0 && (size_t)n < sizeof a->name)
		m->name = (struct sv){ a->name, (size_t)n };
}

static void add_missing_tags(struct metric *m, const struct strmap *tags)
{
	for (size_t i = 0; i < tags->n; i++)
		if (!metric_find_tag(m, tags->k[i]))
			metric_tag(m, tags->k[i], tags->v[i]);
}

static void emit_capture(struct acc *a, struct metric *m)
{
	metric_sort_tags(m);
	long n = acc_serialize(a, m, 1, 1);
	if (n > 0)
		text_append(&a->capture, a->sc->line[1], (size_t)n);
	else
		acc_error(a, "metric %.*s not serializable (%ld)", (int)m->name.len, m->name.p, n);
}

/* The raw line may stand for the metric only if the instance would not
 * change it. */
static bool raw_unchanged(const struct acc *a, const struct metric *m)
{
	const struct running_input *ri = a->ri;
	const struct agent_config *cfg = ri->agent->cfg;
	const struct plugin_common *c = &ri->cfg->common;
	if (!filter_is_empty(&c->filter) || c->name_override || c->name_prefix || c->name_suffix || m->overflow)
		return false;
	for (size_t i = 0; i < c->tags.n; i++)
		if (!metric_find_tag(m, c->tags.k[i]))
			return false;
	for (size_t i = 0; i < cfg->global_tags.n; i++)
		if (!metric_find_tag(m, cfg->global_tags.k[i]))
			return false;
	if (!cfg->omit_hostname && !metric_find_tag(m, "host"))
		return false;
	for (size_t i = 1; i < m->ntags; i++)
		if (sv_cmp(m->tags[i - 1].key, m->tags[i].key) >= 0)
			return false;
	return true;
}

static void emit(struct acc *a, struct metric *m, bool round, const char *raw, size_t rawlen);

void acc_emit(struct acc *a, struct metric *m, int64_t time_ns)
{
	m->time_ns = time_ns ? time_ns : a->gather_time_ns;
	emit(a, m, true, NULL, 0);
}

void acc_emit_line(struct acc *a, struct metric *m, const char *line, size_t len)
{
	bool raw = line && a->ri && !a->ri->agent->test_mode && raw_unchanged(a, m);
	emit(a, m, false, raw ? line : NULL, raw ? len : 0);
}

void acc_service_done(struct acc *a)
{
	if (!a->ri)
		return;
	struct agent *ag = a->ri->agent;
	for (size_t i = 0; i < ag->noutputs; i++)
		output_gather_ended(&ag->outputs[i]);
}

/* raw: the metric's line as received, pushed as it is to every output that
 * neither filters nor needs its uint fields clamped. */
static void emit(struct acc *a, struct metric *m, bool round, const char *raw, size_t rawlen)
{
	if (!a->ri) {
		emit_capture(a, m);
		return;
	}
	struct running_input *ri = a->ri;
	if (ri->baseline)
		return;
	struct agent *ag = ri->agent;
	const struct agent_config *cfg = ag->cfg;
	const struct plugin_common *c = &ri->cfg->common;

	bool has_uint = false;
	if (raw) {
		for (size_t i = 0; i < m->nfields && !has_uint; i++)
			has_uint = m->fields[i].type == FIELD_UINT;
	} else {
		if (!filter_is_empty(&c->filter) && !filter_apply(&c->filter, m))
			return;
		if (round)
			m->time_ns = round_time(m->time_ns, ri->precision_ns);
		apply_name(a, m, c);
		add_missing_tags(m, &c->tags);
		add_missing_tags(m, &cfg->global_tags);
		if (!cfg->omit_hostname && !metric_find_tag(m, "host"))
			metric_tag(m, "host", ag->hostname);
		/* Sorted once here, so the serializer needs no index of its own
		 * however many tags there are (one pass when already sorted). */
		metric_sort_tags(m);
	}
	/* Checked after the agent's own tags went in: one that did not fit
	 * (host on a line already at METRIC_MAX_TAGS) is counted and named. */
	if (m->overflow)
		acc_error(a, "metric %.*s has more tags or fields than %d/%d; extra ones left out", (int)m->name.len,
			  m->name.p, METRIC_MAX_TAGS, METRIC_MAX_FIELDS);

	ri->stats.metrics_gathered++;
	/* Only what a gather brings sizes the buffer: a service input's stream between gathers (the
	 * listener's writes) is not one gather's worth, and must stay within metric_buffer_limit. */
	if (ri->gathering)
		ri->gather_metrics++;
	ag->totals.metrics_gathered++;
	a->sc->line_len[0] = a->sc->line_len[1] = 0;

	if (ag->test_mode) {
		/* As Telegraf's --test prints: unsigned fields as 'i'. */
		long n = acc_serialize(a, m, 0, cfg->precision_ns);
		if (n > 0)
			fwrite(a->sc->line[0], 1, (size_t)n, stdout);
		return;
	}
	for (size_t i = 0; i < ag->noutputs; i++) {
		struct running_output *o = &ag->outputs[i];
		const struct metric_filter *of = &o->cfg->common.filter;
		const struct metric *sm = m;
		int flavour = o->uint_support ? 1 : 0;
		if (raw && filter_is_empty(of) && (o->uint_support || !has_uint)) {
			if (ri->gather_metrics * 2 > (uint64_t)o->buffer_limit)
				output_fit_gather(o, ri->gather_metrics);
			output_push(o, raw, rawlen);
			continue;
		}
		if (!filter_is_empty(of)) {
			if (!copy_metric(&a->sc->out, m)) {
				acc_error(a, "out of memory copying metric %.*s for outputs.%s's filter", (int)m->name.len,
					  m->name.p, o->cfg->plugin->name);
				continue;
			}
			if (!filter_apply(of, &a->sc->out)) {
				o->stats.metrics_filtered++;
				continue;
			}
			sm = &a->sc->out;
			a->sc->line_len[flavour] = 0; /* filtered copy: serialize afresh */
		}
		if (a->sc->line_len[flavour] == 0) {
			a->sc->line_len[flavour] = acc_serialize(a, sm, flavour, cfg->precision_ns);
			if (a->sc->line_len[flavour] <= 0) {
				acc_error(a, "metric %.*s could not be serialized (%ld)", (int)m->name.len, m->name.p,
					  a->sc->line_len[flavour]);
				a->sc->line_len[flavour] = 0;
				continue;
			}
		}
		if (ri->gather_metrics * 2 > (uint64_t)o->buffer_limit)
			output_fit_gather(o, ri->gather_metrics);
		output_push(o, a->sc->line[flavour], (size_t)a->sc->line_len[flavour]);
		if (sm != m)
			a->sc->line_len[flavour] = 0;
	}
}

void acc_error(struct acc *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!a->ri) {
		text_append(&a->errors, msg, strlen(msg));
		text_append(&a->errors, "\n", 1);
		return;
	}
	a->ri->stats.errors++;
	a->ri->agent->totals.gather_errors++;
	log_error(a->ri->label, "%s", msg);
}

void acc_gather_done(struct acc *a)
{
	if (a->ri)
		agent_gather_finished(a->ri);
}

struct acc *acc_capture_new(void)
{
	struct acc *a = acc_alloc(NULL);
	if (a)
		a->gather_time_ns = now_ns();
	return a;
}

const char *acc_capture_text(const struct acc *a)
{
	return a->capture.p ? a->capture.p : "";
}

const char *acc_capture_errors(const struct acc *a)
{
	return a->errors.p ? a->errors.p : "";
}

void acc_capture_clear(struct acc *a)
{
	a->capture.len = a->errors.len = 0;
	if (a->capture.p)
		a->capture.p[0] = '\0';
	if (a->errors.p)
		a->errors.p[0] = '\0';
}

void acc_capture_free(struct acc *a)
{
	acc_free(a);
}
