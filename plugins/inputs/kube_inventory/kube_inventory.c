/* inputs.kube_inventory: Telegraf's kube_inventory measurements for
 * daemonsets, deployments, nodes, pods' containers and statefulsets
 * (README.md), from the Kubernetes API.
 *
 * mode: watch (the default) keeps a compact cache per resource from one
 * paged LIST and then WATCH (ki_watch.c, on kube/kube_watch.c) and each
 * gather emits the caches: no request per gather. mode: list (ki_list.c)
 * LISTs every resource every gather. Cluster-wide, so by default only the
 * holder of a Lease gathers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "acc.h"
#include "ki_internal.h"
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

static const char *const ki_modes[] = { "watch", "list", NULL };

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
	{ .name = "mode", .type = OPT_STRING, .offset = offsetof(struct ki_config, mode), .def = "watch",
	  .help = "watch: one LIST then WATCH per resource into a compact cache, gathers read the cache (no request per "
		  "gather); list: every gather LISTs every resource (for clusters that allow no watch)",
	  .choices = ki_modes },
	OPT_END,
};

const struct ki_kind_desc hg_ki_kinds[KI_NKINDS] = {
	[KI_DAEMONSETS] = { "daemonsets", "/apis/apps/v1", "apps", true },
	[KI_DEPLOYMENTS] = { "deployments", "/apis/apps/v1", "apps", true },
	[KI_NODES] = { "nodes", "/api/v1", "", false },
	[KI_PODS] = { "pods", "/api/v1", "", true },
	[KI_STATEFULSETS] = { "statefulsets", "/apis/apps/v1", "apps", true },
};
/* Telegraf resources this agent does not gather (accepted, warned about). */
static const char *const telegraf_only[] = { "endpoints", "ingress", "persistentvolumes", "persistentvolumeclaims",
					     "services", "resourcequotas", "secrets", NULL };


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
					 hg_ki_kinds[k].group, hg_ki_kinds[k].name);
			hg_acc_error(acc, "list %s: not complete yet (%s)%s", hg_ki_kinds[k].name,
				  rw->list_err[0] ? rw->list_err : "no answer so far", hint);
			continue;
		}
		size_t n = hg_ki_rw_emit(rw, acc, &s->sel, &s->obj);
		if (k == KI_NODES) {
			struct metric *m = hg_acc_metric(acc, "kubernetes_node");
			hg_metric_int(m, "node_count", (int64_t)n);
			hg_acc_emit(acc, m, 0);
		}
	}
	if (!s->first_gather_ms && all_synced(s))
		s->first_gather_ms = (int64_t)uv_now(hg_kube_client_loop(s->c));
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
	hg_acc_gather_done(acc);
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
		if (!s->enabled[k] || hg_ki_rw_running(&s->rw[k]))
			continue;
		const char *sel = NULL;
		if (s->node_name && k == KI_NODES)
			sel = "metadata.name=";
		else if (s->node_name && k == KI_PODS)
			sel = "spec.nodeName=";
		snprintf(s->wpath[k], sizeof s->wpath[k], "%s%s%s/%s", hg_ki_kinds[k].prefix,
			 hg_ki_kinds[k].namespaced && s->ns ? "/namespaces/" : "", hg_ki_kinds[k].namespaced && s->ns ? s->ns : "",
			 hg_ki_kinds[k].name);
		snprintf(s->wsel[k], sizeof s->wsel[k], "%s%s", sel ? sel : "", sel ? s->node_name : "");
		struct ki_rw_opts o = { .kind = (enum ki_kind)k,
					.label = s->label,
					.resource = hg_ki_kinds[k].name,
					.path = s->wpath[k],
					.field_selector = sel ? s->wsel[k] : NULL,
					.page_size = s->page_size,
					.on_synced = watch_synced,
					.arg = s };
		char err[256];
		if (hg_ki_rw_start(&s->rw[k], s->c, &o, err, sizeof err) != 0)
			log_error(s->label, "watch %s: %s", hg_ki_kinds[k].name, err);
	}
}

/* Stops the watches and drops the caches (a follower holds nothing); a
 * gather waiting for them ends empty. */
static void watches_stop(struct ki *s)
{
	for (int k = 0; k < KI_NKINDS; k++)
		hg_ki_rw_stop(&s->rw[k]);
	finish_wait(s, false);
}

