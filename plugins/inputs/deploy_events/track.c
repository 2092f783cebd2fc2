/* Deploy tracking. A workload (Deployment or Rollout) starts a deploy when
 * its pod template changes (images or revision annotation); its status then
 * says progressing, completed or failed. Canary and blue-green made of two
 * Deployments are tracked on the Service in front of them: the canary's or
 * new color's rollout starts the deploy, the stable's update to the canary
 * images or the selector switch promotes it. A revision that brings back an
 * earlier template is a rollback. Each phase is emitted once per deploy;
 * a phase timed at a spec write waits for the controller to number the new
 * revision (pend_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

#define HIST 8

struct deploy {
	bool active;
	unsigned done;           /* bit per phase emitted */
	enum strategy st;
	int64_t start_ns;
	bool rollback;           /* this deploy brings back an earlier template */
	bool undo_pending;       /* a later revision reverted it: rolled_back when that one is up */
	char target[254];        /* pair deploys: the canary / new color Deployment */
	char target_val[64];
	char target_images[512];
	/* A phase timed at a spec write (started; a canary pair's promoted)
	 * waits for the controller to number the new revision (the revision
	 * annotation is written after the user's spec write): */
	bool pend;               /* pend_ph not emitted yet */
	enum phase pend_ph;
	int64_t pend_ts;
	bool pend_list;          /* the spec write was seen in a (re)list */
	enum kobj_kind pend_kind;
	char pend_wl[254];       /* the Deployment or Rollout whose revision is awaited */
	const char *pend_pkind;  /* the point's kind and name */
	char pend_pname[254];
	int64_t pend_weight, pend_rev, pend_seen;
	int pend_updates;
	struct kobj pend_o;      /* the object at the spec write */
};

struct hist {
	char images[512];
	int64_t rev;
};

struct wl {
	struct kobj o;
	bool present;
	int64_t rev_gen;         /* metadata.generation when the last new revision was seen */
	struct deploy d;
	struct hist h[HIST];
	int nh, hnext;
};

struct svc {
	struct kobj o;
	struct deploy d, last;
	char bgkey[16];
	char prev_val[64];
};

struct track {
	track_emit_fn emit;
	void *arg;
	int64_t skip_before, now;
	bool from_list;
	struct wl **w;
	size_t nw;
	struct svc **s;
	size_t ns;
};

static const char *const phases[] = { "started", "progressing", "promoted", "completed", "failed", "rolled_back" };

const char *strategy_name(enum strategy s)
{
	return deploy_strategy_name((enum deploy_strategy)s);
}

const char *phase_name(enum phase p)
{
	return phases[p];
}

int strategy_parse(const char *s)
{
	return deploy_strategy_parse(s);
}

struct track *track_new(track_emit_fn emit, void *arg)
{
	struct track *t = calloc(1, sizeof *t);
	if (t) {
		t->emit = emit;
		t->arg = arg;
	}
	return t;
}

void track_free(struct track *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nw; i++)
		free(t->w[i]);
	for (size_t i = 0; i < t->ns; i++)
		free(t->s[i]);
	free(t->w);
	free(t->s);
	free(t);
}

void track_set_skip_before(struct track *t, int64_t ns)
{
	t->skip_before = ns;
}

/* ---- lookup ---- */

static bool same(const struct kobj *a, enum kobj_kind kind, const char *ns, const char *name)
{
	return a->kind == kind && strcmp(a->ns, ns) == 0 && strcmp(a->name, name) == 0;
}

static struct wl *wl_find(struct track *t, enum kobj_kind kind, const char *ns, const char *name, bool add)
{
	for (size_t i = 0; i < t->nw; i++)
		if (same(&t->w[i]->o, kind, ns, name))
			return t->w[i];
	if (!add)
		return NULL;
	struct wl **nw = realloc(t->w, (t->nw + 1) * sizeof *nw);
	if (!nw)
		return NULL;
	t->w = nw;
	struct wl *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o.kind = kind;
	snprintf(w->o.ns, sizeof w->o.ns, "%s", ns);
	snprintf(w->o.name, sizeof w->o.name, "%s", name);
	t->w[t->nw++] = w;
	return w;
}

