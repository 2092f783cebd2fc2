/* Object-level calls for the CLI: get, list, delete and server-side apply. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <yajl/yajl_tree.h>

#include "kube_client_internal.h"
#include "kube_util.h"

#define OBJ_MAX_BYTES (4u << 20)

void hg_kube_ident_free(struct kube_ident *id)
{
	free(id->api_version);
	free(id->kind);
	free(id->name);
	free(id->namespace);
	free(id->resource_version);
	memset(id, 0, sizeof(*id));
}

static const char *scalar_at(yaml_document_t *d, yaml_node_t *m, const char *key, yaml_node_t **child)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0) {
			if (child)
				*child = v;
			return v && v->type == YAML_SCALAR_NODE && v->data.scalar.length ? (char *)v->data.scalar.value
											 : NULL;
		}
	}
	return NULL;
}

int hg_kube_ident_parse(const char *doc, size_t len, struct kube_ident *id, char *err, size_t errlen)
{
	memset(id, 0, sizeof(*id));
	if (len > OBJ_MAX_BYTES) {
		snprintf(err, errlen, "object larger than %u bytes", OBJ_MAX_BYTES);
		return -1;
	}
	yaml_parser_t p;
	yaml_document_t d;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	if (!yaml_parser_load(&p, &d)) {
		snprintf(err, errlen, "object is not valid YAML (line %zu: %s)", p.problem_mark.line + 1,
			 p.problem ? p.problem : "?");
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_parser_delete(&p);
	yaml_node_t *root = yaml_document_get_root_node(&d), *meta = NULL;
	id->api_version = hg_kube_strdup(scalar_at(&d, root, "apiVersion", NULL));
	id->kind = hg_kube_strdup(scalar_at(&d, root, "kind", NULL));
	scalar_at(&d, root, "metadata", &meta);
	id->name = hg_kube_strdup(scalar_at(&d, meta, "name", NULL));
	id->namespace = hg_kube_strdup(scalar_at(&d, meta, "namespace", NULL));
	id->resource_version = hg_kube_strdup(scalar_at(&d, meta, "resourceVersion", NULL));
	yaml_document_delete(&d);
	if (!id->api_version || !id->kind || !id->name) {
		snprintf(err, errlen, "object lacks %s", !id->api_version ? "apiVersion" : !id->kind ? "kind" : "metadata.name");
		hg_kube_ident_free(id);
		return -1;
	}
	return 0;
}

/* Names end up in URL paths: refuse what would change the URL's meaning. */
static int check_name(const char *what, const char *s, char *err, size_t errlen)
{
	if (s && (!*s || strpbrk(s, "/?#% \t\r\n") || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
		snprintf(err, errlen, "invalid %s \"%s\"", what, s);
		return -1;
	}
	return 0;
}

static int obj_path(struct kube_client *c, const char *api_version, const char *kind, const char *ns,
		    const char *name, char *path, size_t plen, char *what, size_t wlen, const char *verb, char *err,
		    size_t errlen)
{
	if (check_name("name", name, err, errlen) != 0 || check_name("namespace", ns, err, errlen) != 0)
		return KUBE_ERR;
	int rc = hg_kube_resource_path(c, api_version, kind, ns, name, path, plen, NULL, err, errlen);
	if (rc == 0)
		snprintf(what, wlen, "%s %s%s%s%s%s", verb, kind, name ? " " : "", name ? name : "", ns ? " in namespace " : "",
			 ns ? ns : "");
	return rc;
}

int hg_kube_get(struct kube_client *c, const char *api_version, const char *kind, const char *ns, const char *name,
	     char **out, char *err, size_t errlen)
{
	char path[1024], what[512];
	int rc = obj_path(c, api_version, kind, ns, name, path, sizeof(path), what, sizeof(what), "get", err, errlen);
	if (rc != 0)
		return rc;
	struct kube_request rq = { .method = "GET", .path = path, .what = what };
	char *body = NULL;
	rc = hg_kube_call(c, &rq, &body, err, errlen);
	if (rc == 0 && out)
		*out = body;
	else
		free(body);
	return rc;
}

static void add_param(char *path, size_t plen, const char *key, const char *value)
{
	if (!value)
		return;
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t n = strlen(path);
	snprintf(path + n, plen - n, "%s%s=%s", strchr(path, '?') ? "&" : "?", key, esc ? esc : "");
	curl_free(esc);
}

int hg_kube_list(struct kube_client *c, const char *api_version, const char *kind, const char *ns,
	      const char *label_selector, const char *field_selector, char **out, char *err, size_t errlen)
{
	char path[2048], what[512];
	int rc = obj_path(c, api_version, kind, ns, NULL, path, 1024, what, sizeof(what), "list", err, errlen);
	if (rc != 0)
		return rc;
	add_param(path, sizeof(path), "labelSelector", label_selector);
	add_param(path, sizeof(path), "fieldSelector", field_selector);
	struct kube_request rq = { .method = "GET", .path = path, .what = what };
	char *body = NULL;
	rc = hg_kube_call(c, &rq, &body, err, errlen);
	if (rc == 0 && out)
		*out = body;
	else
		free(body);
	return rc;
}

int hg_kube_delete(struct kube_client *c, const char *api_version, const char *kind, const char *ns, const char *name,
		char *err, size_t errlen)
{
	char path[1024], what[512];
	int rc = obj_path(c, api_version, kind, ns, name, path, sizeof(path), what, sizeof(what), "delete", err, errlen);
	if (rc != 0)
		return rc;
	/* Foreground would keep the object until its dependents are gone;
	 * Background matches kubectl delete's default. */
	static const char body[] = "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Background\"}";
	struct kube_request rq = { .method = "DELETE", .path = path, .what = what, .content_type = "application/json",
				   .body = body, .body_len = sizeof(body) - 1 };
	return hg_kube_call(c, &rq, NULL, err, errlen);
}

static char *json_rv(const char *body)
{
	char perr[64];
	yajl_val v = body ? yajl_tree_parse(body, perr, sizeof(perr)) : NULL;
	const char *p[] = { "metadata", "resourceVersion", NULL };
	yajl_val rv = v ? yajl_tree_get(v, p, yajl_t_string) : NULL;
	char *s = rv ? strdup(rv->u.string) : NULL;
	yajl_tree_free(v);
	return s;
}

int hg_kube_apply(struct kube_client *c, const char *doc, size_t len, const struct kube_apply_opts *o, char **out,
	       bool *changed, char *err, size_t errlen)
{
	struct kube_ident id;
	if (hg_kube_ident_parse(doc, len, &id, err, errlen) != 0)
		return KUBE_ERR;
	char path[2048], what[512];
	bool namespaced = false;
	const char *plural;
	int rc = check_name("name", id.name, err, errlen) || check_name("namespace", id.namespace, err, errlen)
			 ? KUBE_ERR
			 : hg_kube_kind_lookup(c, id.api_version, id.kind, &plural, &namespaced, err, errlen);
	const char *ns = NULL;
	if (rc == 0 && namespaced)
		ns = id.namespace ? id.namespace : o && o->default_namespace ? o->default_namespace : c->kc->namespace;
	if (rc == 0)
		rc = obj_path(c, id.api_version, id.kind, ns, id.name, path, 1024, what, sizeof(what), "apply", err, errlen);
	char *before = NULL;
	if (rc == 0 && changed) {
		char *cur = NULL;
		char gerr[512];
		struct kube_request g = { .method = "GET", .path = path, .what = what };
		int grc = hg_kube_call(c, &g, &cur, gerr, sizeof(gerr));
		if (grc == 0)
			before = json_rv(cur);
		else if (grc != KUBE_ENOTFOUND) {
			snprintf(err, errlen, "%s", gerr);
			rc = grc;
		}
		free(cur);
	}
	if (rc == 0) {
		add_param(path, sizeof(path), "fieldManager", o && o->field_manager ? o->field_manager : "agentctl");
		if (o && o->force)
			add_param(path, sizeof(path), "force", "true");
		if (o && o->dry_run)
			add_param(path, sizeof(path), "dryRun", "All");
		struct kube_request rq = { .method = "PATCH", .path = path, .what = what,
					   .content_type = "application/apply-patch+yaml", .body = doc, .body_len = len };
		char *body = NULL;
		rc = hg_kube_call(c, &rq, &body, err, errlen);
		if (rc == 0 && changed) {
			char *after = json_rv(body);
			*changed = !before || !after || strcmp(before, after) != 0;
			free(after);
		}
		if (rc == 0 && out)
			*out = body;
		else
			free(body);
	}
	free(before);
	hg_kube_ident_free(&id);
	return rc;
}
