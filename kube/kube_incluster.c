/* In-cluster config: the pod's service account (token, ca.crt, namespace)
 * and the API server address from KUBERNETES_SERVICE_HOST/PORT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_util.h"
#include "kubeconfig.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int hg_kube_config_in_cluster(struct kube_config *kc, const char *dir, char *err, size_t errlen)
{
	memset(kc, 0, sizeof(*kc));
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen, "not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
		return -1;
	}
	if (!dir)
		dir = SA_DIR;
	kc->token_file = join(dir, "token");
	if (access(kc->token_file, R_OK) != 0) {
		snprintf(err, errlen, "service account token %s is not readable (automountServiceAccountToken off?)",
			 kc->token_file);
		hg_kube_config_free(kc);
		return -1;
	}
	kc->ca_file = join(dir, "ca.crt");
	/* IPv6 service addresses need brackets in a URL. */
	bool v6 = strchr(host, ':') != NULL;
	size_t n = strlen(host) + strlen(port) + 16;
	kc->server = malloc(n);
	snprintf(kc->server, n, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
	char *nsfile = join(dir, "namespace"), *ns = NULL;
	char ignored[64];
	if (hg_kube_read_file(nsfile, 256, &ns, NULL, ignored, sizeof(ignored)) == 0) {
		ns[strcspn(ns, " \r\n\t")] = '\0';
	}
	free(nsfile);
	kc->namespace = ns && *ns ? ns : (free(ns), strdup("default"));
	kc->context = strdup("in-cluster");
	kc->in_cluster = true;
	return 0;
}
