/* Values of one object picked out by path, then turned into metrics with
 * Telegraf's measurement, tag and field names and types. */
#include "ki_obj.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acc.h"
#include "kube_quantity.h"
#include "kube_util.h"

/* An object's strings never come near this; a larger one is reported, not grown into. */
#define ARENA_MAX (4u << 20)
#define ITEMS_MAX 4096

bool hg_ki_filter_match(const struct ki_filter *f, const char *key)
{
	bool in = !f->include || f->include->n == 0;
	for (size_t i = 0; !in && i < f->include->n; i++)
		in = fnmatch(f->include->v[i], key, 0) == 0;
	for (size_t i = 0; in && f->exclude && i < f->exclude->n; i++)
		if (fnmatch(f->exclude->v[i], key, 0) == 0)
			in = false;
	return in;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	if (need > ITEMS_MAX)
		return false;
	size_t c = *cap ? *cap : 8;
	while (c < need)
		c *= 2;
	void *np = realloc(*p, c * elem);
	if (!np)
		return false;
	memset((char *)np + *cap * elem, 0, (c - *cap) * elem);
	*p = np;
	*cap = c;
	return true;
}

/* Offset of a NUL-terminated copy; 0 (the empty string) when it does not fit. */
static uint32_t arena_add2(struct ki_obj *o, const char *a, size_t an, const char *b, size_t bn)
{
	size_t need = o->alen + an + bn + 1;
	if (need > o->acap) {
		size_t c = o->acap ? o->acap : 4096;
		while (c < need)
			c *= 2;
		char *np = c <= ARENA_MAX ? realloc(o->arena, c) : NULL;
		if (!np) {
			o->oom = true;
			return 0;
		}
		o->arena = np;
		o->acap = c;
	}
	uint32_t off = (uint32_t)o->alen;
	memcpy(o->arena + o->alen, a, an);
	memcpy(o->arena + o->alen + an, b, bn);
	o->arena[o->alen + an + bn] = '\0';
	o->alen += an + bn + 1;
	return off;
}

static uint32_t arena_add(struct ki_obj *o, const char *s, size_t n)
{
	return arena_add2(o, s, n, "", 0);
}

static const char *S(const struct ki_obj *o, uint32_t off)
{
	return o->arena + off;
}

void hg_ki_obj_init(struct ki_obj *o, enum ki_kind kind)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	hg_ki_obj_reset(o);
}

void hg_ki_obj_reset(struct ki_obj *o)
{
	o->alen = 0;
	o->oom = false;
	arena_add(o, "", 0); /* offset 0: "" */
	o->name = o->ns = o->node_name = o->phase = o->phase_reason = o->cluster_ns = o->version = 0;
	o->created_ns = 0;
	memset(o->ints, 0, sizeof o->ints);
	memset(o->has, 0, sizeof o->has);
	memset(o->res, 0, sizeof o->res);
	o->unschedulable = false;
	o->nsel = o->ncont = o->nst = o->ncond = 0;
}

void hg_ki_obj_free(struct ki_obj *o)
{
	free(o->arena);
	free(o->sel);
	free(o->cont);
	free(o->st);
	free(o->cond);
	memset(o, 0, sizeof *o);
}

/* ---- reading ---- */

static int64_t to_int(const char *v, size_t n)
{
	char b[32];
	if (n >= sizeof b)
		return 0;
	memcpy(b, v, n);
	b[n] = '\0';
	char *end;
	long long x = strtoll(b, &end, 10);
	return *end ? 0 : x;
}

static void set_int(struct ki_obj *o, enum ki_int i, enum ks_type t, const char *v, size_t n)
{
	if (t != KS_NUMBER)
		return;
	o->ints[i] = to_int(v, n);
	o->has[i] = true;
}

static bool eq(const char *path, const char *s)
{
	return strcmp(path, s) == 0;
}

/* path == prefix + rest: rest, else NULL. */
static const char *after(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && path[n] ? path + n : NULL;
}

static void add_sel(struct ki_obj *o, const char *key, const char *v, size_t n)
{
	if (!grow((void **)&o->sel, &o->selcap, o->nsel + 1, sizeof *o->sel)) {
		o->oom = true;
		return;
	}
	o->sel[o->nsel].k = arena_add(o, key, strlen(key));
	o->sel[o->nsel].v = arena_add(o, v, n);
	o->nsel++;
}