static struct svc *svc_find(struct track *t, const char *ns, const char *name, bool add)
{
	for (size_t i = 0; i < t->ns; i++)
		if (strcmp(t->s[i]->o.ns, ns) == 0 && strcmp(t->s[i]->o.name, name) == 0)
			return t->s[i];
	if (!add)
		return NULL;
	struct svc **ns2 = realloc(t->s, (t->ns + 1) * sizeof *ns2);
	if (!ns2)
		return NULL;
	t->s = ns2;
	struct svc *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	t->s[t->ns++] = s;
	return s;
}

static void hist_add(struct wl *w, const char *images, int64_t rev)
{
	if (!images[0])
		return;
	for (int i = 0; i < w->nh; i++) {
		if (strcmp(w->h[i].images, images) == 0) {
			if (rev < w->h[i].rev)
				w->h[i].rev = rev;
			return;
		}
	}
	struct hist *h = &w->h[w->hnext];
	w->hnext = (w->hnext + 1) % HIST;
	if (w->nh < HIST)
		w->nh++;
	snprintf(h->images, sizeof h->images, "%s", images);
	h->rev = rev;
}

static bool hist_has(const struct wl *w, const char *images, int64_t rev)
{
	for (int i = 0; i < w->nh; i++)
		if (strcmp(w->h[i].images, images) == 0 && w->h[i].rev < rev)
			return true;
	return false;
}

/* ---- emitting ---- */

static struct wl *wl_find(struct track *t, enum kobj_kind kind, const char *ns, const char *name, bool add);
static void pend_flush(struct track *t, struct deploy *d);
static int64_t argo_weight(const struct kobj *o);

static void emit(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		 const char *kind, const char *name, int64_t weight)
{
	pend_flush(t, d); /* a waiting phase first, with whatever is known of it */
	if (d->done & (1u << ph))
		return;
	d->done |= 1u << ph;
	/* An earlier leader was alive and watching at that time: it recorded it.
	 * A phase a list shows without a time of its own happened at some time
	 * before the list: recorded when its deploy started before then. */
	int64_t when = ts ? ts : d->start_ns;
	if (!ts)
		ts = t->now;
	if (t->from_list && t->skip_before && when < t->skip_before)
		return;
	bool terminal = ph == PH_COMPLETED || ph == PH_FAILED || ph == PH_ROLLED_BACK;
	const char *msg = ph == PH_STARTED ? "" : o->prog_msg;
	struct deploy_point p = {
		.ns = o->ns, .name = name, .kind = kind, .strategy = d->st, .phase = ph, .time_ns = ts, .o = o,
		.canary_weight = d->st == ST_CANARY ? weight : -1,
		.duration_s = terminal ? (double)(ts - d->start_ns) / 1e9 : -1, .message = msg,
	};
	if (p.duration_s < -0.0 && terminal)
		p.duration_s = 0;
	t->emit(t->arg, &p);
}

static void start(struct track *t, struct deploy *d, enum strategy st, int64_t ts)
{
	pend_flush(t, d);
	memset(d, 0, sizeof *d);
	d->active = true;
	d->st = st;
	d->start_ns = ts ? ts : t->now;
}

/* ---- started, once the controller has numbered the new revision ---- */

/* The deployment controller (and Argo's) writes the revision annotation of
 * a new pod template after the user's spec write, normally within a second:
 * started (and a canary pair's promoted, the stable's spec write) waits for
 * it, keeping the time of the spec write, so that it names the revision
 * being rolled out, as the later phases do. Without it, the point is emitted
 * with what is known (the previous revision number) before another phase of
 * the deploy, when the template changes again, the workload is deleted, the
 * tracker is flushed (leadership lost), or at the PEND_MAX_UPDATES-th state
 * of the workload counting the spec write's, or at the first one seen
 * PEND_MAX_NS or more after the spec write was seen. */
#define PEND_MAX_UPDATES 5
#define PEND_MAX_NS (30LL * 1000000000LL)

/* The revision annotation changed since the spec write, or the controller
 * observed its generation (it writes the annotation before that), or there
 * is no annotation to wait for (the revision is the generation). */
