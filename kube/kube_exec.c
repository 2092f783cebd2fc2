/* The ExecCredential format of exec credential plugins (client.authentication.k8s.io
 * v1beta1 / v1), the way kubectl runs `aws eks get-token`: argv and env from
 * the kubeconfig, KUBERNETES_EXEC_INFO describing the request, an
 * ExecCredential on stdout. Running the process is kube_exec_run.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "kube_exec.h"
#include "kube_util.h"

extern char **environ;

static const char *jstr(yajl_val v, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);
	return s ? YAJL_GET_STRING(s) : NULL;
}

int hg_kube_exec_parse(const char *json, const char *want_api_version, struct kube_exec_result *out, char *err,
		    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char perr[128];
	yajl_val v = yajl_tree_parse(json, perr, sizeof(perr));
	if (!v || !YAJL_IS_OBJECT(v)) {
		snprintf(err, errlen, "its output is not a JSON ExecCredential");
		yajl_tree_free(v);
		return -1;
	}
	const char *kind = jstr(v, "kind", NULL), *api = jstr(v, "apiVersion", NULL);
	int rc = -1;
	if (!kind || strcmp(kind, "ExecCredential") != 0) {
		snprintf(err, errlen, "its output has kind \"%s\", not ExecCredential", kind ? kind : "");
	} else if (want_api_version && (!api || strcmp(api, want_api_version) != 0)) {
		snprintf(err, errlen, "it answered with apiVersion \"%s\", the kubeconfig asks for \"%s\"",
			 api ? api : "", want_api_version);
	} else {
		const char *tok = jstr(v, "status", "token"), *cert = jstr(v, "status", "clientCertificateData"),
			   *key = jstr(v, "status", "clientKeyData"), *exp = jstr(v, "status", "expirationTimestamp");
		if (!tok && !(cert && key)) {
			snprintf(err, errlen, "it gave neither status.token nor a client certificate and key");
		} else if (exp && hg_kube_parse_time(exp, &out->expiry) != 0) {
			snprintf(err, errlen, "its status.expirationTimestamp \"%s\" is not an RFC 3339 time", exp);
		} else {
			out->token = hg_kube_strdup(tok);
			out->cert_pem = cert && key ? strdup(cert) : NULL;
			out->key_pem = cert && key ? strdup(key) : NULL;
			rc = 0;
		}
	}
	yajl_tree_free(v);
	return rc;
}

void hg_kube_exec_result_free(struct kube_exec_result *r)
{
	if (r->token)
		explicit_bzero(r->token, strlen(r->token));
	if (r->key_pem)
		explicit_bzero(r->key_pem, strlen(r->key_pem));
	free(r->token);
	free(r->cert_pem);
	free(r->key_pem);
	memset(r, 0, sizeof(*r));
}

/* The ExecCredential kubectl passes in KUBERNETES_EXEC_INFO. We never run
 * the plugin interactively: its stdin is /dev/null, in agentctl too. */
static char *exec_info(const struct kube_config *kc)
{
	yajl_gen g = yajl_gen_alloc(NULL);
#define S(x) yajl_gen_string(g, (const unsigned char *)(x), strlen(x))
	yajl_gen_map_open(g);
	S("kind"), S("ExecCredential");
	S("apiVersion"), S(kc->exec->api_version);
	S("spec");
	yajl_gen_map_open(g);
	S("interactive"), yajl_gen_bool(g, 0);
	if (kc->exec->provide_cluster_info) {
		S("cluster");
		yajl_gen_map_open(g);
		S("server"), S(kc->server);
		if (kc->ca_data_b64)
			S("certificate-authority-data"), S(kc->ca_data_b64);
		if (kc->insecure_skip_tls_verify)
			S("insecure-skip-tls-verify"), yajl_gen_bool(g, 1);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
#undef S
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *s = malloc(len + sizeof("KUBERNETES_EXEC_INFO="));
	sprintf(s, "KUBERNETES_EXEC_INFO=%.*s", (int)len, (const char *)buf);
	yajl_gen_free(g);
	return s;
}

/* environ + the kubeconfig's env + KUBERNETES_EXEC_INFO (later entries win). */
char **hg_kube_exec_env(const struct kube_config *kc)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (kc->exec->env[m])
		m++;
	char **v = calloc(n + m + 2, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool overridden = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
		for (size_t j = 0; j < m && !overridden; j++) {
			size_t nl = strcspn(kc->exec->env[j], "=");
			overridden = strncmp(environ[i], kc->exec->env[j], nl) == 0 && environ[i][nl] == '=';
		}
		if (!overridden)
			v[k++] = strdup(environ[i]);
	}
	for (size_t j = 0; j < m; j++)
		v[k++] = strdup(kc->exec->env[j]);
	v[k] = exec_info(kc);
	return v;
}
