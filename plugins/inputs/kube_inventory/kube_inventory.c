/* inputs.kube_inventory: Telegraf's kube_inventory measurements for
 * daemonsets, deployments, nodes, pods' containers and statefulsets
 * (README.md), from the Kubernetes API.
 *
 * mode: watch (the default) keeps a compact cache per resource from one
 * paged LIST and then WATCH (ki_watch.c, on kube/kube_watch.c) and each
 * gather emits the caches: no request per gather. mode: list, below, is
 * what every gather did before: in list mode each gather LISTs every enabled
 * resource in pages (limit/continue), one request at a time, each page
 * streamed through yajl (ki_stream.c) into one reused object (ki_obj.c):
 * memory stays flat however big the cluster. Cluster-wide, so by default
 * only the holder of a Lease gathers.
 *
 * Objects go out as their page is read, so a LIST that fails part-way has
 * already reported its first objects. Two consequences are handled here:
 * an expired continue token (410) resumes the list without reporting an
 * object twice (resume_expired), and a body that breaks off is reported
 * as the transport error with how many objects went out before it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "acc.h"
#include "ki_obj.h"
#include "ki_stream.h"
#include "ki_watch.h"
#include "kube_client.h"
#include "kube_lease.h"
#include "kubeconfig.h"
#include "log.h"
#include "plugin.h"

struct ki_config {
	char *url, *kubeconfig, *context;
	char *bearer_token, *bearer_token_string;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure_skip_verify;
	char *namespace, *node_name;
	int64_t response_timeout;
	struct strlist resource_include, resource_exclude, selector_include, selector_exclude;
	int64_t page_size;
	bool leader_election;
	char *lease_namespace, *lease_name, *identity;
	int64_t lease_duration;
	char *mode;
};

static const struct opt_desc ki_options[] = {
	{ "url", OPT_STRING, offsetof(struct ki_config, url), NULL,
	  "API server URL; default: in-cluster ServiceAccount, else the kubeconfig" },
	{ "kubeconfig", OPT_STRING, offsetof(struct ki_config, kubeconfig), NULL,
	  "kubeconfig file when url is unset; default $KUBECONFIG / ~/.kube/config (outside a cluster)" },
	{ "context", OPT_STRING, offsetof(struct ki_config, context), NULL, "kubeconfig context" },
	{ "bearer_token", OPT_STRING, offsetof(struct ki_config, bearer_token), NULL,
	  "file holding the bearer token (re-read when it changes)" },
	{ "bearer_token_string", OPT_SECRET, offsetof(struct ki_config, bearer_token_string), NULL,
	  "bearer token itself (bearer_token takes priority)" },
	{ "tls_ca", OPT_STRING, offsetof(struct ki_config, tls_ca), NULL, "CA of the API server (with url)" },
	{ "tls_cert", OPT_STRING, offsetof(struct ki_config, tls_cert), NULL, "client certificate (with url)" },
	{ "tls_key", OPT_STRING, offsetof(struct ki_config, tls_key), NULL, "client key (with url)" },
	{ "insecure_skip_verify", OPT_BOOL, offsetof(struct ki_config, insecure_skip_verify), "false",
	  "skip verification of the API server's certificate (with url)" },
	/* Telegraf: namespace = "" means all namespaces, so "" is a value here, not "unset". */
	{ "namespace", OPT_STRING, offsetof(struct ki_config, namespace), "default",
	  "namespace of the namespaced resources; \"\" = all namespaces", NULL, OPT_F_EMPTY_IS_VALUE },
	{ "node_name", OPT_STRING, offsetof(struct ki_config, node_name), NULL,
	  "only this node and the pods scheduled on it" },
	{ "response_timeout", OPT_DURATION, offsetof(struct ki_config, response_timeout), "5s",
	  "time limit of each LIST request (one page)" },
	{ "resource_include", OPT_STRLIST, offsetof(struct ki_config, resource_include), "[]",
	  "resources to gather (daemonsets, deployments, nodes, pods, statefulsets); [] = all; overrides resource_exclude" },
	{ "resource_exclude", OPT_STRLIST, offsetof(struct ki_config, resource_exclude), "[]",
	  "resources not to gather" },
	{ "selector_include", OPT_STRLIST, offsetof(struct ki_config, selector_include), "[]",
	  "selector (pods: nodeSelector) label keys to add as tags (globs); [] with an empty exclude = all" },
	{ "selector_exclude", OPT_STRLIST, offsetof(struct ki_config, selector_exclude), "[\"*\"]",
	  "selector label keys not to add (globs); wins over selector_include" },
	{ "page_size", OPT_INT, offsetof(struct ki_config, page_size), "250",
	  "objects per LIST page (limit)" },
	{ "leader_election", OPT_BOOL, offsetof(struct ki_config, leader_election), "true",
	  "gather only while holding the Lease, so one agent of a DaemonSet reports the cluster" },
	{ "lease_namespace", OPT_STRING, offsetof(struct ki_config, lease_namespace), NULL,
	  "namespace of the Lease; default: the agent's own (in-cluster) or the context's" },
	{ "lease_name", OPT_STRING, offsetof(struct ki_config, lease_name), "heliograph-kube-inventory-leader",
	  "name of the Lease (k8s-manifests grant get/update on this name only)" },
	{ "identity", OPT_STRING, offsetof(struct ki_config, identity), NULL,
	  "holderIdentity; default: $POD_NAME, else the host name" },
	{ "lease_duration", OPT_DURATION, offsetof(struct ki_config, lease_duration), "15s",
	  "a dead leader is replaced within two of these" },
	{ "mode", OPT_STRING, offsetof(struct ki_config, mode), "watch",
	  "watch: one LIST then WATCH per resource into a compact cache, gathers read the cache (no request per gather); "
	  "list: every gather LISTs every resource (for clusters that allow no watch)" },
	OPT_END,
};