static struct ki_cont *cont_at(struct ki_obj *o, int idx)
{
	if (idx < 0 || !grow((void **)&o->cont, &o->contcap, (size_t)idx + 1, sizeof *o->cont))
		return NULL;
	while (o->ncont <= (size_t)idx)
		memset(&o->cont[o->ncont++], 0, sizeof *o->cont);
	return &o->cont[idx];
}

static struct ki_status *st_at(struct ki_obj *o, int idx)
{
	if (idx < 0 || !grow((void **)&o->st, &o->stcap, (size_t)idx + 1, sizeof *o->st))
		return NULL;
	while (o->nst <= (size_t)idx) {
		memset(&o->st[o->nst], 0, sizeof *o->st);
		o->st[o->nst++].state = 3;
	}
	return &o->st[idx];
}

static struct ki_cond *cond_at(struct ki_obj *o, int idx)
{
	if (idx < 0 || !grow((void **)&o->cond, &o->condcap, (size_t)idx + 1, sizeof *o->cond))
		return NULL;
	while (o->ncond <= (size_t)idx)
		memset(&o->cond[o->ncond++], 0, sizeof *o->cond);
	return &o->cond[idx];
}

static const char *const res_names[R_N] = { "cpu", "ephemeral-storage", "memory", "pods" };

static void node_value(struct ki_obj *o, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	const char *r;
	if (t == KS_STRING && eq(path, "metadata.annotations.cluster.x-k8s.io/cluster-namespace"))
		o->cluster_ns = arena_add(o, v, n);
	else if (t == KS_STRING && eq(path, "status.nodeInfo.kubeletVersion"))
		o->version = arena_add(o, v, n);
	else if (t == KS_BOOL && eq(path, "spec.unschedulable"))
		o->unschedulable = v[0] == 't';
	else if (t == KS_STRING && (r = after(path, "status.conditions[]."))) {
		struct ki_cond *c = cond_at(o, idx);
		if (!c)
			o->oom = true;
		else if (eq(r, "type"))
			c->type = arena_add(o, v, n);
		else if (eq(r, "status"))
			c->status = arena_add(o, v, n);
	} else if (t == KS_STRING) {
		int which = (r = after(path, "status.capacity.")) ? 0 : (r = after(path, "status.allocatable.")) ? 1 : -1;
		for (int i = 0; which >= 0 && i < R_N; i++)
			if (eq(r, res_names[i]))
				o->res[which][i] = arena_add(o, v, n);
	}
}

static void pod_value(struct ki_obj *o, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	const char *r;
	if (t == KS_STRING && eq(path, "spec.nodeName"))
		o->node_name = arena_add(o, v, n);
	else if (t == KS_STRING && eq(path, "status.phase"))
		o->phase = arena_add(o, v, n);
	else if (t == KS_STRING && eq(path, "status.reason"))
		o->phase_reason = arena_add(o, v, n);
	else if (t == KS_STRING && (r = after(path, "spec.nodeSelector.")))
		add_sel(o, r, v, n);
	else if (t == KS_STRING && (r = after(path, "status.conditions[]."))) {
		struct ki_cond *c = cond_at(o, idx);
		if (!c)
			o->oom = true;
		else if (eq(r, "type"))
			c->type = arena_add(o, v, n);
		else if (eq(r, "status"))
			c->status = arena_add(o, v, n);
	}
	else if ((r = after(path, "spec.containers[]."))) {
		struct ki_cont *c = t == KS_STRING ? cont_at(o, idx) : NULL;
		if (!c)
			return;
		if (eq(r, "name"))
			c->name = arena_add(o, v, n);
		else if (eq(r, "image"))
			c->image = arena_add(o, v, n);
		else if (eq(r, "resources.requests.cpu"))
			c->req_cpu = arena_add(o, v, n);
		else if (eq(r, "resources.requests.memory"))
			c->req_mem = arena_add(o, v, n);
		else if (eq(r, "resources.limits.cpu"))
			c->lim_cpu = arena_add(o, v, n);
		else if (eq(r, "resources.limits.memory"))
			c->lim_mem = arena_add(o, v, n);
	} else if ((r = after(path, "status.containerStatuses[]."))) {
		struct ki_status *s = st_at(o, idx);
		if (!s) {
			o->oom = true;
			return;
		}
		if (t == KS_STRING && eq(r, "name"))
			s->name = arena_add(o, v, n);
		else if (t == KS_NUMBER && eq(r, "restartCount"))
			s->restarts = to_int(v, n);
		else if (t == KS_BOOL && eq(r, "ready"))
			s->ready = v[0] == 't';
		else if (t == KS_MAP && eq(r, "state.running"))
			s->state = 0;
		else if (t == KS_MAP && eq(r, "state.terminated"))
			s->state = 1;
		else if (t == KS_MAP && eq(r, "state.waiting"))
			s->state = 2;
		else if (t == KS_STRING && (eq(r, "state.terminated.reason") || eq(r, "state.waiting.reason")))
			s->reason = arena_add(o, v, n);
	}
}

