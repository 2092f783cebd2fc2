/* Deploy tracking of Deployments in pairs behind one Service (see
 * track.c): a canary beside its stable Deployment, promoted when the stable
 * takes the canary's images; blue-green colors, promoted by the Service's
 * selector switch, and the live color updated in place. */
#include <stdio.h>
#include <string.h>
#include "track_internal.h"

static bool selects(const struct svc *s, const struct kobj *o, const char *except)
{
	if (s->o.nsel == 0 || strcmp(s->o.ns, o->ns) != 0)
		return false;
	for (int i = 0; i < s->o.nsel; i++) {
		if (except && strcmp(s->o.sel[i].k, except) == 0) {
			if (!hg_kobj_kv_get(o->sel, o->nsel, except))
				return false;
			continue;
		}
		const char *v = hg_kobj_kv_get(o->sel, o->nsel, s->o.sel[i].k);
		if (!v || strcmp(v, s->o.sel[i].v) != 0)
			return false;
	}
	return true;
}

static const char *track_label(const struct kobj *o)
{
	return o->track[0] ? o->track : hg_kobj_kv_get(o->sel, o->nsel, "track");
}

static bool is_canary(const struct kobj *o)
{
	const char *v = track_label(o);
	return v && strcmp(v, "canary") == 0;
}

static int64_t canary_weight(const struct svc *s, const struct kobj *canary)
{
	int64_t c = canary->replicas, st = 0;
	const struct nsgroup *g = s->m.g;
	for (size_t i = 0; i < G_NWL(g); i++) {
		const struct kobj *e = &G_WL(g, i)->o;
		if (G_WL(g, i)->present && e->kind == KOBJ_DEPLOYMENT && !is_canary(e) && selects(s, e, NULL))
			st += e->replicas;
	}
	return c + st > 0 ? c * 100 / (c + st) : 0;
}

static struct wl *stable_beside(const struct svc *s, const struct kobj *canary)
{
	const struct nsgroup *g = s->m.g;
	for (size_t i = 0; i < G_NWL(g); i++) {
		struct wl *e = G_WL(g, i);
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
	int64_t wt = canary_weight(s, o);
	if (newrev && o->replicas > 0) {
		hg_track_start(t, d, ST_CANARY, o->spec_ns);
		hg_track_set_str(&d->target, o->name);
		hg_track_set_str(&d->target_images, o->images);
		hg_track_pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, wt);
	}
	if (!d->active || !hg_track_is_target(d, o->name) || hg_track_has(d, PH_PROMOTED))
		return;
	if (o->replicas == 0) {
		/* Scaled away before promotion: the canary was abandoned. */
		hg_track_emit(t, d, PH_ROLLED_BACK, o->spec_ns, o, "Service", s->o.name, 0);
		d->active = false;
	} else if (hg_track_dep_current(o) && hg_track_dep_failed(o)) {
		hg_track_emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, wt);
	} else if (hg_track_dep_current(o)) {
		hg_track_emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, wt);
	}
}

static void stable_update(struct track *t, struct svc *s, struct wl *e, bool newrev)
{
	const struct kobj *o = &e->o;
	struct deploy *d = &s->d;
	if (strcmp(o->images, hg_track_str(d->target_images)) != 0)
		return;
	if (newrev)
		hg_track_pend_start(t, d, PH_PROMOTED, o->spec_ns, o, "Service", s->o.name, 100);
	if (!hg_track_has(d, PH_PROMOTED) || !hg_track_dep_current(o))
		return;
	if (hg_track_dep_failed(o)) {
		hg_track_emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 100);
	} else if (hg_track_dep_complete(o)) {
		hg_track_emit(t, d, PH_COMPLETED, o->prog_ns, o, "Service", s->o.name, 100);
		d->active = false;
	}
}

static void bg_complete(struct track *t, struct svc *s, const struct kobj *o, int64_t ts)
{
	hg_track_emit(t, &s->d, PH_COMPLETED, ts, o, "Service", s->o.name, 0);
	s->d.active = false;
	hg_track_deploy_snapshot(t, &s->last, &s->d);
}

