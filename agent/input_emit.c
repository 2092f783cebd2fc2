/* The engine's sink for a running input's accumulator (acc_sink.h): from
 * the input's metric to line protocol in every output's buffer. Order as
 * Telegraf's: the input's filters select and trim the metric first, then
 * name override/prefix/suffix, the instance tags, the global tags and the
 * host tag (tags the metric already has win); each output's filters then
 * see that metric, and the line is serialized once per serializer flavour.
 * With --test the line goes to stdout instead. */
#include <stdio.h>
#include <string.h>
#include "acc.h"
#include "acc_scratch.h"
#include "acc_sink.h"
#include "agent_internal.h"
#include "filter.h"
#include "log.h"

static bool copy_metric(struct metric *dst, const struct metric *src)
{
	if (!hg_metric_reserve(dst, src->nfields) || !hg_metric_reserve_tags(dst, src->ntags))
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

static void apply_name(struct acc_scratch *sc, struct metric *m, const struct plugin_common *c)
{
	if (!c->name_override && !c->name_prefix && !c->name_suffix)
		return;
	const char *pre = c->name_prefix ? c->name_prefix : "";
	const char *suf = c->name_suffix ? c->name_suffix : "";
	int n;
	if (c->name_override)
		n = snprintf(sc->name, sizeof sc->name, "%s%s%s", pre, c->name_override, suf);
	else
		n = snprintf(sc->name, sizeof sc->name, "%s%.*s%s", pre, (int)m->name.len, m->name.p, suf);
	if (n > 0 && (size_t)n < sizeof sc->name)
		m->name = (struct sv){ sc->name, (size_t)n };
}

static void add_missing_tags(struct metric *m, const struct strmap *tags)
{
	for (size_t i = 0; i < tags->n; i++)
		if (!hg_metric_find_tag(m, tags->k[i]))
			hg_metric_tag(m, tags->k[i], tags->v[i]);
}

/* The raw line may stand for the metric only if the instance would not
 * change it. */
static bool raw_unchanged(const struct running_input *ri, const struct metric *m)
{
	const struct agent_config *cfg = ri->agent->cfg;
	const struct plugin_common *c = &ri->cfg->common;
	if (!hg_filter_is_empty(&c->filter) || c->name_override || c->name_prefix || c->name_suffix || m->overflow)
		return false;
	for (size_t i = 0; i < c->tags.n; i++)
		if (!hg_metric_find_tag(m, c->tags.k[i]))
			return false;
	for (size_t i = 0; i < cfg->global_tags.n; i++)
		if (!hg_metric_find_tag(m, cfg->global_tags.k[i]))
			return false;
	if (!cfg->omit_hostname && !hg_metric_find_tag(m, "host"))
		return false;
	for (size_t i = 1; i < m->ntags; i++)
		if (hg_sv_cmp(m->tags[i - 1].key, m->tags[i].key) >= 0)
			return false;
	return true;
}

static long serialize(struct running_input *ri, const struct metric *m, int flavour)
{
	uint64_t dropped = 0;
	/* For outputs every metric's time is set by now, so 0 is an explicit epoch. */
	long n = hg_acc_scratch_serialize(ri->agent->acc_scratch, m, flavour, true, &dropped);
	if (flavour == 0)
		ri->agent->totals.nan_fields_dropped += dropped;
	return n;
}

/* raw: the metric's line as received, pushed as it is to every output that
 * neither filters nor needs its uint fields clamped. */
static void input_emit(void *ctx, struct acc *a, struct metric *m, bool round, const char *raw, size_t rawlen)
{
	struct running_input *ri = ctx;
	if (ri->baseline)
		return;
	struct agent *ag = ri->agent;
	struct acc_scratch *sc = ag->acc_scratch;
	const struct agent_config *cfg = ag->cfg;
	const struct plugin_common *c = &ri->cfg->common;
	if (raw && (ag->test_mode || !raw_unchanged(ri, m)))
		raw = NULL;

	bool has_uint = false;
	if (raw) {
		for (size_t i = 0; i < m->nfields && !has_uint; i++)
			has_uint = m->fields[i].type == FIELD_UINT;
	} else {
		if (!hg_filter_is_empty(&c->filter) && !hg_filter_apply(&c->filter, m))
			return;
		if (round)
			m->time_ns = round_time(m->time_ns, ri->precision_ns);
		apply_name(sc, m, c);
		add_missing_tags(m, &c->tags);
		add_missing_tags(m, &cfg->global_tags);
		if (!cfg->omit_hostname && !hg_metric_find_tag(m, "host"))
			hg_metric_tag(m, "host", ag->hostname);
		/* Sorted once here, so the serializer needs no index of its own
		 * however many tags there are (one pass when already sorted). */
		hg_metric_sort_tags(m);
	}
	/* Checked after the agent's own tags went in: one that did not fit
	 * (host on a line already at METRIC_MAX_TAGS) is counted and named. */
	if (m->overflow)
		hg_acc_error(a, "metric %.*s has more tags or fields than %d/%d; extra ones left out", (int)m->name.len,
			  m->name.p, METRIC_MAX_TAGS, METRIC_MAX_FIELDS);

	ri->stats.metrics_gathered++;
	/* Only what a gather brings sizes the buffer: a service input's stream between gathers (the
	 * listener's writes) is not one gather's worth, and must stay within metric_buffer_limit. */
	if (ri->gathering)
		ri->gather_metrics++;
	ag->totals.metrics_gathered++;
	sc->line_len[0] = sc->line_len[1] = 0;

	if (ag->test_mode) {
		/* As Telegraf's --test prints: unsigned fields as 'i'. */
		long n = serialize(ri, m, 0);
		if (n > 0)
			fwrite(sc->line[0], 1, (size_t)n, stdout);
		return;
	}
	for (size_t i = 0; i < ag->noutputs; i++) {
		struct running_output *o = &ag->outputs[i];
		const struct metric_filter *of = &o->cfg->common.filter;
		const struct metric *sm = m;
		int flavour = o->uint_support ? 1 : 0;
		if (raw && hg_filter_is_empty(of) && (o->uint_support || !has_uint)) {
			if (ri->gather_metrics * 2 > (uint64_t)o->buffer_limit)
				hg_output_fit_gather(o, ri->gather_metrics);
			hg_output_push(o, raw, rawlen);
			continue;
		}
		if (!hg_filter_is_empty(of)) {
			if (!copy_metric(&sc->out, m)) {
				hg_acc_error(a, "out of memory copying metric %.*s for outputs.%s's filter", (int)m->name.len,
					  m->name.p, o->cfg->plugin->name);
				continue;
			}
			if (!hg_filter_apply(of, &sc->out)) {
				o->stats.metrics_filtered++;
				continue;
			}
			sm = &sc->out;
			sc->line_len[flavour] = 0; /* filtered copy: serialize afresh */
		}
		if (sc->line_len[flavour] == 0) {
			sc->line_len[flavour] = serialize(ri, sm, flavour);
			if (sc->line_len[flavour] <= 0) {
				hg_acc_error(a, "metric %.*s could not be serialized (%ld)", (int)m->name.len, m->name.p,
					  sc->line_len[flavour]);
				sc->line_len[flavour] = 0;
				continue;
			}
		}
		if (ri->gather_metrics * 2 > (uint64_t)o->buffer_limit)
			hg_output_fit_gather(o, ri->gather_metrics);
		hg_output_push(o, sc->line[flavour], (size_t)sc->line_len[flavour]);
		if (sm != m)
			sc->line_len[flavour] = 0;
	}
}

static void input_error(void *ctx, const char *msg)
{
	struct running_input *ri = ctx;
	ri->stats.errors++;
	ri->agent->totals.gather_errors++;
	log_error(ri->label, "%s", msg);
}

static void input_gather_done(void *ctx)
{
	hg_agent_gather_finished(ctx);
}

/* A service input's delivery outside a gather ended: a disk buffer stages
 * what it got, as after a gather. */
static void input_service_done(void *ctx)
{
	struct agent *ag = ((struct running_input *)ctx)->agent;
	for (size_t i = 0; i < ag->noutputs; i++)
		hg_output_gather_ended(&ag->outputs[i]);
}

static const struct acc_sink input_sink = {
	.emit = input_emit,
	.error = input_error,
	.gather_done = input_gather_done,
	.service_done = input_service_done,
};

struct acc *hg_input_acc_new(struct running_input *ri)
{
	return hg_acc_new(&input_sink, ri);
}
