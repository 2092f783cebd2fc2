/* Deploy tracking. A workload (Deployment or Rollout) starts a deploy when
 * its pod template changes (images or revision annotation); its status then
 * says progressing, completed or failed. Canary and blue-green made of two
 * Deployments are tracked on the Service in front of them (track_pairs.c):
 * the canary's or new color's rollout starts the deploy, the stable's update
 * to the canary images or the selector switch promotes it. A revision that
 * brings back an earlier template is a rollback. Each phase is emitted once
 * per deploy; a phase timed at a spec write waits for the controller to
 * number the new revision (pend_*). Entries live in track_index.c's index. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track_internal.h"

static const char *const phases[] = { "started", "progressing", "promoted", "completed", "failed", "rolled_back" };

const char *hg_track_strategy_name(enum strategy s)
{
	return hg_deploy_strategy_name((enum deploy_strategy)s);
}

const char *hg_track_phase_name(enum phase p)
{
	return phases[p];
}

int hg_track_strategy_parse(const char *s)
{
	return hg_deploy_strategy_parse(s);
}

struct track *hg_track_new(track_emit_fn emit, void *arg)
{
	struct track *t = calloc(1, sizeof *t);
	if (t) {
		t->emit = emit;
		t->arg = arg;
	}
	return t;
}

void hg_track_set_skip_before(struct track *t, int64_t ns)
{
	t->skip_before = ns;
}

const char *hg_track_str(const char *s)
{
	return s ? s : "";
}

/* ---- deploys ---- */

void hg_track_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
}

static void pend_drop(struct track *t, struct deploy *d)
{
	if (!d->pend)
		return;
	hg_kobj_free(&d->pend->o);
	free(d->pend);
	d->pend = NULL;
	for (size_t i = 0; i < t->npending; i++) {
		if (t->pending[i] == d) {
			t->pending[i] = t->pending[--t->npending];
			break;
		}
	}
}

static void deploy_clear(struct track *t, struct deploy *d)
{
	pend_drop(t, d);
	free(d->target);
	free(d->target_images);
	memset(d, 0, sizeof *d);
}

/* What a later rollback of d needs (its phases, start, strategy). */
void hg_track_deploy_snapshot(struct track *t, struct deploy *dst, const struct deploy *src)
{
	deploy_clear(t, dst);
	*dst = *src;
	dst->target = dst->target_images = NULL;
	dst->pend = NULL;
}

/* ---- lookup ---- */

static struct wl *wl_find(struct track *t, enum kobj_kind kind, const char *ns, const char *name, bool add)
{
	uint64_t h = hg_track_key_hash(kind, ns, name);
	for (struct node *n = hg_track_index_first(&t->w, h); n; n = n->next) {
		struct wl *w = (struct wl *)(void *)n;
		if (n->h == h && w->o.kind == kind && strcmp(w->o.ns, ns) == 0 && strcmp(w->o.name, name) == 0)
			return w;
	}
	if (!add)
		return NULL;
	struct wl *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->node.h = h;
	if (hg_kobj_key(&w->o, kind, ns, name) != 0 || hg_track_ns_join(t, &w->m, ns, false) != 0) {
		hg_kobj_free(&w->o);
		free(w);
		return NULL;
	}
	if (hg_track_index_add(&t->w, &w->node) != 0) {
		hg_track_ns_leave(t, &w->m, false);
		hg_kobj_free(&w->o);
		free(w);
		return NULL;
	}
	return w;
}

static void wl_remove(struct track *t, struct wl *w)
{
	hg_track_index_del(&t->w, &w->node);
	hg_track_ns_leave(t, &w->m, false);
	deploy_clear(t, &w->d);
	hg_kobj_free(&w->o);
	free(w);
}

struct svc *hg_track_svc_find(struct track *t, const char *ns, const char *name, bool add)
{
	uint64_t h = hg_track_key_hash(KOBJ_SERVICE, ns, name);
	for (struct node *n = hg_track_index_first(&t->s, h); n; n = n->next) {
		struct svc *s = (struct svc *)(void *)n;
		if (n->h == h && strcmp(s->o.ns, ns) == 0 && strcmp(s->o.name, name) == 0)
			return s;
	}
	if (!add)
		return NULL;
	struct svc *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->node.h = h;
	if (hg_kobj_key(&s->o, KOBJ_SERVICE, ns, name) != 0 || hg_track_ns_join(t, &s->m, ns, true) != 0) {
		hg_kobj_free(&s->o);
		free(s);
		return NULL;
	}
	if (hg_track_index_add(&t->s, &s->node) != 0) {
		hg_track_ns_leave(t, &s->m, true);
		hg_kobj_free(&s->o);
		free(s);
		return NULL;
	}
	return s;
}

