/* Streaming parser of the kubelet /stats/summary document: fed the body in
 * chunks as curl receives it, it emits each kubernetes_* metric the moment
 * the JSON object it comes from is complete. Its state is fixed-size (a
 * short context stack, one record per open object and the names in force),
 * so memory does not grow with the number of pods. Private to the
 * kubernetes input. */
#ifndef HG_KUBE_SUMMARY_PARSE_H
#define HG_KUBE_SUMMARY_PARSE_H
#include <stddef.h>
#include <yajl/yajl_parse.h>

struct acc;
struct pod_cache;
struct summary_parser;

/* af may be NULL (yajl's default allocator). */
struct summary_parser *hg_summary_parser_new(const yajl_alloc_funcs *af);
void hg_summary_parser_free(struct summary_parser *p);
/* Starts a document. pods (may be NULL) gives labels and requests/limits;
 * node_name is the node_name tag when the summary has none. Both must stay
 * valid until hg_summary_parser_end(). 0, or -1 when yajl cannot be allocated. */
int hg_summary_parser_begin(struct summary_parser *p, struct acc *acc, const struct pod_cache *pods,
			 const char *node_name);
/* 0, or -1 with err (invalid JSON, a name longer than Kubernetes allows). */
int hg_summary_parser_feed(struct summary_parser *p, const char *buf, size_t n, char *err, size_t errlen);
/* Ends the document: -1 with err when it was cut short. */
int hg_summary_parser_end(struct summary_parser *p, char *err, size_t errlen);
/* Metrics emitted since begin. */
size_t hg_summary_parser_emitted(const struct summary_parser *p);
/* Bytes of the parser's own fixed state (besides yajl's handle). */
size_t hg_summary_parser_state_size(void);
/* Pods of the summary that the pod cache did not know (a new pod: the
 * caller refreshes its metadata). */
size_t hg_summary_parser_unknown_pods(const struct summary_parser *p);

#endif
