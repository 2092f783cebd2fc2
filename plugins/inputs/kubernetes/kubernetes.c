/* inputs.kubernetes: the local kubelet's /stats/summary with Telegraf's
 * kubernetes_* schema, streamed through summary_parse.c as curl receives
 * it, plus pod labels and container requests/limits from a pod metadata
 * cache (pods.c) that kubelet /pods refreshes now and then, or that the
 * process' shared watch of the API server's pods (kube_podwatch.h) keeps
 * current; never fetched in full on every gather. A gather is one or two asynchronous requests in sequence: /pods
 * when due, then /stats/summary, so the cache never changes under a
 * summary being parsed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acc.h"
#include "httpc.h"
#include "kube_podwatch.h"
#include "log.h"
#include "plugin.h"
#include "pods.h"
#include "summary_parse.h"

#define SA_TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define TOKEN_MAX 65536
/* The parser's memory is flat; this only bounds the work a runaway body costs. */
#define BODY_MAX ((uint64_t)256 << 20)
/* A pod the cache does not know triggers a /pods refresh, at most this often. */
#define UNKNOWN_POD_RETRY_NS ((uint64_t)10 * 1000000000)

struct kubernetes_config {
	char *url;
	char *bearer_token;
	char *bearer_token_string;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure_skip_verify;
	int64_t response_timeout;
	struct strlist label_include, label_exclude;
	char *node_name;
	char *pod_metadata_source;
	int64_t pod_metadata_interval;
	char *kube_config;
};

static const char *const pod_metadata_sources[] = { "kubelet", "apiserver", "none", NULL };

static const struct opt_desc kube_options[] = {
	{ "url", OPT_STRING, offsetof(struct kubernetes_config, url), "https://${NODE_IP}:10250",
	  "kubelet URL; NODE_IP from the downward API (status.hostIP)" },
	{ "bearer_token", OPT_STRING, offsetof(struct kubernetes_config, bearer_token), NULL,
	  "token file, re-read when it changes; default: the ServiceAccount token when present" },
	{ "bearer_token_string", OPT_SECRET, offsetof(struct kubernetes_config, bearer_token_string), NULL,
	  "token itself (bearer_token wins when both are set)" },
	{ "tls_ca", OPT_STRING, offsetof(struct kubernetes_config, tls_ca), NULL, "CA bundle for the kubelet's certificate" },
	{ "tls_cert", OPT_STRING, offsetof(struct kubernetes_config, tls_cert), NULL, "client certificate" },
	{ "tls_key", OPT_STRING, offsetof(struct kubernetes_config, tls_key), NULL, "client key" },
	{ "insecure_skip_verify", OPT_BOOL, offsetof(struct kubernetes_config, insecure_skip_verify), "false",
	  "skip verification of the kubelet's certificate (self-signed kubelet certs)" },
	{ "response_timeout", OPT_DURATION, offsetof(struct kubernetes_config, response_timeout), "5s",
	  "time limit of each request" },
	{ "label_include", OPT_STRLIST, offsetof(struct kubernetes_config, label_include), "[]",
	  "pod label globs to add as tags (default none: cardinality)" },
	{ "label_exclude", OPT_STRLIST, offsetof(struct kubernetes_config, label_exclude), "[]",
	  "pod label globs never added as tags" },
	{ "node_name", OPT_STRING, offsetof(struct kubernetes_config, node_name), "${NODE_NAME}",
	  "node_name tag when the summary has none (downward API spec.nodeName)" },
	{ .name = "pod_metadata_source", .type = OPT_STRING,
	  .offset = offsetof(struct kubernetes_config, pod_metadata_source), .def = "kubelet",
	  .help = "where labels and requests/limits come from: kubelet (/pods, needs nodes/pods), apiserver (a watch "
		  "of this node's pods, needs pods list/watch) or none",
	  .choices = pod_metadata_sources },
	{ "pod_metadata_interval", OPT_DURATION, offsetof(struct kubernetes_config, pod_metadata_interval), "5m",
	  "kubelet source: refresh period of the pod metadata (also refreshed when a new pod shows up)" },
	{ "kube_config", OPT_STRING, offsetof(struct kubernetes_config, kube_config), NULL,
	  "apiserver source: kubeconfig file; default the in-cluster service account" },
	OPT_END,
};

