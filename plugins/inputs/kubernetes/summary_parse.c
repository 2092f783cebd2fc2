/* /stats/summary as a yajl event stream. Each open JSON object has a frame
 * (its context and the key last seen in it); numbers land in the record of
 * the nearest node/container/pod/volume, and the end of that object emits
 * its metric. Field names, tags and the all-integer fields (0 when the
 * kubelet leaves a value out) are Telegraf's kubernetes input's.
 *
 * The kubelet (Go encoding/json) writes struct fields in declaration order,
 * so "nodeName" precedes "systemContainers" and "podRef" precedes
 * "containers"/"volume"; the parser relies on that instead of buffering
 * objects whose names are not known yet. */
#include "summary_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc.h"
#include "pods.h"

/* Kubernetes names are DNS labels/subdomains: at most 253 bytes. */
#define NAME_CAP 256
#define DEPTH_MAX 16

enum ctx {
	X_SKIP, X_ROOT, X_NODE, X_SYSC_ARR, X_SYSC, X_PODS_ARR, X_POD, X_PODREF, X_CONT_ARR, X_CONT,
	X_VOL_ARR, X_VOL, X_CPU, X_MEM, X_NET, X_FS_ROOT, X_FS_LOGS, X_FS_NODE, X_RUNTIME, X_FS_IMAGE,
};

enum key {
	K_OTHER, K_NODE, K_PODS, K_NODENAME, K_SYSC, K_CPU, K_MEMORY, K_NETWORK, K_FS, K_RUNTIME, K_IMAGEFS,
	K_PODREF, K_NAME, K_NAMESPACE, K_CONTAINERS, K_VOLUME, K_ROOTFS, K_LOGS, K_NANOCORES, K_CORENS,
	K_AVAILABLE, K_USAGE, K_WORKINGSET, K_RSS, K_PAGEFAULTS, K_MAJORPF, K_RXB, K_RXE, K_TXB, K_TXE,
	K_CAPACITY, K_USED, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	[K_NODE] = "node", [K_PODS] = "pods", [K_NODENAME] = "nodeName", [K_SYSC] = "systemContainers",
	[K_CPU] = "cpu", [K_MEMORY] = "memory", [K_NETWORK] = "network", [K_FS] = "fs",
	[K_RUNTIME] = "runtime", [K_IMAGEFS] = "imageFs", [K_PODREF] = "podRef", [K_NAME] = "name",
	[K_NAMESPACE] = "namespace", [K_CONTAINERS] = "containers", [K_VOLUME] = "volume",
	[K_ROOTFS] = "rootfs", [K_LOGS] = "logs", [K_NANOCORES] = "usageNanoCores",
	[K_CORENS] = "usageCoreNanoSeconds", [K_AVAILABLE] = "availableBytes", [K_USAGE] = "usageBytes",
	[K_WORKINGSET] = "workingSetBytes", [K_RSS] = "rssBytes", [K_PAGEFAULTS] = "pageFaults",
	[K_MAJORPF] = "majorPageFaults", [K_RXB] = "rxBytes", [K_RXE] = "rxErrors", [K_TXB] = "txBytes",
	[K_TXE] = "txErrors", [K_CAPACITY] = "capacityBytes", [K_USED] = "usedBytes",
};

/* Every value any measurement takes, one slot each in a record. */
enum fld {
	F_CPU_NC, F_CPU_NS, F_MEM_AVAIL, F_MEM_USAGE, F_MEM_WS, F_MEM_RSS, F_MEM_PF, F_MEM_MPF,
	F_ROOT_AVAIL, F_ROOT_CAP, F_ROOT_USED, F_LOGS_AVAIL, F_LOGS_CAP, F_LOGS_USED, F_RXB, F_RXE, F_TXB,
	F_TXE, F_FS_AVAIL, F_FS_CAP, F_FS_USED, F_IMG_AVAIL, F_IMG_CAP, F_IMG_USED, F_VOL_AVAIL, F_VOL_CAP,
	F_VOL_USED, F_COUNT
};

struct field_map {
	const char *name;
	enum fld f;
};