static const struct {
	const char *path;
	enum ki_int i;
} int_paths[] = {
	{ "metadata.generation", I_GENERATION },
	{ "status.observedGeneration", I_OBSERVED_GENERATION },
	{ "status.replicas", I_REPLICAS },
	{ "spec.replicas", I_SPEC_REPLICAS },
	{ "status.availableReplicas", I_AVAILABLE },
	{ "status.unavailableReplicas", I_UNAVAILABLE },
	{ "status.currentReplicas", I_CURRENT },
	{ "status.readyReplicas", I_READY },
	{ "status.updatedReplicas", I_UPDATED },
	{ "status.currentNumberScheduled", I_CURRENT_SCHEDULED },
	{ "status.desiredNumberScheduled", I_DESIRED_SCHEDULED },
	{ "status.numberAvailable", I_NUMBER_AVAILABLE },
	{ "status.numberMisscheduled", I_MISSCHEDULED },
	{ "status.numberReady", I_NUMBER_READY },
	{ "status.numberUnavailable", I_NUMBER_UNAVAILABLE },
	{ "status.updatedNumberScheduled", I_UPDATED_SCHEDULED },
};

void hg_ki_obj_value(struct ki_obj *o, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	if (t == KS_STRING && eq(path, "metadata.name")) {
		o->name = arena_add(o, v, n);
		return;
	}
	if (t == KS_STRING && eq(path, "metadata.namespace")) {
		o->ns = arena_add(o, v, n);
		return;
	}
	if (t == KS_STRING && eq(path, "metadata.creationTimestamp")) {
		char b[64];
		time_t ts;
		snprintf(b, sizeof b, "%.*s", (int)n, v);
		/* Past 2262 does not fit int64 ns: absent, as an unreadable time. */
		o->created_ns = hg_kube_parse_time(b, &ts) == 0 && ts < INT64_MAX / 1000000000 && ts > INT64_MIN / 1000000000
					? (int64_t)ts * 1000000000
					: 0;
		return;
	}
	if (o->kind == KI_NODES) {
		node_value(o, path, t, v, n, idx);
		return;
	}
	if (o->kind == KI_PODS) {
		pod_value(o, path, t, v, n, idx);
		return;
	}
	const char *r = after(path, "spec.selector.matchLabels.");
	if (r) {
		if (t == KS_STRING)
			add_sel(o, r, v, n);
		return;
	}
	if (t != KS_NUMBER)
		return;
	for (size_t i = 0; i < sizeof int_paths / sizeof int_paths[0]; i++)
		if (eq(path, int_paths[i].path)) {
			set_int(o, int_paths[i].i, t, v, n);
			return;
		}
}

/* ---- metrics ---- */

/* Tag keys "<prefix><key>" for the selector labels that pass the filter,
 * made in the arena before any pointer into it is taken. */
