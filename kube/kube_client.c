/* Requests to the API server through the shared httpc client, with the
 * kubeconfig's TLS and credentials, one retry after a 401 when the
 * credentials can be refreshed, and errors turned into plain words. */
#include "kube_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_auth.h"
#include "kube_client_internal.h"
#include "url_redact.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE (8u << 20)
#define ERRBODY_MAX (64u << 10)

struct kreq {
	struct kube_client *c;
	struct kube_request rq;
	char *path, *content_type, *what;
	kube_done_fn done;
	void *arg;
	bool retried;
	long status;        /* from on_response, streaming only */
	bool forwarding;    /* streaming body goes to the caller */
	char *errbody;      /* streaming error body */
	size_t errlen;
	size_t streamed;    /* body bytes handed to the caller */
	struct kreq *next;  /* in the client's waiting list */
	unsigned gen;       /* the plugin run it waits for */
	uint64_t deadline;  /* loop time (ms) when its timeout ends; 0 = none */
};

static void auth_ready(void *arg, const char *err);

struct kube_client *hg_kube_client_new(uv_loop_t *loop, struct httpc *hc, const struct kube_config *kc, char *err,
				    size_t errlen)
{
	if (!kc || !kc->server) {
		snprintf(err, errlen, "no API server configured");
		return NULL;
	}
	if (strncmp(kc->server, "https://", 8) != 0 && strncmp(kc->server, "http://", 7) != 0) {
		char shown[512];
		snprintf(err, errlen, "API server \"%s\" is not an http(s) URL", hg_url_redact(kc->server, shown, sizeof shown));
		return NULL;
	}
	struct kube_client *c = calloc(1, sizeof(*c));
	c->loop = loop;
	c->kc = kc;
	c->hc = hc;
	if (!hc) {
		c->hc = hg_httpc_new(loop);
		c->own_hc = true;
		if (!c->hc) {
			free(c);
			snprintf(err, errlen, "cannot create the HTTP client");
			return NULL;
		}
	}
	hg_kube_auth_init(&c->auth, kc, loop, auth_ready, c);
	c->ua = strdup("heliograph/" HG_VERSION);
	return c;
}

static void kreq_free(struct kreq *k);
static void fail_waiter(struct kreq *k, const char *fmt, const char *detail);

static void timer_freed(uv_handle_t *h)
{
	free(h);
}

void hg_kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	c->closing = true;
	if (c->freed)
		*c->freed = true;
	/* As hg_httpc_free does for requests in flight: each ends now, with an error. */
	while (c->waiting) {
		struct kreq *k = c->waiting;
		c->waiting = k->next;
		fail_waiter(k, "%s: the Kubernetes client was closed before the exec plugin answered%s", "");
	}
	if (c->wait_timer)
		uv_close((uv_handle_t *)c->wait_timer, timer_freed);
	if (c->own_hc)
		hg_httpc_free(c->hc);
	hg_kube_auth_free(&c->auth);
	hg_kube_kinds_free(c);
	free(c->ua);
	free(c);
}

uv_loop_t *hg_kube_client_loop(struct kube_client *c)
{
	return c->loop;
}

const struct kube_config *hg_kube_client_config(struct kube_client *c)
{
	return c->kc;
}

unsigned hg_kube_client_exec_runs(const struct kube_client *c)
{
	return c->auth.exec_runs;
}

void hg_kube_client_set_exec_timeout(struct kube_client *c, int64_t ms)
{
	c->auth.exec_timeout_ms = ms;
}

void hg_kube_client_set_user_agent(struct kube_client *c, const char *ua)
{
	free(c->ua);
	c->ua = strdup(ua);
}

static void kreq_free(struct kreq *k)
{
	free(k->path);
	free(k->content_type);
	free(k->what);
	free(k->errbody);
	free(k);
}

static bool on_response(void *arg, long status, const char *ct)
{
	struct kreq *k = arg;
	k->status = status;
	k->forwarding = status >= 200 && status < 300;
	if (k->forwarding && k->rq.on_response)
		return k->rq.on_response(k->rq.on_data ? k->arg : NULL, status, ct);
	return true;
}

static bool on_data(void *arg, const char *p, size_t n)
{
	struct kreq *k = arg;
	if (k->forwarding) {
		k->streamed += n;
		return k->rq.on_data(k->arg, p, n);
	}
	if (k->errlen + n > ERRBODY_MAX)
		n = ERRBODY_MAX - k->errlen;
	char *nb = realloc(k->errbody, k->errlen + n + 1);
	if (!nb)
		return false;
	memcpy(nb + k->errlen, p, n);
	k->errbody = nb;
	k->errlen += n;
	nb[k->errlen] = '\0';
	return true;
}