static const struct field_map node_fields[] = {
	{ "cpu_usage_core_nanoseconds", F_CPU_NS },
	{ "cpu_usage_nanocores", F_CPU_NC },
	{ "fs_available_bytes", F_FS_AVAIL },
	{ "fs_capacity_bytes", F_FS_CAP },
	{ "fs_used_bytes", F_FS_USED },
	{ "memory_available_bytes", F_MEM_AVAIL },
	{ "memory_major_page_faults", F_MEM_MPF },
	{ "memory_page_faults", F_MEM_PF },
	{ "memory_rss_bytes", F_MEM_RSS },
	{ "memory_usage_bytes", F_MEM_USAGE },
	{ "memory_working_set_bytes", F_MEM_WS },
	{ "network_rx_bytes", F_RXB },
	{ "network_rx_errors", F_RXE },
	{ "network_tx_bytes", F_TXB },
	{ "network_tx_errors", F_TXE },
	{ "runtime_image_fs_available_bytes", F_IMG_AVAIL },
	{ "runtime_image_fs_capacity_bytes", F_IMG_CAP },
	{ "runtime_image_fs_used_bytes", F_IMG_USED },
	{ NULL, 0 },
};

/* Telegraf reports no *_used_bytes for system containers. */
static const struct field_map system_fields[] = {
	{ "cpu_usage_core_nanoseconds", F_CPU_NS },
	{ "cpu_usage_nanocores", F_CPU_NC },
	{ "logsfs_available_bytes", F_LOGS_AVAIL },
	{ "logsfs_capacity_bytes", F_LOGS_CAP },
	{ "memory_major_page_faults", F_MEM_MPF },
	{ "memory_page_faults", F_MEM_PF },
	{ "memory_rss_bytes", F_MEM_RSS },
	{ "memory_usage_bytes", F_MEM_USAGE },
	{ "memory_working_set_bytes", F_MEM_WS },
	{ "rootfs_available_bytes", F_ROOT_AVAIL },
	{ "rootfs_capacity_bytes", F_ROOT_CAP },
	{ NULL, 0 },
};

static const struct field_map container_fields[] = {
	{ "cpu_usage_core_nanoseconds", F_CPU_NS },
	{ "cpu_usage_nanocores", F_CPU_NC },
	{ "logsfs_available_bytes", F_LOGS_AVAIL },
	{ "logsfs_capacity_bytes", F_LOGS_CAP },
	{ "logsfs_used_bytes", F_LOGS_USED },
	{ "memory_major_page_faults", F_MEM_MPF },
	{ "memory_page_faults", F_MEM_PF },
	{ "memory_rss_bytes", F_MEM_RSS },
	{ "memory_usage_bytes", F_MEM_USAGE },
	{ "memory_working_set_bytes", F_MEM_WS },
	{ "rootfs_available_bytes", F_ROOT_AVAIL },
	{ "rootfs_capacity_bytes", F_ROOT_CAP },
	{ "rootfs_used_bytes", F_ROOT_USED },
	{ NULL, 0 },
};

static const struct field_map volume_fields[] = {
	{ "available_bytes", F_VOL_AVAIL },
	{ "capacity_bytes", F_VOL_CAP },
	{ "used_bytes", F_VOL_USED },
	{ NULL, 0 },
};

static const struct field_map network_fields[] = {
	{ "rx_bytes", F_RXB },
	{ "rx_errors", F_RXE },
	{ "tx_bytes", F_TXB },
	{ "tx_errors", F_TXE },
	{ NULL, 0 },
};

/* Whose record a number goes to. */
enum owner { O_NONE, O_NODE, O_CONT, O_POD, O_VOL, O_COUNT };

struct frame {
	unsigned char ctx, key, owner;
};

