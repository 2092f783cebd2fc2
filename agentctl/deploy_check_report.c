/* See deploy_check_report.h. */
#include "deploy_check_report.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include "lp.h"
#include "metric.h"

void hg_dc_format_time(int64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *verdict_word(enum dc_verdict v)
{
	return v == DC_OK ? "ok" : v == DC_DEGRADED ? "degraded" : "not enough data";
}

static void fmt_value(const struct dc_signal *s, double v, char *out, size_t len)
{
	if (strcmp(s->unit, "bytes") == 0)
		snprintf(out, len, "%.1fMi", v / 1048576.0);
	else if (strcmp(s->unit, "m") == 0)
		snprintf(out, len, "%.0fm", v);
	else if (strcmp(s->unit, "%") == 0)
		snprintf(out, len, "%.1f%%", v);
	else
		snprintf(out, len, "%g", v);
}

static void fmt_change(const struct dc_signal *s, char *out, size_t len)
{
	if (strcmp(s->unit, "bytes") == 0 || strcmp(s->unit, "m") == 0) {
		if (s->before > 0)
			snprintf(out, len, "%+.0f%%", 100 * (s->after - s->before) / s->before);
		else
			snprintf(out, len, "%s", s->after > 0 ? "new" : "0%");
	} else {
		snprintf(out, len, "%+g", round((s->after - s->before) * 10) / 10);
	}
}

/* The degraded (or missing) signals' names, comma-separated. */
static void list_signals(const struct dc_result *r, enum dc_verdict which, char *out, size_t len)
{
	out[0] = '\0';
	for (int i = 0; i < DC_NSIGNALS; i++) {
		const struct dc_signal *s = &r->sig[i];
		if (!s->used || s->verdict != which)
			continue;
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s%s", n ? "," : "", s->name);
	}
}

void hg_dc_print_table(const struct dc_report *a, const struct dc_result *r)
{
	char t0[32], t1[32], t2[32], t3[32];
	const struct dc_params *p = a->p;
	hg_dc_format_time(p->after_from, t0, sizeof t0);
	hg_dc_format_time(p->after_to, t1, sizeof t1);
	hg_dc_format_time(p->before_from, t2, sizeof t2);
	hg_dc_format_time(p->before_to, t3, sizeof t3);
	if (p->canary)
		printf("%s in %s: canary pods /%s/ against stable pods /%s/, %s to %s\n", a->service, a->namespace_,
		       p->pods_after, p->pods_before, t0, t1);
	else
		printf("%s in %s: pods /%s/ %s to %s against %s to %s\n", a->service, a->namespace_, p->pods_after, t0, t1,
		       t2, t3);
	printf("%-22s %12s %12s %8s  %s\n", "signal", p->canary ? "stable" : "before", p->canary ? "canary" : "after",
	       "change", "verdict");
	for (int i = 0; i < DC_NSIGNALS; i++) {
		const struct dc_signal *s = &r->sig[i];
		if (!s->used)
			continue;
		char b[32] = "-", af[32] = "-", ch[32] = "-";
		if (s->verdict != DC_MISSING) {
			fmt_value(s, s->before, b, sizeof b);
			fmt_value(s, s->after, af, sizeof af);
			fmt_change(s, ch, sizeof ch);
		}
		/* An ok line says why only when it might surprise: a median that
		 * moved, judged noise. */
		bool say = s->detail[0] && (s->verdict != DC_OK || strncmp(s->detail, "within noise", 12) == 0);
		printf("%-22s %12s %12s %8s  %s%s%s\n", s->name, b, af, ch, verdict_word(s->verdict), say ? ": " : "",
		       say ? s->detail : "");
	}
	char list[256] = "";
	if (r->verdict != DC_OK)
		list_signals(r, r->verdict, list, sizeof list);
	printf("verdict: %s%s%s%s\n", r->verdict == DC_OK ? "healthy" : verdict_word(r->verdict),
	       list[0] ? " (" : "", list, list[0] ? ")" : "");
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void hg_dc_print_json(const struct dc_report *a, const struct dc_result *r)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return;
	const struct dc_params *p = a->p;
	yajl_gen_map_open(g);
	gen_str(g, "service");
	gen_str(g, a->service);
	gen_str(g, "namespace");
	gen_str(g, a->namespace_);
	gen_str(g, "mode");
	gen_str(g, p->canary ? "canary" : "before_after");
	gen_str(g, "verdict");
	gen_str(g, r->verdict == DC_OK ? "healthy" : r->verdict == DC_DEGRADED ? "degraded" : "insufficient_data");
	gen_str(g, "exit_code");
	yajl_gen_integer(g, r->verdict);
	const struct {
		const char *k;
		const char *pods;
		int64_t from, to;
	} w[2] = { { p->canary ? "stable" : "before", p->pods_before, p->before_from, p->before_to },
		   { p->canary ? "canary" : "after", p->pods_after, p->after_from, p->after_to } };
	for (int i = 0; i < 2; i++) {
		gen_str(g, w[i].k);
		yajl_gen_map_open(g);
		gen_str(g, "pods");
		gen_str(g, w[i].pods);
		gen_str(g, "from_ns");
		yajl_gen_integer(g, w[i].from);
		gen_str(g, "to_ns");
		yajl_gen_integer(g, w[i].to);
		yajl_gen_map_close(g);
	}
	gen_str(g, "signals");
	yajl_gen_array_open(g);
	for (int i = 0; i < DC_NSIGNALS; i++) {
		const struct dc_signal *s = &r->sig[i];
		if (!s->used)
			continue;
		yajl_gen_map_open(g);
		gen_str(g, "name");
		gen_str(g, s->name);
		gen_str(g, "verdict");
		gen_str(g, s->verdict == DC_OK ? "ok" : s->verdict == DC_DEGRADED ? "degraded" : "insufficient_data");
		if (s->verdict != DC_MISSING) {
			gen_str(g, "before");
			yajl_gen_double(g, s->before);
			gen_str(g, "after");
			yajl_gen_double(g, s->after);
		}
		gen_str(g, "detail");
		gen_str(g, s->detail);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		printf("%.*s\n", (int)len, (const char *)buf);
	yajl_gen_free(g);
}

/* The verdict as a `deploy` point: the deploy_events schema's tags, phase
 * verified or degraded, each judged signal's before/after as fields. */
long hg_dc_verdict_line(const struct dc_report *a, const struct dc_result *r, char *line, size_t cap)
{
	struct metric mbuf = { 0 }, *m = &mbuf;
	hg_metric_reset(m, sv_c("deploy"));
	hg_metric_tag(m, "namespace", a->namespace_);
	hg_metric_tag(m, "name", a->service);
	hg_metric_tag(m, "kind", a->kind);
	hg_metric_tag(m, "strategy", a->strategy);
	hg_metric_tag(m, "phase", r->verdict == DC_OK ? "verified" : "degraded");
	hg_metric_tag(m, "source", "pipeline");
	if (a->cluster && *a->cluster)
		hg_metric_tag(m, "cluster", a->cluster);
	if (a->version && *a->version)
		hg_metric_string(m, "version", a->version);
	char list[256];
	list_signals(r, DC_DEGRADED, list, sizeof list);
	hg_metric_string(m, "verdict", r->verdict == DC_OK ? "healthy" : "degraded");
	hg_metric_string(m, "degraded_signals", list);
	hg_metric_string(m, "comparison", a->p->canary ? "canary" : "before_after");
	hg_metric_float(m, "window_s", (double)a->window_ns / 1e9);
	/* The metric keeps pointers to its keys until it is serialized. */
	char keys[DC_NSIGNALS][2][64];
	for (int i = 0; i < DC_NSIGNALS; i++) {
		const struct dc_signal *s = &r->sig[i];
		if (!s->used || s->verdict == DC_MISSING)
			continue;
		snprintf(keys[i][0], sizeof keys[i][0], "%s_before", s->name);
		hg_metric_float(m, keys[i][0], s->before);
		snprintf(keys[i][1], sizeof keys[i][1], "%s_after", s->name);
		hg_metric_float(m, keys[i][1], s->after);
	}
	m->time_ns = a->p->after_to;
	struct lp_opts o = { .precision_ns = 1, .uint_support = false };
	struct lp_stats st = { 0 };
	long n = hg_lp_serialize(m, &o, line, cap, &st);
	hg_metric_release(m);
	return n < 0 ? -1 : n;
}
