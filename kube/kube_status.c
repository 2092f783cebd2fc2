/* API errors in plain words. The API server answers errors with a Status
 * object (reason, message, details.causes); we keep its message, add the
 * field-level causes, and say what the user should check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "kube_client.h"
#include "url_redact.h"

int hg_kube_status_code(long s)
{
	if (s >= 200 && s < 300)
		return 0;
	switch (s) {
	case 0:
		return KUBE_ERR;
	case 401:
	case 403:
		return KUBE_EAUTH;
	case 404:
		return KUBE_ENOTFOUND;
	case 409:
		return KUBE_ECONFLICT;
	case 422:
		return KUBE_EINVALID;
	default:
		return KUBE_EHTTP;
	}
}

static const char *jget(yajl_val v, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	yajl_val s = v ? yajl_tree_get(v, path, yajl_t_string) : NULL;
	return s ? YAJL_GET_STRING(s) : NULL;
}

/* Appends "; field: message" for each details.causes entry the message does not already carry. */
static void add_causes(yajl_val st, const char *msg, char *out, size_t outlen)
{
	const char *path[] = { "details", "causes", NULL };
	/* Asked for by type, causes is an array or NULL: its u.array is read directly. */
	yajl_val causes = st ? yajl_tree_get(st, path, yajl_t_array) : NULL;
	for (size_t i = 0; causes && i < causes->u.array.len; i++) {
		yajl_val c = causes->u.array.values[i];
		const char *f = jget(c, "field", NULL), *m = jget(c, "message", NULL);
		if (!m)
			continue;
		char item[512];
		snprintf(item, sizeof(item), "%s%s%s", f ? f : "", f ? ": " : "", m);
		if (msg && strstr(msg, item))
			continue;
		size_t n = strlen(out);
		snprintf(out + n, outlen - n, "; %s", item);
	}
}

void hg_kube_status_message(long status, const char *body, size_t len, const char *what, const struct kube_config *kc,
			 char *out, size_t outlen)
{
	(void)len;
	char perr[64];
	yajl_val st = body && body[0] == '{' ? yajl_tree_parse(body, perr, sizeof(perr)) : NULL;
	const char *kind = jget(st, "kind", NULL);
	if (kind && strcmp(kind, "Status") != 0) {
		yajl_tree_free(st);
		st = NULL;
	}
	const char *msg = jget(st, "message", NULL), *reason = jget(st, "reason", NULL);
	const char *ctx = kc && kc->context ? kc->context : "?";
	const char *user = kc && kc->user_name ? kc->user_name : kc && kc->in_cluster ? "the pod's service account" : "?";
	const char *w = what ? what : "request";
	switch (status) {
	case 401:
		snprintf(out, outlen,
			 "%s: the API server did not accept our credentials (401 Unauthorized). Check user \"%s\" of "
			 "context \"%s\" in the kubeconfig: its token, client certificate or exec plugin (for EKS, that "
			 "`aws eks get-token` works with the AWS profile in use), and that the credentials have not expired",
			 w, user, ctx);
		break;
	case 403:
		snprintf(out, outlen,
			 "%s: permission denied (403 Forbidden): %s. The credentials work, but their RBAC "
			 "Role/ClusterRole bindings do not allow this; ask a cluster admin, or use a context with more rights",
			 w, msg ? msg : "forbidden");
		break;
	case 404:
		snprintf(out, outlen, "%s: not found (404): %s", w,
			 msg ? msg : "the server has no such resource (is the API group installed on this cluster?)");
		break;
	case 409:
		if (reason && strcmp(reason, "Conflict") == 0 && msg && strstr(msg, "conflict"))
			snprintf(out, outlen,
				 "%s: conflict (409): %s. Another field manager owns these fields; re-run with force to "
				 "take them over",
				 w, msg);
		else
			snprintf(out, outlen, "%s: conflict (409): %s", w, msg ? msg : "the object changed or already exists");
		add_causes(st, msg, out, outlen);
		break;
	case 422:
		snprintf(out, outlen, "%s: rejected as invalid (422): %s", w, msg ? msg : "the object is invalid");
		add_causes(st, msg, out, outlen);
		break;
	case 0:
	{
		char shown[512] = "";
		if (kc && kc->server)
			hg_url_redact(kc->server, shown, sizeof shown);
		snprintf(out, outlen, "%s: no answer from the API server %s", w, shown);
	}
		break;
	default:
		snprintf(out, outlen, "%s: the API server answered %ld%s%s%s%s", w, status, reason ? " " : "",
			 reason ? reason : "", msg ? ": " : "", msg ? msg : "");
		break;
	}
	yajl_tree_free(st);
}
