/* kubeconfig loading. Several files (KUBECONFIG=a:b) merge as kubectl merges
 * them: for clusters, users and contexts the first file that defines a name
 * wins, and current-context comes from the first file that sets it. Relative
 * paths in a file are relative to that file's directory. */
#include "kubeconfig.h"
#include "log.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "kube_util.h"

#define KCFG_MAX_FILES 16
#define KCFG_MAX_BYTES (4u << 20)

struct kfile {
	char *path, *dir;
	yaml_document_t doc;
};

struct kset {
	struct kfile f[KCFG_MAX_FILES];
	size_t n;
};

static yaml_node_t *node(struct kfile *f, int i)
{
	return i ? yaml_document_get_node(&f->doc, i) : NULL;
}

/* Value node of key in mapping m, or NULL. */
static yaml_node_t *get(struct kfile *f, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(f, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return node(f, p->value);
	}
	return NULL;
}

static const char *str(struct kfile *f, yaml_node_t *m, const char *key)
{
	yaml_node_t *v = get(f, m, key);
	if (!v || v->type != YAML_SCALAR_NODE)
		return NULL;
	const char *s = (const char *)v->data.scalar.value;
	/* An empty plain scalar is YAML null: treat as unset. */
	return *s || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ? s : NULL;
}

static bool truthy(struct kfile *f, yaml_node_t *m, const char *key)
{
	const char *s = str(f, m, key);
	return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "yes") == 0);
}

static int load_file(struct kfile *kf, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	if (hg_kube_read_file(path, KCFG_MAX_BYTES, &buf, &len, err, errlen) != 0)
		return -1;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int rc = yaml_parser_load(&p, &kf->doc) ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1, p.problem_mark.column + 1,
			 p.problem ? p.problem : "invalid YAML");
	yaml_parser_delete(&p);
	free(buf);
	if (rc != 0)
		return -1;
	kf->path = strdup(path);
	char *tmp = strdup(path);
	kf->dir = strdup(dirname(tmp));
	free(tmp);
	return 0;
}

/* The named entry ("cluster", "user", "context" body) of list key, first file wins. */
static yaml_node_t *find_named(struct kset *s, const char *list, const char *inner, const char *name,
			       struct kfile **which)
{
	for (size_t i = 0; i < s->n; i++) {
		struct kfile *f = &s->f[i];
		yaml_node_t *l = get(f, yaml_document_get_root_node(&f->doc), list);
		if (!l || l->type != YAML_SEQUENCE_NODE)
			continue;
		for (yaml_node_item_t *it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
			yaml_node_t *e = node(f, *it);
			const char *n = str(f, e, "name");
			if (n && strcmp(n, name) == 0) {
				*which = f;
				yaml_node_t *body = get(f, e, inner);
				return body ? body : e;
			}
		}
	}
	return NULL;
}

/* A file path or a -data field; -data is decoded into a private 0600 file. */
/* The *-data field decoded into *pem (and no file), else the file field
 * resolved against the kubeconfig's directory. */
static int file_or_data(struct kfile *f, yaml_node_t *m, const char *file_key, const char *data_key, char **file,
			char **pem, size_t *pem_len, char *err, size_t errlen)
{
	const char *data = str(f, m, data_key);
	if (data) {
		unsigned char *bin;
		size_t n;
		if (hg_kube_b64_decode(data, &bin, &n) != 0) {
			snprintf(err, errlen, "%s: %s is not valid base64", f->path, data_key);
			return -1;
		}
		hg_kube_free_secret(*pem, *pem_len);
		*pem = (char *)bin;
		*pem_len = n;
		free(*file);
		*file = NULL;
		return 0;
	}
	const char *path = str(f, m, file_key);
	if (path) {
		free(*file);
		*file = hg_kube_resolve_path(f->dir, path);
	}
	return 0;
}

static char **strv_from_seq(struct kfile *f, yaml_node_t *seq, const char *first)
{
	size_t n = seq && seq->type == YAML_SEQUENCE_NODE ? (size_t)(seq->data.sequence.items.top -
								    seq->data.sequence.items.start) : 0;
	char **v = calloc(n + 2, sizeof(*v));
	size_t k = 0;
	if (first)
		v[k++] = strdup(first);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node(f, seq->data.sequence.items.start[i]);
		if (e && e->type == YAML_SCALAR_NODE)
			v[k++] = strdup((char *)e->data.scalar.value);
	}
	return v;
}

