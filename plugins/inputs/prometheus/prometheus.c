/* inputs.prometheus: scrapes Prometheus endpoints over the shared async
 * HTTP client. Each URL's body is parsed as it arrives (text or delimited
 * protobuf, chosen by the response's Content-Type) and mapped to metrics
 * the way Telegraf's prometheus input does (metric_version 1 or 2).
 * With monitor_kubernetes_pods, the pods of this node annotated
 * prometheus.io/scrape are targets too, found through the process' shared
 * watch of the node's pods (kube_podwatch.h); the target list is rebuilt
 * only when that watch saw a change.
 * This file is the plugin's lifecycle (options, init, the gather that
 * sends every target's request, free); one target's request and its
 * completion are prom_request.c's. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acc.h"
#include "kube_podwatch.h"
#include "log.h"
#include "plugin.h"
#include "prom.h"
#include "prom_scrape.h"

/* Telegraf's Accept header (protobuf preferred), and the text-only ones. */
static const char ACCEPT_PROTOBUF[] = "Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
				      "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";
static const char ACCEPT_TEXT[] = "Accept: text/plain;version=0.0.4";
static const char ACCEPT_OPENMETRICS[] = "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

struct prom_config {
	struct strlist urls;
	int64_t metric_version;
	char *format;
	char *url_tag;
	bool ignore_timestamp;
	char *bearer_token;
	char *bearer_token_string;
	char *username, *password;
	int64_t response_timeout_ns;
	uint64_t content_length_limit;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure_skip_verify;
	bool monitor_kubernetes_pods;
	char *pod_scrape_scope;
	char *kubernetes_label_selector;
	struct strlist pod_label_include, pod_label_exclude;
	char *node_name;
	char *kube_config;
	char *pod_credentials;
	struct strlist pod_credentials_namespaces;
};

/* Designated: the option table survives fields added to struct opt_desc. */
#define PO(n, t, m, d, h) { .name = n, .type = t, .offset = offsetof(struct prom_config, m), .def = d, .help = h }
/* A row that takes one of a few values (options.h). */
#define PO_CHOICE(n, m, d, h, ch)                                                                            \
	{ .name = n, .type = OPT_STRING, .offset = offsetof(struct prom_config, m), .def = d, .help = h, .choices = ch }

static const char *const prom_formats[] = { "protobuf", "text", "openmetrics", NULL };
/* Telegraf's other scope, cluster, is not offered: see pod_scrape_scope's help. */
static const char *const prom_scopes[] = { "node", NULL };
static const char *const prom_pod_credentials[] = { "none", "all", NULL };

