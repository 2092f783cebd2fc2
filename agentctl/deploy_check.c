/* See deploy_check.h. The measurement, tag and field names are the
 * kubernetes input's, kube_inventory's and prometheus's as their READMEs
 * document them (tests/integration/deploy_check_schema.py checks every query
 * against those tables). */
#include "deploy_check.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "deploy_stats.h"
#include "deploy_check_query.h"
#include "influx_answer.h"

#define NAMES_MAX 400

/* ---- one window's data ---- */

struct ctr {
	char key[320]; /* pod/container */
	double min, max, prev;
	bool has_prev, oom;
};

struct window {
	const char *pods;
	int64_t from, to;
	bool fallback_min; /* a container without an earlier value counts from its first value in the span */
	size_t inv_samples, inv_unready;
	struct ctr *ctrs;
	size_t nctrs, capctrs;
	double restarts;
	size_t oom;
	char restarted[NAMES_MAX], oomed[NAMES_MAX];
	double *cpu, *mem;
	size_t ncpu, nmem, capcpu, capmem;
	double num, den;
};

static void window_free(struct window *w)
{
	free(w->ctrs);
	free(w->cpu);
	free(w->mem);
}

static struct ctr *ctr_get(struct window *w, const char *pod, const char *container)
{
	char key[320];
	snprintf(key, sizeof key, "%.200s/%.100s", pod ? pod : "?", container ? container : "?");
	for (size_t i = 0; i < w->nctrs; i++)
		if (strcmp(w->ctrs[i].key, key) == 0)
			return &w->ctrs[i];
	if (w->nctrs == w->capctrs) {
		size_t cap = w->capctrs ? w->capctrs * 2 : 16;
		struct ctr *v = realloc(w->ctrs, cap * sizeof *v);
		if (!v)
			return NULL;
		w->ctrs = v;
		w->capctrs = cap;
	}
	struct ctr *c = &w->ctrs[w->nctrs++];
	*c = (struct ctr){ .min = INFINITY, .max = -INFINITY };
	snprintf(c->key, sizeof c->key, "%s", key);
	return c;
}

static int push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		double *p = realloc(*v, c * sizeof *p);
		if (!p)
			return -1;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static void name_add(char *list, const char *name, double n)
{
	size_t len = strlen(list);
	if (len + 4 >= NAMES_MAX)
		return;
	int k = snprintf(list + len, NAMES_MAX - len, "%s%s +%g", len ? ", " : "", name, n);
	if (k < 0 || (size_t)k >= NAMES_MAX - len)
		snprintf(list + len, NAMES_MAX - len, "%s...", len ? ", " : "");
}

struct runner {
	dc_query_fn query;
	void *arg;
	char *err;
	size_t errlen;
};

/* Runs q and parses its answer into a. 0, or an exit code with err. */
static int run(struct runner *r, struct dcq_text *q, struct influx_answer *a)
{
	if (q->overflow) {
		snprintf(r->err, r->errlen, "a query is longer than %d bytes (a shorter --pods or --error-rate)", QUERY_MAX);
		return AGENTCTL_USAGE;
	}
	char *body = NULL;
	int rc = r->query(r->arg, q->buf, &body, r->err, r->errlen);
	if (rc)
		return rc;
	/* An answer that cannot be read leaves the deploy unjudged (3), never degraded. */
	rc = hg_influx_answer_parse(body, a, r->err, r->errlen) < 0 ? AGENTCTL_UNREACHABLE : 0;
	free(body);
	return rc;
}

static int oom_fail(struct runner *r)
{
	snprintf(r->err, r->errlen, "out of memory");
	return AGENTCTL_UNREACHABLE;
}

