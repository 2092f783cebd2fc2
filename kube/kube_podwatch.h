/* The pods of one node, kept current by one list+watch of the API server
 * (fieldSelector spec.nodeName=NODE) that every input of the process
 * shares: acquire/release count the users, the watch starts with the first
 * and stops with the last. Consumers poll hg_kube_podwatch_generation() and
 * rebuild what they derive from the pods only when it moved, so a pod
 * change costs one event, never a re-list or a per-gather fetch. */
#ifndef HG_KUBE_PODWATCH_H
#define HG_KUBE_PODWATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct kube_pod_kv {
	const char *key, *value;
};

/* Quantities stay as the API wrote them ("250m", "128Mi"): each consumer
 * scales them as it needs. NULL when the container has none. */
struct kube_pod_container {
	const char *name;
	const char *req_cpu, *req_mem, *lim_cpu, *lim_mem;
};

struct kube_pod {
	const char *ns, *name, *uid, *pod_ip, *phase;
	bool ready; /* Running and every container status ready */
	size_t nlabels, ncontainers;
	const struct kube_pod_kv *labels;
	const struct kube_pod_container *containers;
	/* prometheus.io/scrape, /port, /path, /scheme annotations, or NULL. */
	const char *scrape, *port, *path, *scheme;
};

struct kube_podwatch;

/* The process' watch of node_name's pods, started on first use. kubeconfig:
 * a kubeconfig file, or NULL/"" for the in-cluster service account (else
 * $KUBECONFIG / ~/.kube/config, as hg_kube_config_auto). Users asking for the
 * same node and kubeconfig on the same loop share one watch. */
struct kube_podwatch *hg_kube_podwatch_acquire(uv_loop_t *loop, const char *node_name, const char *kubeconfig,
					    char *err, size_t errlen);
/* Drops one use; the last one stops the watch (nothing runs after that). */
void hg_kube_podwatch_release(struct kube_podwatch *pw);

/* Changes with every pod added, changed or removed; 0 until the first list. */
uint64_t hg_kube_podwatch_generation(const struct kube_podwatch *pw);
bool hg_kube_podwatch_synced(const struct kube_podwatch *pw);
/* The pods; pointers stay valid until the loop runs again. */
size_t hg_kube_podwatch_count(const struct kube_podwatch *pw);
const struct kube_pod *hg_kube_podwatch_pod(const struct kube_podwatch *pw, size_t i);
/* The last error of the watch ("" when none since it last synced). */
const char *hg_kube_podwatch_error(const struct kube_podwatch *pw);
/* hg_kube_config_warn_insecure for the kubeconfig the watch uses, as who: each
 * input sharing the watch warns once, under its own name. */
bool hg_kube_podwatch_warn_insecure(const struct kube_podwatch *pw, const char *who);
/* LIST rounds and watch events applied (tests, self-metrics). */
unsigned hg_kube_podwatch_lists(const struct kube_podwatch *pw);
unsigned long hg_kube_podwatch_events(const struct kube_podwatch *pw);
/* Users of the process' watches (tests). */
size_t hg_kube_podwatch_users(const struct kube_podwatch *pw);

#endif