static int load_exec(struct kube_config *kc, struct kfile *f, yaml_node_t *ex, char *err, size_t errlen)
{
	const char *api = str(f, ex, "apiVersion"), *cmd = str(f, ex, "command");
	if (!cmd) {
		snprintf(err, errlen, "%s: user \"%s\": exec has no command", f->path, kc->user_name);
		return -1;
	}
	if (!api || (strcmp(api, "client.authentication.k8s.io/v1beta1") != 0 &&
		     strcmp(api, "client.authentication.k8s.io/v1") != 0)) {
		snprintf(err, errlen,
			 "%s: user \"%s\": exec apiVersion \"%s\" is not supported (use client.authentication.k8s.io/v1beta1 "
			 "or v1; for EKS, re-run `aws eks update-kubeconfig` with a current AWS CLI)",
			 f->path, kc->user_name, api ? api : "");
		return -1;
	}
	struct kube_exec_conf *e = calloc(1, sizeof(*e));
	kc->exec = e;
	e->api_version = strdup(api);
	e->command = strchr(cmd, '/') ? hg_kube_resolve_path(f->dir, cmd) : strdup(cmd);
	e->argv = strv_from_seq(f, get(f, ex, "args"), e->command);
	e->install_hint = hg_kube_strdup(str(f, ex, "installHint"));
	e->provide_cluster_info = truthy(f, ex, "provideClusterInfo");
	yaml_node_t *env = get(f, ex, "env");
	size_t n = env && env->type == YAML_SEQUENCE_NODE ? (size_t)(env->data.sequence.items.top -
								     env->data.sequence.items.start) : 0;
	e->env = calloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; i < n; i++) {
		yaml_node_t *it = node(f, env->data.sequence.items.start[i]);
		const char *name = str(f, it, "name"), *value = str(f, it, "value");
		if (!name)
			continue;
		size_t len = strlen(name) + (value ? strlen(value) : 0) + 2;
		e->env[k] = malloc(len);
		snprintf(e->env[k++], len, "%s=%s", name, value ? value : "");
	}
	return 0;
}

static int resolve(struct kube_config *kc, struct kset *s, const char *ctx_name, char *err, size_t errlen)
{
	struct kfile *fc = NULL, *fl = NULL, *fu = NULL;
	if (!ctx_name) {
		for (size_t i = 0; i < s->n && !ctx_name; i++)
			ctx_name = str(&s->f[i], yaml_document_get_root_node(&s->f[i].doc), "current-context");
		if (!ctx_name) {
			snprintf(err, errlen, "%s: no current-context is set (pass --context)", s->f[0].path);
			return -1;
		}
	}
	kc->context = strdup(ctx_name);
	yaml_node_t *ctx = find_named(s, "contexts", "context", ctx_name, &fc);
	if (!ctx) {
		snprintf(err, errlen, "context \"%s\" not found in %s%s", ctx_name, s->f[0].path,
			 s->n > 1 ? " (or the other KUBECONFIG files)" : "");
		return -1;
	}
	const char *cl = str(fc, ctx, "cluster"), *us = str(fc, ctx, "user"), *ns = str(fc, ctx, "namespace");
	kc->namespace = strdup(ns ? ns : "default");
	yaml_node_t *c = cl ? find_named(s, "clusters", "cluster", cl, &fl) : NULL;
	if (!c) {
		snprintf(err, errlen, "%s: context \"%s\" names cluster \"%s\", which is not defined", fc->path, ctx_name,
			 cl ? cl : "");
		return -1;
	}
	kc->cluster_name = strdup(cl);
	const char *server = str(fl, c, "server");
	if (!server) {
		snprintf(err, errlen, "%s: cluster \"%s\" has no server", fl->path, cl);
		return -1;
	}
	kc->server = strdup(server);
	size_t sl = strlen(kc->server);
	while (sl > 0 && kc->server[sl - 1] == '/')
		kc->server[--sl] = '\0';
	kc->insecure_skip_tls_verify = truthy(fl, c, "insecure-skip-tls-verify");
	kc->ca_data_b64 = hg_kube_strdup(str(fl, c, "certificate-authority-data"));
	if (file_or_data(fl, c, "certificate-authority", "certificate-authority-data", &kc->ca_file, &kc->ca_pem,
			 &kc->ca_pem_len, err, errlen) != 0)
		return -1;
	if (!us)
		return 0; /* a context without a user: anonymous */
	kc->user_name = strdup(us);
	yaml_node_t *u = find_named(s, "users", "user", us, &fu);
	if (!u) {
		snprintf(err, errlen, "%s: context \"%s\" names user \"%s\", which is not defined", fc->path, ctx_name, us);
		return -1;
	}
	if (file_or_data(fu, u, "client-certificate", "client-certificate-data", &kc->cert_file, &kc->cert_pem,
			 &kc->cert_pem_len, err, errlen) != 0 ||
	    file_or_data(fu, u, "client-key", "client-key-data", &kc->key_file, &kc->key_pem, &kc->key_pem_len, err,
			 errlen) != 0)
		return -1;
	kc->token = hg_kube_strdup(str(fu, u, "token"));
	const char *tf = str(fu, u, "tokenFile");
	kc->token_file = tf ? hg_kube_resolve_path(fu->dir, tf) : NULL;
	yaml_node_t *ex = get(fu, u, "exec");
	if (ex && ex->type == YAML_MAPPING_NODE && load_exec(kc, fu, ex, err, errlen) != 0)
		return -1;
	if (get(fu, u, "auth-provider")) {
		snprintf(err, errlen, "%s: user \"%s\" uses an auth-provider, which is not supported (use an exec plugin)",
			 fu->path, us);
		return -1;
	}
	return 0;
}