/* kube_inventory: restarts, OOMKilled terminations, readiness. */
static int read_inventory(struct runner *r, const struct dc_params *p, struct window *w, int64_t lookback)
{
	struct dcq_text q = { .n = 0 };
	hg_dcq_add(&q, "SELECT last(\"restarts_total\") FROM \"kubernetes_pod_container\"");
	hg_dcq_where(&q, p->namespace_, w->pods, w->from - lookback, w->from);
	hg_dcq_add(&q, " GROUP BY \"pod_name\", \"container_name\"");
	struct influx_answer a;
	int rc = run(r, &q, &a);
	if (rc)
		return rc;
	for (size_t i = 0; i < a.nseries; i++) {
		const struct ia_series *s = &a.series[i];
		int col = hg_ia_col(s, "last");
		double v;
		if (s->nrows && hg_ia_num(s, 0, col, &v)) {
			struct ctr *c = ctr_get(w, hg_ia_tag(s, "pod_name"), hg_ia_tag(s, "container_name"));
			if (!c) {
				hg_influx_answer_free(&a);
				return oom_fail(r);
			}
			c->prev = v;
			c->has_prev = true;
		}
	}
	hg_influx_answer_free(&a);

	q = (struct dcq_text){ .n = 0 };
	hg_dcq_add(&q, "SELECT \"restarts_total\", \"state_code\", \"state_reason\" FROM \"kubernetes_pod_container\"");
	hg_dcq_where(&q, p->namespace_, w->pods, w->from, w->to);
	hg_dcq_add(&q, " GROUP BY \"pod_name\", \"container_name\", \"readiness\", \"state\"");
	if ((rc = run(r, &q, &a)))
		return rc;
	for (size_t i = 0; i < a.nseries; i++) {
		const struct ia_series *s = &a.series[i];
		int rcol = hg_ia_col(s, "restarts_total"), scol = hg_ia_col(s, "state_code"), why = hg_ia_col(s, "state_reason");
		const char *ready = hg_ia_tag(s, "readiness"), *state = hg_ia_tag(s, "state");
		struct ctr *c = ctr_get(w, hg_ia_tag(s, "pod_name"), hg_ia_tag(s, "container_name"));
		if (!c) {
			hg_influx_answer_free(&a);
			return oom_fail(r);
		}
		for (size_t row = 0; row < s->nrows; row++) {
			double code, n;
			/* The kubernetes input's points in the same measurement have no state_code. */
			if (!hg_ia_num(s, row, scol, &code))
				continue;
			w->inv_samples++;
			if (ready && strcmp(ready, "unready") == 0)
				w->inv_unready++;
			if (hg_ia_num(s, row, rcol, &n)) {
				c->min = fmin(c->min, n);
				c->max = fmax(c->max, n);
			}
			const char *reason = hg_ia_str(s, row, why);
			if (state && strcmp(state, "terminated") == 0 && reason && strcmp(reason, "OOMKilled") == 0)
				c->oom = true;
		}
	}
	hg_influx_answer_free(&a);
	for (size_t i = 0; i < w->nctrs; i++) {
		struct ctr *c = &w->ctrs[i];
		if (c->max < c->min) /* only an earlier value: not in this span */
			continue;
		double base = c->has_prev ? c->prev : w->fallback_min ? c->min : 0;
		double n = c->max - base;
		if (n > 0) {
			w->restarts += n;
			name_add(w->restarted, c->key, n);
		}
		if (c->oom) {
			w->oom++;
			name_add(w->oomed, c->key, 1);
		}
	}
	return 0;
}

/* The kubernetes input: CPU and memory per pod (the sum of its containers
 * at each gather). */
static int read_usage(struct runner *r, const struct dc_params *p, struct window *w)
{
	struct dcq_text q = { .n = 0 };
	hg_dcq_add(&q, "SELECT \"cpu_usage_nanocores\", \"memory_working_set_bytes\" FROM \"kubernetes_pod_container\"");
	hg_dcq_where(&q, p->namespace_, w->pods, w->from, w->to);
	hg_dcq_add(&q, " GROUP BY \"pod_name\"");
	struct influx_answer a;
	int rc = run(r, &q, &a);
	if (rc)
		return rc;
	for (size_t i = 0; i < a.nseries && !rc; i++) {
		const struct ia_series *s = &a.series[i];
		int tcol = hg_ia_col(s, "time"), ccol = hg_ia_col(s, "cpu_usage_nanocores");
		int mcol = hg_ia_col(s, "memory_working_set_bytes");
		size_t row = 0;
		while (row < s->nrows && !rc) {
			int64_t t, t2;
			if (!hg_ia_int(s, row, tcol, &t)) {
				row++;
				continue;
			}
			double cpu = 0, mem = 0, v;
			bool has_cpu = false, has_mem = false;
			/* Rows of one gather (one per container) share its time. */
			do {
				if (hg_ia_num(s, row, ccol, &v))
					cpu += v, has_cpu = true;
				if (hg_ia_num(s, row, mcol, &v))
					mem += v, has_mem = true;
				row++;
			} while (row < s->nrows && hg_ia_int(s, row, tcol, &t2) && t2 == t);
			if (has_cpu && push(&w->cpu, &w->ncpu, &w->capcpu, cpu / 1e6) < 0)
				rc = oom_fail(r);
			if (has_mem && push(&w->mem, &w->nmem, &w->capmem, mem) < 0)
				rc = oom_fail(r);
		}
	}
	hg_influx_answer_free(&a);
	return rc;
}

/* The increase of a counter over the span, summed over its series; a drop
 * is a counter reset (a restarted pod) and counts from 0. */