static int gather_watch(struct ki *s, struct acc *acc)
{
	watches_start(s); /* after a failed start, or without leader election */
	if (s->busy) {
		hg_acc_error(acc, "the previous gather is still waiting for the first lists");
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
		uv_timer_init(hg_kube_client_loop(s->c), s->wait_timer);
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
		s->leader_since_ms = (int64_t)uv_now(hg_kube_client_loop(s->c));
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
	hg_kube_client_free(s->c); /* a request in flight ends here, seeing s->freed */
	hg_kube_config_free(&s->kc);
	hg_ki_obj_free(&s->obj);
	hg_strlist_free(&s->sel_in);
	hg_strlist_free(&s->sel_ex);
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
		rc = hg_kube_config_auto(&s->kc, &ko, err, errlen);
		/* (with url, insecure_skip_verify is the plugin's option: warned by the agent) */
		if (rc == 0)
			hg_kube_config_warn_insecure(&s->kc, s->label);
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
		hg_kube_config_free(&s->kc);
		free(s);
		return -1;
	}
	/* Its own HTTP client: freeing it ends a request in flight at once. */
	s->c = hg_kube_client_new(env->loop, NULL, &s->kc, err, errlen);
	if (!s->c) {
		hg_kube_config_free(&s->kc);
		free(s);
		return -1;
	}
	hg_kube_client_set_user_agent(s->c, "heliograph/" HG_VERSION " kube_inventory");
	hg_ki_obj_init(&s->obj, KI_NODES);

	bool any_include = cfg->resource_include.n > 0;
	for (int k = 0; k < KI_NKINDS; k++)
		s->enabled[k] = any_include ? in_list(&cfg->resource_include, hg_ki_kinds[k].name)
					    : !in_list(&cfg->resource_exclude, hg_ki_kinds[k].name);
	for (size_t i = 0; i < cfg->resource_include.n; i++) {
		bool known = false;
		for (int k = 0; k < KI_NKINDS; k++)
			known |= strcmp(cfg->resource_include.v[i], hg_ki_kinds[k].name) == 0;
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
	if (hg_strlist_copy(&s->sel_in, &cfg->selector_include) != 0 || hg_strlist_copy(&s->sel_ex, &cfg->selector_exclude) != 0) {
		snprintf(err, errlen, "out of memory");
		destroy(s);
		return -1;
	}
	s->sel = (struct ki_filter){ &s->sel_in, &s->sel_ex };
	/* The config loader refuses other modes at the value (ki_modes); this
	 * guards a config built without it (tests, bench/). */
	if (cfg->mode && strcmp(cfg->mode, "watch") != 0 && strcmp(cfg->mode, "list") != 0) {
		snprintf(err, errlen, "mode: \"%s\" is neither \"watch\" nor \"list\"", cfg->mode);
		destroy(s);
		return -1;
	}
	s->watch_mode = !cfg->mode || strcmp(cfg->mode, "watch") == 0;

	s->use_lease = cfg->leader_election;
	if (s->use_lease) {
		hg_lease_identity(cfg->identity, s->identity, sizeof s->identity);
		int64_t dur = hg_lease_duration_ms(cfg->lease_duration);
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
		s->lease = hg_lease_start(s->c, &s->lo, err, errlen);
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
		hg_acc_error(acc, "the previous gather is still listing %s", hg_ki_kinds[s->kind].name);
		return GATHER_DONE;
	}
	s->busy = true;
	s->acc = acc;
	s->oom_reported = false;
	s->in_gather = true;
	hg_ki_list_next(s, 0);
	s->in_gather = false;
	return s->busy ? GATHER_PENDING : GATHER_DONE;
}

static void ki_free(void *state)
{
	struct ki *s = state;
	s->freed = true;
	s->acc = NULL;
	if (s->lease)
		hg_lease_stop(s->lease, true, lease_stopped, s); /* the client lives until the hand-over is written */
	else
		destroy(s);
}

/* For tests, which have no agent to tell them when a gather ended. */
bool hg_kube_inventory_busy(const void *state);
bool hg_kube_inventory_busy(const void *state)
{
	const struct ki *s = state;
	return s->busy;
}

/* For tests and bench/: watch mode's caches, objects and bytes in all;
 * gaps seen; whether every enabled resource is listed. */
size_t hg_kube_inventory_cache(const void *state, size_t *bytes, unsigned *gaps, bool *synced);
size_t hg_kube_inventory_cache(const void *state, size_t *bytes, unsigned *gaps, bool *synced)
{
	const struct ki *s = state;
	size_t n = 0;
	*bytes = 0;
	*gaps = 0;
	for (int k = 0; k < KI_NKINDS; k++) {
		n += s->rw[k].cache.n;
		*bytes += hg_ki_cache_memory(&s->rw[k].cache);
		*gaps += s->rw[k].gaps;
	}
	*synced = all_synced(s);
	return n;
}

/* For tests: ms from taking the Lease to the first gather with every
 * resource listed (-1: none yet). */
int64_t hg_kube_inventory_handover_ms(const void *state);
int64_t hg_kube_inventory_handover_ms(const void *state)
{
	const struct ki *s = state;
	return s->first_gather_ms ? s->first_gather_ms - s->leader_since_ms : -1;
}

/* For tests: whether this instance holds the Lease. */
bool hg_kube_inventory_leader(const void *state);
bool hg_kube_inventory_leader(const void *state)
{
	const struct ki *s = state;
	return s->leader;
}

const struct input_plugin hg_input_kube_inventory = {
	.name = "kube_inventory",
	.summary = "Telegraf's kube_inventory: daemonsets, deployments, nodes, pod containers, statefulsets (cluster-wide)",
	.config_size = sizeof(struct ki_config),
	.options = ki_options,
	.init = ki_init,
	.gather = ki_gather,
	.free = ki_free,
};