struct summary_parser {
	yajl_alloc_funcs af;
	bool have_af;
	yajl_handle y;
	struct acc *acc;
	const struct pod_cache *pods;
	const char *node_fallback;
	struct frame st[DEPTH_MAX];
	int depth;
	unsigned skip; /* nesting below an X_SKIP frame */
	int64_t rec[O_COUNT][F_COUNT];
	char node_name[NAME_CAP], pod_name[NAME_CAP], pod_ns[NAME_CAP], cont_name[NAME_CAP], vol_name[NAME_CAP];
	bool have_podref;
	const struct pod_meta *meta; /* of the pod being parsed, or NULL */
	size_t emitted, unknown_pods;
	char err[160];
};

static enum key lookup_key(const unsigned char *s, size_t n)
{
	/* Cheap first-byte test before the string compare: most keys are not ours. */
	for (int k = 1; k < K_COUNT; k++)
		if (key_names[k][0] == (char)s[0] && strlen(key_names[k]) == n && !memcmp(key_names[k], s, n))
			return (enum key)k;
	return K_OTHER;
}

static enum ctx child_ctx(enum ctx parent, enum key key)
{
	switch (parent) {
	case X_ROOT: return key == K_NODE ? X_NODE : key == K_PODS ? X_PODS_ARR : X_SKIP;
	case X_NODE:
		switch (key) {
		case K_SYSC: return X_SYSC_ARR;
		case K_CPU: return X_CPU;
		case K_MEMORY: return X_MEM;
		case K_NETWORK: return X_NET;
		case K_FS: return X_FS_NODE;
		case K_RUNTIME: return X_RUNTIME;
		default: return X_SKIP;
		}
	case X_RUNTIME: return key == K_IMAGEFS ? X_FS_IMAGE : X_SKIP;
	case X_SYSC_ARR: return X_SYSC;
	case X_PODS_ARR: return X_POD;
	case X_POD:
		switch (key) {
		case K_PODREF: return X_PODREF;
		case K_CONTAINERS: return X_CONT_ARR;
		case K_NETWORK: return X_NET;
		case K_VOLUME: return X_VOL_ARR;
		default: return X_SKIP; /* pod-level cpu/memory: Telegraf does not report them */
		}
	case X_CONT_ARR: return X_CONT;
	case X_VOL_ARR: return X_VOL;
	case X_SYSC:
	case X_CONT:
		switch (key) {
		case K_CPU: return X_CPU;
		case K_MEMORY: return X_MEM;
		case K_ROOTFS: return X_FS_ROOT;
		case K_LOGS: return X_FS_LOGS;
		default: return X_SKIP;
		}
	default: return X_SKIP;
	}
}

static bool is_array_ctx(enum ctx c)
{
	return c == X_SYSC_ARR || c == X_PODS_ARR || c == X_CONT_ARR || c == X_VOL_ARR;
}

static int fail(struct summary_parser *p, const char *msg)
{
	snprintf(p->err, sizeof(p->err), "%s", msg);
	return 0;
}

/* Tables are in key order: lines come out as Telegraf's (sorted fields). */
static void add_fields(struct metric *m, const int64_t *rec, const struct field_map *fm)
{
	for (; fm->name; fm++)
		hg_metric_int(m, fm->name, rec[fm->f]);
}

/* The fields of fm whose keys sort before (or not before) "resource_". */
static void add_fields_split(struct metric *m, const int64_t *rec, const struct field_map *fm, bool before)
{
	for (; fm->name; fm++)
		if ((strcmp(fm->name, "resource_") < 0) == before)
			hg_metric_int(m, fm->name, rec[fm->f]);
}

static const char *node_tag(const struct summary_parser *p)
{
	return p->node_name[0] || !p->node_fallback ? p->node_name : p->node_fallback;
}

/* Pod labels first, so the measurement's own tags win over a label of the same key. */
static void pod_tags(struct summary_parser *p, struct metric *m)
{
	size_t n = hg_pod_meta_nlabels(p->pods, p->meta);
	for (size_t i = 0; i < n; i++) {
		const char *k, *v;
		hg_pod_meta_label(p->pods, p->meta, i, &k, &v);
		hg_metric_tag(m, k, v);
	}
	hg_metric_tag(m, "namespace", p->pod_ns);
	hg_metric_tag(m, "node_name", node_tag(p));
	hg_metric_tag(m, "pod_name", p->pod_name);
}

