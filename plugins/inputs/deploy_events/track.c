/* Deploy tracking. A workload (Deployment or Rollout) starts a deploy when
 * its pod template changes (images or revision annotation); its status then
 * says progressing, completed or failed. Canary and blue-green made of two
 * Deployments are tracked on the Service in front of them: the canary's or
 * new color's rollout starts the deploy, the stable's update to the canary
 * images or the selector switch promotes it. A revision that brings back an
 * earlier template is a rollback. Each phase is emitted once per deploy;
 * a phase timed at a spec write waits for the controller to number the new
 * revision (pend_*). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

#define HIST 8

/* A phase timed at a spec write (started; a canary pair's promoted) waits
 * for the controller to number the new revision (the revision annotation
 * is written after the user's spec write). Allocated while it waits. */
struct pend {
	enum phase ph;
	int64_t ts;
	bool list;               /* the spec write was seen in a (re)list */
	const char *pkind;       /* the point's kind (a literal) and name */
	int64_t weight, rev, seen;
	int updates;
	struct kobj o;           /* the workload whose revision is awaited, at the spec write */
	char pname[];
};

struct deploy {
	bool active;
	unsigned done;           /* bit per phase emitted */
	enum strategy st;
	int64_t start_ns;
	bool rollback;           /* this deploy brings back an earlier template */
	bool undo_pending;       /* a later revision reverted it: rolled_back when that one is up */
	char *target;            /* pair deploys: the canary / new color Deployment (owned) */
	char target_val[64];     /* the color (a label value: at most 63 bytes) */
	char *target_images;     /* owned */
	struct pend *pend;       /* a phase waiting for the revision number (owned) */
};

/* Earlier templates of a workload, by a hash of their images: only
 * compared for equality, and a 64-bit collision among the last HIST
 * templates of one workload is not a concern. */
struct hist {
	uint64_t images_h;
	int64_t rev;
};

/* Entries are found by a hash of (kind, namespace, name) and kept in a
 * dense array for the scans (node.idx: the position there). */
struct node {
	struct node *next;
	uint64_t h;
	size_t idx;
};

struct index {
	struct node **b;         /* buckets: a power of two of them */
	size_t nb;
	struct node **v;
	size_t n, cap;
};

/* The entries of one namespace: pairs (a Service and the Deployments it
 * selects) never span two, so the scans for them stay within one. */
struct member {
	struct nsgroup *g;
	size_t pos;              /* in g's wl or svc array */
};

struct list {
	struct member **v;
	size_t n, cap;
};

struct nsgroup {
	struct node node;        /* in track.nsx, by a hash of the name */
	struct list wl, svc;
	char name[];
};

struct wl {
	struct node node;        /* first: an entry is its node */
	struct member m;
	struct kobj o;
	bool present;
	int64_t rev_gen;         /* metadata.generation when the last new revision was seen */
	struct deploy d;
	struct hist h[HIST];
	int nh, hnext;
};

struct svc {
	struct node node;
	struct member m;
	struct kobj o;
	bool seen;               /* a state of it was read (not only its deletion) */
	struct deploy d, last;
	struct deploy live;      /* blue-green: the live color's Deployment updated in place */
	char bgkey[16];
	char prev_val[64];
};

struct track {
	track_emit_fn emit;
	void *arg;
	int64_t skip_before, now;
	bool from_list;
	struct index w, s, nsx;
	struct deploy **pending; /* the deploys with a pend */
	size_t npending, cappending;
};

#define WL(t, i) ((struct wl *)(void *)(t)->w.v[i])
#define SVC(t, i) ((struct svc *)(void *)(t)->s.v[i])
/* The i-th workload / Service of namespace group g (NULL: none). */
#define G_WL(g, i) ((struct wl *)(void *)((char *)(g)->wl.v[i] - offsetof(struct wl, m)))
#define G_SVC(g, i) ((struct svc *)(void *)((char *)(g)->svc.v[i] - offsetof(struct svc, m)))
#define G_NWL(g) ((g) ? (g)->wl.n : 0)
#define G_NSVC(g) ((g) ? (g)->svc.n : 0)