static size_t sel_keys(struct ki_obj *o, const char *prefix, const struct ki_filter *f, uint32_t *keys, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < o->nsel && k < max; i++) {
		const char *key = S(o, o->sel[i].k);
		if (!hg_ki_filter_match(f, key))
			continue;
		size_t kl = strlen(key);
		char tmp[512];
		if (kl >= sizeof tmp)
			continue;
		memcpy(tmp, key, kl + 1); /* the arena may move while adding */
		keys[2 * k] = arena_add2(o, prefix, strlen(prefix), tmp, kl);
		keys[2 * k + 1] = o->sel[i].v;
		k++;
	}
	return k;
}

#define SEL_MAX 32

static void add_sel_tags(struct ki_obj *o, struct metric *m, const uint32_t *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hg_metric_tag(m, S(o, keys[2 * i]), S(o, keys[2 * i + 1]));
}

static void emit_deployment(struct ki_obj *o, struct acc *acc, const uint32_t *keys, size_t nk)
{
	struct metric *m = hg_acc_metric(acc, "kubernetes_deployment");
	hg_metric_tag(m, "deployment_name", S(o, o->name));
	hg_metric_tag(m, "namespace", S(o, o->ns));
	add_sel_tags(o, m, keys, nk);
	hg_metric_int(m, "replicas_available", o->ints[I_AVAILABLE]);
	hg_metric_int(m, "replicas_unavailable", o->ints[I_UNAVAILABLE]);
	hg_metric_int(m, "created", o->created_ns);
	hg_acc_emit(acc, m, 0);
}

static void emit_daemonset(struct ki_obj *o, struct acc *acc, const uint32_t *keys, size_t nk)
{
	struct metric *m = hg_acc_metric(acc, "kubernetes_daemonset");
	hg_metric_tag(m, "daemonset_name", S(o, o->name));
	hg_metric_tag(m, "namespace", S(o, o->ns));
	add_sel_tags(o, m, keys, nk);
	hg_metric_int(m, "generation", o->ints[I_GENERATION]);
	hg_metric_int(m, "current_number_scheduled", o->ints[I_CURRENT_SCHEDULED]);
	hg_metric_int(m, "desired_number_scheduled", o->ints[I_DESIRED_SCHEDULED]);
	hg_metric_int(m, "number_available", o->ints[I_NUMBER_AVAILABLE]);
	hg_metric_int(m, "number_misscheduled", o->ints[I_MISSCHEDULED]);
	hg_metric_int(m, "number_ready", o->ints[I_NUMBER_READY]);
	hg_metric_int(m, "number_unavailable", o->ints[I_NUMBER_UNAVAILABLE]);
	hg_metric_int(m, "updated_number_scheduled", o->ints[I_UPDATED_SCHEDULED]);
	if (o->created_ns)
		hg_metric_int(m, "created", o->created_ns);
	hg_acc_emit(acc, m, 0);
}

static void emit_statefulset(struct ki_obj *o, struct acc *acc, const uint32_t *keys, size_t nk)
{
	struct metric *m = hg_acc_metric(acc, "kubernetes_statefulset");
	hg_metric_tag(m, "statefulset_name", S(o, o->name));
	hg_metric_tag(m, "namespace", S(o, o->ns));
	add_sel_tags(o, m, keys, nk);
	hg_metric_int(m, "created", o->created_ns);
	hg_metric_int(m, "generation", o->ints[I_GENERATION]);
	hg_metric_int(m, "replicas", o->ints[I_REPLICAS]);
	hg_metric_int(m, "replicas_current", o->ints[I_CURRENT]);
	hg_metric_int(m, "replicas_ready", o->ints[I_READY]);
	hg_metric_int(m, "replicas_updated", o->ints[I_UPDATED]);
	hg_metric_int(m, "observed_generation", o->ints[I_OBSERVED_GENERATION]);
	if (o->has[I_SPEC_REPLICAS])
		hg_metric_int(m, "spec_replicas", o->ints[I_SPEC_REPLICAS]);
	hg_acc_emit(acc, m, 0);
}

static int64_t quantity(const struct ki_obj *o, uint32_t off, int64_t scale)
{
	const char *s = S(o, off);
	int64_t v = 0;
	/* Unparsable is 0, as Telegraf's convertQuantity answers. */
	if (hg_kube_quantity_scaled(s, strlen(s), scale, KUBE_ROUND_DOWN, &v) != 0)
		v = 0;
	return v;
}

