/* Credentials for requests: a static token, a token file re-read when it
 * changes (service account tokens rotate), or an exec credential plugin whose
 * token is cached until its expirationTimestamp or a 401. The plugin runs
 * asynchronously (kube_exec_run.c); the client queues requests meanwhile. */
#ifndef HG_KUBE_AUTH_H
#define HG_KUBE_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "httpc.h"
#include "kube_exec.h"
#include "kubeconfig.h"

struct kube_auth {
	const struct kube_config *kc;
	char *token;         /* current bearer token, or NULL */
	time_t expiry;       /* exec token expiry, 0 = none */
	struct timespec file_mtime;
	off_t file_size;
	char *cert_pem, *key_pem; /* from the plugin, in memory only */
	unsigned exec_runs;  /* how often the plugin ran (tests, debugging) */
	time_t (*now)(void); /* time source (tests); NULL = time() */
	/* The exec plugin runs on loop; ready(ready_arg, err) follows each
	 * refresh that returned 1: err NULL when the credentials are current. */
	uv_loop_t *loop;
	int64_t exec_timeout_ms; /* 0 = KUBE_EXEC_TIMEOUT_MS */
	struct kube_exec_run *running;
	void (*ready)(void *arg, const char *err);
	void *ready_arg;
};

/* loop and ready may be NULL when kc has no exec plugin. */
void hg_kube_auth_init(struct kube_auth *a, const struct kube_config *kc, uv_loop_t *loop,
		    void (*ready)(void *arg, const char *err), void *ready_arg);
/* Makes the credentials current: re-reads a changed token file, starts the
 * exec plugin when it has no token yet or it expired. 0: current; 1: the
 * plugin is running (started now or before), ready follows; -1 with err. */
int hg_kube_auth_refresh(struct kube_auth *a, char *err, size_t errlen);
/* The server said 401: forget the exec token (next refresh re-runs the
 * plugin). True when retrying can help. */
bool hg_kube_auth_invalidate(struct kube_auth *a);
/* The CA and client certificate for a request: the plugin's certificate,
 * else the kubeconfig's (files, or *-data as blobs). Valid until the next
 * refresh or invalidate. */
void hg_kube_auth_tls(const struct kube_auth *a, struct httpc_tls *tls);
void hg_kube_auth_free(struct kube_auth *a);

#endif
