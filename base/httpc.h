/* Asynchronous HTTP client: one libcurl multi handle driven by the libuv loop
 * (uv_poll per socket, one uv_timer). Shared by every HTTP input and output;
 * nothing here blocks the loop. */
#ifndef HG_HTTPC_H
#define HG_HTTPC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct httpc;

/* PEM held in memory (a kubeconfig's *-data fields, an exec plugin's
 * client certificate): handed to libcurl as a blob, so a private key is
 * never written to a file. */
struct httpc_pem {
	const char *data;
	size_t len;
};

struct httpc_tls {
	const char *ca_file, *cert_file, *key_file;
	bool insecure_skip_verify; /* only when the user set it explicitly */
	struct httpc_pem ca, cert, key; /* each used instead of its file when data is set */
};

struct httpc_request {
	const char *method;           /* "GET", "POST" ... */
	const char *url;
	const char *const *headers;   /* "Name: value" strings, NULL-terminated, or NULL */
	const char *body;             /* sent as is; kept alive by the caller until done */
	size_t body_len;
	int64_t timeout_ms;           /* whole request; 0 = none */
	const char *username, *password; /* basic auth, or NULL */
	const char *bearer_token;     /* "Authorization: Bearer" (never logged), or NULL */
	const char *proxy;            /* or NULL (then curl honours the *_proxy environment) */
	const char *user_agent;
	struct httpc_tls tls;
	size_t max_response;          /* bytes kept in response.body (0 = 1 MiB); the rest is discarded, body_truncated set */
	/* Optional streaming: called for every chunk of the body as it arrives
	 * (then body is not kept). Return false to abort the transfer. */
	bool (*on_data)(void *arg, const char *p, size_t n);
	/* Optional, with on_data: called once, before the first chunk, with the
	 * final response's status and Content-Type (or NULL), so a streaming
	 * parser can be chosen or the body ignored. Return false to abort. */
	bool (*on_response)(void *arg, long status, const char *content_type);
};

struct httpc_response {
	long status;            /* HTTP status, 0 when no response */
	int curl_code;          /* CURLE_OK or the transport error */
	const char *error;      /* curl's message for the transport error, or ""; for a connect()
				 * refused with EPERM, a text naming the likely cause (a packet
				 * filter: the systemd unit's IPAddressDeny=) */
	const char *body;       /* up to max_response bytes, NUL-terminated */
	size_t body_len;
	bool body_truncated;
	int64_t retry_after_ms; /* parsed Retry-After (seconds or HTTP date), -1 when absent */
	const char *content_type; /* or NULL */
	double total_seconds;
};

typedef void (*httpc_done_fn)(void *arg, const struct httpc_response *r);

struct httpc *hg_httpc_new(uv_loop_t *loop);
/* Closes the client; pending requests complete with curl_code CURLE_ABORTED_BY_CALLBACK. */
void hg_httpc_free(struct httpc *c);
/* Starts a request. Strings in req are copied by curl before this returns,
 * except body, which must live until done runs. 0, or -1 with err. */
int hg_httpc_send(struct httpc *c, const struct httpc_request *req, httpc_done_fn done, void *arg, char *err,
	       size_t errlen);
size_t hg_httpc_active(const struct httpc *c);

#endif
