/* Reads the few fields the tracker needs with yajl's tree parser: objects
 * are small, come one per watch event, and each is parsed once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "kobj.h"
#include "kube_util.h"

static const char *str_at(yajl_val v, const char **path)
{
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

/* Integers sometimes come as strings (Argo's observedGeneration). */
static int64_t int_at(yajl_val v, const char **path, int64_t def)
{
	yajl_val n = yajl_tree_get(v, path, yajl_t_any);
	if (!n)
		return def;
	if (YAJL_IS_INTEGER(n))
		return YAJL_GET_INTEGER(n);
	if (YAJL_IS_STRING(n)) {
		const char *str = YAJL_GET_STRING(n);
		char *end;
		long long x = str ? strtoll(str, &end, 10) : 0;
		return !str || *end ? def : x;
	}
	return def;
}

/* Truncating copy: names longer than our fields are cut, never overrun. */
static void copy(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;
	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

int64_t kobj_time_ns(const char *s)
{
	time_t t;
	/* Past 2262 does not fit int64 ns: as invalid. */
	if (!s || !*s || kube_parse_time(s, &t) != 0 || t >= INT64_MAX / 1000000000 || t <= INT64_MIN / 1000000000)
		return 0;
	return (int64_t)t * 1000000000;
}

static int read_map(yajl_val m, struct kv *kv, int max)
{
	int n = 0;
	if (!m || !YAJL_IS_OBJECT(m))
		return 0;
	for (size_t i = 0; i < m->u.object.len && n < max; i++) {
		yajl_val v = m->u.object.values[i];
		if (!YAJL_IS_STRING(v))
			continue;
		copy(kv[n].k, sizeof kv[n].k, m->u.object.keys[i]);
		copy(kv[n].v, sizeof kv[n].v, YAJL_GET_STRING(v));
		n++;
	}
	return n;
}

const char *kv_get(const struct kv *kv, int n, const char *k)
{
	for (int i = 0; i < n; i++)
		if (strcmp(kv[i].k, k) == 0)
			return kv[i].v;
	return NULL;
}

/* The newest time a manager other than the status writer changed the object:
 * when the kubectl apply / set image of this revision happened. */
static int64_t spec_time(yajl_val root)
{
	const char *p[] = { "metadata", "managedFields", NULL };
	yajl_val mf = yajl_tree_get(root, p, yajl_t_array);
	int64_t best = 0;
	for (size_t i = 0; mf && i < mf->u.array.len; i++) {
		yajl_val e = mf->u.array.values[i];
		const char *sub[] = { "subresource", NULL }, *tp[] = { "time", NULL };
		const char *s = str_at(e, sub);
		if (s && strcmp(s, "status") == 0)
			continue;
		int64_t t = kobj_time_ns(str_at(e, tp));
		if (t > best)
			best = t;
	}
	if (best)
		return best;
	const char *cp[] = { "metadata", "creationTimestamp", NULL };
	return kobj_time_ns(str_at(root, cp));
}

static void read_template(struct kobj *o, yajl_val tmpl)
{
	const char *lp[] = { "metadata", "labels", NULL }, *cp[] = { "spec", "containers", NULL };
	o->nsel = read_map(yajl_tree_get(tmpl, lp, yajl_t_object), o->sel, KOBJ_KV);
	yajl_val cs = yajl_tree_get(tmpl, cp, yajl_t_array);
	size_t len = 0;
	for (size_t i = 0; cs && i < cs->u.array.len; i++) {
		const char *ip[] = { "image", NULL };
		const char *img = str_at(cs->u.array.values[i], ip);
		if (!img)
			continue;
		if (i == 0)
			copy(o->image, sizeof o->image, img);
		int n = snprintf(o->images + len, sizeof o->images - len, "%s%s", len ? "," : "", img);
		if (n > 0 && (size_t)n < sizeof o->images - len)
			len += (size_t)n;
	}
	const char *v = kv_get(o->sel, o->nsel, "app.kubernetes.io/version");
	if (!v)
		v = kv_get(o->sel, o->nsel, "version");
	if (!v) {
		/* The tag of the image: after the last ':' that follows the last '/'. */
		const char *slash = strrchr(o->image, '/'), *colon = strrchr(o->image, ':');
		if (colon && (!slash || colon > slash))
			v = colon + 1;
	}
	copy(o->version, sizeof o->version, v);
}

static void read_conditions(struct kobj *o, yajl_val root)
{
	const char *p[] = { "status", "conditions", NULL };
	yajl_val cs = yajl_tree_get(root, p, yajl_t_array);
	for (size_t i = 0; cs && i < cs->u.array.len; i++) {
		yajl_val c = cs->u.array.values[i];
		const char *tp[] = { "type", NULL }, *sp[] = { "status", NULL }, *rp[] = { "reason", NULL },
			   *mp[] = { "message", NULL }, *up[] = { "lastUpdateTime", NULL },
			   *xp[] = { "lastTransitionTime", NULL };
		const char *type = str_at(c, tp);
		if (!type || strcmp(type, "Progressing") != 0)
			continue;
		copy(o->prog_status, sizeof o->prog_status, str_at(c, sp));
		copy(o->prog_reason, sizeof o->prog_reason, str_at(c, rp));
		copy(o->prog_msg, sizeof o->prog_msg, str_at(c, mp));
		o->prog_ns = kobj_time_ns(str_at(c, up));
		if (!o->prog_ns)
			o->prog_ns = kobj_time_ns(str_at(c, xp));
	}
}

static void read_argo(struct kobj *o, yajl_val root)
{
	const char *cp[] = { "spec", "strategy", "canary", NULL }, *bp[] = { "spec", "strategy", "blueGreen", NULL };
	const char *stp[] = { "spec", "strategy", "canary", "steps", NULL };
	if (yajl_tree_get(root, bp, yajl_t_object))
		o->argo = ARGO_BLUEGREEN;
	else if (yajl_tree_get(root, cp, yajl_t_object))
		o->argo = ARGO_CANARY;
	yajl_val steps = yajl_tree_get(root, stp, yajl_t_array);
	for (size_t i = 0; steps && i < steps->u.array.len && o->nsteps < KOBJ_STEPS; i++) {
		const char *wp[] = { "setWeight", NULL };
		o->step_weight[o->nsteps++] = (int)int_at(steps->u.array.values[i], wp, -1);
	}
	const char *hp[] = { "status", "currentPodHash", NULL }, *sp[] = { "status", "stableRS", NULL },
		   *ap[] = { "status", "blueGreen", "activeSelector", NULL }, *php[] = { "status", "phase", NULL },
		   *abp[] = { "status", "abort", NULL }, *atp[] = { "status", "abortedAt", NULL },
		   *ip[] = { "status", "currentStepIndex", NULL },
		   *wp[] = { "status", "canary", "weights", "canary", "weight", NULL };
	copy(o->pod_hash, sizeof o->pod_hash, str_at(root, hp));
	copy(o->stable_rs, sizeof o->stable_rs, str_at(root, sp));
	copy(o->active_sel, sizeof o->active_sel, str_at(root, ap));
	copy(o->phase, sizeof o->phase, str_at(root, php));
	o->aborted = YAJL_IS_TRUE(yajl_tree_get(root, abp, yajl_t_any));
	o->aborted_ns = kobj_time_ns(str_at(root, atp));
	o->step_index = int_at(root, ip, -1);
	o->status_weight = int_at(root, wp, -1);
}

int kobj_parse(struct kobj *o, enum kobj_kind kind, const char *json, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	char perr[128];
	yajl_val root = yajl_tree_parse(json, perr, sizeof perr);
	if (!root) {
		snprintf(err, errlen, "object JSON: %s", perr);
		return -1;
	}
	const char *np[] = { "metadata", "name", NULL }, *nsp[] = { "metadata", "namespace", NULL },
		   *lp[] = { "metadata", "labels", NULL }, *sap[] = { "metadata", "annotations", NULL },
		   *gp[] = { "metadata", "generation", NULL };
	copy(o->name, sizeof o->name, str_at(root, np));
	copy(o->ns, sizeof o->ns, str_at(root, nsp));
	o->nlabels = read_map(yajl_tree_get(root, lp, yajl_t_object), o->labels, KOBJ_KV);
	struct kv ann[KOBJ_KV];
	int nann = read_map(yajl_tree_get(root, sap, yajl_t_object), ann, KOBJ_KV);
	copy(o->strategy_ann, sizeof o->strategy_ann, kv_get(ann, nann, "heliograph.io/strategy"));
	const char *rev = kv_get(ann, nann, "deployment.kubernetes.io/revision");
	if (!rev)
		rev = kv_get(ann, nann, "rollout.argoproj.io/revision");
	o->generation = int_at(root, gp, 0);
	o->revision = rev ? strtoll(rev, NULL, 10) : o->generation;
	o->rev_ann = rev != NULL;
	o->spec_ns = spec_time(root);
	if (kind == KOBJ_SERVICE) {
		const char *selp[] = { "spec", "selector", NULL };
		o->nsel = read_map(yajl_tree_get(root, selp, yajl_t_object), o->sel, KOBJ_KV);
		yajl_tree_free(root);
		return 0;
	}
	const char *tp[] = { "spec", "template", NULL }, *rp[] = { "spec", "replicas", NULL },
		   *ogp[] = { "status", "observedGeneration", NULL }, *up[] = { "status", "updatedReplicas", NULL },
		   *avp[] = { "status", "availableReplicas", NULL },
		   *unp[] = { "status", "unavailableReplicas", NULL },
		   *stp[] = { "spec", "strategy", "type", NULL }, *orp[] = { "metadata", "ownerReferences", NULL };
	read_template(o, yajl_tree_get(root, tp, yajl_t_object));
	o->replicas = int_at(root, rp, 1);
	o->observed_generation = int_at(root, ogp, 0);
	o->updated = int_at(root, up, 0);
	o->available = int_at(root, avp, 0);
	o->unavailable = int_at(root, unp, -1);
	if (o->unavailable < 0)
		o->unavailable = o->replicas > o->available ? o->replicas - o->available : 0;
	const char *st = str_at(root, stp);
	o->recreate = st && strcmp(st, "Recreate") == 0;
	yajl_val owners = yajl_tree_get(root, orp, yajl_t_array);
	if (owners && owners->u.array.len) {
		const char *onp[] = { "name", NULL }, *okp[] = { "kind", NULL };
		copy(o->owner, sizeof o->owner, str_at(owners->u.array.values[0], onp));
		copy(o->owner_kind, sizeof o->owner_kind, str_at(owners->u.array.values[0], okp));
	}
	read_conditions(o, root);
	if (kind == KOBJ_ROLLOUT)
		read_argo(o, root);
	yajl_tree_free(root);
	return 0;
}