static bool numbered(const struct deploy *d, const struct kobj *o)
{
	if (!o->rev_ann || o->revision != d->pend_rev)
		return true;
	return o->observed_generation >= d->pend_o.generation;
}

static void pend_flush(struct track *t, struct deploy *d)
{
	if (!d->pend)
		return;
	d->pend = false;
	struct wl *w = wl_find(t, d->pend_kind, d->pend_o.ns, d->pend_wl, false);
	/* The workload now while it has the template of the spec write, else as it was then. */
	const struct kobj *o = w && w->present && strcmp(w->o.images, d->pend_o.images) == 0 ? &w->o : &d->pend_o;
	int64_t wt = o->kind == KOBJ_ROLLOUT && strcmp(d->pend_pkind, "Rollout") == 0 ? argo_weight(o) : d->pend_weight;
	bool fl = t->from_list;
	t->from_list = d->pend_list;
	emit(t, d, d->pend_ph, d->pend_ts, o, d->pend_pkind, d->pend_pname, wt);
	t->from_list = fl;
}

/* Phase ph of d at o's spec write (time ts), named kind/name. */
static void pend_start(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		       const char *kind, const char *name, int64_t weight)
{
	pend_flush(t, d);
	if (d->done & (1u << ph))
		return;
	d->pend = true;
	d->pend_ph = ph;
	d->pend_ts = ts;
	d->pend_list = t->from_list;
	d->pend_kind = o->kind;
	snprintf(d->pend_wl, sizeof d->pend_wl, "%s", o->name);
	d->pend_pkind = kind;
	snprintf(d->pend_pname, sizeof d->pend_pname, "%s", name);
	d->pend_weight = weight;
	d->pend_rev = o->revision;
	d->pend_seen = t->now;
	d->pend_updates = 0;
	d->pend_o = *o;
	if (numbered(d, o))
		pend_flush(t, d);
}

/* A new state of w (force: its deletion): the points waiting for its revision number. */
static void pend_check(struct track *t, struct deploy *d, const struct wl *w, bool force)
{
	if (!d->pend || d->pend_kind != w->o.kind || strcmp(d->pend_wl, w->o.name) != 0 ||
	    strcmp(d->pend_o.ns, w->o.ns) != 0)
		return;
	if (force || ++d->pend_updates >= PEND_MAX_UPDATES || t->now - d->pend_seen >= PEND_MAX_NS ||
	    numbered(d, &w->o) || strcmp(w->o.images, d->pend_o.images) != 0)
		pend_flush(t, d);
}

static void pend_check_all(struct track *t, const struct wl *w, bool force)
{
	for (size_t i = 0; i < t->nw; i++)
		pend_check(t, &t->w[i]->d, w, force);
	for (size_t i = 0; i < t->ns; i++)
		pend_check(t, &t->s[i]->d, w, force);
}

/* ph emitted, or waiting for the revision number. */
static bool has(const struct deploy *d, enum phase ph)
{
	return (d->done & (1u << ph)) || (d->pend && d->pend_ph == ph);
}

void track_flush(struct track *t)
{
	for (size_t i = 0; t && i < t->nw; i++)
		pend_flush(t, &t->w[i]->d);
	for (size_t i = 0; t && i < t->ns; i++)
		pend_flush(t, &t->s[i]->d);
}

/* ---- status reading ---- */

static bool dep_failed(const struct kobj *o)
{
	return strcmp(o->prog_status, "False") == 0 && strcmp(o->prog_reason, "ProgressDeadlineExceeded") == 0;
}

/* The controller has seen this generation (else the status is the previous revision's). */
static bool dep_current(const struct kobj *o)
{
	return o->observed_generation >= o->generation;
}

static bool dep_complete(const struct kobj *o)
{
	return dep_current(o) && !dep_failed(o) && o->updated >= o->replicas && o->available >= o->replicas &&
	       (!o->prog_reason[0] || strcmp(o->prog_reason, "NewReplicaSetAvailable") == 0);
}

/* A new pod template: other images, or a revision number (annotation, a
 * Rollout's pod hash) the controller gave to a template change of another
 * kind. The controller writes those after the user's spec write, at the same
 * generation: for a change of images that is the same rollout. */
