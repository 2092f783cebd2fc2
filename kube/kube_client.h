/* Kubernetes API client on the shared async HTTP client (base/httpc.h):
 * requests with the kubeconfig's auth applied, resource URLs from
 * apiVersion/kind (built-in table, discovery for the rest), server-side
 * apply, and API errors in plain words. A synchronous wrapper runs the loop
 * until a request is done, for the CLI. */
#ifndef HG_KUBE_CLIENT_H
#define HG_KUBE_CLIENT_H
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "httpc.h"
#include "kubeconfig.h"

struct kube_client;

/* Error codes (negative returns) of the synchronous calls. */
enum {
	KUBE_ERR = -1,       /* transport or local failure */
	KUBE_ENOTFOUND = -2, /* 404 */
	KUBE_ECONFLICT = -3, /* 409 */
	KUBE_EINVALID = -4,  /* 422 */
	KUBE_EAUTH = -5,     /* 401 / 403 */
	KUBE_EHTTP = -6      /* another HTTP error status */
};

struct kube_response {
	long status;          /* HTTP status, 0 on transport failure */
	const char *body;     /* NUL-terminated; valid during the callback */
	size_t body_len;
	const char *message;  /* "" on 2xx; otherwise the error in plain words */
	/* A streamed 2xx body that broke off (cut, reset, timed out): message
	 * says so with the transport error; what on_data got is all there is. */
	bool broken_off;
};

typedef void (*kube_done_fn)(void *arg, const struct kube_response *r);

struct kube_request {
	const char *method;
	const char *path;         /* "/apis/apps/v1/namespaces/x/deployments/y?..." */
	const char *content_type; /* or NULL */
	const char *body;         /* kept alive by the caller until done */
	size_t body_len;
	const char *what;         /* "apply deployments.apps/web", used in messages; or NULL */
	int64_t timeout_ms;       /* 0 = 30 s; -1 = none (watches) */
	size_t max_response;      /* 0 = 8 MiB */
	/* Optional streaming, as in struct httpc_request (the body is then not kept). */
	bool (*on_data)(void *arg, const char *p, size_t n);
	bool (*on_response)(void *arg, long status, const char *content_type);
};

/* hc may be NULL: the client then owns one on loop. kc must outlive the client. */
struct kube_client *hg_kube_client_new(uv_loop_t *loop, struct httpc *hc, const struct kube_config *kc, char *err,
				    size_t errlen);
void hg_kube_client_free(struct kube_client *c);
uv_loop_t *hg_kube_client_loop(struct kube_client *c);
const struct kube_config *hg_kube_client_config(struct kube_client *c);
/* How often the exec plugin ran (tests). */
unsigned hg_kube_client_exec_runs(const struct kube_client *c);
/* How long the exec credential plugin may run (0 = KUBE_EXEC_TIMEOUT_MS, 30 s). */
void hg_kube_client_set_exec_timeout(struct kube_client *c, int64_t ms);
void hg_kube_client_set_user_agent(struct kube_client *c, const char *ua);

/* Asynchronous request. A 401 with refreshable credentials (exec plugin, token
 * file) re-fetches them and retries once. While the exec plugin runs (it runs
 * on the loop, bounded in time), requests wait for it in order; its failure,
 * or the request's own timeout passing first, ends them through done with
 * status 0 and the reason in message. 0, or -1 with err (done not called):
 * e.g. the plugin's command cannot be started. */
int hg_kube_send(struct kube_client *c, const struct kube_request *rq, kube_done_fn done, void *arg, char *err,
	      size_t errlen);

/* Synchronous: runs the loop until done. Returns 0 on 2xx, else a KUBE_E*
 * code with err holding the message. *body (malloc'd, NUL-terminated) gets
 * the response body when body != NULL, also on errors. */
int hg_kube_call(struct kube_client *c, const struct kube_request *rq, char **body, char *err, size_t errlen);

/* The collection path of a kind: "/apis/apps/v1/namespaces/NS/deployments"
 * (namespace ignored for cluster-scoped kinds; NULL = all namespaces), plus
 * "/NAME" when name != NULL. Unknown kinds are looked up by discovery (sync).
 * *namespaced (optional) tells the scope. */
int hg_kube_resource_path(struct kube_client *c, const char *api_version, const char *kind, const char *ns,
		       const char *name, char *out, size_t outlen, bool *namespaced, char *err, size_t errlen);

/* Synchronous object calls; *out (optional) gets the JSON response. */
int hg_kube_get(struct kube_client *c, const char *api_version, const char *kind, const char *ns, const char *name,
	     char **out, char *err, size_t errlen);
/* selectors may be NULL. */
int hg_kube_list(struct kube_client *c, const char *api_version, const char *kind, const char *ns,
	      const char *label_selector, const char *field_selector, char **out, char *err, size_t errlen);
int hg_kube_delete(struct kube_client *c, const char *api_version, const char *kind, const char *ns, const char *name,
		char *err, size_t errlen);

struct kube_apply_opts {
	const char *field_manager; /* NULL = "agentctl" */
	bool force;                /* take over fields other managers own */
	bool dry_run;
	const char *default_namespace; /* for namespaced objects without one; NULL = the context's */
};

/* Server-side apply of one object, given as YAML or JSON text (sent as is,
 * Content-Type application/apply-patch+yaml). apiVersion, kind and
 * metadata.name/namespace are read from it to build the URL. *changed (optional)
 * is false when the server left the object as it was (same resourceVersion). */
int hg_kube_apply(struct kube_client *c, const char *doc, size_t len, const struct kube_apply_opts *o, char **out,
	       bool *changed, char *err, size_t errlen);

/* Identity of a YAML/JSON object: malloc'd strings (namespace may be NULL). */
struct kube_ident {
	char *api_version, *kind, *name, *namespace, *resource_version;
};
int hg_kube_ident_parse(const char *doc, size_t len, struct kube_ident *id, char *err, size_t errlen);
void hg_kube_ident_free(struct kube_ident *id);

/* The message for an error response: a Status object (or any body) turned
 * into plain words, with what to check for 401/403. what: "get deployments.apps/web". */
void hg_kube_status_message(long http_status, const char *body, size_t len, const char *what,
			 const struct kube_config *kc, char *out, size_t outlen);
/* KUBE_E* code for an HTTP status (0 for 2xx). */
int hg_kube_status_code(long http_status);

#endif
