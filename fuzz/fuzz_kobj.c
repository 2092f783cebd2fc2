/* libFuzzer target for deploy_events' object reader (kobj_parse): one
 * Deployment, ReplicaSet, Service or Argo Rollout as the watch delivers it.
 * The first byte picks the kind. Not streaming: the object is parsed twice
 * to check that the result depends on the input only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/deploy_events/kobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum kobj_kind kind = (enum kobj_kind)(data[0] & 3);
	char *json = malloc(size);
	if (!json)
		return 0;
	memcpy(json, data + 1, size - 1);
	json[size - 1] = '\0';
	static struct kobj a, b;
	char err[256];
	memset(&a, 0x5a, sizeof a);
	memset(&b, 0xa5, sizeof b);
	int ra = kobj_parse(&a, kind, json, err, sizeof err);
	int rb = kobj_parse(&b, kind, json, err, sizeof err);
	if (ra != rb || memcmp(&a, &b, sizeof a) != 0)
		abort();
	if (ra == 0) {
		/* Every string field must be terminated inside its array. */
		if (!memchr(a.name, 0, sizeof a.name) || !memchr(a.images, 0, sizeof a.images) ||
		    !memchr(a.prog_msg, 0, sizeof a.prog_msg) || !memchr(a.owner, 0, sizeof a.owner))
			abort();
		for (int i = 0; i < a.nlabels; i++)
			(void)kv_get(a.labels, a.nlabels, a.labels[i].k);
		(void)kv_get(a.sel, a.nsel, "app");
		if (a.nlabels > KOBJ_KV || a.nsel > KOBJ_KV || a.nsteps > KOBJ_STEPS)
			abort();
	}
	(void)kobj_time_ns(json);
	free(json);
	return 0;
}