static int read_increase(struct runner *r, const struct dc_params *p, struct window *w,
			 const struct dc_series_expr *e, double *out)
{
	struct dcq_text q = { .n = 0 };
	hg_dcq_add(&q, "SELECT ");
	hg_dcq_ident(&q, e->field);
	hg_dcq_add(&q, " FROM ");
	hg_dcq_ident(&q, e->measurement);
	hg_dcq_where(&q, p->namespace_, w->pods, w->from, w->to);
	hg_dcq_add(&q, "%s GROUP BY *", e->where);
	struct influx_answer a;
	int rc = run(r, &q, &a);
	if (rc)
		return rc;
	*out = 0;
	for (size_t i = 0; i < a.nseries; i++) {
		const struct ia_series *s = &a.series[i];
		int col = hg_ia_col(s, e->field);
		bool have = false;
		double last = 0, v;
		for (size_t row = 0; row < s->nrows; row++) {
			if (!hg_ia_num(s, row, col, &v))
				continue;
			if (have)
				*out += v >= last ? v - last : v;
			last = v;
			have = true;
		}
	}
	hg_influx_answer_free(&a);
	return 0;
}

static int read_window(struct runner *r, const struct dc_params *p, struct window *w)
{
	int rc = read_inventory(r, p, w, w->to - w->from);
	if (!rc)
		rc = read_usage(r, p, w);
	if (!rc && p->rate) {
		rc = read_increase(r, p, w, &p->rate->num, &w->num);
		if (!rc)
			rc = read_increase(r, p, w, &p->rate->den, &w->den);
	}
	return rc;
}

/* ---- judging ---- */