static void emit(struct summary_parser *p, struct metric *m)
{
	hg_acc_emit(p->acc, m, 0);
	p->emitted++;
}

static void emit_node(struct summary_parser *p)
{
	struct metric *m = hg_acc_metric(p->acc, "kubernetes_node");
	hg_metric_tag(m, "node_name", node_tag(p));
	add_fields(m, p->rec[O_NODE], node_fields);
	emit(p, m);
}

static void emit_system_container(struct summary_parser *p)
{
	struct metric *m = hg_acc_metric(p->acc, "kubernetes_system_container");
	hg_metric_tag(m, "container_name", p->cont_name);
	hg_metric_tag(m, "node_name", node_tag(p));
	add_fields(m, p->rec[O_CONT], system_fields);
	emit(p, m);
}

static int emit_pod_container(struct summary_parser *p)
{
	if (!p->have_podref)
		return fail(p, "pod container before its podRef");
	struct metric *m = hg_acc_metric(p->acc, "kubernetes_pod_container");
	pod_tags(p, m);
	hg_metric_tag(m, "container_name", p->cont_name);
	add_fields_split(m, p->rec[O_CONT], container_fields, true);
	struct container_res r;
	if (hg_pod_meta_container(p->pods, p->meta, p->cont_name, &r)) {
		/* Named as Telegraf's kube_inventory names them; only when set, as there. */
		if (r.has_lim_mem)
			hg_metric_int(m, "resource_limits_memory_bytes", r.lim_mem);
		if (r.has_lim_cpu)
			hg_metric_int(m, "resource_limits_millicpu_units", r.lim_cpu_m);
		if (r.has_req_mem)
			hg_metric_int(m, "resource_requests_memory_bytes", r.req_mem);
		if (r.has_req_cpu)
			hg_metric_int(m, "resource_requests_millicpu_units", r.req_cpu_m);
	}
	add_fields_split(m, p->rec[O_CONT], container_fields, false);
	emit(p, m);
	return 1;
}

static int emit_volume(struct summary_parser *p)
{
	if (!p->have_podref)
		return fail(p, "pod volume before its podRef");
	struct metric *m = hg_acc_metric(p->acc, "kubernetes_pod_volume");
	pod_tags(p, m);
	hg_metric_tag(m, "volume_name", p->vol_name);
	add_fields(m, p->rec[O_VOL], volume_fields);
	emit(p, m);
	return 1;
}

static int emit_pod_network(struct summary_parser *p)
{
	if (!p->have_podref)
		return fail(p, "pod without podRef");
	struct metric *m = hg_acc_metric(p->acc, "kubernetes_pod_network");
	pod_tags(p, m);
	add_fields(m, p->rec[O_POD], network_fields);
	emit(p, m);
	return 1;
}

static int on_start(void *ctx, bool is_map)
{
	struct summary_parser *p = ctx;
	if (p->depth > 0 && p->st[p->depth - 1].ctx == X_SKIP) {
		p->skip++;
		return 1;
	}
	if (p->depth == DEPTH_MAX)
		return fail(p, "summary nested too deeply");
	struct frame *parent = p->depth ? &p->st[p->depth - 1] : NULL;
	enum ctx c = parent ? child_ctx(parent->ctx, parent->key) : (is_map ? X_ROOT : X_SKIP);
	if (c != X_SKIP && is_array_ctx(c) == is_map)
		c = X_SKIP; /* an array where an object belongs, or the reverse */
	enum owner o = parent ? parent->owner : O_NONE;
	switch (c) {
	case X_NODE:
		o = O_NODE;
		memset(p->rec[O_NODE], 0, sizeof(p->rec[O_NODE]));
		break;
	case X_SYSC:
	case X_CONT:
		o = O_CONT;
		memset(p->rec[O_CONT], 0, sizeof(p->rec[O_CONT]));
		p->cont_name[0] = '\0';
		break;
	case X_POD:
		o = O_POD;
		memset(p->rec[O_POD], 0, sizeof(p->rec[O_POD]));
		p->pod_name[0] = p->pod_ns[0] = '\0';
		p->have_podref = false;
		p->meta = NULL;
		break;
	case X_VOL:
		o = O_VOL;
		memset(p->rec[O_VOL], 0, sizeof(p->rec[O_VOL]));
		p->vol_name[0] = '\0';
		break;
	default:
		break;
	}
	p->st[p->depth++] = (struct frame){ (unsigned char)c, K_OTHER, (unsigned char)o };
	return 1;
}

