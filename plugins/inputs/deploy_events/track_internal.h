/* The deploy tracker's own types and the functions its two files share:
 * track.c (the index, deploys, pending phases, workloads deployed on their
 * own, the entry point) and track_pairs.c (Deployments in pairs behind one
 * Service: canary and blue-green). Not for other files of the plugin. */
#ifndef HG_TRACK_INTERNAL_H
#define HG_TRACK_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* track_index.c */
uint64_t hg_track_key_hash(enum kobj_kind kind, const char *ns, const char *name);
uint64_t hg_track_images_hash(const char *images);
struct node *hg_track_index_first(const struct index *x, uint64_t h);
int hg_track_index_add(struct index *x, struct node *e);
void hg_track_index_del(struct index *x, struct node *e);
void hg_track_index_free(struct index *x);
struct nsgroup *hg_track_ns_group(struct track *t, const char *ns, bool add);
int hg_track_ns_join(struct track *t, struct member *m, const char *ns, bool svc);
void hg_track_ns_leave(struct track *t, struct member *m, bool svc);

/* track.c */
bool hg_track_dep_complete(const struct kobj *o);
bool hg_track_dep_current(const struct kobj *o);
bool hg_track_dep_failed(const struct kobj *o);
void hg_track_deploy_snapshot(struct track *t, struct deploy *dst, const struct deploy *src);
void hg_track_emit(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		 const char *kind, const char *name, int64_t weight);
bool hg_track_has(const struct deploy *d, enum phase ph);
bool hg_track_hist_has(const struct wl *w, const char *images, int64_t rev);
bool hg_track_is_target(const struct deploy *d, const char *name);
void hg_track_pend_flush(struct track *t, struct deploy *d);
void hg_track_pend_start(struct track *t, struct deploy *d, enum phase ph, int64_t ts, const struct kobj *o,
		       const char *kind, const char *name, int64_t weight);
void hg_track_set_str(char **dst, const char *s);
void hg_track_start(struct track *t, struct deploy *d, enum strategy st, int64_t ts);
const char *hg_track_str(const char *s);
struct svc *hg_track_svc_find(struct track *t, const char *ns, const char *name, bool add);
void hg_track_svc_remove(struct track *t, struct svc *s);

/* track_pairs.c */
bool hg_track_pair_update(struct track *t, struct wl *w, bool newrev, bool was_present);
void hg_track_pair_deleted(struct track *t, struct wl *w, int64_t now_ns);
void hg_track_svc_object(struct track *t, const struct kobj *o, bool deleted);

#endif
