/* Reads the few fields the tracker needs with yajl's tree parser: objects
 * are small, come one per watch event, and each is parsed once. The result
 * points into the parse tree first, then is packed into one allocation
 * (hg_kobj_copy), so that what the tracker keeps is the size of the strings. */
#include <stddef.h>
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

static const char empty[] = "";

static const char *or_empty(const char *s)
{
	return s ? s : empty;
}

/* The string fields, for packing. */
static const size_t str_fields[] = {
	offsetof(struct kobj, ns), offsetof(struct kobj, name), offsetof(struct kobj, strategy_ann),
	offsetof(struct kobj, track), offsetof(struct kobj, images), offsetof(struct kobj, image),
	offsetof(struct kobj, version), offsetof(struct kobj, owner), offsetof(struct kobj, owner_kind),
	offsetof(struct kobj, prog_status), offsetof(struct kobj, prog_reason), offsetof(struct kobj, prog_msg),
	offsetof(struct kobj, pod_hash), offsetof(struct kobj, stable_rs), offsetof(struct kobj, active_sel),
	offsetof(struct kobj, phase),
};
#define NSTR (sizeof str_fields / sizeof str_fields[0])

static const char **str_field(struct kobj *o, size_t i)
{
	return (const char **)(void *)((char *)o + str_fields[i]);
}

static void kobj_empty(struct kobj *o, enum kobj_kind kind)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	for (size_t i = 0; i < NSTR; i++)
		*str_field(o, i) = empty;
}

void hg_kobj_free(struct kobj *o)
{
	free(o->mem);
	kobj_empty(o, o->kind);
}

/* Layout of mem: the selector's kv array, the step weights, then the strings. */
int hg_kobj_copy(struct kobj *dst, const struct kobj *src)
{
	struct kobj o = *src;
	size_t kvlen = (size_t)o.nsel * sizeof(struct kv), stlen = (size_t)o.nsteps * sizeof(int), len = kvlen + stlen;
	for (size_t i = 0; i < NSTR; i++)
		len += strlen(*str_field(&o, i)) + 1;
	for (int i = 0; i < o.nsel; i++)
		len += strlen(o.sel[i].k) + strlen(o.sel[i].v) + 2;
	char *mem = malloc(len ? len : 1);
	free(dst->mem);
	if (!mem) {
		kobj_empty(dst, src->kind);
		return -1;
	}
	struct kv *sel = (struct kv *)(void *)mem;
	int *steps = (int *)(void *)(mem + kvlen);
	char *p = mem + kvlen + stlen;
	if (o.nsteps)
		memcpy(steps, o.step_weight, stlen);
	for (size_t i = 0; i < NSTR; i++) {
		const char **f = str_field(&o, i);
		size_t n = strlen(*f) + 1;
		memcpy(p, *f, n);
		*f = p;
		p += n;
	}
	for (int i = 0; i < o.nsel; i++) {
		size_t kn = strlen(o.sel[i].k) + 1, vn = strlen(o.sel[i].v) + 1;
		memcpy(p, o.sel[i].k, kn);
		memcpy(p + kn, o.sel[i].v, vn);
		sel[i] = (struct kv){ p, p + kn };
		p += kn + vn;
	}
	o.sel = o.nsel ? sel : NULL;
	o.step_weight = o.nsteps ? steps : NULL;
	o.mem = mem;
	o.mem_len = len;
	*dst = o;
	return 0;
}

int hg_kobj_key(struct kobj *o, enum kobj_kind kind, const char *ns, const char *name)
{
	struct kobj k;
	kobj_empty(&k, kind);
	k.ns = ns;
	k.name = name;
	return hg_kobj_copy(o, &k);
}

int64_t hg_kobj_time_ns(const char *s)
{
	time_t t;
	/* Past 2262 does not fit int64 ns: as invalid. */
	if (!s || !*s || hg_kube_parse_time(s, &t) != 0 || t >= INT64_MAX / 1000000000 || t <= INT64_MIN / 1000000000)
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
		kv[n].k = m->u.object.keys[i];
		kv[n].v = or_empty(YAJL_GET_STRING(v));
		n++;
	}
	return n;
}

const char *hg_kobj_kv_get(const struct kv *kv, int n, const char *k)
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
		int64_t t = hg_kobj_time_ns(str_at(e, tp));
		if (t > best)
			best = t;
	}
	if (best)
		return best;
	const char *cp[] = { "metadata", "creationTimestamp", NULL };
	return hg_kobj_time_ns(str_at(root, cp));
}