static const struct {
	const char *name, *prefix, *group; /* group: for the RBAC rule in errors */
	bool namespaced;
} kinds[KI_NKINDS] = {
	[KI_DAEMONSETS] = { "daemonsets", "/apis/apps/v1", "apps", true },
	[KI_DEPLOYMENTS] = { "deployments", "/apis/apps/v1", "apps", true },
	[KI_NODES] = { "nodes", "/api/v1", "", false },
	[KI_PODS] = { "pods", "/api/v1", "", true },
	[KI_STATEFULSETS] = { "statefulsets", "/apis/apps/v1", "apps", true },
};

/* Telegraf resources this agent does not gather (accepted, warned about). */
static const char *const telegraf_only[] = { "endpoints", "ingress", "persistentvolumes", "persistentvolumeclaims",
					     "services", "resourcequotas", "secrets", NULL };

struct ki {
	char label[96];
	struct kube_config kc;
	struct kube_client *c;
	struct lease *lease;
	struct lease_opts lo;
	char identity[256];
	bool use_lease, leader, freed;
	bool enabled[KI_NKINDS];
	char *ns, *node_name;
	unsigned page_size;
	int64_t timeout_ms;
	struct strlist sel_in, sel_ex;
	struct ki_filter sel;
	/* the gather in flight */
	struct acc *acc;
	bool busy, in_gather, parse_failed, oom_reported, restarted;
	int kind;
	char cont[1024];
	int64_t count;
	int64_t emitted; /* objects of this resource reported so far */
	/* Keys ("namespace/name" or "name", the API server's list order) of the
	 * last object reported, and after a relist, up to which to skip. */
	char last_key[320], skip_to[320];
	char path[2048], what[64], parse_err[256];
	struct ks ks;
	bool ks_live;
	struct ki_obj obj;
	/* watch mode */
	bool watch_mode;
	struct ki_rw rw[KI_NKINDS];
	char wpath[KI_NKINDS][512], wsel[KI_NKINDS][320];
	uv_timer_t *wait_timer; /* a gather waiting for the first lists; its own block (closed, then freed) */
	int64_t leader_since_ms, first_gather_ms; /* (tests) uv_now when elected, and its first full gather after */
};