static void fmt_time(int64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What is missing, said once per signal family. */
static void missing(struct dc_signal *sig, const char *what, const struct window *w, size_t have, double need)
{
	char from[32], to[32];
	fmt_time(w->from, from, sizeof from);
	fmt_time(w->to, to, sizeof to);
	sig->verdict = DC_MISSING;
	snprintf(sig->detail, sizeof sig->detail, "%zu %.300s for pods /%.120s/ between %.32s and %.32s, %g needed",
		 have, what, w->pods, from, to, need);
}

static void judge_count(struct dc_signal *sig, double before, double after, double max_increase, const char *names)
{
	sig->before = before;
	sig->after = after;
	sig->verdict = after - before > max_increase ? DC_DEGRADED : DC_OK;
	if (sig->verdict == DC_DEGRADED && names[0])
		snprintf(sig->detail, sizeof sig->detail, "%s", names);
}

static int judge_usage(struct dc_signal *med, struct dc_signal *p95, double *b, size_t nb, double *a, size_t na,
		       double rel, double abs, double p95_rel)
{
	hg_ds_sort(b, nb);
	hg_ds_sort(a, na);
	med->before = hg_ds_quantile(b, nb, 0.5);
	med->after = hg_ds_quantile(a, na, 0.5);
	p95->before = hg_ds_quantile(b, nb, 0.95);
	p95->after = hg_ds_quantile(a, na, 0.95);
	struct ds_shift sh;
	if (hg_ds_compare(b, nb, a, na, &sh) < 0)
		return -1;
	/* The typical rise (Hodges-Lehmann shift) must pass both thresholds and
	 * be more than noise (Mann-Whitney): a flapping series whose mean has
	 * not moved has a shift near 0 even when its median jumps between modes. */
	bool big = hg_ds_exceeds(med->before, med->before + sh.hl, rel, abs);
	med->verdict = big && sh.z > DS_Z_SIGNIFICANT ? DC_DEGRADED : DC_OK;
	if (med->verdict == DC_OK && (big || hg_ds_exceeds(med->before, med->after, rel, abs)))
		snprintf(med->detail, sizeof med->detail, "within noise: typical rise %.4g, z %.2f (%.2f needed)", sh.hl,
			 sh.z, DS_Z_SIGNIFICANT);
	else
		snprintf(med->detail, sizeof med->detail, "typical rise %.4g, z %.2f", sh.hl, sh.z);
	p95->verdict = hg_ds_exceeds(p95->before, p95->after, p95_rel, abs) ? DC_DEGRADED : DC_OK;
	return 0;
}

int hg_deploy_check_run(const struct dc_params *p, dc_query_fn query, void *arg, struct dc_result *res, char *err,
		     size_t errlen)
{
	static const struct {
		const char *name, *unit;
	} names[DC_NSIGNALS] = {
		[DC_RESTARTS] = { "restarts", "" },
		[DC_OOM] = { "oom_killed", "" },
		[DC_NOT_READY] = { "not_ready_pct", "%" },
		[DC_CPU_MEDIAN] = { "cpu_median_millicores", "m" },
		[DC_CPU_P95] = { "cpu_p95_millicores", "m" },
		[DC_MEM_MEDIAN] = { "memory_median_bytes", "bytes" },
		[DC_MEM_P95] = { "memory_p95_bytes", "bytes" },
		[DC_ERROR_RATE] = { "error_rate_pct", "%" },
	};
	*res = (struct dc_result){ .verdict = DC_OK };
	for (int i = 0; i < DC_NSIGNALS; i++) {
		res->sig[i].name = names[i].name;
		res->sig[i].unit = names[i].unit;
		res->sig[i].used = i != DC_ERROR_RATE || p->rate;
	}
	struct runner r = { query, arg, err, errlen };
	struct window b = { .pods = p->pods_before, .from = p->before_from, .to = p->before_to, .fallback_min = !p->canary };
	struct window a = { .pods = p->pods_after, .from = p->after_from, .to = p->after_to };
	int rc = read_window(&r, p, &b);
	if (!rc)
		rc = read_window(&r, p, &a);
	if (rc)
		goto out;

	struct dc_signal *s = res->sig;
	if (b.inv_samples < p->min_samples || a.inv_samples < p->min_samples) {
		const struct window *w = b.inv_samples < p->min_samples ? &b : &a;
		for (int i = DC_RESTARTS; i <= DC_NOT_READY; i++)
			missing(&s[i], "kube_inventory samples (kubernetes_pod_container state_code)", w, w->inv_samples,
				(double)p->min_samples);
	} else {
		judge_count(&s[DC_RESTARTS], b.restarts, a.restarts, p->max_restarts, a.restarted);
		judge_count(&s[DC_OOM], (double)b.oom, (double)a.oom, p->max_oom, a.oomed);
		judge_count(&s[DC_NOT_READY], 100.0 * (double)b.inv_unready / (double)b.inv_samples,
			    100.0 * (double)a.inv_unready / (double)a.inv_samples, p->max_not_ready, "");
	}
	if (b.ncpu < p->min_samples || a.ncpu < p->min_samples) {
		const struct window *w = b.ncpu < p->min_samples ? &b : &a;
		missing(&s[DC_CPU_MEDIAN], "per-pod samples of kubernetes_pod_container cpu_usage_nanocores (kubernetes input)",
			w, w->ncpu, (double)p->min_samples);
		s[DC_CPU_P95].verdict = DC_MISSING; /* the median's line says what is missing */
	} else if (judge_usage(&s[DC_CPU_MEDIAN], &s[DC_CPU_P95], b.cpu, b.ncpu, a.cpu, a.ncpu, p->cpu_rel, p->cpu_abs,
			       p->p95_rel) < 0) {
		rc = oom_fail(&r);
		goto out;
	}
	if (b.nmem < p->min_samples || a.nmem < p->min_samples) {
		const struct window *w = b.nmem < p->min_samples ? &b : &a;
		missing(&s[DC_MEM_MEDIAN],
			"per-pod samples of kubernetes_pod_container memory_working_set_bytes (kubernetes input)", w, w->nmem,
			(double)p->min_samples);
		s[DC_MEM_P95].verdict = DC_MISSING; /* the median's line says what is missing */
	} else if (judge_usage(&s[DC_MEM_MEDIAN], &s[DC_MEM_P95], b.mem, b.nmem, a.mem, a.nmem, p->mem_rel, p->mem_abs,
			       p->p95_rel) < 0) {
		rc = oom_fail(&r);
		goto out;
	}
	if (p->rate) {
		struct dc_signal *e = &s[DC_ERROR_RATE];
		if (b.den < p->min_requests || a.den < p->min_requests || !(b.den > 0) || !(a.den > 0)) {
			const struct window *w = b.den < p->min_requests || !(b.den > 0) ? &b : &a;
			char what[400];
			snprintf(what, sizeof what, "requests (the increase of %.120s %.120s, prometheus input)",
				 p->rate->den.measurement, p->rate->den.field);
			missing(e, what, w, (size_t)w->den, p->min_requests);
		} else {
			e->before = 100 * b.num / b.den;
			e->after = 100 * a.num / a.den;
			e->verdict = hg_ds_exceeds(e->before, e->after, p->err_rel, p->err_abs) ? DC_DEGRADED : DC_OK;
		}
	}
	/* Degraded wins: a signal that says so is enough to stop the pipeline,
	 * whatever else could not be judged. */
	bool degraded = false, miss = false;
	for (int i = 0; i < DC_NSIGNALS; i++) {
		degraded |= s[i].used && s[i].verdict == DC_DEGRADED;
		miss |= s[i].used && s[i].verdict == DC_MISSING;
	}
	res->verdict = degraded ? DC_DEGRADED : miss ? DC_MISSING : DC_OK;
out:
	window_free(&b);
	window_free(&a);
	return rc;
}