static const struct opt_desc prom_options[] = {
	PO("urls", OPT_STRLIST, urls, "[\"http://localhost:9100/metrics\"]",
	  "endpoints to scrape; a URL without a path gets /metrics"),
	PO("metric_version", OPT_INT, metric_version, "1",
	  "1: measurement per family, fields counter/gauge/value; 2: measurement prometheus, field per metric"),
	PO_CHOICE("format", format, "protobuf", "exposition asked for: protobuf (falls back to text), text or openmetrics",
		  prom_formats),
	/* Telegraf: url_tag = "" adds no url tag, so "" is a value here, not "unset". */
	{ .name = "url_tag", .type = OPT_STRING, .offset = offsetof(struct prom_config, url_tag), .def = "url",
	  .help = "tag naming the scraped URL; \"\" for none", .flags = OPT_F_EMPTY_IS_VALUE },
	PO("ignore_timestamp", OPT_BOOL, ignore_timestamp, "false",
	  "stamp metrics with the gather time even when the exposition has timestamps"),
	PO("bearer_token", OPT_STRING, bearer_token, NULL,
	  "file with a bearer token, re-read when it changes (takes priority)"),
	PO("bearer_token_string", OPT_SECRET, bearer_token_string, NULL, "bearer token"),
	PO("username", OPT_STRING, username, NULL, "HTTP basic auth user"),
	PO("password", OPT_SECRET, password, NULL, "HTTP basic auth password"),
	PO("response_timeout", OPT_DURATION, response_timeout_ns, "3s",
	  "whole-scrape timeout"),
	PO("content_length_limit", OPT_SIZE, content_length_limit, "0",
	  "stop reading a body after this many (decompressed) bytes; 0 = no limit"),
	PO("tls_ca", OPT_STRING, tls_ca, NULL, "CA bundle to verify the server with"),
	PO("tls_cert", OPT_STRING, tls_cert, NULL, "client certificate (PEM)"),
	PO("tls_key", OPT_STRING, tls_key, NULL, "client key (PEM)"),
	PO("insecure_skip_verify", OPT_BOOL, insecure_skip_verify, "false",
	  "skip TLS certificate and host name checks"),
	PO("monitor_kubernetes_pods", OPT_BOOL, monitor_kubernetes_pods, "false",
	  "also scrape this node's pods annotated prometheus.io/scrape: \"true\" (port, path, scheme annotations)"),
	PO_CHOICE("pod_scrape_scope", pod_scrape_scope, "node",
		  "node: the pods of node_name only (from a watch of the API server; cluster is not offered: the agent "
		  "runs on every node, so it would scrape every pod once per node)",
		  prom_scopes),
	PO("kubernetes_label_selector", OPT_STRING, kubernetes_label_selector, NULL,
	  "only pods whose labels match: k=v, k==v, k!=v, k, !k joined by commas"),
	PO("pod_label_include", OPT_STRLIST, pod_label_include, "[]",
	  "pod label globs added as tags; empty = every label (as Telegraf)"),
	PO("pod_label_exclude", OPT_STRLIST, pod_label_exclude, "[]", "pod label globs never added as tags"),
	PO("node_name", OPT_STRING, node_name, "${NODE_NAME}",
	  "the node whose pods are scraped (downward API spec.nodeName)"),
	PO("kube_config", OPT_STRING, kube_config, NULL,
	  "kubeconfig file for the pod watch; default the in-cluster service account"),
	/* Any pod can annotate itself for scraping: sending it the bearer
	 * token or basic credentials hands them to whoever runs that pod. */
	PO_CHOICE("pod_credentials", pod_credentials, "none",
		  "none: pod targets get no bearer token or basic credentials (only urls do); all: every pod gets them, "
		  "as in Telegraf",
		  prom_pod_credentials),
	PO("pod_credentials_namespaces", OPT_STRLIST, pod_credentials_namespaces, "[]",
	  "with pod_credentials none: the namespaces whose pods do get the credentials"),
	OPT_END,
};

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void hg_prom_destroy(struct prom *p)
{
	for (size_t i = 0; i < p->nscrapes; i++)
		hg_prom_scrape_free(p->scrapes[i]);
	free(p->scrapes);
	hg_kube_podwatch_release(p->podwatch);
	for (size_t i = 0; i < p->nsel; i++) {
		free(p->sel[i].key);
		free(p->sel[i].value);
	}
	free(p->sel);
	free(p->url_tag);
	free(p->token_file);
	secret_free(p->token_string);
	secret_free(p->token);
	free(p->user);
	secret_free(p->pass);
	free(p->tls_ca);
	free(p->tls_cert);
	free(p->tls_key);
	free(p);
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

static int prom_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct prom_config *c = config;
	if (c->metric_version != 1 && c->metric_version != 2) {
		snprintf(err, errlen, "metric_version: must be 1 or 2");
		return -1;
	}
	/* The loader refuses values outside format's, pod_scrape_scope's and
	 * pod_credentials' choices at the value; these checks guard a config
	 * built without it (tests). */
	const char *accept = ACCEPT_PROTOBUF;
	if (c->format && !strcmp(c->format, "text"))
		accept = ACCEPT_TEXT;
	else if (c->format && !strcmp(c->format, "openmetrics"))
		accept = ACCEPT_OPENMETRICS;
	else if (c->format && strcmp(c->format, "protobuf") != 0) {
		snprintf(err, errlen, "format: must be protobuf, text or openmetrics");
		return -1;
	}
	if (c->urls.n == 0 && !c->monitor_kubernetes_pods) {
		snprintf(err, errlen, "urls: at least one URL is needed (or monitor_kubernetes_pods)");
		return -1;
	}
	if (c->pod_scrape_scope && strcmp(c->pod_scrape_scope, "node") != 0) {
		snprintf(err, errlen,
			 "pod_scrape_scope: only \"node\" is offered (the agent runs on every node: a cluster scope "
			 "would scrape every pod once per node)");
		return -1;
	}
	bool creds_all = c->pod_credentials && !strcmp(c->pod_credentials, "all");
	if (c->pod_credentials && !creds_all && strcmp(c->pod_credentials, "none") != 0) {
		snprintf(err, errlen, "pod_credentials: must be none or all");
		return -1;
	}
	if (creds_all && c->pod_credentials_namespaces.n) {
		snprintf(err, errlen,
			 "pod_credentials_namespaces: only with pod_credentials none (all already sends them to every pod)");
		return -1;
	}
	struct prom *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->pod_creds_all = creds_all;
	p->pod_creds_ns = &c->pod_credentials_namespaces;
	snprintf(p->label, sizeof p->label, "inputs.%s", env->instance_name ? env->instance_name : "prometheus");
	p->http = env->http;
	p->version = (int)c->metric_version;
	p->accept = accept;
	p->ignore_ts = c->ignore_timestamp;
	p->timeout_ms = c->response_timeout_ns / 1000000;
	p->limit = c->content_length_limit;
	p->insecure = c->insecure_skip_verify;
	p->url_tag = dup_or_null(c->url_tag);
	p->token_file = dup_or_null(c->bearer_token);
	p->token_string = dup_or_null(c->bearer_token_string);
	p->user = dup_or_null(c->username);
	p->pass = c->password ? strdup(c->password) : NULL;
	p->tls_ca = dup_or_null(c->tls_ca);
	p->tls_cert = dup_or_null(c->tls_cert);
	p->tls_key = dup_or_null(c->tls_key);
	p->label_include = &c->pod_label_include;
	p->label_exclude = &c->pod_label_exclude;
	for (size_t i = 0; i < c->urls.n; i++) {
		struct scrape *s = hg_prom_scrape_add(p, c->urls.v[i], err, errlen);
		if (s)
			s->creds = true; /* the user named this target */
		if (!s) {
			hg_prom_destroy(p);
			return -1;
		}
	}
	if (c->monitor_kubernetes_pods) {
		if (hg_prom_parse_selector(p, c->kubernetes_label_selector, err, errlen) != 0) {
			hg_prom_destroy(p);
			return -1;
		}
		if (!env->loop) {
			hg_prom_destroy(p);
			snprintf(err, errlen, "monitor_kubernetes_pods: no event loop");
			return -1;
		}
		p->podwatch = hg_kube_podwatch_acquire(env->loop, c->node_name, c->kube_config, err, errlen);
		if (!p->podwatch) {
			hg_prom_destroy(p);
			return -1;
		}
		hg_kube_podwatch_warn_insecure(p->podwatch, env->instance_name ? env->instance_name : "inputs.prometheus");
	}
	*state = p;
	return 0;
}

