/* Exec credential plugins (client.authentication.k8s.io ExecCredential):
 * the document they print, the environment they get, and running one
 * without blocking the loop. */
#ifndef HG_KUBE_EXEC_H
#define HG_KUBE_EXEC_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "kubeconfig.h"

/* How long a plugin may take before it is stopped (SIGTERM, then SIGKILL
 * KUBE_EXEC_KILL_GRACE_MS later). client-go has no bound at all (it was
 * declined in kubernetes/kubernetes#108849 so that interactive logins are
 * not cut short); we never run a plugin interactively, so a plugin that has
 * not answered in 30 s is stuck, not waiting for a person. */
#define KUBE_EXEC_TIMEOUT_MS 30000
#define KUBE_EXEC_KILL_GRACE_MS 2000
/* Output beyond this is an error (an ExecCredential is a few KiB). */
#define KUBE_EXEC_MAX_OUTPUT (1u << 20)

struct kube_exec_result {
	char *token;              /* or NULL */
	char *cert_pem, *key_pem; /* clientCertificateData / clientKeyData, or NULL */
	time_t expiry;            /* 0 = none given */
};

/* Parses an ExecCredential document (the plugin's stdout). 0, or -1 with
 * err (then out holds nothing). */
int hg_kube_exec_parse(const char *json, const char *want_api_version, struct kube_exec_result *out, char *err,
		    size_t errlen);
void hg_kube_exec_result_free(struct kube_exec_result *r);
/* The plugin's environment: ours, the kubeconfig's env (which wins), and
 * KUBERNETES_EXEC_INFO. NULL-terminated, free with hg_kube_free_strv. */
char **hg_kube_exec_env(const struct kube_config *kc);

/* One run of the plugin on the loop: argv and env from the kubeconfig,
 * stdin /dev/null, stderr ours, stdout read through a pipe. */
struct kube_exec_run;
/* rc 0: r holds the credentials (the callee takes them over; free with
 * hg_kube_exec_result_free). rc -1: err says why (names the command, never its
 * env or output). Called once, from the loop, never from hg_kube_exec_start. */
typedef void (*kube_exec_done_fn)(void *arg, int rc, struct kube_exec_result *r, const char *err);

/* timeout_ms 0 = KUBE_EXEC_TIMEOUT_MS. NULL with err when the command cannot
 * be started (not found, not executable). */
struct kube_exec_run *hg_kube_exec_start(uv_loop_t *loop, const struct kube_config *kc, int64_t timeout_ms,
				      kube_exec_done_fn done, void *arg, char *err, size_t errlen);
/* The caller no longer wants the answer (it is closing): done is not called;
 * a plugin still running gets SIGTERM, then SIGKILL after the grace. The
 * run frees itself once its handles have closed on the loop. */
void hg_kube_exec_abandon(struct kube_exec_run *x);

/* Sends sig to the process group of every plugin running now (up to 16).
 * Async-signal-safe: for a program's handler of a signal that ends it, as
 * the plugins run in sessions of their own, out of reach of the terminal's
 * Ctrl-C (agentctl's hg_stack_catch_fatal_signals). */
void hg_kube_exec_signal_groups(int sig);

#endif
