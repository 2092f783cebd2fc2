/* What a pod object (as the API server returns it) asks the scheduler for.
 * The placement plan and the stuck-rollout diagnosis both count it. */
#ifndef AGENTCTL_POD_REQUESTS_H
#define AGENTCTL_POD_REQUESTS_H
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Memory requests as kube-scheduler counts them: the containers' sum or
 * the largest init container's, whichever is more (init containers run
 * one at a time, before the others), plus the RuntimeClass overhead. */
int64_t hg_pod_memory_request(yajl_val pod);

#endif