static bool new_revision(const struct wl *w, const struct kobj *old, const struct kobj *o)
{
	if (strcmp(old->images, o->images) != 0)
		return true;
	if (o->generation && o->generation == w->rev_gen)
		return false;
	if (o->rev_ann && old->rev_ann && o->revision > old->revision)
		return true;
	return o->kind == KOBJ_ROLLOUT && o->pod_hash[0] && old->pod_hash[0] && strcmp(o->pod_hash, old->pod_hash);
}

/* ---- workloads deployed on their own ---- */

static enum strategy own_strategy(const struct kobj *o)
{
	int a = o->strategy_ann[0] ? strategy_parse(o->strategy_ann) : -1;
	if (a >= 0)
		return (enum strategy)a;
	if (o->kind == KOBJ_ROLLOUT)
		return o->argo == ARGO_CANARY ? ST_CANARY : o->argo == ARGO_BLUEGREEN ? ST_BLUEGREEN : ST_ROLLING;
	const char *track = kv_get(o->labels, o->nlabels, "track");
	if (track && strcmp(track, "canary") == 0)
		return ST_CANARY;
	return o->recreate ? ST_BIGBANG : ST_ROLLING;
}

static int64_t argo_weight(const struct kobj *o)
{
	if (o->status_weight >= 0)
		return o->status_weight;
	if (o->pod_hash[0] && strcmp(o->pod_hash, o->stable_rs) == 0)
		return 100;
	int64_t w = 0;
	for (int i = 0; i < o->nsteps && i < o->step_index; i++)
		if (o->step_weight[i] >= 0)
			w = o->step_weight[i];
	/* At a setWeight step the weight is already applied. */
	if (o->step_index >= 0 && o->step_index < o->nsteps && o->step_weight[o->step_index] >= 0)
		w = o->step_weight[o->step_index];
	return w;
}

static void eval_rollout(struct track *t, struct wl *w)
{
	struct deploy *d = &w->d;
	const struct kobj *o = &w->o;
	const char *k = "Rollout";
	/* Until the controller has seen this generation (Argo writes it as a
	 * number in a string; 0: not written) the status is the previous one's. */
	if (o->observed_generation && !dep_current(o))
		return;
	int64_t wt = argo_weight(o);
	bool in_prog = o->pod_hash[0] && strcmp(o->pod_hash, o->stable_rs) != 0;
	bool failed = o->aborted || dep_failed(o) || strcmp(o->phase, "Degraded") == 0;
	if (failed && in_prog) {
		emit(t, d, PH_FAILED, o->aborted && o->aborted_ns ? o->aborted_ns : o->prog_ns, o, k, o->name, wt);
		return;
	}
	if (in_prog) {
		if (o->updated > 0 || o->step_index > 0)
			emit(t, d, PH_PROGRESSING, o->prog_ns, o, k, o->name, wt);
		if ((o->argo == ARGO_BLUEGREEN && strcmp(o->active_sel, o->pod_hash) == 0) ||
		    (o->argo == ARGO_CANARY && o->nsteps && o->step_index >= o->nsteps))
			emit(t, d, PH_PROMOTED, 0, o, k, o->name, wt); /* no time in the object: when seen */
		return;
	}
	if (d->undo_pending || d->rollback) {
		emit(t, d, PH_ROLLED_BACK, o->prog_ns, o, k, o->name, wt);
	} else {
		if (d->st == ST_CANARY || d->st == ST_BLUEGREEN)
			emit(t, d, PH_PROMOTED, o->prog_ns, o, k, o->name, wt);
		emit(t, d, PH_COMPLETED, o->prog_ns, o, k, o->name, wt);
	}
	d->active = false;
}

static void eval_deployment(struct track *t, struct wl *w)
{
	struct deploy *d = &w->d;
	const struct kobj *o = &w->o;
	if (!dep_current(o))
		return;
	if (dep_complete(o)) {
		if (d->undo_pending || d->rollback)
			emit(t, d, PH_ROLLED_BACK, o->prog_ns, o, "Deployment", o->name, 100);
		else
			emit(t, d, PH_COMPLETED, o->prog_ns, o, "Deployment", o->name, 100);
		d->active = false;
	} else if (dep_failed(o)) {
		emit(t, d, PH_FAILED, o->prog_ns, o, "Deployment", o->name, 0);
	} else {
		emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Deployment", o->name, 0);
	}
}

