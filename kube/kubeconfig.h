/* Where and how to reach the Kubernetes API: kubeconfig files (merged as
 * kubectl merges KUBECONFIG), or the in-cluster service account. */
#ifndef HG_KUBECONFIG_H
#define HG_KUBECONFIG_H
#include <stdbool.h>
#include <stddef.h>

/* users[].user.exec: a credential plugin such as `aws eks get-token`. */
struct kube_exec_conf {
	char *api_version; /* client.authentication.k8s.io/v1beta1 or /v1 */
	char *command;     /* resolved against the kubeconfig's directory when it holds a '/' */
	char **argv;       /* argv[0] = command; NULL-terminated */
	char **env;        /* extra "NAME=value"; NULL-terminated */
	char *install_hint;
	bool provide_cluster_info;
};

struct kube_config {
	char *context, *cluster_name, *user_name;
	char *namespace;   /* the context's, else "default" (in-cluster: the pod's) */
	char *server;      /* "https://host:port", no trailing '/' */
	char *ca_file;     /* certificate-authority; NULL = ca_pem, else the system CAs */
	char *ca_data_b64; /* certificate-authority-data as written, for exec cluster info */
	bool insecure_skip_tls_verify;
	char *cert_file, *key_file; /* client certificate files, when given as files */
	/* certificate-authority-data, client-certificate-data, client-key-data,
	 * decoded. Kept in memory and handed to libcurl as blobs: a copy on
	 * disk outlived an agentctl that was killed. */
	char *ca_pem, *cert_pem, *key_pem;
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	char *token;       /* static bearer token (a secret: never log it) */
	char *token_file;  /* re-read when it changes (tokenFile, service account) */
	struct kube_exec_conf *exec;
	bool in_cluster;
};

struct kube_config_opts {
	const char *kubeconfig; /* --kubeconfig: only this file; NULL = $KUBECONFIG, else ~/.kube/config */
	const char *context;    /* --context; NULL = current-context */
	const char *env_kubeconfig; /* value used instead of getenv("KUBECONFIG") when non-NULL (tests) */
	/* How the caller's user names a kubeconfig file, for the error when none
	 * is found: an agent input's option ("kubeconfig"); NULL = agentctl's
	 * --kubeconfig flag. */
	const char *option;
};

/* Loads the kubeconfig(s) and resolves the context into kc (zeroed first).
 * 0, or -1 with err naming the file and what is missing. */
int hg_kube_config_load(struct kube_config *kc, const struct kube_config_opts *o, char *err, size_t errlen);

/* In-cluster config. dir NULL = /var/run/secrets/kubernetes.io/serviceaccount
 * (token, ca.crt, namespace); host/port from KUBERNETES_SERVICE_HOST/PORT. */
int hg_kube_config_in_cluster(struct kube_config *kc, const char *dir, char *err, size_t errlen);

/* The in-cluster config when KUBERNETES_SERVICE_HOST is set and no kubeconfig
 * was asked for, else hg_kube_config_load. */
int hg_kube_config_auto(struct kube_config *kc, const struct kube_config_opts *o, char *err, size_t errlen);

void hg_kube_config_free(struct kube_config *kc);

/* When the cluster sets insecure-skip-tls-verify, logs one warning as who
 * (the agent's plugin label) and returns true. The caller calls it once,
 * where it loads the config. */
bool hg_kube_config_warn_insecure(const struct kube_config *kc, const char *who);
/* The same warning's text, for agentctl's own stderr; "" when secure. */
const char *hg_kube_config_insecure_text(const struct kube_config *kc);

#endif
