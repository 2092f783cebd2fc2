/* libFuzzer target for deploy_events' object reader (hg_kobj_parse): one
 * Deployment, ReplicaSet, Service or Argo Rollout as the watch delivers it.
 * The first byte picks the kind. Not streaming: the object is parsed twice
 * to check that the result depends on the input only, and copied. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/inputs/deploy_events/kobj.h"

static int same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Every field, strings by content (each result has its own allocation). */
static int same(const struct kobj *a, const struct kobj *b)
{
	if (!same_str(a->ns, b->ns) || !same_str(a->name, b->name) || !same_str(a->strategy_ann, b->strategy_ann) ||
	    !same_str(a->track, b->track) || !same_str(a->images, b->images) || !same_str(a->image, b->image) ||
	    !same_str(a->version, b->version) || !same_str(a->owner, b->owner) ||
	    !same_str(a->owner_kind, b->owner_kind) || !same_str(a->prog_status, b->prog_status) ||
	    !same_str(a->prog_reason, b->prog_reason) || !same_str(a->prog_msg, b->prog_msg) ||
	    !same_str(a->pod_hash, b->pod_hash) || !same_str(a->stable_rs, b->stable_rs) ||
	    !same_str(a->active_sel, b->active_sel) || !same_str(a->phase, b->phase))
		return 0;
	if (a->kind != b->kind || a->nsel != b->nsel || a->nsteps != b->nsteps || a->revision != b->revision ||
	    a->generation != b->generation || a->observed_generation != b->observed_generation ||
	    a->rev_ann != b->rev_ann || a->replicas != b->replicas || a->updated != b->updated ||
	    a->available != b->available || a->unavailable != b->unavailable || a->recreate != b->recreate ||
	    a->spec_ns != b->spec_ns || a->prog_ns != b->prog_ns || a->argo != b->argo || a->aborted != b->aborted ||
	    a->aborted_ns != b->aborted_ns || a->step_index != b->step_index || a->status_weight != b->status_weight ||
	    a->mem_len != b->mem_len)
		return 0;
	for (int i = 0; i < a->nsel; i++)
		if (!same_str(a->sel[i].k, b->sel[i].k) || !same_str(a->sel[i].v, b->sel[i].v))
			return 0;
	for (int i = 0; i < a->nsteps; i++)
		if (a->step_weight[i] != b->step_weight[i])
			return 0;
	return 1;
}

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
	struct kobj a = { 0 }, b = { 0 }, c = { 0 };
	char err[256];
	int ra = hg_kobj_parse(&a, kind, json, err, sizeof err);
	int rb = hg_kobj_parse(&b, kind, json, err, sizeof err);
	if (ra != rb || !same(&a, &b))
		abort();
	if (ra == 0) {
		/* A copy is the same object; a re-parse into a used kobj frees what it held. */
		if (hg_kobj_copy(&c, &a) != 0 || !same(&a, &c))
			abort();
		(void)hg_kobj_parse(&c, kind, json, err, sizeof err);
		if (!same(&a, &c))
			abort();
		(void)hg_kobj_kv_get(a.sel, a.nsel, "app");
		if (a.nsel > KOBJ_KV || a.nsteps > KOBJ_STEPS)
			abort();
	}
	hg_kobj_free(&a);
	hg_kobj_free(&b);
	hg_kobj_free(&c);
	(void)hg_kobj_time_ns(json);
	free(json);
	return 0;
}