static void kset_free(struct kset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		yaml_document_delete(&s->f[i].doc);
		free(s->f[i].path);
		free(s->f[i].dir);
	}
}

int hg_kube_config_load(struct kube_config *kc, const struct kube_config_opts *o, char *err, size_t errlen)
{
	memset(kc, 0, sizeof(*kc));
	struct kset s = { 0 };
	const char *env = o && o->env_kubeconfig ? o->env_kubeconfig : getenv("KUBECONFIG");
	char *list = NULL;
	if (o && o->kubeconfig) {
		list = strdup(o->kubeconfig);
	} else if (env && *env) {
		list = strdup(env);
	} else {
		const char *home = getenv("HOME");
		size_t n = (home ? strlen(home) : 0) + 32;
		list = malloc(n);
		snprintf(list, n, "%s/.kube/config", home ? home : "");
	}
	int rc = 0;
	bool explicit = o && o->kubeconfig;
	char *save = NULL;
	for (char *p = explicit ? list : strtok_r(list, ":", &save); p && rc == 0;
	     p = explicit ? NULL : strtok_r(NULL, ":", &save)) {
		if (!*p)
			continue;
		/* kubectl skips KUBECONFIG entries that do not exist. */
		if (!explicit && access(p, F_OK) != 0 && errno == ENOENT)
			continue;
		if (s.n == KCFG_MAX_FILES) {
			snprintf(err, errlen, "KUBECONFIG names more than %d files", KCFG_MAX_FILES);
			rc = -1;
		} else if (load_file(&s.f[s.n], p, err, errlen) == 0) {
			s.n++;
		} else {
			rc = -1;
		}
	}
	if (rc == 0 && s.n == 0) {
		if (o && o->option)
			snprintf(err, errlen, "not in a cluster and no kubeconfig found (%s); set the %s option or KUBECONFIG",
				 list, o->option);
		else
			snprintf(err, errlen, "no kubeconfig found (%s); pass --kubeconfig or set KUBECONFIG", list);
		rc = -1;
	}
	free(list);
	if (rc == 0)
		rc = resolve(kc, &s, o ? o->context : NULL, err, errlen);
	kset_free(&s);
	if (rc != 0)
		hg_kube_config_free(kc);
	return rc;
}

int hg_kube_config_auto(struct kube_config *kc, const struct kube_config_opts *o, char *err, size_t errlen)
{
	const char *env = o && o->env_kubeconfig ? o->env_kubeconfig : getenv("KUBECONFIG");
	if (!(o && o->kubeconfig) && !(env && *env) && getenv("KUBERNETES_SERVICE_HOST"))
		return hg_kube_config_in_cluster(kc, NULL, err, errlen);
	return hg_kube_config_load(kc, o, err, errlen);
}

void hg_kube_config_free(struct kube_config *kc)
{
	free(kc->context);
	free(kc->cluster_name);
	free(kc->user_name);
	free(kc->namespace);
	free(kc->server);
	free(kc->ca_file);
	free(kc->ca_data_b64);
	free(kc->cert_file);
	free(kc->key_file);
	if (kc->token)
		explicit_bzero(kc->token, strlen(kc->token));
	free(kc->token);
	free(kc->token_file);
	if (kc->exec) {
		free(kc->exec->api_version);
		free(kc->exec->command);
		hg_kube_free_strv(kc->exec->argv);
		hg_kube_free_strv(kc->exec->env);
		free(kc->exec->install_hint);
		free(kc->exec);
	}
	free(kc->ca_pem);
	free(kc->cert_pem);
	hg_kube_free_secret(kc->key_pem, kc->key_pem_len);
	memset(kc, 0, sizeof(*kc));
}

const char *hg_kube_config_insecure_text(const struct kube_config *kc)
{
	if (!kc->insecure_skip_tls_verify)
		return "";
	return "sets insecure-skip-tls-verify: the API server's certificate is not verified, so anyone on the "
	       "network path can pose as it and read the credentials sent to it";
}

bool hg_kube_config_warn_insecure(const struct kube_config *kc, const char *who)
{
	if (!kc->insecure_skip_tls_verify)
		return false;
	log_warn(who, "the kubeconfig's cluster \"%s\" %s", kc->cluster_name ? kc->cluster_name : "?",
		 hg_kube_config_insecure_text(kc));
	return true;
}
