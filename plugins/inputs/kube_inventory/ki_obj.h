/* One object of a LIST page, as much of it as kube_inventory reports, and
 * the metrics made from it (Telegraf's kube_inventory schema, README.md).
 * The strings live in a grow-only arena and the containers, statuses,
 * conditions and selectors in grow-only arrays, all reused from object to
 * object: after the first objects a gather allocates nothing. */
#ifndef HG_KI_OBJ_H
#define HG_KI_OBJ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ki_stream.h"
#include "options.h"

struct acc;

enum ki_kind { KI_DAEMONSETS, KI_DEPLOYMENTS, KI_NODES, KI_PODS, KI_STATEFULSETS, KI_NKINDS };

/* Integer values read from an object (Go's zero when absent, as Telegraf). */
enum ki_int {
	I_GENERATION,
	I_OBSERVED_GENERATION,
	I_REPLICAS,
	I_SPEC_REPLICAS,
	I_AVAILABLE,
	I_UNAVAILABLE,
	I_CURRENT,
	I_READY,
	I_UPDATED,
	I_CURRENT_SCHEDULED,
	I_DESIRED_SCHEDULED,
	I_NUMBER_AVAILABLE,
	I_MISSCHEDULED,
	I_NUMBER_READY,
	I_NUMBER_UNAVAILABLE,
	I_UPDATED_SCHEDULED,
	I_NINTS
};

/* Node resources: capacity then allocatable, each cpu, ephemeral-storage, memory, pods. */
enum { R_CPU, R_EPHEMERAL, R_MEMORY, R_PODS, R_N };

struct ki_kv {
	uint32_t k, v; /* arena offsets */
};

struct ki_cont {
	uint32_t name, image;
	uint32_t req_cpu, req_mem, lim_cpu, lim_mem; /* 0 = none (offset 0 is the empty string) */
};

struct ki_status {
	uint32_t name, reason;
	int64_t restarts;
	bool ready;
	int state; /* 0 running, 1 terminated, 2 waiting, 3 unknown (Telegraf's state_code) */
};

struct ki_cond {
	uint32_t type, status;
};

struct ki_obj {
	enum ki_kind kind;
	char *arena;
	size_t alen, acap;
	bool oom;
	uint32_t name, ns, node_name, phase, phase_reason, cluster_ns, version;
	int64_t created_ns; /* 0 = absent */
	int64_t ints[I_NINTS];
	bool has[I_NINTS];
	bool unschedulable;
	uint32_t res[2][R_N]; /* node capacity/allocatable quantity text */
	struct ki_kv *sel;    /* selector matchLabels, or pod nodeSelector */
	size_t nsel, selcap;
	struct ki_cont *cont;
	size_t ncont, contcap;
	struct ki_status *st;
	size_t nst, stcap;
	struct ki_cond *cond; /* node conditions, or pod conditions */
	size_t ncond, condcap;
};

/* Telegraf's include/exclude glob filter: empty include takes every key;
 * exclude wins. */
struct ki_filter {
	const struct strlist *include, *exclude;
};
bool hg_ki_filter_match(const struct ki_filter *f, const char *key);

void hg_ki_obj_init(struct ki_obj *o, enum ki_kind kind);
void hg_ki_obj_reset(struct ki_obj *o);
void hg_ki_obj_free(struct ki_obj *o);
/* A value of the object being read (ks_handler.value). */
void hg_ki_obj_value(struct ki_obj *o, const char *path, enum ks_type t, const char *v, size_t n, int idx);
/* Emits the object's metrics; false when it was not complete (out of memory). */
bool hg_ki_obj_emit(struct ki_obj *o, struct acc *acc, const struct ki_filter *selectors);

#endif