void hg_track_svc_remove(struct track *t, struct svc *s)
{
	hg_track_index_del(&t->s, &s->node);
	hg_track_ns_leave(t, &s->m, true);
	deploy_clear(t, &s->d);
	deploy_clear(t, &s->last);
	deploy_clear(t, &s->live);
	hg_kobj_free(&s->o);
	free(s);
}

void hg_track_free(struct track *t)
{
	if (!t)
		return;
	while (t->w.n)
		wl_remove(t, WL(t, t->w.n - 1));
	while (t->s.n)
		hg_track_svc_remove(t, SVC(t, t->s.n - 1));
	hg_track_index_free(&t->w);
	hg_track_index_free(&t->s);
	hg_track_index_free(&t->nsx);
	free(t->pending);
	free(t);
}

static void hist_add(struct wl *w, const char *images, int64_t rev)
{
	if (!images[0])
		return;
	uint64_t ih = hg_track_images_hash(images);
	for (int i = 0; i < w->nh; i++) {
		if (w->h[i].images_h == ih) {
			if (rev < w->h[i].rev)
				w->h[i].rev = rev;
			return;
		}
	}
	struct hist *h = &w->h[w->hnext];
	w->hnext = (w->hnext + 1) % HIST;
	if (w->nh < HIST)
		w->nh++;
	h->images_h = ih;
	h->rev = rev;
}

bool hg_track_hist_has(const struct wl *w, const char *images, int64_t rev)
{
	uint64_t ih = hg_track_images_hash(images);
	for (int i = 0; i < w->nh; i++)
		if (w->h[i].images_h == ih && w->h[i].rev < rev)
			return true;
	return false;
}

/* ---- emitting ---- */

static int64_t argo_weight(const struct kobj *o);