/* The token file is read again when it changes: projected service
 * account tokens are rotated in place. */
static int refresh_token(struct prom *p)
{
	struct stat st;
	if (stat(p->token_file, &st) != 0) {
		hg_acc_error(p->acc, "bearer_token %s: %s", p->token_file, strerror(errno));
		return -1;
	}
	if (p->token_read && st.st_mtim.tv_sec == p->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == p->token_st.st_mtim.tv_nsec && st.st_size == p->token_st.st_size &&
	    st.st_ino == p->token_st.st_ino)
		return 0;
	FILE *f = fopen(p->token_file, "r");
	if (!f) {
		hg_acc_error(p->acc, "bearer_token %s: %s", p->token_file, strerror(errno));
		return -1;
	}
	char buf[16384];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	char *tok = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!tok) {
		hg_acc_error(p->acc, "bearer_token: out of memory");
		return -1;
	}
	secret_free(p->token);
	p->token = tok;
	p->token_st = st;
	p->token_read = true;
	return 0;
}

static int prom_gather(void *state, struct acc *acc)
{
	struct prom *p = state;
	p->acc = acc;
	const char *token = NULL;
	if (p->token_file) {
		if (refresh_token(p) != 0)
			return GATHER_DONE;
		token = p->token;
	} else if (p->token_string) {
		token = p->token_string;
	}
	if (p->podwatch)
		hg_prom_pods_sync(p, acc);
	for (size_t i = 0; i < p->nscrapes; i++) {
		struct scrape *s = p->scrapes[i];
		if (!s->busy && !s->gone)
			hg_prom_scrape_send(p, s, token);
	}
	if (p->pending == 0) {
		p->acc = NULL;
		return GATHER_DONE;
	}
	return GATHER_PENDING;
}

static void prom_free(void *state)
{
	struct prom *p = state;
	if (!p)
		return;
	/* httpc has no per-request cancel: on_data refuses further bytes and
	 * the last completion frees us, without reporting to the acc. */
	p->closed = true;
	if (p->pending == 0)
		hg_prom_destroy(p);
}

const struct input_plugin hg_input_prometheus = {
	.name = "prometheus",
	.summary = "Scrapes Prometheus endpoints (text, OpenMetrics or protobuf) like Telegraf's prometheus input",
	.config_size = sizeof(struct prom_config),
	.options = prom_options,
	.init = prom_init,
	.gather = prom_gather,
	.free = prom_free,
};
