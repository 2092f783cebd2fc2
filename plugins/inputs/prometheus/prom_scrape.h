/* The prometheus input's state, shared by its lifecycle (prometheus.c),
 * one target's request (prom_request.c) and its Kubernetes pod discovery
 * (prom_pods.c). Private to the plugin. */
#ifndef HG_PROM_SCRAPE_H
#define HG_PROM_SCRAPE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "kube_podwatch.h"
#include "options.h"
#include "prom.h"

struct acc;
struct httpc;

enum body_format { BODY_NONE, BODY_TEXT, BODY_OPENMETRICS, BODY_PROTOBUF };

struct prom;

struct scrape {
	struct prom *p;
	char *url;     /* as requested (may hold user:password) */
	char *tag;     /* without user:password: the url tag (the query kept, as Telegraf's) */
	char *shown;   /* tag with secret-looking query values redacted: log and error messages */
	bool busy;
	long status;
	enum body_format fmt;
	uint64_t bytes;
	bool over_limit;
	unsigned long errors;
	char first_error[192];
	struct prom_text *text;
	struct prom_proto *proto;
	struct prom_map *map;
	bool creds; /* sent the bearer token / basic credentials: urls, and pods as pod_credentials says */
	/* a pod target */
	bool pod, gone, seen;
	char *pod_id;     /* namespace/name */
	char *tagblock;   /* its tags' strings, NUL-separated */
	size_t tagblock_len;
	const char **tags; /* key, value pairs into tagblock */
	size_t ntags;
};

struct selector_term {
	char *key, *value; /* value NULL: existence test */
	bool negate;
};

struct prom {
	struct httpc *http;
	char label[96];
	int version;
	const char *accept;
	char *url_tag;
	bool ignore_ts;
	char *token_file, *token_string, *user, *pass;
	char *token; /* read from token_file */
	struct stat token_st;
	bool token_read;
	int64_t timeout_ms;
	uint64_t limit;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure;
	struct scrape **scrapes; /* the urls first, then pod targets */
	size_t nscrapes, cap;
	struct kube_podwatch *podwatch;
	uint64_t pod_gen;
	struct selector_term *sel;
	size_t nsel;
	const struct strlist *label_include, *label_exclude; /* in the config, which outlives us */
	bool pod_creds_all;                 /* pod_credentials: all */
	const struct strlist *pod_creds_ns; /* pod_credentials_namespaces */
	struct acc *acc; /* of the gather in flight */
	unsigned pending;
	bool closed;
};

/* prometheus.c: frees p and every target; called by prom_free, or by the
 * last completion when free came while requests were in flight. */
void hg_prom_destroy(struct prom *p);

/* prom_request.c. A scrape target: added for each url and each annotated
 * pod. NULL with err on failure. */
struct scrape *hg_prom_scrape_add(struct prom *p, const char *url, char *err, size_t errlen);
void hg_prom_scrape_free(struct scrape *s);
/* Removes target i; one in flight is only marked gone and freed by its
 * completion. */
void hg_prom_scrape_retire(struct prom *p, size_t i);
/* Sends s's request for the gather in flight (p->acc), with token as the
 * bearer token when s gets credentials; counts it in p->pending, or
 * reports to the acc why it could not be sent. */
void hg_prom_scrape_send(struct prom *p, struct scrape *s, const char *token);

/* prom_pods.c: kubernetes_label_selector, and the pod targets kept in step
 * with the node's pod watch. */
int hg_prom_parse_selector(struct prom *p, const char *sel, char *err, size_t errlen);
void hg_prom_pods_sync(struct prom *p, struct acc *acc);

#endif
