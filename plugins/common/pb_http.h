/* What the protobuf-over-HTTP outputs (prometheus_remote_write,
 * opentelemetry) share: their HTTP options, the one write in flight with its
 * reused body buffer, snappy and gzip of the encoded message, and the
 * lifetime rule that the plugin may be freed while a request is in flight. */
#ifndef HG_PB_HTTP_H
#define HG_PB_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "httpc.h"
#include "options.h"
#include "plugin.h"

struct pb_http_cfg {
	char *url;
	int64_t timeout_ns;
	char *username, *password, *bearer_token;
	char *user_agent;
	char *tls_ca, *tls_cert, *tls_key;
	bool insecure_skip_verify;
	char *http_proxy;
	struct strmap headers;
};

/* Option table rows for a struct pb_http_cfg member m of config type T;
 * url_def is the default URL (NULL: required). */
#define PB_HTTP_OPTIONS(T, m, url_def, url_help)                                                                   \
	{ "url", OPT_STRING, offsetof(T, m.url), url_def, url_help, NULL, OPT_F_URL },                             \
	{ "timeout", OPT_DURATION, offsetof(T, m.timeout_ns), "5s", "whole-request timeout" },                     \
	{ "username", OPT_STRING, offsetof(T, m.username), NULL, "HTTP basic auth user" },                         \
	{ "password", OPT_SECRET, offsetof(T, m.password), NULL, "HTTP basic auth password" },                     \
	{ "bearer_token", OPT_SECRET, offsetof(T, m.bearer_token), NULL,                                           \
	  "sent as Authorization: Bearer (not with username)" },                                                   \
	{ "user_agent", OPT_STRING, offsetof(T, m.user_agent), "heliograph/" HG_VERSION, "HTTP User-Agent" },      \
	{ "tls_ca", OPT_STRING, offsetof(T, m.tls_ca), NULL, "CA bundle to verify the server with" },              \
	{ "tls_cert", OPT_STRING, offsetof(T, m.tls_cert), NULL, "client certificate (PEM)" },                     \
	{ "tls_key", OPT_STRING, offsetof(T, m.tls_key), NULL, "client key (PEM)" },                               \
	{ "insecure_skip_verify", OPT_BOOL, offsetof(T, m.insecure_skip_verify), "false",                          \
	  "skip TLS certificate and host name checks (testing only)" },                                            \
	{ "http_proxy", OPT_STRING, offsetof(T, m.http_proxy), NULL, "proxy URL; unset = the *_proxy environment" }, \
	{ "headers", OPT_STRMAP, offsetof(T, m.headers), NULL, "extra request headers" }

/* Maps a response that arrived (status set, no transport error) to a
 * result; w is zeroed, where is the URL without credentials or query. */
typedef void (*pb_map_fn)(const struct httpc_response *r, const char *where, struct write_result *w);

struct pb_http;

/* The checks of cfg that need no state: url set and http(s) (else OUTPUT_UNSUPPORTED naming
 * only the scheme), not both username and bearer_token. See output_plugin.check. */
int hg_pb_http_check(const struct pb_http_cfg *cfg, char *err, size_t errlen);

/* fixed_headers ("Name: value", NULL-terminated) come before the user's
 * headers, which may override none of them. NULL with err. */
struct pb_http *hg_pb_http_new(const struct pb_http_cfg *cfg, struct httpc *http, const char *label,
			    const char *const *fixed_headers, pb_map_fn map, char *err, size_t errlen);
/* Frees now, or when the request in flight ends (its done is then never called). */
void hg_pb_http_close(struct pb_http *h);
bool hg_pb_http_busy(const struct pb_http *h);

/* The request body: the snappy block format of in, its gzip, or a copy.
 * 0, or -1 with err. */
int hg_pb_http_snappy(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen);
int hg_pb_http_gzip(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen);
int hg_pb_http_copy(struct pb_http *h, const void *in, size_t len, char *err, size_t errlen);

/* POSTs the body; done is called exactly once, later, unless the output is
 * closed first; transport errors are WRITE_RETRY. Secrets are scrubbed from
 * the message. A second write while one is in flight fails with WRITE_RETRY.
 * bad_lines: lines of the batch the encoder could not use, added to the
 * result's dropped_lines when the write succeeds, with bad_reason (the
 * first one's) in the message. */
void hg_pb_http_send(struct pb_http *h, size_t bad_lines, const char *bad_reason, write_done_fn done, void *arg);

/* Reports a write that could not start (WRITE_RETRY) or had nothing to send (WRITE_OK). */
void hg_pb_done_now(write_done_fn done, void *arg, enum write_status st, const char *msg);
/* Reports a batch that encoded to nothing: WRITE_OK, its bad_lines dropped, with
 * the first encoder error as the message. */
void hg_pb_done_empty(write_done_fn done, void *arg, size_t bad_lines, const char *first_error);
/* The response body as one line of text for a message ("" when empty or binary). */
void hg_pb_body_text(const struct httpc_response *r, char *out, size_t outlen);

#endif