static void on_done(void *arg, const struct httpc_response *r);

static int64_t timeout_of(const struct kreq *k)
{
	return k->rq.timeout_ms < 0 ? 0 : k->rq.timeout_ms ? k->rq.timeout_ms : DEFAULT_TIMEOUT_MS;
}

/* Sends k with the current credentials, within what is left of its timeout. */
static int send_now(struct kreq *k, char *err, size_t errlen)
{
	struct kube_client *c = k->c;
	int64_t timeout = 0;
	if (k->deadline) {
		uint64_t now = uv_now(c->loop);
		timeout = k->deadline > now ? (int64_t)(k->deadline - now) : 1;
	}
	size_t ul = strlen(c->kc->server) + strlen(k->path) + 1;
	char *url = malloc(ul);
	snprintf(url, ul, "%s%s", c->kc->server, k->path);
	char ctype[160];
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	if (k->content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", k->content_type);
		headers[1] = ctype;
	}
	struct httpc_request q = {
		.method = k->rq.method,
		.url = url,
		.headers = headers,
		.body = k->rq.body,
		.body_len = k->rq.body_len,
		.timeout_ms = timeout,
		.bearer_token = c->auth.token,
		.user_agent = c->ua,
		.max_response = k->rq.max_response ? k->rq.max_response : DEFAULT_MAX_RESPONSE,
		.on_data = k->rq.on_data ? on_data : NULL,
		.on_response = k->rq.on_data ? on_response : NULL,
	};
	hg_kube_auth_tls(&c->auth, &q.tls);
	k->status = 0;
	k->forwarding = false;
	free(k->errbody);
	k->errbody = NULL;
	k->errlen = 0;
	k->streamed = 0;
	int rc = hg_httpc_send(c->hc, &q, on_done, k, err, errlen);
	free(url);
	return rc;
}

/* Ends a request that never reached the server; fmt has %s for its name
 * and then for detail. */
static void fail_waiter(struct kreq *k, const char *fmt, const char *detail)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, k->what ? k->what : k->path, detail);
	struct kube_response kr = { .status = 0, .body = "", .message = msg };
	k->done(k->arg, &kr);
	kreq_free(k);
}

static void on_wait_timer(uv_timer_t *t);

/* The timer ends the waiting request whose timeout passes first. */
static void arm_wait_timer(struct kube_client *c)
{
	uint64_t first = 0;
	for (struct kreq *k = c->waiting; k; k = k->next)
		if (k->deadline && (!first || k->deadline < first))
			first = k->deadline;
	if (!first) {
		if (c->wait_timer)
			uv_timer_stop(c->wait_timer);
		return;
	}
	if (!c->wait_timer) {
		c->wait_timer = malloc(sizeof *c->wait_timer);
		uv_timer_init(c->loop, c->wait_timer);
		c->wait_timer->data = c;
	}
	uint64_t now = uv_now(c->loop);
	uv_timer_start(c->wait_timer, on_wait_timer, first > now ? first - now : 0, 0);
}

static struct kreq *unlink_waiter(struct kube_client *c, struct kreq *k)
{
	for (struct kreq **p = &c->waiting; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			k->next = NULL;
			return k;
		}
	return NULL;
}

static void on_wait_timer(uv_timer_t *t)
{
	struct kube_client *c = t->data;
	bool freed = false, *outer = c->freed;
	c->freed = &freed;
	for (;;) {
		uint64_t now = uv_now(c->loop);
		struct kreq *k = c->waiting;
		while (k && !(k->deadline && k->deadline <= now))
			k = k->next;
		if (!k)
			break;
		unlink_waiter(c, k);
		char detail[600];
		snprintf(detail, sizeof detail, "the exec plugin \"%s\" has not answered within the request's timeout",
			 c->kc->exec->command);
		fail_waiter(k, "%s: no credentials: %s", detail);
		if (freed) {
			if (outer)
				*outer = true;
			return;
		}
	}
	c->freed = outer;
	arm_wait_timer(c);
}

/* The plugin answered (err NULL) or failed: the requests that waited for
 * this run go out, or end with its error. Those queued meanwhile for a
 * later run stay. */
static void auth_ready(void *arg, const char *err)
{
	struct kube_client *c = arg;
	unsigned gen = c->auth_gen++;
	bool freed = false, *outer = c->freed;
	c->freed = &freed;
	while (c->waiting && c->waiting->gen == gen) {
		struct kreq *k = c->waiting;
		c->waiting = k->next;
		k->next = NULL;
		char e[512];
		if (err)
			fail_waiter(k, "%s: %s", err);
		else if (send_now(k, e, sizeof e) != 0)
			fail_waiter(k, "%s: %s", e);
		if (freed) {
			if (outer)
				*outer = true;
			return;
		}
	}
	c->freed = outer;
	arm_wait_timer(c);
}

