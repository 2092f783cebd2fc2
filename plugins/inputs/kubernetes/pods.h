/* Pod metadata of one node: for each pod its labels (only those that pass
 * label_include/label_exclude, so the cache holds nothing a user did not
 * ask for) and each container's resource requests and limits. Built by
 * streaming a PodList (kubelet /pods) through yajl; looked up by
 * namespace/name while a summary is parsed. Private to the kubernetes input. */
#ifndef HG_KUBE_PODS_H
#define HG_KUBE_PODS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_parse.h>

#include "kube_quantity.h" /* hg_kube_quantity(): requests and limits */
#include "options.h"

struct pod_cache;
struct pod_meta;

/* A label becomes a tag when it matches a label_include glob and no
 * label_exclude glob (fnmatch). Empty include = no labels. */
struct label_filter {
	const struct strlist *include, *exclude;
};
bool hg_label_filter_match(const struct label_filter *f, const char *key);

struct container_res {
	bool has_req_cpu, has_req_mem, has_lim_cpu, has_lim_mem;
	int64_t req_cpu_m, req_mem, lim_cpu_m, lim_mem; /* millicpu, bytes */
};


/* Streaming PodList parser. af may be NULL (yajl's default allocator). */
struct podlist_parser;
struct podlist_parser *hg_podlist_parser_new(const struct label_filter *lf, const yajl_alloc_funcs *af);
int hg_podlist_parser_feed(struct podlist_parser *p, const char *buf, size_t n, char *err, size_t errlen);
/* Ends the document; on success hands over the finished cache (*out). */
int hg_podlist_parser_end(struct podlist_parser *p, struct pod_cache **out, char *err, size_t errlen);
void hg_podlist_parser_free(struct podlist_parser *p);

/* The same cache built from the API server's pods (kube_podwatch.h), with
 * the same label filter. 0, or -1 with err (out of memory). */
struct kube_podwatch;
int hg_pod_cache_from_watch(const struct kube_podwatch *pw, const struct label_filter *lf, struct pod_cache **out,
			 char *err, size_t errlen);

void hg_pod_cache_free(struct pod_cache *c);
size_t hg_pod_cache_count(const struct pod_cache *c);
const struct pod_meta *hg_pod_cache_find(const struct pod_cache *c, const char *ns, const char *name);
size_t hg_pod_meta_nlabels(const struct pod_cache *c, const struct pod_meta *m);
void hg_pod_meta_label(const struct pod_cache *c, const struct pod_meta *m, size_t i, const char **key,
		    const char **value);
/* The container's requests/limits; false when the pod spec has no such container. */
bool hg_pod_meta_container(const struct pod_cache *c, const struct pod_meta *m, const char *container,
			struct container_res *out);

#endif
