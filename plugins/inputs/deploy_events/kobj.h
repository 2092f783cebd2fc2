/* The parts of a Deployment, ReplicaSet, Service or Argo Rollout that the
 * deploy tracker looks at, read from the object's JSON once per event. */
#ifndef HG_DEPLOY_KOBJ_H
#define HG_DEPLOY_KOBJ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KOBJ_KV 16
#define KOBJ_STEPS 32

enum kobj_kind { KOBJ_DEPLOYMENT, KOBJ_REPLICASET, KOBJ_SERVICE, KOBJ_ROLLOUT };
enum argo_strategy { ARGO_NONE, ARGO_CANARY, ARGO_BLUEGREEN };

struct kv {
	const char *k, *v;
};

/* The strings (never NULL, "" when absent), the selector and the steps
 * live in one allocation (mem) sized to them: the tracker keeps one of
 * these per workload and Service, so it holds what the object says and no
 * more. A struct kobj is zeroed before its first use (hg_kobj_parse, hg_kobj_copy,
 * hg_kobj_key free what it held before) and released with hg_kobj_free. */
struct kobj {
	enum kobj_kind kind;
	const char *ns, *name;
	const char *strategy_ann;    /* heliograph.io/strategy */
	const char *track;           /* metadata.labels.track (the only label read) */
	struct kv *sel;              /* pod template labels; a Service's selector */
	int nsel;
	const char *images;          /* template container images, ',' joined */
	const char *image, *version;
	const char *owner;           /* ReplicaSet: its controller's name */
	const char *owner_kind;      /* and kind ("Deployment", "Rollout") */
	int64_t revision, generation, observed_generation;
	bool rev_ann;                /* revision from an annotation, not the generation */
	int64_t replicas, updated, available, unavailable;
	bool recreate;
	int64_t spec_ns;             /* newest spec write (managedFields), else creation */
	/* The Progressing condition. */
	const char *prog_status, *prog_reason, *prog_msg;
	int64_t prog_ns;
	/* Argo Rollouts. */
	enum argo_strategy argo;
	const char *pod_hash, *stable_rs, *active_sel, *phase;
	bool aborted;
	int64_t aborted_ns, step_index;
	int nsteps;
	int *step_weight;            /* setWeight of each step, -1 for other steps */
	int64_t status_weight;       /* status.canary.weights.canary.weight, -1 when absent */
	void *mem;
	size_t mem_len;
};

/* Reads json (NUL-terminated) into o. 0, or -1 with err (o is then empty). */
int hg_kobj_parse(struct kobj *o, enum kobj_kind kind, const char *json, char *err, size_t errlen);
/* dst becomes a copy of src with its own allocation. 0, or -1 when out of memory (dst empty). */
int hg_kobj_copy(struct kobj *dst, const struct kobj *src);
/* o becomes an object known by its name only (every other string ""). 0 or -1. */
int hg_kobj_key(struct kobj *o, enum kobj_kind kind, const char *ns, const char *name);
void hg_kobj_free(struct kobj *o);
const char *hg_kobj_kv_get(const struct kv *kv, int n, const char *k);
/* "2019-10-25T06:07:18Z" (fractions allowed) in ns; 0 when absent or invalid. */
int64_t hg_kobj_time_ns(const char *s);

#endif
