/* Credentials for requests: a static token, a token file re-read when it
 * changes (service account tokens rotate), or an exec credential plugin whose
 * token is cached until its expirationTimestamp or a 401. */
#ifndef HG_KUBE_AUTH_H
#define HG_KUBE_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "httpc.h"
#include "kubeconfig.h"

struct kube_exec_result {
	char *token;              /* or NULL */
	char *cert_pem, *key_pem; /* clientCertificateData / clientKeyData, or NULL */
	time_t expiry;            /* 0 = none given */
};

/* Runs the plugin (blocking: it is a short-lived local process, as in kubectl)
 * with KUBERNETES_EXEC_INFO set; parses its ExecCredential. */
int kube_exec_run(const struct kube_config *kc, struct kube_exec_result *out, char *err, size_t errlen);
void kube_exec_result_free(struct kube_exec_result *r);
/* Parses an ExecCredential document (exposed for tests). */
int kube_exec_parse(const char *json, const char *want_api_version, struct kube_exec_result *out, char *err,
		    size_t errlen);

struct kube_auth {
	const struct kube_config *kc;
	char *token;         /* current bearer token, or NULL */
	time_t expiry;       /* exec token expiry, 0 = none */
	struct timespec file_mtime;
	off_t file_size;
	char *cert_pem, *key_pem; /* from the plugin, in memory only */
	unsigned exec_runs;  /* how often the plugin ran (tests, debugging) */
	time_t (*now)(void); /* time source (tests); NULL = time() */
};

void kube_auth_init(struct kube_auth *a, const struct kube_config *kc);
/* Makes the credentials current: re-reads a changed token file, runs the
 * exec plugin when it has no token yet or it expired. */
int kube_auth_refresh(struct kube_auth *a, char *err, size_t errlen);
/* The server said 401: forget the exec token (next refresh re-runs the
 * plugin). True when retrying can help. */
bool kube_auth_invalidate(struct kube_auth *a);
/* The CA and client certificate for a request: the plugin's certificate,
 * else the kubeconfig's (files, or *-data as blobs). Valid until the next
 * refresh or invalidate. */
void kube_auth_tls(const struct kube_auth *a, struct httpc_tls *tls);
void kube_auth_free(struct kube_auth *a);

#endif
