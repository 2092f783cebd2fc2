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
	char k[64], v[64];
};

struct kobj {
	enum kobj_kind kind;
	char ns[64], name[254];
	char strategy_ann[16];       /* heliograph.io/strategy, "" when absent */
	struct kv labels[KOBJ_KV];   /* metadata.labels */
	int nlabels;
	struct kv sel[KOBJ_KV];      /* pod template labels; a Service's selector */
	int nsel;
	char images[512];            /* template container images, ',' joined */
	char image[256], version[64];
	char owner[254];             /* ReplicaSet: its controller's name */
	char owner_kind[32];         /* and kind ("Deployment", "Rollout") */
	int64_t revision, generation, observed_generation;
	bool rev_ann;                /* revision from an annotation, not the generation */
	int64_t replicas, updated, available, unavailable;
	bool recreate;
	int64_t spec_ns;             /* newest spec write (managedFields), else creation */
	/* The Progressing condition. */
	char prog_status[16], prog_reason[64], prog_msg[256];
	int64_t prog_ns;
	/* Argo Rollouts. */
	enum argo_strategy argo;
	char pod_hash[64], stable_rs[64], active_sel[64], phase[32];
	bool aborted;
	int64_t aborted_ns, step_index;
	int nsteps;
	int step_weight[KOBJ_STEPS]; /* setWeight of each step, -1 for other steps */
	int64_t status_weight;       /* status.canary.weights.canary.weight, -1 when absent */
};

/* Reads json (NUL-terminated) into o. 0, or -1 with err. */
int kobj_parse(struct kobj *o, enum kobj_kind kind, const char *json, char *err, size_t errlen);
const char *kv_get(const struct kv *kv, int n, const char *k);
/* "2019-10-25T06:07:18Z" (fractions allowed) in ns; 0 when absent or invalid. */
int64_t kobj_time_ns(const char *s);

#endif
