#include "pod_requests.h"
#include "jsonq.h"
#include "quantity.h"

int64_t hg_pod_memory_request(yajl_val pod)
{
	int64_t sum = 0, init = 0, v;
	yajl_val cs = hg_jq_at(pod, "spec", "containers", JQ_END);
	for (size_t i = 0; i < hg_jq_len(cs); i++)
		if (hg_quantity_parse(hg_jq_str(hg_jq_item(cs, i), "resources", "requests", "memory", JQ_END), &v) == 0)
			sum += v;
	cs = hg_jq_at(pod, "spec", "initContainers", JQ_END);
	for (size_t i = 0; i < hg_jq_len(cs); i++)
		if (hg_quantity_parse(hg_jq_str(hg_jq_item(cs, i), "resources", "requests", "memory", JQ_END), &v) == 0 && v > init)
			init = v;
	if (init > sum)
		sum = init;
	if (hg_quantity_parse(hg_jq_str(pod, "spec", "overhead", "memory", JQ_END), &v) == 0)
		sum += v;
	return sum;
}