static void own_update(struct track *t, struct wl *w, bool newrev, bool was_present, const struct kobj *old)
{
	const struct kobj *o = &w->o;
	if (newrev) {
		bool rb = was_present && hist_has(w, o->images, o->revision);
		if (rb && w->d.active && !(w->d.done & (1u << PH_COMPLETED))) {
			w->d.undo_pending = true;
		} else {
			start(t, &w->d, own_strategy(o), o->spec_ns);
			w->d.rollback = rb;
			pend_start(t, &w->d, PH_STARTED, w->d.start_ns, o, o->kind == KOBJ_ROLLOUT ? "Rollout" : "Deployment", o->name,
				   o->kind == KOBJ_ROLLOUT ? argo_weight(o) : 0);
		}
	}
	(void)old;
	if (!w->d.active)
		return;
	if (o->kind == KOBJ_ROLLOUT)
		eval_rollout(t, w);
	else
		eval_deployment(t, w);
}

/* ---- Deployments in pairs behind one Service ---- */

static bool selects(const struct svc *s, const struct kobj *o, const char *except)
{
	if (s->o.nsel == 0 || strcmp(s->o.ns, o->ns) != 0)
		return false;
	for (int i = 0; i < s->o.nsel; i++) {
		if (except && strcmp(s->o.sel[i].k, except) == 0) {
			if (!kv_get(o->sel, o->nsel, except))
				return false;
			continue;
		}
		const char *v = kv_get(o->sel, o->nsel, s->o.sel[i].k);
		if (!v || strcmp(v, s->o.sel[i].v) != 0)
			return false;
	}
	return true;
}

static const char *track_label(const struct kobj *o)
{
	const char *v = kv_get(o->labels, o->nlabels, "track");
	return v ? v : kv_get(o->sel, o->nsel, "track");
}

static bool is_canary(const struct kobj *o)
{
	const char *v = track_label(o);
	return v && strcmp(v, "canary") == 0;
}

static int64_t canary_weight(struct track *t, const struct svc *s, const struct kobj *canary)
{
	int64_t c = canary->replicas, st = 0;
	for (size_t i = 0; i < t->nw; i++) {
		const struct kobj *e = &t->w[i]->o;
		if (t->w[i]->present && e->kind == KOBJ_DEPLOYMENT && !is_canary(e) && selects(s, e, NULL))
			st += e->replicas;
	}
	return c + st > 0 ? c * 100 / (c + st) : 0;
}

static struct wl *stable_beside(struct track *t, const struct svc *s, const struct kobj *canary)
{
	for (size_t i = 0; i < t->nw; i++) {
		struct wl *e = t->w[i];
		if (e->present && e->o.kind == KOBJ_DEPLOYMENT && !is_canary(&e->o) && selects(s, &e->o, NULL) &&
		    strcmp(e->o.name, canary->name) != 0)
			return e;
	}
	return NULL;
}

static void canary_update(struct track *t, struct svc *s, struct wl *c, bool newrev)
{
	const struct kobj *o = &c->o;
	struct deploy *d = &s->d;
	int64_t wt = canary_weight(t, s, o);
	if (newrev && o->replicas > 0) {
		start(t, d, ST_CANARY, o->spec_ns);
		snprintf(d->target, sizeof d->target, "%s", o->name);
		snprintf(d->target_images, sizeof d->target_images, "%s", o->images);
		pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, wt);
	}
	if (!d->active || strcmp(d->target, o->name) != 0 || has(d, PH_PROMOTED))
		return;
	if (o->replicas == 0) {
		/* Scaled away before promotion: the canary was abandoned. */
		emit(t, d, PH_ROLLED_BACK, o->spec_ns, o, "Service", s->o.name, 0);
		d->active = false;
	} else if (dep_current(o) && dep_failed(o)) {
		emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, wt);
	} else if (dep_current(o)) {
		emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, wt);
	}
}