static int start(struct kreq *k, char *err, size_t errlen)
{
	struct kube_client *c = k->c;
	int64_t t = timeout_of(k);
	k->deadline = t ? uv_now(c->loop) + (uint64_t)t : 0;
	int rc = hg_kube_auth_refresh(&c->auth, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return send_now(k, err, errlen);
	/* The plugin is running: wait for it, in order. */
	k->gen = c->auth_gen;
	struct kreq **p = &c->waiting;
	while (*p)
		p = &(*p)->next;
	*p = k;
	arm_wait_timer(c);
	return 0;
}

static void on_done(void *arg, const struct httpc_response *r)
{
	struct kreq *k = arg;
	struct kube_client *c = k->c;
	long status = r->status;
	if (status == 401 && !k->retried && r->curl_code == 0 && hg_kube_auth_invalidate(&c->auth)) {
		char err[512];
		k->retried = true;
		if (start(k, err, sizeof(err)) == 0)
			return;
		struct kube_response kr = { .status = 0, .body = "", .message = err };
		k->done(k->arg, &kr);
		kreq_free(k);
		return;
	}
	const char *body = k->rq.on_data ? (k->errbody ? k->errbody : "") : (r->body ? r->body : "");
	size_t blen = k->rq.on_data ? k->errlen : r->body_len;
	char msg[2048] = "", server[512];
	/* A kubeconfig's server may hold user:password@: never in a message. */
	hg_url_redact(c->kc->server, server, sizeof server);
	bool streamed_ok = k->rq.on_data && status >= 200 && status < 300;
	/* 42: on_data said stop (the caller knows why); any other error after a
	 * 2xx began is the body breaking off, not an unreachable server. */
	bool broken_off = streamed_ok && r->curl_code != 0 && r->curl_code != 42;
	if (broken_off)
		snprintf(msg, sizeof(msg), "%s: the response of %s broke off after %zu bytes: %s",
			 k->what ? k->what : k->path, server, k->streamed,
			 r->error && *r->error ? r->error : "transport error");
	else if (r->curl_code != 0 && !(streamed_ok && r->curl_code == 42))
		snprintf(msg, sizeof(msg), "%s: cannot reach the API server %s: %s", k->what ? k->what : k->path,
			 server, r->error && *r->error ? r->error : "transport error");
	else if (status < 200 || status >= 300)
		hg_kube_status_message(status, body, blen, k->what ? k->what : k->path, c->kc, msg, sizeof(msg));
	struct kube_response kr = { .status = r->curl_code != 0 && !(status >= 200 && status < 300) ? 0 : status,
				    .body = body,
				    .body_len = blen,
				    .message = msg,
				    .broken_off = broken_off };
	k->done(k->arg, &kr);
	kreq_free(k);
}

int hg_kube_send(struct kube_client *c, const struct kube_request *rq, kube_done_fn done, void *arg, char *err,
	      size_t errlen)
{
	if (c->closing) {
		snprintf(err, errlen, "the Kubernetes client is closing");
		return -1;
	}
	struct kreq *k = calloc(1, sizeof(*k));
	k->c = c;
	k->rq = *rq;
	k->path = strdup(rq->path);
	k->content_type = rq->content_type ? strdup(rq->content_type) : NULL;
	k->what = rq->what ? strdup(rq->what) : NULL;
	k->done = done;
	k->arg = arg;
	if (start(k, err, errlen) != 0) {
		kreq_free(k);
		return -1;
	}
	return 0;
}

struct sync_state {
	bool done;
	long status;
	char *body;
	char msg[2048];
};

static void sync_done(void *arg, const struct kube_response *r)
{
	struct sync_state *s = arg;
	s->done = true;
	s->status = r->status;
	s->body = malloc(r->body_len + 1);
	memcpy(s->body, r->body, r->body_len);
	s->body[r->body_len] = '\0';
	snprintf(s->msg, sizeof(s->msg), "%s", r->message);
}

int hg_kube_call(struct kube_client *c, const struct kube_request *rq, char **body, char *err, size_t errlen)
{
	struct sync_state s = { 0 };
	if (hg_kube_send(c, rq, sync_done, &s, err, errlen) != 0)
		return KUBE_ERR;
	while (!s.done)
		uv_run(c->loop, UV_RUN_ONCE);
	int rc = s.status == 0 ? KUBE_ERR : hg_kube_status_code(s.status);
	if (rc != 0)
		snprintf(err, errlen, "%s", s.msg);
	if (body)
		*body = s.body;
	else
		free(s.body);
	return rc;
}