static const char *const phases[] = { "started", "progressing", "promoted", "completed", "failed", "rolled_back" };

const char *track_strategy_name(enum strategy s)
{
	return deploy_strategy_name((enum deploy_strategy)s);
}

const char *track_phase_name(enum phase p)
{
	return phases[p];
}

int track_strategy_parse(const char *s)
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

void track_set_skip_before(struct track *t, int64_t ns)
{
	t->skip_before = ns;
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/* ---- the index ---- */

/* FNV-1a over the kind and the NUL-terminated namespace and name. */
static uint64_t key_hash(enum kobj_kind kind, const char *ns, const char *name)
{
	uint64_t h = 14695981039346656037ULL;
	h = (h ^ (uint64_t)kind) * 1099511628211ULL;
	for (const char *p = ns;; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (!*p)
			break;
	}
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static uint64_t images_hash(const char *images)
{
	return key_hash(0, "", images);
}

static struct node *index_first(const struct index *x, uint64_t h)
{
	return x->nb ? x->b[h & (x->nb - 1)] : NULL;
}

static int index_add(struct index *x, struct node *e)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct node **v = realloc(x->v, cap * sizeof *v);
		if (!v)
			return -1;
		x->v = v;
		x->cap = cap;
	}
	if (x->n >= x->nb) { /* at most one entry per bucket on average */
		size_t nb = x->nb ? x->nb * 2 : 64;
		struct node **b = calloc(nb, sizeof *b);
		if (!b)
			return -1;
		for (size_t i = 0; i < x->n; i++) {
			struct node *n = x->v[i];
			n->next = b[n->h & (nb - 1)];
			b[n->h & (nb - 1)] = n;
		}
		free(x->b);
		x->b = b;
		x->nb = nb;
	}
	struct node **head = &x->b[e->h & (x->nb - 1)];
	e->next = *head;
	*head = e;
	e->idx = x->n;
	x->v[x->n++] = e;
	return 0;
}

static void index_del(struct index *x, struct node *e)
{
	for (struct node **p = &x->b[e->h & (x->nb - 1)]; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	x->v[e->idx] = x->v[--x->n];
	x->v[e->idx]->idx = e->idx;
}

static void index_free(struct index *x)
{
	free(x->b);
	free(x->v);
}

/* ---- namespaces ---- */

static struct nsgroup *ns_group(struct track *t, const char *ns, bool add)
{
	uint64_t h = key_hash(0, ns, "");
	for (struct node *n = index_first(&t->nsx, h); n; n = n->next) {
		struct nsgroup *g = (struct nsgroup *)(void *)n;
		if (n->h == h && strcmp(g->name, ns) == 0)
			return g;
	}
	if (!add)
		return NULL;
	size_t len = strlen(ns) + 1;
	struct nsgroup *g = calloc(1, sizeof *g + len);
	if (!g)
		return NULL;
	memcpy(g->name, ns, len);
	g->node.h = h;
	if (index_add(&t->nsx, &g->node) != 0) {
		free(g);
		return NULL;
	}
	return g;
}

static int ns_join(struct track *t, struct member *m, const char *ns, bool svc)
{
	struct nsgroup *g = ns_group(t, ns, true);
	if (!g)
		return -1;
	struct list *l = svc ? &g->svc : &g->wl;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct member **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	m->g = g;
	m->pos = l->n;
	l->v[l->n++] = m;
	return 0;
}

static void ns_leave(struct track *t, struct member *m, bool svc)
{
	struct nsgroup *g = m->g;
	if (!g)
		return;
	struct list *l = svc ? &g->svc : &g->wl;
	l->v[m->pos] = l->v[--l->n];
	l->v[m->pos]->pos = m->pos;
	m->g = NULL;
	if (g->wl.n == 0 && g->svc.n == 0) {
		index_del(&t->nsx, &g->node);
		free(g->wl.v);
		free(g->svc.v);
		free(g);
	}
}

/* ---- deploys ---- */

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
}

