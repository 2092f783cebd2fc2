/* Keeps the bearer token (or exec client certificate) current. */
#include "kube_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_util.h"

#define TOKEN_MAX (64u << 10)

void hg_kube_auth_init(struct kube_auth *a, const struct kube_config *kc, uv_loop_t *loop,
		    void (*ready)(void *arg, const char *err), void *ready_arg)
{
	memset(a, 0, sizeof(*a));
	a->kc = kc;
	a->loop = loop;
	a->ready = ready;
	a->ready_arg = ready_arg;
}

static void set_token(struct kube_auth *a, char *t)
{
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	a->token = t;
}

static void forget_cert(struct kube_auth *a)
{
	free(a->cert_pem);
	hg_kube_free_secret(a->key_pem, a->key_pem ? strlen(a->key_pem) : 0);
	a->cert_pem = a->key_pem = NULL;
}

static int refresh_file(struct kube_auth *a, char *err, size_t errlen)
{
	struct stat st;
	if (stat(a->kc->token_file, &st) != 0) {
		if (a->token)
			return 0; /* keep the last good token while the file is being replaced */
		snprintf(err, errlen, "token file %s is missing", a->kc->token_file);
		return -1;
	}
	if (a->token && st.st_mtim.tv_sec == a->file_mtime.tv_sec && st.st_mtim.tv_nsec == a->file_mtime.tv_nsec &&
	    st.st_size == a->file_size)
		return 0;
	char *t;
	if (hg_kube_read_file(a->kc->token_file, TOKEN_MAX, &t, NULL, err, errlen) != 0)
		return -1;
	t[strcspn(t, "\r\n")] = '\0';
	set_token(a, t);
	a->file_mtime = st.st_mtim;
	a->file_size = st.st_size;
	return 0;
}

static void exec_done(void *arg, int rc, struct kube_exec_result *r, const char *err)
{
	struct kube_auth *a = arg;
	a->running = NULL;
	if (rc == 0) {
		set_token(a, r->token);
		r->token = NULL;
		a->expiry = r->expiry;
		forget_cert(a);
		if (r->cert_pem && r->key_pem) {
			a->cert_pem = r->cert_pem;
			a->key_pem = r->key_pem;
			r->cert_pem = r->key_pem = NULL;
		}
		hg_kube_exec_result_free(r);
	}
	a->ready(a->ready_arg, rc == 0 ? NULL : err);
}

static int refresh_exec(struct kube_auth *a, char *err, size_t errlen)
{
	if (a->running)
		return 1;
	time_t now = a->now ? a->now() : time(NULL);
	bool have = a->token || a->cert_pem;
	if (have && (a->expiry == 0 || now < a->expiry))
		return 0;
	a->exec_runs++;
	a->running = hg_kube_exec_start(a->loop, a->kc, a->exec_timeout_ms, exec_done, a, err, errlen);
	return a->running ? 1 : -1;
}

int hg_kube_auth_refresh(struct kube_auth *a, char *err, size_t errlen)
{
	const struct kube_config *kc = a->kc;
	if (kc->exec)
		return refresh_exec(a, err, errlen);
	if (kc->token_file && !kc->token)
		return refresh_file(a, err, errlen);
	if (kc->token && !a->token)
		a->token = strdup(kc->token);
	return 0;
}

bool hg_kube_auth_invalidate(struct kube_auth *a)
{
	if (a->kc->exec) {
		set_token(a, NULL);
		forget_cert(a);
		return true;
	}
	if (a->kc->token_file && !a->kc->token) {
		/* Force a re-read: the kubelet may have just rotated it. */
		a->file_mtime.tv_sec = 0;
		a->file_mtime.tv_nsec = 0;
		return true;
	}
	return false;
}

void hg_kube_auth_tls(const struct kube_auth *a, struct httpc_tls *tls)
{
	const struct kube_config *kc = a->kc;
	*tls = (struct httpc_tls){ .ca_file = kc->ca_file,
				   .ca = { kc->ca_pem, kc->ca_pem_len },
				   .insecure_skip_verify = kc->insecure_skip_tls_verify };
	if (a->cert_pem) {
		tls->cert = (struct httpc_pem){ a->cert_pem, strlen(a->cert_pem) };
		tls->key = (struct httpc_pem){ a->key_pem, strlen(a->key_pem) };
		return;
	}
	tls->cert_file = kc->cert_file;
	tls->key_file = kc->key_file;
	tls->cert = (struct httpc_pem){ kc->cert_pem, kc->cert_pem_len };
	tls->key = (struct httpc_pem){ kc->key_pem, kc->key_pem_len };
}

void hg_kube_auth_free(struct kube_auth *a)
{
	hg_kube_exec_abandon(a->running);
	set_token(a, NULL);
	forget_cert(a);
	memset(a, 0, sizeof(*a));
}