/* ---- one LIST page ---- */

static void item_begin(void *arg)
{
	struct ki *s = arg;
	ki_obj_reset(&s->obj);
}

static void item_value(void *arg, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	struct ki *s = arg;
	ki_obj_value(&s->obj, path, t, v, n, idx);
}

/* The object's place in the API server's list order: its etcd key below
 * the resource's prefix, compared bytewise. */
static void item_key(const struct ki *s, char *out, size_t n)
{
	const struct ki_obj *o = &s->obj;
	if (kinds[s->kind].namespaced)
		snprintf(out, n, "%s/%s", o->arena ? o->arena + o->ns : "", o->arena ? o->arena + o->name : "");
	else
		snprintf(out, n, "%s", o->arena ? o->arena + o->name : "");
}

static void item_end(void *arg)
{
	struct ki *s = arg;
	s->count++;
	if (!s->acc)
		return;
	char key[sizeof s->last_key];
	item_key(s, key, sizeof key);
	if (s->skip_to[0] && strcmp(key, s->skip_to) <= 0)
		return; /* reported before the list was restarted */
	memcpy(s->last_key, key, sizeof key);
	s->emitted++;
	if (!ki_obj_emit(&s->obj, s->acc, &s->sel) && !s->oom_reported) {
		s->oom_reported = true;
		acc_error(s->acc, "%s: an object was too large to read whole (skipped)", s->what);
	}
}

static bool on_data(void *arg, const char *p, size_t n)
{
	struct ki *s = arg;
	if (s->freed || s->parse_failed)
		return false;
	if (ks_feed(&s->ks, p, n, s->parse_err, sizeof s->parse_err) != 0) {
		s->parse_failed = true;
		return false;
	}
	return true;
}

static void next_kind(struct ki *s, int from);

/* The rule a 403 is missing, in the words of a ClusterRole. */
static void rbac_hint(const struct ki *s, char *out, size_t n)
{
	snprintf(out, n,
		 ". kube_inventory needs the RBAC rule {apiGroups: [\"%s\"], resources: [\"%s\"], verbs: [\"list\"]}%s "
		 "(k8s-manifests/40-agent-rbac.yaml has it)",
		 kinds[s->kind].group, kinds[s->kind].name,
		 kinds[s->kind].namespaced && s->ns ? " in that namespace" : " in a ClusterRole");
}

static void send_page(struct ki *s);

/* metadata.continue of a Status body, or "". */
static void status_continue(const char *body, char *out, size_t n)
{
	out[0] = '\0';
	yajl_val doc = yajl_tree_parse(body, NULL, 0);
	const char *path[] = { "metadata", "continue", NULL };
	yajl_val v = doc ? yajl_tree_get(doc, path, yajl_t_string) : NULL;
	if (v && v->u.string && strlen(v->u.string) < n)
		snprintf(out, n, "%s", v->u.string);
	yajl_tree_free(doc);
}

/* The continue token expired between pages (410): the pages read so far
 * are out already. An etcd3 API server's Status carries a token that lists
 * the rest at the current resourceVersion: go on with it. Without one, list
 * again from the start and skip the objects up to the last key reported,
 * since the API server lists in key order: each object is reported once
 * (one created meanwhile before that key waits for the next gather). Once
 * per resource and gather; false when spent. */
static bool resume_expired(struct ki *s, const struct kube_response *r)
{
	if (s->restarted)
		return false;
	s->restarted = true;
	char tok[sizeof s->cont];
	status_continue(r->body, tok, sizeof tok);
	if (tok[0]) {
		log_warn(s->label,
			 "%s: the continue token expired after %lld objects; going on with the server's token for the rest "
			 "(objects changed meanwhile are read as they are now)",
			 s->what, (long long)s->count);
		memcpy(s->cont, tok, sizeof tok);
	} else {
		log_warn(s->label,
			 "%s: the continue token expired after %lld objects; listing again, skipping the %lld already reported",
			 s->what, (long long)s->count, (long long)s->emitted);
		s->cont[0] = '\0';
		s->count = 0;
		memcpy(s->skip_to, s->last_key, sizeof s->skip_to);
	}
	ks_free(&s->ks);
	send_page(s);
	return true;
}