static void node_tags(struct ki_obj *o, struct metric *m)
{
	hg_metric_tag(m, "node_name", S(o, o->name));
	hg_metric_tag(m, "cluster_namespace", S(o, o->cluster_ns));
	hg_metric_tag(m, "version", S(o, o->version));
}

static void emit_node(struct ki_obj *o, struct acc *acc)
{
	bool disk = false, mem = false, net = false, pid = false, ready = false;
	for (size_t i = 0; i < o->ncond; i++) {
		const char *type = S(o, o->cond[i].type), *st = S(o, o->cond[i].status);
		bool is_true = strcmp(st, "True") == 0, is_ready = strcmp(type, "Ready") == 0;
		struct metric *m = hg_acc_metric(acc, "kubernetes_node");
		node_tags(o, m);
		hg_metric_tag(m, "status", st);
		hg_metric_tag(m, "condition", type);
		hg_metric_int(m, "status_condition", is_true ? 1 : strcmp(st, "Unknown") == 0 ? 2 : 0);
		hg_metric_int(m, "ready", is_true && is_ready ? 1 : 0);
		hg_acc_emit(acc, m, 0);
		disk |= is_true && strcmp(type, "DiskPressure") == 0;
		mem |= is_true && strcmp(type, "MemoryPressure") == 0;
		net |= strcmp(st, "False") == 0 && strcmp(type, "NetworkUnavailable") == 0;
		pid |= is_true && strcmp(type, "PIDPressure") == 0;
		ready |= is_true && is_ready;
	}
	static const char *const what[2] = { "capacity", "allocatable" };
	char keys[2][R_N + 1][48];
	struct metric *m = hg_acc_metric(acc, "kubernetes_node");
	node_tags(o, m);
	for (int w = 0; w < 2; w++) {
		if (o->res[w][R_CPU]) {
			snprintf(keys[w][0], sizeof keys[w][0], "%s_cpu_cores", what[w]);
			snprintf(keys[w][R_N], sizeof keys[w][R_N], "%s_millicpu_cores", what[w]);
			hg_metric_int(m, keys[w][0], quantity(o, o->res[w][R_CPU], 1));
			hg_metric_int(m, keys[w][R_N], quantity(o, o->res[w][R_CPU], 1000));
		}
		if (o->res[w][R_EPHEMERAL]) {
			snprintf(keys[w][1], sizeof keys[w][1], "%s_ephemeral_storage_bytes", what[w]);
			hg_metric_int(m, keys[w][1], quantity(o, o->res[w][R_EPHEMERAL], 1));
		}
		if (o->res[w][R_MEMORY]) {
			snprintf(keys[w][2], sizeof keys[w][2], "%s_memory_bytes", what[w]);
			hg_metric_int(m, keys[w][2], quantity(o, o->res[w][R_MEMORY], 1));
		}
		if (o->res[w][R_PODS]) {
			const char *p = S(o, o->res[w][R_PODS]);
			char *end;
			long long v = strtoll(p, &end, 10);
			snprintf(keys[w][3], sizeof keys[w][3], "%s_pods", what[w]);
			hg_metric_int(m, keys[w][3], *p && !*end ? v : 0);
		}
	}
	hg_metric_bool(m, "spec_unschedulable", o->unschedulable);
	hg_metric_bool(m, "condition_disk_pressure", disk);
	hg_metric_bool(m, "condition_memory_pressure", mem);
	hg_metric_bool(m, "condition_network_available", net);
	hg_metric_bool(m, "condition_pid_pressure", pid);
	hg_metric_bool(m, "condition_ready", ready);
	hg_acc_emit(acc, m, 0);
}

static const char *const state_names[4] = { "running", "terminated", "waiting", "unknown" };