struct kube {
	char label[96];
	struct httpc *http;
	char *summary_url, *pods_url;
	char *token_path, *token;
	struct stat token_st;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure;
	int64_t timeout_ms;
	struct label_filter lf;
	char *node_name;
	bool pods_enabled;
	struct kube_podwatch *podwatch; /* apiserver source */
	uint64_t podwatch_gen;
	uint64_t pods_interval_ns, pods_last_ns;
	bool pods_fetched, pods_stale;
	struct pod_cache *pods;
	struct podlist_parser *pl;
	struct summary_parser *sp;
	/* The gather in flight. */
	struct acc *acc;
	bool busy, closed, parse_failed;
	unsigned pending;
	uint64_t body_bytes;
	char parse_err[256];
};

static void destroy(struct kube *s)
{
	free(s->summary_url);
	free(s->pods_url);
	free(s->token_path);
	if (s->token) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->node_name);
	hg_pod_cache_free(s->pods);
	hg_kube_podwatch_release(s->podwatch);
	hg_podlist_parser_free(s->pl);
	hg_summary_parser_free(s->sp);
	free(s);
}

/* ---- bearer token ---- */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the token file when it changed since the last read (projected
 * ServiceAccount tokens are rotated by swapping a symlink: stat follows it). */
static int token_refresh(struct kube *s, char *err, size_t errlen)
{
	if (!s->token_path)
		return 0;
	struct stat st;
	if (stat(s->token_path, &st) != 0) {
		snprintf(err, errlen, "bearer_token %s: %s", s->token_path, strerror(errno));
		return -1;
	}
	if (s->token && same_file(&st, &s->token_st))
		return 0;
	int fd = open(s->token_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "bearer_token %s: %s", s->token_path, strerror(errno));
		return -1;
	}
	char *buf = malloc(TOKEN_MAX + 1);
	size_t len = 0;
	ssize_t n = 0;
	while (buf && len < TOKEN_MAX && (n = read(fd, buf + len, TOKEN_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (!buf || n < 0) {
		snprintf(err, errlen, "bearer_token %s: %s", s->token_path, buf ? strerror(errno) : "out of memory");
		free(buf);
		return -1;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (s->token) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	s->token = buf;
	s->token_st = st;
	return 0;
}

/* ---- request plumbing ---- */

/* Only a 200 body is parsed: an error page must never reach the parsers
 * (a 500 whose body happened to be summary-shaped would emit metrics). */
static bool on_response(void *arg, long status, const char *content_type)
{
	struct kube *s = arg;
	(void)content_type;
	return !s->closed && status == 200;
}

static void request(struct kube *s, struct httpc_request *q, const char *url,
		    bool (*on_data)(void *, const char *, size_t))
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	memset(q, 0, sizeof(*q));
	q->method = "GET";
	q->url = url;
	q->headers = headers;
	q->timeout_ms = s->timeout_ms;
	q->bearer_token = s->token && s->token[0] ? s->token : NULL;
	q->user_agent = "heliograph/" HG_VERSION;
	q->tls.ca_file = s->tls_ca;
	q->tls.cert_file = s->tls_cert;
	q->tls.key_file = s->tls_key;
	q->tls.insecure_skip_verify = s->insecure;
	q->on_data = on_data;
	q->on_response = on_response;
}

/* Returns true when s is gone or closed: the callback must stop there. */
static bool request_ended(struct kube *s)
{
	s->pending--;
	if (s->closed && s->pending == 0) {
		destroy(s);
		return true;
	}
	return s->closed;
}

/* The reason a response is unusable, in words that say what to fix; false
 * when it is fine. rbac is the kubelet subresource the path is checked against. */
static bool response_error(struct kube *s, const struct httpc_response *r, const char *path, const char *rbac,
			   char *msg, size_t len)
{
	if (r->status == 401) {
		snprintf(msg, len,
			 "kubelet answered 401 Unauthorized for %s: the bearer token was not accepted (check "
			 "bearer_token and that the kubelet runs with --authentication-token-webhook; the "
			 "ServiceAccount also needs get on %s)",
			 path, rbac);
	} else if (r->status == 403) {
		snprintf(msg, len,
			 "kubelet answered 403 Forbidden for %s: grant get on %s to the agent's ServiceAccount "
			 "(ClusterRole rule: apiGroups [\"\"], resources [\"%s\"], verbs [\"get\"])%s",
			 path, rbac, rbac,
			 strcmp(rbac, "nodes/pods") == 0
				 ? "; kubelets before 1.33 check nodes/proxy instead, which this agent never asks "
				   "for: set pod_metadata_source: none there"
				 : "");
	} else if (r->status != 0 && r->status != 200) {
		snprintf(msg, len, "kubelet answered HTTP %ld for %s", r->status, path);
	} else if (s->parse_failed) {
		snprintf(msg, len, "%s", s->parse_err);
	} else if (r->curl_code != 0) {
		snprintf(msg, len, "GET %s: %s", path, r->error);
	} else {
		return false;
	}
	return true;
}

static void finish(struct kube *s)
{
	struct acc *acc = s->acc;
	s->acc = NULL;
	s->busy = false;
	hg_acc_gather_done(acc);
}

/* ---- /stats/summary ---- */

/* One chunk of a streamed body: bounded by BODY_MAX, then fed to the
 * response's parser; false stops the transfer. */
static bool body_chunk(struct kube *s, const char *what, size_t n)
{
	if (s->closed || s->parse_failed)
		return false;
	s->body_bytes += n;
	if (s->body_bytes > BODY_MAX) {
		snprintf(s->parse_err, sizeof(s->parse_err), "%s: body larger than %llu bytes", what,
			 (unsigned long long)BODY_MAX);
		s->parse_failed = true;
		return false;
	}
	return true;
}

static bool summary_data(void *arg, const char *p, size_t n)
{
	struct kube *s = arg;
	if (!body_chunk(s, "summary", n))
		return false;
	if (hg_summary_parser_feed(s->sp, p, n, s->parse_err, sizeof(s->parse_err)) != 0) {
		s->parse_failed = true;
		return false;
	}
	return true;
}

static void summary_done(void *arg, const struct httpc_response *r)
{
	struct kube *s = arg;
	if (request_ended(s))
		return;
	char msg[512];
	if (response_error(s, r, "/stats/summary", "nodes/stats", msg, sizeof(msg))) {
		hg_acc_error(s->acc, "%s", msg);
		if (s->sp) {
			char ignored[8];
			hg_summary_parser_end(s->sp, ignored, sizeof(ignored)); /* drops the half-parsed document */
		}
	} else if (hg_summary_parser_end(s->sp, msg, sizeof(msg)) != 0) {
		hg_acc_error(s->acc, "%s", msg); /* cut short: what came before it was emitted */
	}
	if (hg_summary_parser_unknown_pods(s->sp) > 0)
		s->pods_stale = true;
	finish(s);
}

static int start_summary(struct kube *s, char *err, size_t errlen)
{
	if (hg_summary_parser_begin(s->sp, s->acc, s->pods, s->node_name) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->parse_failed = false;
	s->parse_err[0] = '\0';
	s->body_bytes = 0;
	struct httpc_request q;
	request(s, &q, s->summary_url, summary_data);
	if (hg_httpc_send(s->http, &q, summary_done, s, err, errlen) != 0)
		return -1;
	s->pending++;
	return 0;
}

/* ---- /pods ---- */

static bool pods_data(void *arg, const char *p, size_t n)
{
	struct kube *s = arg;
	if (!body_chunk(s, "/pods", n))
		return false;
	if (hg_podlist_parser_feed(s->pl, p, n, s->parse_err, sizeof(s->parse_err)) != 0) {
		s->parse_failed = true;
		return false;
	}
	return true;
}

static void pods_done(void *arg, const struct httpc_response *r)
{
	struct kube *s = arg;
	if (request_ended(s))
		return;
	char msg[512];
	struct pod_cache *fresh = NULL;
	/* A failed refresh keeps the previous metadata: the summary still goes out. */
	if (response_error(s, r, "/pods", "nodes/pods", msg, sizeof(msg)))
		hg_acc_error(s->acc, "pod metadata: %s", msg);
	else if (hg_podlist_parser_end(s->pl, &fresh, msg, sizeof(msg)) != 0)
		hg_acc_error(s->acc, "pod metadata: %s", msg);
	hg_podlist_parser_free(s->pl);
	s->pl = NULL;
	if (fresh) {
		hg_pod_cache_free(s->pods);
		s->pods = fresh;
	}
	s->pods_fetched = true;
	s->pods_stale = false;
	s->pods_last_ns = uv_hrtime();
	if (start_summary(s, msg, sizeof(msg)) != 0) {
		hg_acc_error(s->acc, "GET /stats/summary: %s", msg);
		finish(s);
	}
}

static bool pods_due(const struct kube *s)
{
	if (!s->pods_enabled)
		return false;
	if (!s->pods_fetched)
		return true;
	uint64_t age = uv_hrtime() - s->pods_last_ns;
	return age >= s->pods_interval_ns || (s->pods_stale && age >= UNKNOWN_POD_RETRY_NS);
}

static int start_pods(struct kube *s, char *err, size_t errlen)
{
	s->pl = hg_podlist_parser_new(&s->lf, NULL);
	if (!s->pl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->parse_failed = false;
	s->parse_err[0] = '\0';
	s->body_bytes = 0;
	struct httpc_request q;
	request(s, &q, s->pods_url, pods_data);
	if (hg_httpc_send(s->http, &q, pods_done, s, err, errlen) != 0) {
		hg_podlist_parser_free(s->pl);
		s->pl = NULL;
		return -1;
	}
	s->pending++;
	return 0;
}

/* ---- apiserver source ---- */

/* Rebuilds the cache when the watch saw a change since the last gather
 * (never while a summary is parsed: gathers do not overlap). */
static void podwatch_refresh(struct kube *s, struct acc *acc)
{
	const char *werr = hg_kube_podwatch_error(s->podwatch);
	if (!hg_kube_podwatch_synced(s->podwatch)) {
		hg_acc_error(acc, "pod metadata: the pod watch has not listed this node's pods yet%s%s",
			  werr[0] ? ": " : "", werr);
		return;
	}
	uint64_t gen = hg_kube_podwatch_generation(s->podwatch);
	if (gen == s->podwatch_gen && s->pods)
		return;
	struct pod_cache *fresh = NULL;
	char err[128];
	if (hg_pod_cache_from_watch(s->podwatch, &s->lf, &fresh, err, sizeof(err)) != 0) {
		hg_acc_error(acc, "%s", err);
		return;
	}
	hg_pod_cache_free(s->pods);
	s->pods = fresh;
	s->podwatch_gen = gen;
}

/* ---- plugin ---- */

static int kube_gather(void *state, struct acc *acc)
{
	struct kube *s = state;
	char err[256];
	if (s->busy) {
		hg_acc_error(acc, "the previous gather is still running (response_timeout longer than the interval?)");
		return GATHER_DONE;
	}
	if (!s->http) {
		hg_acc_error(acc, "no HTTP client");
		return GATHER_DONE;
	}
	if (token_refresh(s, err, sizeof(err)) != 0)
		hg_acc_error(acc, "%s", err); /* the previous token, if any, is tried */
	if (s->podwatch)
		podwatch_refresh(s, acc);
	s->acc = acc;
	s->busy = true;
	int rc = pods_due(s) ? start_pods(s, err, sizeof(err)) : start_summary(s, err, sizeof(err));
	if (rc != 0) {
		hg_acc_error(acc, "%s", err);
		s->acc = NULL;
		s->busy = false;
		return GATHER_DONE;
	}
	return GATHER_PENDING;
}

static char *join(const char *base, const char *path)
{
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	char *u = malloc(n + strlen(path) + 1);
	if (u) {
		memcpy(u, base, n);
		strcpy(u + n, path);
	}
	return u;
}

static char *dup_or_null(const char *v)
{
	return v && v[0] ? strdup(v) : NULL;
}

static int kube_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct kubernetes_config *cfg = config;
	if (!cfg->url || !cfg->url[0] || strstr(cfg->url, "://:") || strstr(cfg->url, "://]")) {
		snprintf(err, errlen,
			 "url: no host in \"%s\" (is NODE_IP set? the DaemonSet passes status.hostIP as NODE_IP)",
			 cfg->url ? cfg->url : "");
		return -1;
	}
	/* The loader refuses other sources at the value (pod_metadata_sources);
	 * this guards a config built without it (tests). */
	const char *src = cfg->pod_metadata_source ? cfg->pod_metadata_source : "kubelet";
	if (strcmp(src, "kubelet") != 0 && strcmp(src, "apiserver") != 0 && strcmp(src, "none") != 0) {
		snprintf(err, errlen, "pod_metadata_source: \"%s\" is not kubelet, apiserver or none", src);
		return -1;
	}
	if (cfg->pod_metadata_interval <= 0) {
		snprintf(err, errlen, "pod_metadata_interval: must be positive");
		return -1;
	}
	struct kube *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(s->label, sizeof(s->label), "inputs.%s", env->instance_name ? env->instance_name : "kubernetes");
	s->http = env->http;
	s->summary_url = join(cfg->url, "/stats/summary");
	s->pods_url = join(cfg->url, "/pods");
	s->tls_ca = dup_or_null(cfg->tls_ca);
	s->tls_cert = dup_or_null(cfg->tls_cert);
	s->tls_key = dup_or_null(cfg->tls_key);
	s->insecure = cfg->insecure_skip_verify;
	s->timeout_ms = cfg->response_timeout / 1000000;
	/* The lists stay in the config, which outlives the plugin instance. */
	s->lf.include = &cfg->label_include;
	s->lf.exclude = &cfg->label_exclude;
	s->node_name = dup_or_null(cfg->node_name);
	s->pods_enabled = strcmp(src, "kubelet") == 0;
	s->pods_interval_ns = (uint64_t)cfg->pod_metadata_interval;
	s->sp = hg_summary_parser_new(NULL);
	bool ok = s->summary_url && s->pods_url && s->sp && (!cfg->tls_ca || s->tls_ca) &&
		  (!cfg->tls_cert || s->tls_cert) && (!cfg->tls_key || s->tls_key);
	if (ok && cfg->bearer_token && cfg->bearer_token[0]) {
		ok = (s->token_path = strdup(cfg->bearer_token)) != NULL;
	} else if (ok && cfg->bearer_token_string && cfg->bearer_token_string[0]) {
		ok = (s->token = strdup(cfg->bearer_token_string)) != NULL;
	} else if (ok && access(SA_TOKEN, R_OK) == 0) {
		ok = (s->token_path = strdup(SA_TOKEN)) != NULL;
	}
	if (!ok) {
		destroy(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ok && strcmp(src, "apiserver") == 0) {
		if (!env->loop) {
			destroy(s);
			snprintf(err, errlen, "pod_metadata_source apiserver: no event loop");
			return -1;
		}
		s->podwatch = hg_kube_podwatch_acquire(env->loop, s->node_name, cfg->kube_config, err, errlen);
		if (!s->podwatch) {
			destroy(s);
			return -1;
		}
		hg_kube_podwatch_warn_insecure(s->podwatch, env->instance_name ? env->instance_name : "inputs.kubernetes");
	}
	/* An unreadable token file is a configuration error, as in Telegraf. */
	if (token_refresh(s, err, errlen) != 0) {
		destroy(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void kube_free(void *state)
{
	struct kube *s = state;
	if (!s)
		return;
	/* httpc has no per-request cancel: on_data now refuses more bytes, which
	 * aborts the transfer, and the last callback frees s. */
	s->closed = true;
	s->acc = NULL;
	if (s->pending == 0)
		destroy(s);
}

const struct input_plugin hg_input_kubernetes = {
	.name = "kubernetes",
	.summary = "Pods, containers and node usage from the local kubelet's /stats/summary",
	.config_size = sizeof(struct kubernetes_config),
	.options = kube_options,
	.init = kube_init,
	.gather = kube_gather,
	.free = kube_free,
};