/* A Deployment of a blue-green pair. The color the Service does not select
 * rolls out a new version (started, progressing), promoted by the selector
 * switch (bg_switch). The live color updated in place (a new pod template
 * without a switch) is a deploy too, its traffic moving as its pods do:
 * started, progressing, then completed, failed, or rolled_back when it
 * brings back an earlier template. */
static void bg_update(struct track *t, struct svc *s, struct wl *w, bool newrev, bool was_present)
{
	const struct kobj *o = &w->o;
	struct deploy *d = &s->d;
	const char *val = hg_kobj_kv_get(o->sel, o->nsel, s->bgkey), *cur = hg_kobj_kv_get(s->o.sel, s->o.nsel, s->bgkey);
	bool live = cur && val && strcmp(cur, val) == 0;
	if (!live && newrev && o->replicas > 0) {
		hg_track_start(t, d, ST_BLUEGREEN, o->spec_ns);
		hg_track_set_str(&d->target, o->name);
		snprintf(d->target_val, sizeof d->target_val, "%s", val ? val : "");
		hg_track_pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, 0);
	}
	/* The live color's own deploy, beside a switch deploy the other color may have under way. */
	struct deploy *l = &s->live;
	if (live && newrev && o->replicas > 0) {
		hg_track_start(t, l, ST_BLUEGREEN, o->spec_ns);
		l->rollback = was_present && hg_track_hist_has(w, o->images, o->revision);
		hg_track_set_str(&l->target, o->name);
		hg_track_pend_start(t, l, PH_STARTED, l->start_ns, o, "Service", s->o.name, 0);
	}
	if (live && l->active && hg_track_is_target(l, o->name) && hg_track_dep_current(o)) {
		if (hg_track_dep_complete(o)) {
			/* Not a switch: a later switch back is not its rollback (s->last stays). */
			hg_track_emit(t, l, l->rollback ? PH_ROLLED_BACK : PH_COMPLETED, o->prog_ns, o, "Service", s->o.name, 0);
			l->active = false;
		} else if (hg_track_dep_failed(o)) {
			hg_track_emit(t, l, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 0);
		} else {
			hg_track_emit(t, l, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, 0);
		}
	}
	if (!d->active || !hg_track_is_target(d, o->name) || !hg_track_dep_current(o))
		return;
	if (!live) {
		if (hg_track_dep_failed(o))
			hg_track_emit(t, d, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 0);
		else
			hg_track_emit(t, d, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, 0);
	} else if (hg_track_has(d, PH_PROMOTED) && hg_track_dep_complete(o)) {
		bg_complete(t, s, o, o->prog_ns);
	}
}

/* The selector switched from old to val. */
static void bg_switch(struct track *t, struct svc *s, const char *old, const char *val)
{
	struct deploy *d = &s->d;
	int64_t ts = s->o.spec_ns ? s->o.spec_ns : t->now;
	struct wl *target = NULL;
	const struct nsgroup *g = s->m.g;
	for (size_t i = 0; i < G_NWL(g) && !target; i++) {
		struct wl *e = G_WL(g, i);
		const char *v = hg_kobj_kv_get(e->o.sel, e->o.nsel, s->bgkey);
		if (e->present && e->o.kind == KOBJ_DEPLOYMENT && v && strcmp(v, val) == 0 && selects(s, &e->o, NULL))
			target = e;
	}
	/* No Deployment has that value (yet): the Service itself (its namespace; no image, no counts). */
	const struct kobj *o = target ? &target->o : &s->o;
	if (!(d->active && strcmp(d->target_val, val) == 0)) {
		if (s->prev_val[0] && strcmp(val, s->prev_val) == 0 && s->last.start_ns &&
		    !(s->last.done & (1u << PH_ROLLED_BACK))) {
			hg_track_emit(t, &s->last, PH_ROLLED_BACK, ts, o, "Service", s->o.name, 0);
			snprintf(s->prev_val, sizeof s->prev_val, "%s", old);
			return;
		}
		hg_track_start(t, d, ST_BLUEGREEN, ts);
		snprintf(d->target_val, sizeof d->target_val, "%s", val);
		if (target)
			hg_track_set_str(&d->target, target->o.name);
		hg_track_emit(t, d, PH_STARTED, ts, o, "Service", s->o.name, 0);
	}
	snprintf(s->prev_val, sizeof s->prev_val, "%s", old);
	hg_track_emit(t, d, PH_PROMOTED, ts, o, "Service", s->o.name, 0);
	hg_track_deploy_snapshot(t, &s->last, d);
	if (target && hg_track_dep_complete(&target->o))
		bg_complete(t, s, o, ts);
}