static void emit_pod(struct ki_obj *o, struct acc *acc, const uint32_t *keys, size_t nk)
{
	if (!o->created_ns)
		return; /* Telegraf skips pods without a creation time */
	for (size_t i = 0; i < o->ncont; i++) {
		const struct ki_cont *c = &o->cont[i];
		struct ki_status none = { .state = 3 }, *s = &none;
		for (size_t j = 0; j < o->nst; j++)
			if (strcmp(S(o, o->st[j].name), S(o, c->name)) == 0) {
				s = &o->st[j];
				break;
			}
		/* Telegraf splits the image at ':' and has a version only when
		 * there are exactly two parts ("registry:5000/app:1.2" has none). */
		char image[512], *version = NULL;
		snprintf(image, sizeof image, "%s", S(o, c->image));
		char *colon = strchr(image, ':');
		if (colon) {
			*colon = '\0';
			if (!strchr(colon + 1, ':'))
				version = colon + 1;
		}
		for (size_t j = 0; j < o->ncond; j++) {
			const char *type = S(o, o->cond[j].type), *st = S(o, o->cond[j].status);
			bool is_true = strcmp(st, "True") == 0;
			struct metric *m = hg_acc_metric(acc, "kubernetes_pod_container");
			hg_metric_tag(m, "container_name", S(o, c->name));
			hg_metric_tag(m, "image", image);
			hg_metric_tag(m, "status", st);
			hg_metric_tag(m, "namespace", S(o, o->ns));
			hg_metric_tag(m, "node_name", S(o, o->node_name));
			hg_metric_tag(m, "pod_name", S(o, o->name));
			hg_metric_tag(m, "condition", type);
			if (version)
				hg_metric_tag(m, "version", version);
			hg_metric_int(m, "status_condition", is_true ? 1 : strcmp(st, "Unknown") == 0 ? 2 : 0);
			hg_metric_int(m, "ready", is_true && strcmp(type, "Ready") == 0 ? 1 : 0);
			hg_acc_emit(acc, m, 0);
		}
		struct metric *m = hg_acc_metric(acc, "kubernetes_pod_container");
		hg_metric_tag(m, "container_name", S(o, c->name));
		hg_metric_tag(m, "namespace", S(o, o->ns));
		hg_metric_tag(m, "node_name", S(o, o->node_name));
		hg_metric_tag(m, "pod_name", S(o, o->name));
		hg_metric_tag(m, "phase", S(o, o->phase));
		hg_metric_tag(m, "image", image);
		if (version)
			hg_metric_tag(m, "version", version);
		hg_metric_tag(m, "state", state_names[s->state]);
		hg_metric_tag(m, "readiness", s->ready ? "ready" : "unready");
		add_sel_tags(o, m, keys, nk);
		hg_metric_int(m, "restarts_total", s->restarts);
		hg_metric_int(m, "state_code", s->state);
		const char *reason = S(o, s->reason);
		if (s->state == 1)
			hg_metric_string(m, "terminated_reason", reason);
		if (*reason)
			hg_metric_string(m, "state_reason", reason);
		if (*S(o, o->phase_reason))
			hg_metric_string(m, "phase_reason", S(o, o->phase_reason));
		if (c->req_cpu)
			hg_metric_int(m, "resource_requests_millicpu_units", quantity(o, c->req_cpu, 1000));
		if (c->req_mem)
			hg_metric_int(m, "resource_requests_memory_bytes", quantity(o, c->req_mem, 1));
		if (c->lim_cpu)
			hg_metric_int(m, "resource_limits_millicpu_units", quantity(o, c->lim_cpu, 1000));
		if (c->lim_mem)
			hg_metric_int(m, "resource_limits_memory_bytes", quantity(o, c->lim_mem, 1));
		hg_acc_emit(acc, m, 0);
	}
}

bool hg_ki_obj_emit(struct ki_obj *o, struct acc *acc, const struct ki_filter *selectors)
{
	uint32_t keys[2 * SEL_MAX];
	size_t nk = 0;
	if (o->kind != KI_NODES)
		nk = sel_keys(o, o->kind == KI_PODS ? "node_selector_" : "selector_", selectors, keys, SEL_MAX);
	if (o->oom)
		return false;
	switch (o->kind) {
	case KI_DEPLOYMENTS: emit_deployment(o, acc, keys, nk); break;
	case KI_DAEMONSETS: emit_daemonset(o, acc, keys, nk); break;
	case KI_STATEFULSETS: emit_statefulset(o, acc, keys, nk); break;
	case KI_NODES: emit_node(o, acc); break;
	case KI_PODS: emit_pod(o, acc, keys, nk); break;
	default: break;
	}
	return true;
}