static void pend_drop(struct track *t, struct deploy *d)
{
	if (!d->pend)
		return;
	kobj_free(&d->pend->o);
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
static void deploy_snapshot(struct track *t, struct deploy *dst, const struct deploy *src)
{
	deploy_clear(t, dst);
	*dst = *src;
	dst->target = dst->target_images = NULL;
	dst->pend = NULL;
}

/* ---- lookup ---- */

static struct wl *wl_find(struct track *t, enum kobj_kind kind, const char *ns, const char *name, bool add)
{
	uint64_t h = key_hash(kind, ns, name);
	for (struct node *n = index_first(&t->w, h); n; n = n->next) {
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
	if (kobj_key(&w->o, kind, ns, name) != 0 || ns_join(t, &w->m, ns, false) != 0) {
		kobj_free(&w->o);
		free(w);
		return NULL;
	}
	if (index_add(&t->w, &w->node) != 0) {
		ns_leave(t, &w->m, false);
		kobj_free(&w->o);
		free(w);
		return NULL;
	}
	return w;
}

static void wl_remove(struct track *t, struct wl *w)
{
	index_del(&t->w, &w->node);
	ns_leave(t, &w->m, false);
	deploy_clear(t, &w->d);
	kobj_free(&w->o);
	free(w);
}

static struct svc *svc_find(struct track *t, const char *ns, const char *name, bool add)
{
	uint64_t h = key_hash(KOBJ_SERVICE, ns, name);
	for (struct node *n = index_first(&t->s, h); n; n = n->next) {
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
	if (kobj_key(&s->o, KOBJ_SERVICE, ns, name) != 0 || ns_join(t, &s->m, ns, true) != 0) {
		kobj_free(&s->o);
		free(s);
		return NULL;
	}
	if (index_add(&t->s, &s->node) != 0) {
		ns_leave(t, &s->m, true);
		kobj_free(&s->o);
		free(s);
		return NULL;
	}
	return s;
}

static void svc_remove(struct track *t, struct svc *s)
{
	index_del(&t->s, &s->node);
	ns_leave(t, &s->m, true);
	deploy_clear(t, &s->d);
	deploy_clear(t, &s->last);
	deploy_clear(t, &s->live);
	kobj_free(&s->o);
	free(s);
}

void track_free(struct track *t)
{
	if (!t)
		return;
	while (t->w.n)
		wl_remove(t, WL(t, t->w.n - 1));
	while (t->s.n)
		svc_remove(t, SVC(t, t->s.n - 1));
	index_free(&t->w);
	index_free(&t->s);
	index_free(&t->nsx);
	free(t->pending);
	free(t);
}

static void hist_add(struct wl *w, const char *images, int64_t rev)
{
	if (!images[0])
		return;
	uint64_t ih = images_hash(images);
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

static bool hist_has(const struct wl *w, const char *images, int64_t rev)
{
	uint64_t ih = images_hash(images);
	for (int i = 0; i < w->nh; i++)
		if (w->h[i].images_h == ih && w->h[i].rev < rev)
			return true;
	return false;
}

/* ---- emitting ---- */

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
	deploy_clear(t, d);
	d->active = true;
	d->st = st;
	d->start_ns = ts ? ts : t->now;
}

static bool is_target(const struct deploy *d, const char *name)
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

static void pend_flush(struct track *t, struct deploy *d)
{
	struct pend *p = d->pend;
	if (!p)
		return;
	/* Out of the list first: emit() flushes d again. */
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
	emit(t, d, p->ph, p->ts, o, p->pkind, p->pname, wt);
	t->from_list = fl;
	kobj_free(&p->o);
	free(p);
}

/* Phase ph of d at o's spec write (time ts), named kind/name. */
static void pend_start(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		       const char *kind, const char *name, int64_t weight)
{
	pend_flush(t, d);
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
	if (!p || t->npending == t->cappending || kobj_copy(&p->o, o) != 0) {
		/* Out of memory: emitted now, with what is known. */
		free(p);
		emit(t, d, ph, ts, o, kind, name, weight);
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
		pend_flush(t, d);
}

/* A new state of w (force: its deletion): the points waiting for its revision number. */
static void pend_check(struct track *t, struct deploy *d, const struct wl *w, bool force)
{
	struct pend *p = d->pend;
	if (!p || p->o.kind != w->o.kind || strcmp(p->o.name, w->o.name) != 0 || strcmp(p->o.ns, w->o.ns) != 0)
		return;
	if (force || ++p->updates >= PEND_MAX_UPDATES || t->now - p->seen >= PEND_MAX_NS || numbered(p, &w->o) ||
	    strcmp(w->o.images, p->o.images) != 0)
		pend_flush(t, d);
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
static bool has(const struct deploy *d, enum phase ph)
{
	return (d->done & (1u << ph)) || (d->pend && d->pend->ph == ph);
}

void track_flush(struct track *t)
{
	while (t && t->npending)
		pend_flush(t, t->pending[0]);
}

void track_count(const struct track *t, size_t *workloads, size_t *services, size_t *waiting)
{
	*workloads = t->w.n;
	*services = t->s.n;
	*waiting = t->npending;
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
	int a = o->strategy_ann[0] ? track_strategy_parse(o->strategy_ann) : -1;
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
			if (!kobj_kv_get(o->sel, o->nsel, except))
				return false;
			continue;
		}
		const char *v = kobj_kv_get(o->sel, o->nsel, s->o.sel[i].k);
		if (!v || strcmp(v, s->o.sel[i].v) != 0)
			return false;
	}
	return true;
}

static const char *track_label(const struct kobj *o)
{
	return o->track[0] ? o->track : kobj_kv_get(o->sel, o->nsel, "track");
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
		start(t, d, ST_CANARY, o->spec_ns);
		set_str(&d->target, o->name);
		set_str(&d->target_images, o->images);
		pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, wt);
	}
	if (!d->active || !is_target(d, o->name) || has(d, PH_PROMOTED))
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
	if (strcmp(o->images, str(d->target_images)) != 0)
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
	deploy_snapshot(t, &s->last, &s->d);
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
	const char *val = kobj_kv_get(o->sel, o->nsel, s->bgkey), *cur = kobj_kv_get(s->o.sel, s->o.nsel, s->bgkey);
	bool live = cur && val && strcmp(cur, val) == 0;
	if (!live && newrev && o->replicas > 0) {
		start(t, d, ST_BLUEGREEN, o->spec_ns);
		set_str(&d->target, o->name);
		snprintf(d->target_val, sizeof d->target_val, "%s", val ? val : "");
		pend_start(t, d, PH_STARTED, d->start_ns, o, "Service", s->o.name, 0);
	}
	/* The live color's own deploy, beside a switch deploy the other color may have under way. */
	struct deploy *l = &s->live;
	if (live && newrev && o->replicas > 0) {
		start(t, l, ST_BLUEGREEN, o->spec_ns);
		l->rollback = was_present && hist_has(w, o->images, o->revision);
		set_str(&l->target, o->name);
		pend_start(t, l, PH_STARTED, l->start_ns, o, "Service", s->o.name, 0);
	}
	if (live && l->active && is_target(l, o->name) && dep_current(o)) {
		if (dep_complete(o)) {
			/* Not a switch: a later switch back is not its rollback (s->last stays). */
			emit(t, l, l->rollback ? PH_ROLLED_BACK : PH_COMPLETED, o->prog_ns, o, "Service", s->o.name, 0);
			l->active = false;
		} else if (dep_failed(o)) {
			emit(t, l, PH_FAILED, o->prog_ns, o, "Service", s->o.name, 0);
		} else {
			emit(t, l, PH_PROGRESSING, o->prog_ns, o, "Service", s->o.name, 0);
		}
	}
	if (!d->active || !is_target(d, o->name) || !dep_current(o))
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
	const struct nsgroup *g = s->m.g;
	for (size_t i = 0; i < G_NWL(g) && !target; i++) {
		struct wl *e = G_WL(g, i);
		const char *v = kobj_kv_get(e->o.sel, e->o.nsel, s->bgkey);
		if (e->present && e->o.kind == KOBJ_DEPLOYMENT && v && strcmp(v, val) == 0 && selects(s, &e->o, NULL))
			target = e;
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
			set_str(&d->target, target->o.name);
		emit(t, d, PH_STARTED, ts, o, "Service", s->o.name, 0);
	}
	snprintf(s->prev_val, sizeof s->prev_val, "%s", old);
	emit(t, d, PH_PROMOTED, ts, o, "Service", s->o.name, 0);
	deploy_snapshot(t, &s->last, d);
	if (target && dep_complete(&target->o))
		bg_complete(t, s, o, ts);
}

static void svc_object(struct track *t, const struct kobj *o, bool deleted)
{
	struct svc *s = svc_find(t, o->ns, o->name, !deleted);
	if (!s)
		return;
	if (deleted) {
		/* What waits is emitted; the Deployments behind it are tracked on their own from now. */
		pend_flush(t, &s->d);
		pend_flush(t, &s->live);
		svc_remove(t, s);
		return;
	}
	char old[64] = "";
	bool had = s->seen;
	if (had && s->bgkey[0]) {
		const char *v = kobj_kv_get(s->o.sel, s->o.nsel, s->bgkey);
		snprintf(old, sizeof old, "%s", v ? v : "");
	}
	if (kobj_copy(&s->o, o) != 0) {
		svc_remove(t, s);
		return;
	}
	s->seen = true;
	s->bgkey[0] = '\0';
	int a = o->strategy_ann[0] ? track_strategy_parse(o->strategy_ann) : -1;
	if (a < 0 || a == ST_BLUEGREEN) {
		static const char *const keys[] = { "color", "version", "slot", "app.kubernetes.io/version" };
		for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !s->bgkey[0]; i++)
			if (kobj_kv_get(o->sel, o->nsel, keys[i]) && (a == ST_BLUEGREEN || i < 2))
				snprintf(s->bgkey, sizeof s->bgkey, "%s", keys[i]);
	}
	const char *val = s->bgkey[0] ? kobj_kv_get(o->sel, o->nsel, s->bgkey) : NULL;
	if (had && val && old[0] && strcmp(old, val) != 0)
		bg_switch(t, s, old, val);
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
	int ann = o->strategy_ann[0] ? track_strategy_parse(o->strategy_ann) : -1;
	const struct nsgroup *g = w->m.g;
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && i < G_NSVC(g); i++) {
		struct svc *s = G_SVC(g, i);
		if (s->bgkey[0] && (ann < 0 || ann == ST_BLUEGREEN) && selects(s, o, s->bgkey)) {
			bg_update(t, s, w, newrev, was_present);
			return;
		}
	}
	for (size_t i = 0; o->kind == KOBJ_DEPLOYMENT && (ann < 0 || ann == ST_CANARY) && i < G_NSVC(g); i++) {
		struct svc *s = G_SVC(g, i);
		if (s->bgkey[0] || !selects(s, o, NULL))
			continue;
		if (is_canary(o) && stable_beside(s, o)) {
			canary_update(t, s, w, newrev);
			return;
		}
		if (!is_canary(o) && s->d.active && s->d.st == ST_CANARY && !is_target(&s->d, o->name)) {
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
		rs_object(t, o, deleted);
		return;
	}
	struct wl *w = wl_find(t, o->kind, o->ns, o->name, !deleted);
	if (!w)
		return;
	if (deleted) {
		/* A canary Deployment removed before promotion: same as scaled to 0. */
		if (w->present && is_canary(&w->o)) {
			const struct nsgroup *g = w->m.g;
			for (size_t i = 0; i < G_NSVC(g); i++) {
				struct deploy *d = &G_SVC(g, i)->d;
				if (d->active && d->st == ST_CANARY && is_target(d, o->name) && !has(d, PH_PROMOTED)) {
					emit(t, d, PH_ROLLED_BACK, now_ns, &w->o, "Service", G_SVC(g, i)->o.name, 0);
					d->active = false;
				}
			}
		}
		pend_check_all(t, w, true);
		wl_remove(t, w);
		return;
	}
	struct kobj old = w->o; /* now old's: w->o gets an allocation of its own */
	memset(&w->o, 0, sizeof w->o);
	if (kobj_copy(&w->o, o) != 0) {
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
	kobj_free(&old);
}