static void page_done(void *arg, const struct kube_response *r)
{
	struct ki *s = arg;
	bool live = s->ks_live;
	s->ks_live = false;
	if (s->freed) {
		if (live)
			ks_free(&s->ks);
		return;
	}
	char err[256] = "";
	bool ok = r->status >= 200 && r->status < 300 && !s->parse_failed;
	if (ok && r->broken_off) {
		/* Counted as a gather error; the objects read whole before the
		 * break went out, the rest wait for the next gather. */
		ok = false;
		acc_error(s->acc, "%s (%lld %s reported before it, the rest are missing from this gather)", r->message,
			  (long long)s->emitted, kinds[s->kind].name);
	} else if (ok && ks_finish(&s->ks, err, sizeof err) != 0) {
		ok = false;
		acc_error(s->acc, "%s: %s", s->what, err);
	} else if (s->parse_failed) {
		acc_error(s->acc, "%s: %s", s->what, s->parse_err);
	} else if (!ok && r->status == 410 && s->cont[0] && resume_expired(s, r)) {
		return;
	} else if (!ok) {
		char hint[256] = "";
		if (r->status == 403)
			rbac_hint(s, hint, sizeof hint);
		acc_error(s->acc, "%s%s", r->message, hint);
	}
	if (ok)
		snprintf(s->cont, sizeof s->cont, "%s", s->ks.cont);
	ks_free(&s->ks);
	if (ok && s->cont[0]) {
		send_page(s);
		return;
	}
	if (ok && s->kind == KI_NODES) {
		struct metric *m = acc_metric(s->acc, "kubernetes_node");
		metric_int(m, "node_count", s->count);
		acc_emit(s->acc, m, 0);
	}
	next_kind(s, s->kind + 1);
}

static void send_page(struct ki *s)
{
	const char *sel = NULL;
	if (s->node_name && s->kind == KI_NODES)
		sel = "metadata.name=";
	else if (s->node_name && s->kind == KI_PODS)
		sel = "spec.nodeName=";
	int n = snprintf(s->path, sizeof s->path, "%s%s%s/%s?limit=%u", kinds[s->kind].prefix,
			 kinds[s->kind].namespaced && s->ns ? "/namespaces/" : "",
			 kinds[s->kind].namespaced && s->ns ? s->ns : "", kinds[s->kind].name, s->page_size);
	if (sel) {
		char fs[512];
		snprintf(fs, sizeof fs, "%s%s", sel, s->node_name);
		char *v = curl_easy_escape(NULL, fs, 0);
		n += snprintf(s->path + n, sizeof s->path - (size_t)n, "&fieldSelector=%s", v ? v : "");
		curl_free(v);
	}
	if (s->cont[0]) {
		char *v = curl_easy_escape(NULL, s->cont, 0);
		n += snprintf(s->path + n, sizeof s->path - (size_t)n, "&continue=%s", v ? v : "");
		curl_free(v);
	}
	struct ks_handler hd = { item_begin, item_value, item_end, s };
	char err[512];
	s->parse_failed = false;
	if ((size_t)n >= sizeof s->path || ks_init(&s->ks, &hd) != 0) {
		acc_error(s->acc, "%s: %s", s->what, (size_t)n >= sizeof s->path ? "request path too long" : "out of memory");
		next_kind(s, s->kind + 1);
		return;
	}
	s->ks_live = true;
	struct kube_request rq = { .method = "GET", .path = s->path, .what = s->what, .timeout_ms = s->timeout_ms,
				   .on_data = on_data };
	if (kube_send(s->c, &rq, page_done, s, err, sizeof err) != 0) {
		ks_free(&s->ks);
		s->ks_live = false;
		acc_error(s->acc, "%s: %s", s->what, err);
		next_kind(s, s->kind + 1);
	}
}