static void stable_update(struct track *t, struct svc *s, struct wl *e, bool newrev)
{
	const struct kobj *o = &e->o;
	struct deploy *d = &s->d;
	if (strcmp(o->images, d->target_images) != 0)
		return;
	if (newrev)
		pend_start(t, d, PH_PROMOTED, o->spec_ns, o, "Service", s->o.name, 100);
	if (!has(d, PH_PROMOTED) || !dep_current(o))
		return;
	if (dep_failed(o)) {
		emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 100);
	} else if (dep_complete(o)) {
		emit(t, d, PH_COMPLETED, o->prog_ns, o, "Service", s->o.name, 100);
		d->active = false;
	}
}

static void bg_complete(struct track *t, struct svc *s, const struct kobj *o, int64_t ts)
{
	emit(t, &s->d, PH_COMPLETED, ts, o, "Service", s->o.name, 0);
	s->d.active = false;
	s->last = s->d;
}

static void bg_update(struct track *t, struct svc *s, struct wl *w, bool newrev)
{
	const struct kobj *o = &w->o;
	struct deploy *d = &s->d;
	const char *val = kv_get(o->sel, o->nsel, s->bgkey), *cur = kv_get(s->o.sel, s->o.nsel, s->bgkey);
	bool live = cur && val && strcmp(cur, val) == 0;
	if (!live && newrev && o->replicas > 0) {
		start(t, d, ST_BLUEGREEN, o->spec_ns);
		snprintf(d->target, sizeof d->target, "%s", o->name);
		snprintf(d->target_val, sizeof d->target_val, "%s", val ? val : "");
		pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, 0);
	}
	if (!d->active || strcmp(d->target, o->name) != 0 || !dep_current(o))
		return;
	if (!live) {
		if (dep_failed(o))
			emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 0);
		else
			emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, 0);
	} else if (has(d, PH_PROMOTED) && dep_complete(o)) {
		bg_complete(t, s, o, o->prog_ns);
	}
}

/* The selector switched from old to val. */
static void bg_switch(struct track *t, struct svc *s, const char *old, const char *val)
{
	struct deploy *d = &s->d;
	int64_t ts = s->o.spec_ns ? s->o.spec_ns : t->now;
	struct wl *target = NULL;
	for (size_t i = 0; i < t->nw && !target; i++) {
		const char *v = kv_get(t->w[i]->o.sel, t->w[i]->o.nsel, s->bgkey);
		if (t->w[i]->present && t->w[i]->o.kind == KOBJ_DEPLOYMENT && v && strcmp(v, val) == 0 &&
		    selects(s, &t->w[i]->o, NULL))
			target = t->w[i];
	}
	/* No Deployment has that value (yet): the Service itself (its namespace; no image, no counts). */
	const struct kobj *o = target ? &target->o : &s->o;
	if (!(d->active && strcmp(d->target_val, val) == 0)) {
		if (s->prev_val[0] && strcmp(val, s->prev_val) == 0 && s->last.start_ns &&
		    !(s->last.done & (1u << PH_ROLLED_BACK))) {
			emit(t, &s->last, PH_ROLLED_BACK, ts, o, "Service", s->o.name, 0);
			snprintf(s->prev_val, sizeof s->prev_val, "%s", old);
			return;
		}
		start(t, d, ST_BLUEGREEN, ts);
		snprintf(d->target_val, sizeof d->target_val, "%s", val);
		if (target)
			snprintf(d->target, sizeof d->target, "%s", target->o.name);
		emit(t, d, PH_STARTED, ts, o, "Service", s->o.name, 0);
	}
	snprintf(s->prev_val, sizeof s->prev_val, "%s", old);
	emit(t, d, PH_PROMOTED, ts, o, "Service", s->o.name, 0);
	s->last = *d;
	if (target && dep_complete(&target->o))
		bg_complete(t, s, o, ts);
}

