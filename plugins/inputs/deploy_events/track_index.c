/* The deploy tracker's index (see track_internal.h): entries found by a
 * hash of (kind, namespace, name) in a chained table, kept in a dense array
 * for scans, and grouped by namespace, so that the scans for pairs (a
 * Service and the Deployments it selects) stay within one namespace. */
#include <stdlib.h>
#include <string.h>
#include "track_internal.h"

/* FNV-1a over the kind and the NUL-terminated namespace and name. */
uint64_t hg_track_key_hash(enum kobj_kind kind, const char *ns, const char *name)
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

uint64_t hg_track_images_hash(const char *images)
{
	return hg_track_key_hash(0, "", images);
}

struct node *hg_track_index_first(const struct index *x, uint64_t h)
{
	return x->nb ? x->b[h & (x->nb - 1)] : NULL;
}

int hg_track_index_add(struct index *x, struct node *e)
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

void hg_track_index_del(struct index *x, struct node *e)
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

void hg_track_index_free(struct index *x)
{
	free(x->b);
	free(x->v);
}

/* ---- namespaces ---- */

struct nsgroup *hg_track_ns_group(struct track *t, const char *ns, bool add)
{
	uint64_t h = hg_track_key_hash(0, ns, "");
	for (struct node *n = hg_track_index_first(&t->nsx, h); n; n = n->next) {
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
	if (hg_track_index_add(&t->nsx, &g->node) != 0) {
		free(g);
		return NULL;
	}
	return g;
}

int hg_track_ns_join(struct track *t, struct member *m, const char *ns, bool svc)
{
	struct nsgroup *g = hg_track_ns_group(t, ns, true);
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

void hg_track_ns_leave(struct track *t, struct member *m, bool svc)
{
	struct nsgroup *g = m->g;
	if (!g)
		return;
	struct list *l = svc ? &g->svc : &g->wl;
	l->v[m->pos] = l->v[--l->n];
	l->v[m->pos]->pos = m->pos;
	m->g = NULL;
	if (g->wl.n == 0 && g->svc.n == 0) {
		hg_track_index_del(&t->nsx, &g->node);
		free(g->wl.v);
		free(g->svc.v);
		free(g);
	}
}