/* Starts the first enabled resource at or after from, or ends the gather. */
static void next_kind(struct ki *s, int from)
{
	while (from < KI_NKINDS && !s->enabled[from])
		from++;
	if (from >= KI_NKINDS) {
		struct acc *acc = s->acc;
		s->busy = false;
		s->acc = NULL;
		if (!s->in_gather) /* else gather returns GATHER_DONE itself */
			acc_gather_done(acc);
		return;
	}
	s->kind = from;
	s->cont[0] = '\0';
	s->count = 0;
	s->emitted = 0;
	s->last_key[0] = s->skip_to[0] = '\0';
	s->restarted = false;
	ki_obj_free(&s->obj);
	ki_obj_init(&s->obj, (enum ki_kind)from);
	snprintf(s->what, sizeof s->what, "list %s%s", kinds[from].name, kinds[from].group[0] ? ".apps" : "");
	send_page(s);
}

/* ---- watch mode ---- */

/* How long a gather waits for the first lists (a new leader's, or the
 * agent's first gather) before it emits what is listed and reports the rest. */
#define FIRST_LIST_WAIT_MS 30000

static bool all_synced(const struct ki *s)
{
	for (int k = 0; k < KI_NKINDS; k++)
		if (s->enabled[k] && !s->rw[k].synced)
			return false;
	return true;
}

static void emit_caches(struct ki *s, struct acc *acc)
{
	for (int k = 0; k < KI_NKINDS; k++) {
		if (!s->enabled[k])
			continue;
		struct ki_rw *rw = &s->rw[k];
		if (!rw->synced) {
			char hint[256] = "";
			if (strstr(rw->list_err, "403"))
				snprintf(hint, sizeof hint,
					 ". Watch mode needs the RBAC rule {apiGroups: [\"%s\"], resources: [\"%s\"], verbs: "
					 "[\"list\", \"watch\"]} (k8s-manifests/40-agent-rbac.yaml has it)",
					 kinds[k].group, kinds[k].name);
			acc_error(acc, "list %s: not complete yet (%s)%s", kinds[k].name,
				  rw->list_err[0] ? rw->list_err : "no answer so far", hint);
			continue;
		}
		size_t n = ki_rw_emit(rw, acc, &s->sel, &s->obj);
		if (k == KI_NODES) {
			struct metric *m = acc_metric(acc, "kubernetes_node");
			metric_int(m, "node_count", (int64_t)n);
			acc_emit(acc, m, 0);
		}
	}
	if (!s->first_gather_ms && all_synced(s))
		s->first_gather_ms = (int64_t)uv_now(kube_client_loop(s->c));
}

/* Ends a gather that waited for the first lists. */
static void finish_wait(struct ki *s, bool emit)
{
	if (!s->busy)
		return;
	if (s->wait_timer)
		uv_timer_stop(s->wait_timer);
	struct acc *acc = s->acc;
	s->busy = false;
	s->acc = NULL;
	if (!acc)
		return; /* freed meanwhile */
	if (emit)
		emit_caches(s, acc);
	acc_gather_done(acc);
}

static void watch_synced(void *arg)
{
	struct ki *s = arg;
	if (s->busy && all_synced(s))
		finish_wait(s, true);
}

static void wait_expired(uv_timer_t *t)
{
	finish_wait(t->data, true);
}