static void svc_object(struct track *t, const struct kobj *o, bool deleted)
{
	struct svc *s = svc_find(t, o->ns, o->name, !deleted);
	if (!s)
		return;
	if (deleted) {
		s->o.nsel = 0;
		s->d.active = false;
		return;
	}
	char old[64] = "";
	bool had = s->o.name[0] != '\0';
	if (had && s->bgkey[0]) {
		const char *v = kv_get(s->o.sel, s->o.nsel, s->bgkey);
		snprintf(old, sizeof old, "%s", v ? v : "");
	}
	s->o = *o;
	s->bgkey[0] = '\0';
	int a = o->strategy_ann[0] ? strategy_parse(o->strategy_ann) : -1;
	if (a < 0 || a == ST_BLUEGREEN) {
		static const char *const keys[] = { "color", "version", "slot", "app.kubernetes.io/version" };
		for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !s->bgkey[0]; i++)
			if (kv_get(o->sel, o->nsel, keys[i]) && (a == ST_BLUEGREEN || i < 2))
				snprintf(s->bgkey, sizeof s->bgkey, "%s", keys[i]);
	}
	const char *val = s->bgkey[0] ? kv_get(o->sel, o->nsel, s->bgkey) : NULL;
	if (had && val && old[0] && strcmp(old, val) != 0)
		bg_switch(t, s, old, val);
}

/* ---- entry ---- */

static void rs_object(struct track *t, const struct kobj *o)
{
	if (!o->owner[0])
		return;
	/* Added when not seen yet: ReplicaSets are listed before Deployments and Rollouts. */
	enum kobj_kind k = strcmp(o->owner_kind, "Rollout") == 0 ? KOBJ_ROLLOUT : KOBJ_DEPLOYMENT;
	struct wl *w = wl_find(t, k, o->ns, o->owner, true);
	if (w)
		hist_add(w, o->images, o->revision);
}

static void deployment_object(struct track *t, struct wl *w, const struct kobj *old, bool was_present)
{
	const struct kobj *o = &w->o;
	bool newrev = !was_present || new_revision(w, old, o);
	if (newrev)
		w->rev_gen = o->generation;
	int ann = o->strategy_ann[0] ? strategy_parse(o->strategy_ann) : -1;
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && i < t->ns; i++) {
		struct svc *s = t->s[i];
		if (s->bgkey[0] && (ann < 0 || ann == ST_BLUEGREEN) && selects(s, o, s->bgkey)) {
			bg_update(t, s, w, newrev);
			return;
		}
	}
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && (ann < 0 || ann == ST_CANARY) && i < t->ns; i++) {
		struct svc *s = t->s[i];
		if (s->bgkey[0] || !selects(s, o, NULL))
			continue;
		if (is_canary(o) && stable_beside(t, s, o)) {
			canary_update(t, s, w, newrev);
			return;
		}
		if (!is_canary(o) && s->d.active && s->d.st == ST_CANARY && strcmp(s->d.target, o->name) != 0) {
			stable_update(t, s, w, newrev);
			return;
		}
	}
	own_update(t, w, newrev, was_present, old);
}

void track_object(struct track *t, const struct kobj *o, bool deleted, bool from_list, int64_t now_ns)
{
	t->now = now_ns;
	t->from_list = from_list;
	if (o->kind == KOBJ_SERVICE) {
		svc_object(t, o, deleted);
		return;
	}
	if (o->kind == KOBJ_REPLICASET) {
		if (!deleted)
			rs_object(t, o);
		return;
	}
	struct wl *w = wl_find(t, o->kind, o->ns, o->name, !deleted);
	if (!w)
		return;
	if (deleted) {
		/* A canary Deployment removed before promotion: same as scaled to 0. */
		if (w->present && is_canary(&w->o)) {
			for (size_t i = 0; i < t->ns; i++) {
				struct deploy *d = &t->s[i]->d;
				if (d->active && d->st == ST_CANARY && strcmp(d->target, o->name) == 0 &&
				    !has(d, PH_PROMOTED)) {
					emit(t, d, PH_ROLLED_BACK, now_ns, &w->o, "Service", t->s[i]->o.name, 0);
					d->active = false;
				}
			}
		}
		pend_check_all(t, w, true);
		w->present = false;
		w->d.active = false;
		return;
	}
	struct kobj old = w->o;
	bool was_present = w->present;
	if (was_present && strcmp(old.images, o->images) != 0)
		hist_add(w, old.images, old.revision);
	w->o = *o;
	w->present = true;
	/* A new object seen in a (re)list: its rollout may be under way; phases
	 * before skip_before are not emitted again. */
	deployment_object(t, w, &old, was_present);
	pend_check_all(t, w, false);
}