static int on_start_map(void *ctx)
{
	return on_start(ctx, true);
}

static int on_start_array(void *ctx)
{
	return on_start(ctx, false);
}

static int on_end(void *ctx)
{
	struct summary_parser *p = ctx;
	if (p->skip) {
		p->skip--;
		return 1;
	}
	if (p->depth == 0)
		return fail(p, "unbalanced JSON");
	switch (p->st[--p->depth].ctx) {
	case X_NODE:
		emit_node(p);
		return 1;
	case X_SYSC:
		emit_system_container(p);
		return 1;
	case X_CONT:
		return emit_pod_container(p);
	case X_VOL:
		return emit_volume(p);
	case X_POD:
		return emit_pod_network(p);
	case X_PODREF:
		p->have_podref = true;
		if (p->pods) {
			p->meta = hg_pod_cache_find(p->pods, p->pod_ns, p->pod_name);
			if (!p->meta)
				p->unknown_pods++;
		}
		return 1;
	default:
		return 1;
	}
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
	struct summary_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	p->st[p->depth - 1].key = (unsigned char)(n ? lookup_key(s, n) : K_OTHER);
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct summary_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	const struct frame *f = &p->st[p->depth - 1];
	char *dst = NULL;
	if (f->ctx == X_NODE && f->key == K_NODENAME)
		dst = p->node_name;
	else if ((f->ctx == X_SYSC || f->ctx == X_CONT) && f->key == K_NAME)
		dst = p->cont_name;
	else if (f->ctx == X_VOL && f->key == K_NAME)
		dst = p->vol_name;
	else if (f->ctx == X_PODREF && f->key == K_NAME)
		dst = p->pod_name;
	else if (f->ctx == X_PODREF && f->key == K_NAMESPACE)
		dst = p->pod_ns;
	if (!dst)
		return 1;
	if (n >= NAME_CAP)
		return fail(p, "name longer than Kubernetes allows");
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 1;
}

/* The field a number fills, from the object it is in and its key. */
static int field_of(enum ctx c, enum key k)
{
	static const enum key fs_keys[3] = { K_AVAILABLE, K_CAPACITY, K_USED };
	int base = -1;
	switch (c) {
	case X_CPU:
		return k == K_NANOCORES ? F_CPU_NC : k == K_CORENS ? F_CPU_NS : -1;
	case X_MEM:
		switch (k) {
		case K_AVAILABLE: return F_MEM_AVAIL;
		case K_USAGE: return F_MEM_USAGE;
		case K_WORKINGSET: return F_MEM_WS;
		case K_RSS: return F_MEM_RSS;
		case K_PAGEFAULTS: return F_MEM_PF;
		case K_MAJORPF: return F_MEM_MPF;
		default: return -1;
		}
	case X_NET:
		switch (k) {
		case K_RXB: return F_RXB;
		case K_RXE: return F_RXE;
		case K_TXB: return F_TXB;
		case K_TXE: return F_TXE;
		default: return -1;
		}
	case X_FS_ROOT: base = F_ROOT_AVAIL; break;
	case X_FS_LOGS: base = F_LOGS_AVAIL; break;
	case X_FS_NODE: base = F_FS_AVAIL; break;
	case X_FS_IMAGE: base = F_IMG_AVAIL; break;
	case X_VOL: base = F_VOL_AVAIL; break;
	default: return -1;
	}
	for (int i = 0; i < 3; i++)
		if (k == fs_keys[i])
			return base + i;
	return -1;
}

/* Go's uint64 counters fit int64 in practice; larger values are clamped
 * rather than failing the document as Telegraf's int64 decoding would. */