static void watches_start(struct ki *s)
{
	for (int k = 0; k < KI_NKINDS; k++) {
		if (!s->enabled[k] || ki_rw_running(&s->rw[k]))
			continue;
		const char *sel = NULL;
		if (s->node_name && k == KI_NODES)
			sel = "metadata.name=";
		else if (s->node_name && k == KI_PODS)
			sel = "spec.nodeName=";
		snprintf(s->wpath[k], sizeof s->wpath[k], "%s%s%s/%s", kinds[k].prefix,
			 kinds[k].namespaced && s->ns ? "/namespaces/" : "", kinds[k].namespaced && s->ns ? s->ns : "",
			 kinds[k].name);
		snprintf(s->wsel[k], sizeof s->wsel[k], "%s%s", sel ? sel : "", sel ? s->node_name : "");
		struct ki_rw_opts o = { .kind = (enum ki_kind)k,
					.label = s->label,
					.resource = kinds[k].name,
					.path = s->wpath[k],
					.field_selector = sel ? s->wsel[k] : NULL,
					.page_size = s->page_size,
					.on_synced = watch_synced,
					.arg = s };
		char err[256];
		if (ki_rw_start(&s->rw[k], s->c, &o, err, sizeof err) != 0)
			log_error(s->label, "watch %s: %s", kinds[k].name, err);
	}
}

/* Stops the watches and drops the caches (a follower holds nothing); a
 * gather waiting for them ends empty. */
static void watches_stop(struct ki *s)
{
	for (int k = 0; k < KI_NKINDS; k++)
		ki_rw_stop(&s->rw[k]);
	finish_wait(s, false);
}

static int gather_watch(struct ki *s, struct acc *acc)
{
	watches_start(s); /* after a failed start, or without leader election */
	if (s->busy) {
		acc_error(acc, "the previous gather is still waiting for the first lists");
		return GATHER_DONE;
	}
	if (all_synced(s)) {
		emit_caches(s, acc);
		return GATHER_DONE;
	}
	if (!s->wait_timer) {
		s->wait_timer = malloc(sizeof *s->wait_timer);
		if (!s->wait_timer) {
			emit_caches(s, acc);
			return GATHER_DONE;
		}
		uv_timer_init(kube_client_loop(s->c), s->wait_timer);
		s->wait_timer->data = s;
	}
	s->busy = true;
	s->acc = acc;
	uv_timer_start(s->wait_timer, wait_expired, FIRST_LIST_WAIT_MS, 0);
	return GATHER_PENDING;
}

/* ---- leadership ---- */

static void watches_start(struct ki *s);
static void watches_stop(struct ki *s);

static void on_leader(void *arg, bool leader, int64_t prev)
{
	(void)prev;
	struct ki *s = arg;
	s->leader = leader;
	if (s->watch_mode && leader) {
		s->leader_since_ms = (int64_t)uv_now(kube_client_loop(s->c));
		s->first_gather_ms = 0;
		watches_start(s);
	} else if (s->watch_mode) {
		watches_stop(s);
	}
	log_info(s->label, "%s", leader ? "leader: gathering the cluster inventory" : "not the leader: not gathering");
}

static void on_lease_error(void *arg, const char *msg)
{
	struct ki *s = arg;
	log_warn(s->label, "%s", msg);
}

/* ---- plugin ---- */

