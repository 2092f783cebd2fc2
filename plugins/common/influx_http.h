/* What the influxdb (v1) and influxdb_v2 outputs share: the HTTP options,
 * the request skeleton, gzip of a batch into a reused buffer, and the
 * mapping of an HTTP outcome to a write_result. */
#ifndef HG_INFLUX_HTTP_H
#define HG_INFLUX_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gzip_body.h"
#include "httpc.h"
#include "options.h"
#include "plugin.h"

struct influx_http_cfg {
	struct strlist urls;
	int64_t timeout_ns;
	int64_t failback_interval_ns;
	char *content_encoding;
	char *user_agent;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure_skip_verify;
	char *http_proxy;
	struct strmap http_headers;
	int64_t max_in_flight;
};

/* content_encoding's values (influx_http.c). */
extern const char *const hg_influx_content_encodings[];

/* Option table rows for a struct influx_http_cfg member m of config type T. */
#define INFLUX_HTTP_OPTIONS(T, m)                                                                                  \
	{ "urls", OPT_STRLIST, offsetof(T, m.urls), "[\"http://127.0.0.1:8086\"]",                                 \
	  "InfluxDB URLs; each writer uses one at a time, the next after a network error or 5xx", NULL, OPT_F_URL }, \
	{ "failback_interval", OPT_DURATION, offsetof(T, m.failback_interval_ns), "30s",                           \
	  "while writing to a later URL, how often the earlier ones are health-checked (0 = never)" },             \
	{ "timeout", OPT_DURATION, offsetof(T, m.timeout_ns), "5s", "whole-request timeout" },                     \
	{ .name = "content_encoding", .type = OPT_STRING, .offset = offsetof(T, m.content_encoding), .def = "gzip", \
	  .help = "request body encoding: gzip or identity", .choices = hg_influx_content_encodings },             \
	{ "user_agent", OPT_STRING, offsetof(T, m.user_agent), "heliograph/" HG_VERSION, "HTTP User-Agent" },      \
	{ "tls_ca", OPT_STRING, offsetof(T, m.tls_ca), NULL, "CA bundle to verify the server with" },              \
	{ "tls_cert", OPT_STRING, offsetof(T, m.tls_cert), NULL, "client certificate (PEM)" },                     \
	{ "tls_key", OPT_STRING, offsetof(T, m.tls_key), NULL, "client key (PEM)" },                               \
	{ "insecure_skip_verify", OPT_BOOL, offsetof(T, m.insecure_skip_verify), "false",                          \
	  "skip TLS certificate and host name checks (testing only)" },                                            \
	{ "http_proxy", OPT_STRING, offsetof(T, m.http_proxy), NULL, "proxy URL; unset = the *_proxy environment" }, \
	{ "http_headers", OPT_STRMAP, offsetof(T, m.http_headers), NULL, "extra request headers" },                \
	{ "max_in_flight", OPT_INT, offsetof(T, m.max_in_flight), OUTPUT_IN_FLIGHT_DEFAULT, OUTPUT_IN_FLIGHT_HELP }

struct influx_http;

/* One health check of one earlier URL; the httpc callback's argument. */
struct influx_probe {
	struct influx_http *h;
	void *owner; /* the output, for its pending-request count */
	size_t idx;
	bool inflight;
};

struct influx_http {
	struct httpc *http;
	unsigned max_in_flight;
	char **urls; /* as configured, without a trailing '/' */
	size_t nurls, cur;
	char **write_headers, **query_headers; /* NULL-terminated "Name: value" */
	int64_t timeout_ms;
	bool gzip;
	char *user_agent, *tls_ca, *tls_cert, *tls_key, *proxy;
	bool insecure;
	struct gzip_body z;
	char *gz;
	size_t gz_cap;
	/* Failback: the first URL is preferred; see influx_probe.c. */
	char **health_urls;
	struct influx_probe *probes;
	char *label;
	int64_t failback_ms;
	uint64_t probe_at_ms; /* monotonic; the next health check of the earlier URLs */
};

/* The checks of cfg that need no state: content_encoding, at least one URL, every URL http:// or
 * https:// (else OUTPUT_UNSUPPORTED naming the scheme only). See output_plugin.check. */