static int64_t to_int64(const char *s, size_t n)
{
	char buf[64];
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (*end == '\0' && errno == 0)
		return v;
	double d = strtod(buf, NULL);
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static int on_number(void *ctx, const char *s, size_t n)
{
	struct summary_parser *p = ctx;
	if (p->skip || p->depth == 0)
		return 1;
	const struct frame *f = &p->st[p->depth - 1];
	int fld = field_of(f->ctx, f->key);
	if (fld >= 0 && f->owner != O_NONE)
		p->rec[f->owner][fld] = to_int64(s, n);
	return 1;
}

static int on_null(void *ctx)
{
	(void)ctx;
	return 1;
}

static int on_bool(void *ctx, int b)
{
	(void)b;
	return on_null(ctx);
}

static const yajl_callbacks summary_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

struct summary_parser *hg_summary_parser_new(const yajl_alloc_funcs *af)
{
	struct summary_parser *p = calloc(1, sizeof(*p));
	if (p && af) {
		p->af = *af;
		p->have_af = true;
	}
	return p;
}

void hg_summary_parser_free(struct summary_parser *p)
{
	if (!p)
		return;
	if (p->y)
		yajl_free(p->y);
	free(p);
}

int hg_summary_parser_begin(struct summary_parser *p, struct acc *acc, const struct pod_cache *pods,
			 const char *node_name)
{
	/* yajl has no reset: one handle per document (one allocation per gather). */
	if (p->y)
		yajl_free(p->y);
	p->y = yajl_alloc(&summary_callbacks, p->have_af ? &p->af : NULL, p);
	p->acc = acc;
	p->pods = pods;
	p->node_fallback = node_name;
	p->depth = 0;
	p->skip = 0;
	p->node_name[0] = p->pod_name[0] = p->pod_ns[0] = p->cont_name[0] = p->vol_name[0] = '\0';
	p->have_podref = false;
	p->meta = NULL;
	p->emitted = p->unknown_pods = 0;
	p->err[0] = '\0';
	return p->y ? 0 : -1;
}

static int parse_error(struct summary_parser *p, yajl_status st, const char *buf, size_t n, char *err,
		       size_t errlen)
{
	if (st == yajl_status_client_canceled || p->err[0]) {
		snprintf(err, errlen, "summary: %s", p->err[0] ? p->err : "parse canceled");
	} else {
		/* Not verbose: the error text must not quote the body back. */
		unsigned char *e = yajl_get_error(p->y, 0, (const unsigned char *)buf, n);
		snprintf(err, errlen, "summary: invalid JSON (%s) after %zu bytes", e ? (const char *)e : "?",
			 yajl_get_bytes_consumed(p->y));
		if (e)
			yajl_free_error(p->y, e);
	}
	return -1;
}

int hg_summary_parser_feed(struct summary_parser *p, const char *buf, size_t n, char *err, size_t errlen)
{
	if (!p->y) {
		snprintf(err, errlen, "summary: parser not started");
		return -1;
	}
	yajl_status st = yajl_parse(p->y, (const unsigned char *)buf, n);
	return st == yajl_status_ok ? 0 : parse_error(p, st, buf, n, err, errlen);
}

int hg_summary_parser_end(struct summary_parser *p, char *err, size_t errlen)
{
	if (!p->y) {
		snprintf(err, errlen, "summary: parser not started");
		return -1;
	}
	yajl_status st = yajl_complete_parse(p->y);
	int rc = st == yajl_status_ok ? 0 : parse_error(p, st, NULL, 0, err, errlen);
	if (rc == 0 && p->depth != 0) {
		snprintf(err, errlen, "summary: document ended early");
		rc = -1;
	}
	yajl_free(p->y);
	p->y = NULL;
	return rc;
}

size_t hg_summary_parser_emitted(const struct summary_parser *p)
{
	return p->emitted;
}

size_t hg_summary_parser_unknown_pods(const struct summary_parser *p)
{
	return p->unknown_pods;
}

size_t hg_summary_parser_state_size(void)
{
	return sizeof(struct summary_parser);
}