static bool in_list(const struct strlist *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void destroy(struct ki *s)
{
	s->acc = NULL;
	watches_stop(s);
	if (s->wait_timer)
		uv_close((uv_handle_t *)s->wait_timer, timer_closed);
	kube_client_free(s->c); /* a request in flight ends here, seeing s->freed */
	kube_config_free(&s->kc);
	ki_obj_free(&s->obj);
	strlist_free(&s->sel_in);
	strlist_free(&s->sel_ex);
	free(s->ns);
	free(s->node_name);
	free(s);
}

static void lease_stopped(void *arg)
{
	destroy(arg);
}

static char *dup_or_null(const char *v)
{
	return v && *v ? strdup(v) : NULL;
}

/* Config from url + token/TLS options, as Telegraf's. */
static int config_from_url(struct kube_config *kc, const struct ki_config *cfg, char *err, size_t errlen)
{
	memset(kc, 0, sizeof *kc);
	size_t n = strlen(cfg->url);
	while (n && cfg->url[n - 1] == '/')
		n--;
	kc->server = strndup(cfg->url, n);
	kc->context = strdup("url");
	kc->user_name = strdup("bearer_token");
	kc->namespace = strdup("default");
	kc->ca_file = dup_or_null(cfg->tls_ca);
	kc->cert_file = dup_or_null(cfg->tls_cert);
	kc->key_file = dup_or_null(cfg->tls_key);
	kc->insecure_skip_tls_verify = cfg->insecure_skip_verify;
	if (!kc->server || !kc->context || !kc->user_name || !kc->namespace) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int ki_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct ki_config *cfg = config;
	struct ki *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(s->label, sizeof s->label, "%s", env->instance_name ? env->instance_name : "inputs.kube_inventory");
	int rc;
	if (cfg->url && *cfg->url) {
		rc = config_from_url(&s->kc, cfg, err, errlen);
	} else {
		struct kube_config_opts ko = { .kubeconfig = cfg->kubeconfig, .context = cfg->context, .option = "kubeconfig" };
		rc = kube_config_auto(&s->kc, &ko, err, errlen);
		/* (with url, insecure_skip_verify is the plugin's option: warned by the agent) */
		if (rc == 0)
			kube_config_warn_insecure(&s->kc, s->label);
	}
	if (rc == 0 && cfg->bearer_token && *cfg->bearer_token) {
		free(s->kc.token_file);
		free(s->kc.token);
		s->kc.token = NULL;
		s->kc.token_file = strdup(cfg->bearer_token);
	} else if (rc == 0 && cfg->bearer_token_string && *cfg->bearer_token_string) {
		free(s->kc.token);
		free(s->kc.token_file);
		s->kc.token_file = NULL;
		s->kc.token = strdup(cfg->bearer_token_string);
	}
	if (rc != 0) {
		kube_config_free(&s->kc);
		free(s);
		return -1;
	}
	/* Its own HTTP client: freeing it ends a request in flight at once. */
	s->c = kube_client_new(env->loop, NULL, &s->kc, err, errlen);
	if (!s->c) {
		kube_config_free(&s->kc);
		free(s);
		return -1;
	}
	kube_client_set_user_agent(s->c, "heliograph/" HG_VERSION " kube_inventory");
	ki_obj_init(&s->obj, KI_NODES);

	bool any_include = cfg->resource_include.n > 0;
	for (int k = 0; k < KI_NKINDS; k++)
		s->enabled[k] = any_include ? in_list(&cfg->resource_include, kinds[k].name)
					    : !in_list(&cfg->resource_exclude, kinds[k].name);
	for (size_t i = 0; i < cfg->resource_include.n; i++) {
		bool known = false;
		for (int k = 0; k < KI_NKINDS; k++)
			known |= strcmp(cfg->resource_include.v[i], kinds[k].name) == 0;
		bool telegraf = false;
		for (int j = 0; telegraf_only[j]; j++)
			telegraf |= strcmp(cfg->resource_include.v[i], telegraf_only[j]) == 0;
		if (!known && !telegraf) {
			snprintf(err, errlen, "resource_include: unknown resource \"%s\" (daemonsets, deployments, nodes, pods, statefulsets)",
				 cfg->resource_include.v[i]);
			destroy(s);
			return -1;
		}
		if (telegraf)
			log_warn(s->label, "resource \"%s\" is one of Telegraf's that this agent does not gather", cfg->resource_include.v[i]);
	}
	s->ns = dup_or_null(cfg->namespace);
	s->node_name = dup_or_null(cfg->node_name);
	s->page_size = cfg->page_size > 0 && cfg->page_size <= 10000 ? (unsigned)cfg->page_size : 250;
	s->timeout_ms = cfg->response_timeout > 0 ? cfg->response_timeout / 1000000 : 5000;
	if (strlist_copy(&s->sel_in, &cfg->selector_include) != 0 || strlist_copy(&s->sel_ex, &cfg->selector_exclude) != 0) {
		snprintf(err, errlen, "out of memory");
		destroy(s);
		return -1;
	}
	s->sel = (struct ki_filter){ &s->sel_in, &s->sel_ex };
	if (cfg->mode && strcmp(cfg->mode, "watch") != 0 && strcmp(cfg->mode, "list") != 0) {
		snprintf(err, errlen, "mode: \"%s\" is neither \"watch\" nor \"list\"", cfg->mode);
		destroy(s);
		return -1;
	}
	s->watch_mode = !cfg->mode || strcmp(cfg->mode, "watch") == 0;

	s->use_lease = cfg->leader_election;
	if (s->use_lease) {
		lease_identity(cfg->identity, s->identity, sizeof s->identity);
		int64_t dur = lease_duration_ms(cfg->lease_duration);
		s->lo = (struct lease_opts){
			.ns = cfg->lease_namespace ? cfg->lease_namespace : s->kc.namespace ? s->kc.namespace : "default",
			.name = cfg->lease_name ? cfg->lease_name : "heliograph-kube-inventory-leader",
			.identity = s->identity,
			.log_label = s->label,
			.duration_ms = dur,
			.renew_ms = dur / 3,
			.retry_ms = dur / 4,
			.on_change = on_leader,
			.on_error = on_lease_error,
			.arg = s,
		};
		s->lease = lease_start(s->c, &s->lo, err, errlen);
		if (!s->lease) {
			destroy(s);
			return -1;
		}
	}
	if (s->watch_mode && !s->use_lease)
		watches_start(s); /* the cache fills before the first gather */
	*state = s;
	return 0;
}

static int ki_gather(void *state, struct acc *acc)
{
	struct ki *s = state;
	if (s->use_lease && !s->leader)
		return GATHER_DONE;
	if (s->watch_mode)
		return gather_watch(s, acc);
	if (s->busy) {
		acc_error(acc, "the previous gather is still listing %s", kinds[s->kind].name);
		return GATHER_DONE;
	}
	s->busy = true;
	s->acc = acc;
	s->oom_reported = false;
	s->in_gather = true;
	next_kind(s, 0);
	s->in_gather = false;
	return s->busy ? GATHER_PENDING : GATHER_DONE;
}

static void ki_free(void *state)
{
	struct ki *s = state;
	s->freed = true;
	s->acc = NULL;
	if (s->lease)
		lease_stop(s->lease, true, lease_stopped, s); /* the client lives until the hand-over is written */
	else
		destroy(s);
}

/* For tests, which have no agent to tell them when a gather ended. */
bool kube_inventory_busy(const void *state);
bool kube_inventory_busy(const void *state)
{
	const struct ki *s = state;
	return s->busy;
}

/* For tests and bench/: watch mode's caches, objects and bytes in all;
 * gaps seen; whether every enabled resource is listed. */
size_t kube_inventory_cache(const void *state, size_t *bytes, unsigned *gaps, bool *synced);
size_t kube_inventory_cache(const void *state, size_t *bytes, unsigned *gaps, bool *synced)
{
	const struct ki *s = state;
	size_t n = 0;
	*bytes = 0;
	*gaps = 0;
	for (int k = 0; k < KI_NKINDS; k++) {
		n += s->rw[k].cache.n;
		*bytes += ki_cache_memory(&s->rw[k].cache);
		*gaps += s->rw[k].gaps;
	}
	*synced = all_synced(s);
	return n;
}

/* For tests: ms from taking the Lease to the first gather with every
 * resource listed (-1: none yet). */
int64_t kube_inventory_handover_ms(const void *state);
int64_t kube_inventory_handover_ms(const void *state)
{
	const struct ki *s = state;
	return s->first_gather_ms ? s->first_gather_ms - s->leader_since_ms : -1;
}

/* For tests: whether this instance holds the Lease. */
bool kube_inventory_leader(const void *state);
bool kube_inventory_leader(const void *state)
{
	const struct ki *s = state;
	return s->leader;
}

const struct input_plugin input_kube_inventory = {
	.name = "kube_inventory",
	.summary = "Telegraf's kube_inventory: daemonsets, deployments, nodes, pod containers, statefulsets (cluster-wide)",
	.config_size = sizeof(struct ki_config),
	.options = ki_options,
	.init = ki_init,
	.gather = ki_gather,
	.free = ki_free,
};