void hg_track_emit(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		 const char *kind, const char *name, int64_t weight)
{
	hg_track_pend_flush(t, d); /* a waiting phase first, with whatever is known of it */
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

void hg_track_start(struct track *t, struct deploy *d, enum strategy st, int64_t ts)
{
	hg_track_pend_flush(t, d);
	deploy_clear(t, d);
	d->active = true;
	d->st = st;
	d->start_ns = ts ? ts : t->now;
}

bool hg_track_is_target(const struct deploy *d, const char *name)
{
	return d->target && strcmp(d->target, name) == 0;
}

/* ---- started, once the controller has numbered the new revision ---- */

/* The deployment controller (and Argo's) writes the revision annotation of
 * a new pod template after the user's spec write, normally within a second:
 * started (and a canary pair's promoted, the stable's spec write) waits for
 * it, keeping the time of the spec write, so that it names the revision
 * being rolled out, as the later phases do. Without it, the point is emitted
 * with what is known (the previous revision number) before another phase of
 * the deploy, when the template changes again, the workload is deleted, the
 * tracker is flushed (leadership lost, shutdown), or at the PEND_MAX_UPDATES-th state
 * of the workload counting the spec write's, or at the first one seen
 * PEND_MAX_NS or more after the spec write was seen. */
#define PEND_MAX_UPDATES 5
#define PEND_MAX_NS (30LL * 1000000000LL)

/* The revision annotation changed since the spec write, or the controller
 * observed its generation (it writes the annotation before that), or there
 * is no annotation to wait for (the revision is the generation). */
static bool numbered(const struct pend *p, const struct kobj *o)
{
	if (!o->rev_ann || o->revision != p->rev)
		return true;
	return o->observed_generation >= p->o.generation;
}

void hg_track_pend_flush(struct track *t, struct deploy *d)
{
	struct pend *p = d->pend;
	if (!p)
		return;
	/* Out of the list first: hg_track_emit() flushes d again. */
	d->pend = NULL;
	for (size_t i = 0; i < t->npending; i++) {
		if (t->pending[i] == d) {
			t->pending[i] = t->pending[--t->npending];
			break;
		}
	}
	struct wl *w = wl_find(t, p->o.kind, p->o.ns, p->o.name, false);
	/* The workload now while it has the template of the spec write, else as it was then. */
	const struct kobj *o = w && w->present && strcmp(w->o.images, p->o.images) == 0 ? &w->o : &p->o;
	int64_t wt = o->kind == KOBJ_ROLLOUT && strcmp(p->pkind, "Rollout") == 0 ? argo_weight(o) : p->weight;
	bool fl = t->from_list;
	t->from_list = p->list;
	hg_track_emit(t, d, p->ph, p->ts, o, p->pkind, p->pname, wt);
	t->from_list = fl;
	hg_kobj_free(&p->o);
	free(p);
}

/* Phase ph of d at o's spec write (time ts), named kind/name. */
void hg_track_pend_start(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		       const char *kind, const char *name, int64_t weight)
{
	hg_track_pend_flush(t, d);
	if (d->done & (1u << ph))
		return;
	size_t nlen = strlen(name) + 1;
	struct pend *p = calloc(1, sizeof *p + nlen);
	if (t->npending == t->cappending) {
		size_t cap = t->cappending ? t->cappending * 2 : 16;
		struct deploy **v = realloc(t->pending, cap * sizeof *v);
		if (v) {
			t->pending = v;
			t->cappending = cap;
		}
	}
	if (!p || t->npending == t->cappending || hg_kobj_copy(&p->o, o) != 0) {
		/* Out of memory: emitted now, with what is known. */
		free(p);
		hg_track_emit(t, d, ph, ts, o, kind, name, weight);
		return;
	}
	p->ph = ph;
	p->ts = ts;
	p->list = t->from_list;
	p->pkind = kind;
	memcpy(p->pname, name, nlen);
	p->weight = weight;
	p->rev = o->revision;
	p->seen = t->now;
	d->pend = p;
	t->pending[t->npending++] = d;
	if (numbered(p, o))
		hg_track_pend_flush(t, d);
}

/* A new state of w (force: its deletion): the points waiting for its revision number. */
static void pend_check(struct track *t, struct deploy *d, const struct wl *w, bool force)
{
	struct pend *p = d->pend;
	if (!p || p->o.kind != w->o.kind || strcmp(p->o.name, w->o.name) != 0 || strcmp(p->o.ns, w->o.ns) != 0)
		return;
	if (force || ++p->updates >= PEND_MAX_UPDATES || t->now - p->seen >= PEND_MAX_NS || numbered(p, &w->o) ||
	    strcmp(w->o.images, p->o.images) != 0)
		hg_track_pend_flush(t, d);
}

/* Only the deploys waiting: a few at any time, whatever the cluster's size.
 * pend_check may take the current one out of the list. */
static void pend_check_all(struct track *t, const struct wl *w, bool force)
{
	for (size_t i = 0; i < t->npending;) {
		struct deploy *d = t->pending[i];
		pend_check(t, d, w, force);
		if (i < t->npending && t->pending[i] == d)
			i++;
	}
}

/* ph emitted, or waiting for the revision number. */
bool hg_track_has(const struct deploy *d, enum phase ph)
{
	return (d->done & (1u << ph)) || (d->pend && d->pend->ph == ph);
}

void hg_track_flush(struct track *t)
{
	while (t && t->npending)
		hg_track_pend_flush(t, t->pending[0]);
}

void hg_track_count(const struct track *t, size_t *workloads, size_t *services, size_t *waiting)
{
	*workloads = t->w.n;
	*services = t->s.n;
	*waiting = t->npending;
}

/* ---- status reading ---- */

bool hg_track_dep_failed(const struct kobj *o)
{
	return strcmp(o->prog_status, "False") == 0 && strcmp(o->prog_reason, "ProgressDeadlineExceeded") == 0;
}

/* The controller has seen this generation (else the status is the previous revision's). */
bool hg_track_dep_current(const struct kobj *o)
{
	return o->observed_generation >= o->generation;
}

bool hg_track_dep_complete(const struct kobj *o)
{
	return hg_track_dep_current(o) && !hg_track_dep_failed(o) && o->updated >= o->replicas && o->available >= o->replicas &&
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
	int a = o->strategy_ann[0] ? hg_track_strategy_parse(o->strategy_ann) : -1;
	if (a >= 0)
		return (enum strategy)a;
	if (o->kind == KOBJ_ROLLOUT)
		return o->argo == ARGO_CANARY ? ST_CANARY : o->argo == ARGO_BLUEGREEN ? ST_BLUEGREEN : ST_ROLLING;
	if (strcmp(o->track, "canary") == 0)
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
	if (o->observed_generation && !hg_track_dep_current(o))
		return;
	int64_t wt = argo_weight(o);
	bool in_prog = o->pod_hash[0] && strcmp(o->pod_hash, o->stable_rs) != 0;
	bool failed = o->aborted || hg_track_dep_failed(o) || strcmp(o->phase, "Degraded") == 0;
	if (failed && in_prog) {
		hg_track_emit(t, d, PH_FAILED, o->aborted && o->aborted_ns ? o->aborted_ns : o->prog_ns, o, k, o->name, wt);
		return;
	}
	if (in_prog) {
		if (o->updated > 0 || o->step_index > 0)
			hg_track_emit(t, d, PH_PROGRESSING, o->prog_ns, o, k, o->name, wt);
		if ((o->argo == ARGO_BLUEGREEN && strcmp(o->active_sel, o->pod_hash) == 0) ||
		    (o->argo == ARGO_CANARY && o->nsteps && o->step_index >= o->nsteps))
			hg_track_emit(t, d, PH_PROMOTED, 0, o, k, o->name, wt); /* no time in the object: when seen */
		return;
	}
	if (d->undo_pending || d->rollback) {
		hg_track_emit(t, d, PH_ROLLED_BACK, o->prog_ns, o, k, o->name, wt);
	} else {
		if (d->st == ST_CANARY || d->st == ST_BLUEGREEN)
			hg_track_emit(t, d, PH_PROMOTED, o->prog_ns, o, k, o->name, wt);
		hg_track_emit(t, d, PH_COMPLETED, o->prog_ns, o, k, o->name, wt);
	}
	d->active = false;
}

static void eval_deployment(struct track *t, struct wl *w)
{
	struct deploy *d = &w->d;
	const struct kobj *o = &w->o;
	if (!hg_track_dep_current(o))
		return;
	if (hg_track_dep_complete(o)) {
		if (d->undo_pending || d->rollback)
			hg_track_emit(t, d, PH_ROLLED_BACK, o->prog_ns, o, "Deployment", o->name, 100);
		else
			hg_track_emit(t, d, PH_COMPLETED, o->prog_ns, o, "Deployment", o->name, 100);
		d->active = false;
	} else if (hg_track_dep_failed(o)) {
		hg_track_emit(t, d, PH_FAILED, o->prog_ns, o, "Deployment", o->name, 0);
	} else {
		hg_track_emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Deployment", o->name, 0);
	}
}

static void own_update(struct track *t, struct wl *w, bool newrev, bool was_present, const struct kobj *old)
{
	const struct kobj *o = &w->o;
	if (newrev) {
		bool rb = was_present && hg_track_hist_has(w, o->images, o->revision);
		if (rb && w->d.active && !(w->d.done & (1u << PH_COMPLETED))) {
			w->d.undo_pending = true;
		} else {
			hg_track_start(t, &w->d, own_strategy(o), o->spec_ns);
			w->d.rollback = rb;
			hg_track_pend_start(t, &w->d, PH_STARTED, w->d.start_ns, o, o->kind == KOBJ_ROLLOUT ? "Rollout" : "Deployment", o->name,
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

/* ---- entry ---- */

/* A ReplicaSet: its template is in its owner's history. Its deletion
 * frees an owner entry made for the history alone while the owner is not
 * (or no longer) there: the garbage collector deletes the ReplicaSets of a
 * deleted Deployment. */
static void rs_object(struct track *t, const struct kobj *o, bool deleted)
{
	if (!o->owner[0])
		return;
	/* Added when not seen yet: ReplicaSets are listed before Deployments and Rollouts. */
	enum kobj_kind k = strcmp(o->owner_kind, "Rollout") == 0 ? KOBJ_ROLLOUT : KOBJ_DEPLOYMENT;
	struct wl *w = wl_find(t, k, o->ns, o->owner, !deleted);
	if (!w)
		return;
	if (!deleted)
		hist_add(w, o->images, o->revision);
	else if (!w->present && !w->d.pend)
		wl_remove(t, w);
}

static void deployment_object(struct track *t, struct wl *w, const struct kobj *old, bool was_present)
{
	const struct kobj *o = &w->o;
	bool newrev = !was_present || new_revision(w, old, o);
	if (newrev)
		w->rev_gen = o->generation;
	if (!hg_track_pair_update(t, w, newrev, was_present))
		own_update(t, w, newrev, was_present, old);
}

void hg_track_object(struct track *t, const struct kobj *o, bool deleted, bool from_list, int64_t now_ns)
{
	t->now = now_ns;
	t->from_list = from_list;
	if (o->kind == KOBJ_SERVICE) {
		hg_track_svc_object(t, o, deleted);
		return;
	}
	if (o->kind == KOBJ_REPLICASET) {
		rs_object(t, o, deleted);
		return;
	}
	struct wl *w = wl_find(t, o->kind, o->ns, o->name, !deleted);
	if (!w)
		return;
	if (deleted) {
		hg_track_pair_deleted(t, w, now_ns);
		pend_check_all(t, w, true);
		wl_remove(t, w);
		return;
	}
	struct kobj old = w->o; /* now old's: w->o gets an allocation of its own */
	memset(&w->o, 0, sizeof w->o);
	if (hg_kobj_copy(&w->o, o) != 0) {
		w->o = old;
		return;
	}
	bool was_present = w->present;
	if (was_present && strcmp(old.images, o->images) != 0)
		hist_add(w, old.images, old.revision);
	w->present = true;
	/* A new object seen in a (re)list: its rollout may be under way; phases
	 * before skip_before are not emitted again. */
	deployment_object(t, w, &old, was_present);
	pend_check_all(t, w, false);
	hg_kobj_free(&old);
}