int hg_influx_http_check(const struct influx_http_cfg *cfg, char *err, size_t errlen);
/* 0 when url is http:// or https://; else OUTPUT_UNSUPPORTED with err
 * "OPTION: udp:// URLs are not supported (...)", naming the scheme only. */
int hg_influx_http_url_check(const char *option, const char *url, char *err, size_t errlen);

/* Copies what it needs from cfg. extra_header ("Authorization: Token ...")
 * is added to every request, or NULL. 0, or -1 with err. */
int hg_influx_http_init(struct influx_http *h, const struct influx_http_cfg *cfg, struct httpc *http,
		     const char *extra_header, char *err, size_t errlen);
void hg_influx_http_free(struct influx_http *h);

/* Fills the fields every request shares; the caller sets method, url, body. */
void hg_influx_http_request(const struct influx_http *h, struct httpc_request *q, bool query);

/* The body to send for a batch: the batch itself, or its gzip in h's reused
 * buffer. 0, or -1 with err. */
int hg_influx_http_body(struct influx_http *h, const char *in, size_t len, const char **out, size_t *outlen, char *err,
		     size_t errlen);

/* Reports a write that could not start: WRITE_RETRY with msg. */
void hg_influx_fail_now(write_done_fn done, void *arg, const char *msg);
/* The start both outputs share: refuses a second write in flight, encodes
 * the batch body and fills q for the current URL, whose index goes to
 * *url_idx. 0, or -1 after reporting WRITE_RETRY through done. */
int hg_influx_begin_write(struct influx_http *h, bool busy, const struct batch *b, char *const *write_urls,
		       size_t *url_idx, struct httpc_request *q, write_done_fn done, void *arg);

/* base + path + "?" + query (query may be NULL), malloc'd. */
char *hg_influx_url(const char *base, const char *path, const char *query);
/* Appends "&name=value" (or "name=value" first), URL-escaped; NULL value
 * or "" appends nothing. Returns the new malloc'd string; frees q. */
char *hg_influx_query_add(char *q, const char *name, const char *value);

/* The form body of POST /query that creates db (a quoted identifier; InfluxDB
 * answers success when it exists already), malloc'd or NULL. */
char *hg_influx_create_database_body(const char *db);
/* A v1 write refused because its database does not exist. */
bool hg_influx_database_missing(const struct httpc_response *r);
/* A /query answer that reports success for every statement. */
bool hg_influx_query_succeeded(const struct httpc_response *r);
/* The URL reduced to scheme://host[:port]/path: no userinfo, no query. */
void hg_influx_url_redact(const char *url, char *out, size_t outlen);
/* The server's error text: JSON "error" (v1) or "message" (v2), else the body. */
void hg_influx_error_text(const struct httpc_response *r, char *out, size_t outlen);
/* Maps one write's outcome (see plugins/outputs/influxdb/README.md). */
void hg_influx_result(const struct httpc_response *r, const char *url, struct write_result *w);
/* Whether an outcome should move the output to its next URL. */
bool hg_influx_failover(const struct httpc_response *r);
/* Sets up failback: path ("/ping" for v1, "/health" for v2) is what is
 * checked on the URLs before the current one; label names the output in
 * the log. 0, or -1 with err. */
int hg_influx_probe_init(struct influx_http *h, const char *path, const char *label, char *err, size_t errlen);
/* After the write to url_idx ended with r: moves to the next URL when r
 * calls for it (unless a health check already moved the output), and
 * schedules the first check of the earlier URLs. */
void hg_influx_after_write(struct influx_http *h, size_t url_idx, const struct httpc_response *r);
/* Called as a write starts: when the output writes to a later URL and the
 * check is due, sends GET <path> to every earlier URL not already checked,
 * each with done(probe) where probe->owner = owner. Returns how many
 * requests it started (the owner counts them as pending). Never blocks. */
unsigned hg_influx_probe_due(struct influx_http *h, httpc_done_fn done, void *owner);
/* A check's answer: a 2xx makes its URL the current one when it comes before it. */
void hg_influx_probe_answer(struct influx_probe *p, const struct httpc_response *r);

/* Overwrites every occurrence of secret in msg with "***". */
void hg_influx_scrub(char *msg, const char *secret);

#endif