/* images: where the ',' joined images are written (cut at len). */
static void read_template(struct kobj *o, yajl_val tmpl, struct kv *sel, char *images, size_t cap)
{
	const char *lp[] = { "metadata", "labels", NULL }, *cp[] = { "spec", "containers", NULL };
	o->nsel = read_map(yajl_tree_get(tmpl, lp, yajl_t_object), sel, KOBJ_KV);
	o->sel = sel;
	images[0] = '\0';
	o->images = images;
	yajl_val cs = yajl_tree_get(tmpl, cp, yajl_t_array);
	size_t len = 0;
	for (size_t i = 0; cs && i < cs->u.array.len; i++) {
		const char *ip[] = { "image", NULL };
		const char *img = str_at(cs->u.array.values[i], ip);
		if (!img)
			continue;
		if (i == 0)
			o->image = img;
		int n = snprintf(images + len, cap - len, "%s%s", len ? "," : "", img);
		if (n > 0 && (size_t)n < cap - len)
			len += (size_t)n;
	}
	const char *v = hg_kobj_kv_get(o->sel, o->nsel, "app.kubernetes.io/version");
	if (!v)
		v = hg_kobj_kv_get(o->sel, o->nsel, "version");
	if (!v) {
		/* The tag of the image: after the last ':' that follows the last '/'. */
		const char *slash = strrchr(o->image, '/'), *colon = strrchr(o->image, ':');
		if (colon && (!slash || colon > slash))
			v = colon + 1;
	}
	o->version = or_empty(v);
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
		o->prog_status = or_empty(str_at(c, sp));
		o->prog_reason = or_empty(str_at(c, rp));
		o->prog_msg = or_empty(str_at(c, mp));
		o->prog_ns = hg_kobj_time_ns(str_at(c, up));
		if (!o->prog_ns)
			o->prog_ns = hg_kobj_time_ns(str_at(c, xp));
	}
}

static void read_argo(struct kobj *o, yajl_val root, int *steps_buf)
{
	o->step_weight = steps_buf;
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
	o->pod_hash = or_empty(str_at(root, hp));
	o->stable_rs = or_empty(str_at(root, sp));
	o->active_sel = or_empty(str_at(root, ap));
	o->phase = or_empty(str_at(root, php));
	o->aborted = YAJL_IS_TRUE(yajl_tree_get(root, abp, yajl_t_any));
	o->aborted_ns = hg_kobj_time_ns(str_at(root, atp));
	o->step_index = int_at(root, ip, -1);
	o->status_weight = int_at(root, wp, -1);
}

int hg_kobj_parse(struct kobj *o, enum kobj_kind kind, const char *json, char *err, size_t errlen)
{
	free(o->mem);
	kobj_empty(o, kind);
	char perr[128];
	yajl_val root = yajl_tree_parse(json, perr, sizeof perr);
	if (!root) {
		snprintf(err, errlen, "object JSON: %s", perr);
		return -1;
	}
	/* Read into p, pointing into the tree, then packed into o. */
	struct kobj p;
	kobj_empty(&p, kind);
	struct kv sel[KOBJ_KV];
	int steps[KOBJ_STEPS];
	char images[512];
	const char *np[] = { "metadata", "name", NULL }, *nsp[] = { "metadata", "namespace", NULL },
		   *tkp[] = { "metadata", "labels", "track", NULL },
		   *sap[] = { "metadata", "annotations", "heliograph.io/strategy", NULL },
		   *rdp[] = { "metadata", "annotations", "deployment.kubernetes.io/revision", NULL },
		   *rap[] = { "metadata", "annotations", "rollout.argoproj.io/revision", NULL },
		   *gp[] = { "metadata", "generation", NULL };
	p.name = or_empty(str_at(root, np));
	p.ns = or_empty(str_at(root, nsp));
	p.track = or_empty(str_at(root, tkp));
	p.strategy_ann = or_empty(str_at(root, sap));
	const char *rev = str_at(root, rdp);
	if (!rev)
		rev = str_at(root, rap);
	p.generation = int_at(root, gp, 0);
	p.revision = rev ? strtoll(rev, NULL, 10) : p.generation;
	p.rev_ann = rev != NULL;
	p.spec_ns = spec_time(root);
	if (kind == KOBJ_SERVICE) {
		const char *selp[] = { "spec", "selector", NULL };
		p.nsel = read_map(yajl_tree_get(root, selp, yajl_t_object), sel, KOBJ_KV);
		p.sel = sel;
	} else {
		const char *tp[] = { "spec", "template", NULL }, *rp[] = { "spec", "replicas", NULL },
			   *ogp[] = { "status", "observedGeneration", NULL }, *up[] = { "status", "updatedReplicas", NULL },
			   *avp[] = { "status", "availableReplicas", NULL },
			   *unp[] = { "status", "unavailableReplicas", NULL },
			   *stp[] = { "spec", "strategy", "type", NULL }, *orp[] = { "metadata", "ownerReferences", NULL };
		read_template(&p, yajl_tree_get(root, tp, yajl_t_object), sel, images, sizeof images);
		p.replicas = int_at(root, rp, 1);
		p.observed_generation = int_at(root, ogp, 0);
		p.updated = int_at(root, up, 0);
		p.available = int_at(root, avp, 0);
		p.unavailable = int_at(root, unp, -1);
		if (p.unavailable < 0)
			p.unavailable = p.replicas > p.available ? p.replicas - p.available : 0;
		const char *st = str_at(root, stp);
		p.recreate = st && strcmp(st, "Recreate") == 0;
		yajl_val owners = yajl_tree_get(root, orp, yajl_t_array);
		if (owners && owners->u.array.len) {
			const char *onp[] = { "name", NULL }, *okp[] = { "kind", NULL };
			p.owner = or_empty(str_at(owners->u.array.values[0], onp));
			p.owner_kind = or_empty(str_at(owners->u.array.values[0], okp));
		}
		read_conditions(&p, root);
		if (kind == KOBJ_ROLLOUT)
			read_argo(&p, root, steps);
	}
	int rc = hg_kobj_copy(o, &p);
	yajl_tree_free(root);
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}