void hg_track_svc_object(struct track *t, const struct kobj *o, bool deleted)
{
	struct svc *s = hg_track_svc_find(t, o->ns, o->name, !deleted);
	if (!s)
		return;
	if (deleted) {
		/* What waits is emitted; the Deployments behind it are tracked on their own from now. */
		hg_track_pend_flush(t, &s->d);
		hg_track_pend_flush(t, &s->live);
		hg_track_svc_remove(t, s);
		return;
	}
	char old[64] = "";
	bool had = s->seen;
	if (had && s->bgkey[0]) {
		const char *v = hg_kobj_kv_get(s->o.sel, s->o.nsel, s->bgkey);
		snprintf(old, sizeof old, "%s", v ? v : "");
	}
	if (hg_kobj_copy(&s->o, o) != 0) {
		hg_track_svc_remove(t, s);
		return;
	}
	s->seen = true;
	s->bgkey[0] = '\0';
	int a = o->strategy_ann[0] ? hg_track_strategy_parse(o->strategy_ann) : -1;
	if (a < 0 || a == ST_BLUEGREEN) {
		static const char *const keys[] = { "color", "version", "slot", "app.kubernetes.io/version" };
		for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !s->bgkey[0]; i++)
			if (hg_kobj_kv_get(o->sel, o->nsel, keys[i]) && (a == ST_BLUEGREEN || i < 2))
				snprintf(s->bgkey, sizeof s->bgkey, "%s", keys[i]);
	}
	const char *val = s->bgkey[0] ? hg_kobj_kv_get(o->sel, o->nsel, s->bgkey) : NULL;
	if (had && val && old[0] && strcmp(old, val) != 0)
		bg_switch(t, s, old, val);
}

/* A Deployment of a pair behind one Service (a blue-green color, a canary
 * or the stable beside one): its update goes to the Service's deploy. false
 * when it is in no pair and deploys on its own. */
bool hg_track_pair_update(struct track *t, struct wl *w, bool newrev, bool was_present)
{
	const struct kobj *o = &w->o;
	int ann = o->strategy_ann[0] ? hg_track_strategy_parse(o->strategy_ann) : -1;
	const struct nsgroup *g = w->m.g;
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && i < G_NSVC(g); i++) {
		struct svc *s = G_SVC(g, i);
		if (s->bgkey[0] && (ann < 0 || ann == ST_BLUEGREEN) && selects(s, o, s->bgkey)) {
			bg_update(t, s, w, newrev, was_present);
			return true;
		}
	}
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && (ann < 0 || ann == ST_CANARY) && i < G_NSVC(g); i++) {
		struct svc *s = G_SVC(g, i);
		if (s->bgkey[0] || !selects(s, o, NULL))
			continue;
		if (is_canary(o) && stable_beside(s, o)) {
			canary_update(t, s, w, newrev);
			return true;
		}
		if (!is_canary(o) && s->d.active && s->d.st == ST_CANARY && !hg_track_is_target(&s->d, o->name)) {
			stable_update(t, s, w, newrev);
			return true;
		}
	}
	return false;
}

/* A canary Deployment removed before promotion: its deploy is rolled back,
 * as when it is scaled to 0. */
void hg_track_pair_deleted(struct track *t, struct wl *w, int64_t now_ns)
{
	if (w->present && is_canary(&w->o)) {
		const struct nsgroup *g = w->m.g;
		for (size_t i = 0; i < G_NSVC(g); i++) {
			struct deploy *d = &G_SVC(g, i)->d;
			if (d->active && d->st == ST_CANARY && hg_track_is_target(d, w->o.name) && !hg_track_has(d, PH_PROMOTED)) {
				hg_track_emit(t, d, PH_ROLLED_BACK, now_ns, &w->o, "Service", G_SVC(g, i)->o.name, 0);
				d->active = false;
			}
		}
	}
}
