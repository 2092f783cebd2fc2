/* Private to kube_inventory: the instance, shared by the plugin
 * (kube_inventory.c, watch mode) and list mode (ki_list.c). */
#ifndef HG_KI_INTERNAL_H
#define HG_KI_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ki_obj.h"
#include "ki_stream.h"
#include "ki_watch.h"
#include "kube_client.h"
#include "kube_lease.h"
#include "kubeconfig.h"
#include "options.h"

struct acc;

struct ki_kind_desc {
	const char *name, *prefix, *group; /* group: for the RBAC rule in errors */
	bool namespaced;
};
extern const struct ki_kind_desc hg_ki_kinds[KI_NKINDS];

struct ki {
	char label[96];
	struct kube_config kc;
	struct kube_client *c;
	struct lease *lease;
	struct lease_opts lo;
	char identity[256];
	bool use_lease, leader, freed;
	bool enabled[KI_NKINDS];
	char *ns, *node_name;
	unsigned page_size;
	int64_t timeout_ms;
	struct strlist sel_in, sel_ex;
	struct ki_filter sel;
	/* the gather in flight */
	struct acc *acc;
	bool busy, in_gather, parse_failed, oom_reported, restarted;
	int kind;
	char cont[1024];
	int64_t count;
	int64_t emitted; /* objects of this resource reported so far */
	/* Keys ("namespace/name" or "name", the API server's list order) of the
	 * last object reported, and after a relist, up to which to skip. */
	char last_key[320], skip_to[320];
	char path[2048], what[64], parse_err[256];
	struct ks ks;
	bool ks_live;
	struct ki_obj obj;
	/* watch mode */
	bool watch_mode;
	struct ki_rw rw[KI_NKINDS];
	char wpath[KI_NKINDS][512], wsel[KI_NKINDS][320];
	uv_timer_t *wait_timer; /* a gather waiting for the first lists; its own block (closed, then freed) */
	int64_t leader_since_ms, first_gather_ms; /* (tests) uv_now when elected, and its first full gather after */
};

/* List mode: gathers the enabled resources from the first at or after
 * from, one LIST after the other; ends the gather after the last. */
void hg_ki_list_next(struct ki *s, int from);

#endif
