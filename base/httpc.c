/* libcurl multi on the libuv loop. curl tells us which sockets to watch
 * (socket callback -> one uv_poll each) and when to wake it up (timer
 * callback -> one uv_timer); we hand readiness back with
 * curl_multi_socket_action and collect finished transfers afterwards. */
#include "httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Applied when a request leaves max_response at 0, so a forgotten limit can
 * never let a hostile server grow the agent without bound. */
#define HTTPC_DEFAULT_MAX_RESPONSE (1u << 20)

/* The transport error of a connect() that failed with EPERM (see
 * transport_error; docs/SECURITY.md, "The systemd unit"). */
#define HTTPC_EPERM_TEXT                                                                                  \
	"Operation not permitted (EPERM: a firewall or systemd IPAddressDeny= refuses this address; allow it " \
	"with IPAddressAllow=, see packaging/heliograph-agent.service)"

struct req {
	struct req *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	httpc_done_fn done;
	void *arg;
	bool (*on_data)(void *arg, const char *p, size_t n);
	bool (*on_response)(void *arg, long status, const char *content_type);
	bool response_seen;
	char *body;
	size_t body_len, body_cap, max_response;
	bool truncated;
	int64_t retry_after_ms;
	bool deferred; /* sent from inside a curl callback: added to the multi handle after it */
	char errbuf[CURL_ERROR_SIZE];
};

struct httpc {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct req *reqs; /* in flight, doubly linked for O(1) removal */
	size_t active;
	bool closing;
	/* Inside curl_multi_socket_action, whose callbacks (a streamed body's on_data: a scrape
	 * filling a batch) may send a request: curl refuses curl_multi_add_handle from within its
	 * callbacks, so those requests wait in the list, marked deferred, until the action ends. */
	int in_action;
	size_t ndeferred;
};

struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct httpc *c;
};

static void check_multi_info(struct httpc *c);
static void req_finish(struct httpc *c, struct req *r, CURLcode code);

/* Adds the requests sent during the action that just ended; one curl refuses is finished with
 * its error, as hg_httpc_send would have returned it. */
static void add_deferred(struct httpc *c)
{
	while (c->ndeferred && !c->closing) {
		struct req *r = c->reqs;
		while (r && !r->deferred)
			r = r->next;
		if (!r)
			break;
		r->deferred = false;
		c->ndeferred--;
		CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);
		if (mc != CURLM_OK) {
			snprintf(r->errbuf, sizeof(r->errbuf), "curl_multi_add_handle: %s", curl_multi_strerror(mc));
			req_finish(c, r, CURLE_FAILED_INIT);
		}
	}
}

/* curl_multi_socket_action, with the requests its callbacks sent added after it. */
static void socket_action(struct httpc *c, curl_socket_t fd, int flags)
{
	int running;
	c->in_action++;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	c->in_action--;
	if (c->in_action == 0)
		add_deferred(c);
}

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	struct httpc *c = s->c;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed inside socket_action (CURL_POLL_REMOVE): not touched after. */
	socket_action(c, s->fd, flags);
	check_multi_info(c);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct httpc *c = userp;
	struct sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, sock_closed);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->fd = fd;
		s->c = c;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		curl_multi_assign(c->multi, fd, s);
	}
	int ev = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= UV_WRITABLE;
	return uv_poll_start(&s->poll, ev, on_poll) == 0 ? 0 : -1;
}

static void on_timer(uv_timer_t *t)
{
	struct httpc *c = t->data;
	socket_action(c, CURL_SOCKET_TIMEOUT, 0);
	check_multi_info(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct httpc *c = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else /* 0 too goes through the loop: curl forbids re-entering socket_action from here */
		uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* The list's head is known by identity, not by a NULL prev: the client is
 * passed in, so "r was c's head, c's head is now r's successor" holds on
 * every path a reader (or the analyser) can follow, and hg_httpc_free's
 * "finish the head until none is left" never sees a freed head. */
static void req_unlink(struct httpc *c, struct req *r)
{
	if (c->reqs == r)
		c->reqs = r->next;
	else
		r->prev->next = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	c->active--;
}

static void req_free(struct req *r)
{
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r);
}

/* The text for a transport error. A connect() refused with EPERM is no
 * network fault: a packet filter of this host said no, most likely the
 * systemd unit's IPAddressDeny=any (loopback only) for a server elsewhere;
 * curl's own text ("Couldn't connect to server") hides that, so say it. */
static const char *transport_error(struct req *r, CURLcode code)
{
	long os_errno = 0;
	if (code == CURLE_COULDNT_CONNECT && curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    os_errno == EPERM) {
		/* Which address (the server's or a proxy's): curl's own text says,
		 * "Failed to connect to HOST port N after T ms: ..."; no user
		 * information is in it. CURLINFO_PRIMARY_IP is unset when no
		 * connection was made. */
		static const char lead[] = "Failed to connect to ";
		const char *a = strncmp(r->errbuf, lead, sizeof(lead) - 1) == 0 ? r->errbuf + sizeof(lead) - 1 : NULL;
		const char *end = a ? strstr(a, " after ") : NULL;
		if (a && !end)
			end = strstr(a, ": ");
		char addr[160] = "";
		if (a && end && (size_t)(end - a) < sizeof(addr))
			snprintf(addr, sizeof(addr), " to %.*s", (int)(end - a), a);
		snprintf(r->errbuf, sizeof(r->errbuf), "connect%s: %s", addr, HTTPC_EPERM_TEXT);
		return r->errbuf;
	}
	return r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
}

/* Removes r from the multi handle, reports it and frees it. */
static void req_finish(struct httpc *c, struct req *r, CURLcode code)
{
	curl_multi_remove_handle(c->multi, r->easy);
	req_unlink(c, r);

	struct httpc_response resp = { 0 };
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	resp.status = status;
	resp.curl_code = (int)code;
	if (code != CURLE_OK)
		resp.error = transport_error(r, code);
	else
		resp.error = "";
	resp.body = r->body ? r->body : "";
	resp.body_len = r->body_len;
	resp.body_truncated = r->truncated;
	resp.retry_after_ms = r->retry_after_ms;
	char *ct = NULL;
	if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
		resp.content_type = ct;
	double total = 0;
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total);
	resp.total_seconds = total;
	r->done(r->arg, &resp);
	req_free(r);
}

static void check_multi_info(struct httpc *c)
{
	CURLMsg *m;
	int left;
	/* A done callback may call hg_httpc_free, which drains everything itself. */
	while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct req *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		req_finish(c, r, m->data.result);
	}
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	struct req *r = userp;
	size_t n = size * nmemb;
	if (r->on_response && !r->response_seen) {
		r->response_seen = true;
		long status = 0;
		char *ct = NULL;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
		if (!r->on_response(r->arg, status, ct))
			return 0;
	}
	if (r->on_data)
		return r->on_data(r->arg, p, n) ? n : 0;
	size_t room = r->max_response - r->body_len;
	size_t keep = n < room ? n : room;
	if (keep < n)
		r->truncated = true;
	if (keep == 0)
		return n;
	if (r->body_len + keep + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + keep + 1)
			cap *= 2;
		if (cap > r->max_response + 1)
			cap = r->max_response + 1;
		char *nb = realloc(r->body, cap);
		if (!nb)
			return 0; /* aborts with CURLE_WRITE_ERROR */
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, keep);
	r->body_len += keep;
	r->body[r->body_len] = '\0';
	return n;
}

/* Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static int64_t parse_retry_after(const char *v, size_t n)
{
	char buf[128];
	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	bool digits = true;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)buf[i]))
			digits = false;
	if (digits) {
		if (n > 9) /* more than 30 years: treat as nonsense rather than overflow */
			return -1;
		return (int64_t)strtol(buf, NULL, 10) * 1000;
	}
	time_t when = curl_getdate(buf, NULL);
	if (when == (time_t)-1)
		return -1;
	time_t now = time(NULL);
	return when > now ? (int64_t)(when - now) * 1000 : 0;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	struct req *r = userp;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	/* A new status line (redirect, 100-continue) starts a new header set. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		r->retry_after_ms = -1;
	else if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
		r->retry_after_ms = parse_retry_after(p + sizeof(name) - 1, n - (sizeof(name) - 1));
	return n;
}

struct httpc *hg_httpc_new(uv_loop_t *loop)
{
	struct httpc *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->loop = loop;
	if (uv_timer_init(loop, &c->timer) != 0) {
		free(c);
		return NULL;
	}
	c->timer.data = c;
	return c;
}

/* libcurl is loaded (curl_lazy.c) and the multi handle made by the first request, so an agent
 * whose plugins never speak HTTP never maps libcurl and its forty libraries. */
static int ensure_multi(struct httpc *c, char *err, size_t errlen)
{
	if (c->multi)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl could not be loaded or initialised (see the log)");
		return -1;
	}
	c->multi = curl_multi_init();
	if (!c->multi) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void hg_httpc_free(struct httpc *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	while (c->reqs)
		req_finish(c, c->reqs, CURLE_ABORTED_BY_CALLBACK);
	bool had_multi = c->multi != NULL;
	if (had_multi)
		curl_multi_cleanup(c->multi); /* closes cached connections: their polls close via socket_cb */
	c->multi = NULL;
	uv_timer_stop(&c->timer);
	/* The struct goes when the loop has processed the close. */
	uv_close((uv_handle_t *)&c->timer, timer_closed);
	if (had_multi)
		curl_global_cleanup();
}

size_t hg_httpc_active(const struct httpc *c)
{
	return c->active;
}

static int set_method(CURL *e, const struct httpc_request *q)
{
	const char *m = q->method ? q->method : "GET";
	if (strcmp(m, "GET") == 0 && !q->body)
		return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (strcmp(m, "HEAD") == 0)
		return curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	CURLcode rc = CURLE_OK;
	if (q->body || strcmp(m, "POST") == 0) {
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body ? q->body : "");
	}
	if (strcmp(m, "POST") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	return rc;
}

static int build_headers(struct req *r, const struct httpc_request *q)
{
	/* curl would otherwise wait up to a second for "100 Continue" on big posts. */
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");
	if (!l)
		return -1;
	for (const char *const *h = q->headers; h && *h; h++) {
		struct curl_slist *n = curl_slist_append(l, *h);
		if (!n)
			goto fail;
		l = n;
	}
	if (q->bearer_token) {
		static const char pfx[] = "Authorization: Bearer ";
		size_t tl = strlen(q->bearer_token);
		char *line = malloc(sizeof(pfx) + tl);
		if (!line)
			goto fail;
		memcpy(line, pfx, sizeof(pfx) - 1);
		memcpy(line + sizeof(pfx) - 1, q->bearer_token, tl + 1);
		struct curl_slist *n = curl_slist_append(l, line);
		/* curl copied it: don't leave the token lying in freed heap. */
		explicit_bzero(line, sizeof(pfx) + tl);
		free(line);
		if (!n)
			goto fail;
		l = n;
	}
	r->headers = l;
	return 0;
fail:
	curl_slist_free_all(l);
	return -1;
}

int hg_httpc_send(struct httpc *c, const struct httpc_request *q, httpc_done_fn done, void *arg, char *err,
	       size_t errlen)
{
	if (c->closing) {
		snprintf(err, errlen, "http client is shutting down");
		return -1;
	}
	if (!q->url || !done) {
		snprintf(err, errlen, "http request without url or callback");
		return -1;
	}
	if (ensure_multi(c, err, errlen) != 0)
		return -1;
	struct req *r = calloc(1, sizeof(*r));
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->done = done;
	r->arg = arg;
	r->on_data = q->on_data;
	r->on_response = q->on_data ? q->on_response : NULL;
	r->max_response = q->max_response ? q->max_response : HTTPC_DEFAULT_MAX_RESPONSE;
	r->retry_after_ms = -1;
	CURL *e = r->easy;
	if (build_headers(r, q) != 0) {
		req_free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	CURLcode rc = CURLE_OK;
	rc |= curl_easy_setopt(e, CURLOPT_URL, q->url);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl decodes */
	if (q->timeout_ms > 0)
		rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
	if (q->username) {
		rc |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		rc |= curl_easy_setopt(e, CURLOPT_USERNAME, q->username);
		rc |= curl_easy_setopt(e, CURLOPT_PASSWORD, q->password ? q->password : "");
	}
	if (q->proxy)
		rc |= curl_easy_setopt(e, CURLOPT_PROXY, q->proxy);
	if (q->user_agent)
		rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, q->user_agent);
	/* Blobs (libcurl 7.77+; Debian 12 has 7.88) are copied by curl here. */
	struct curl_blob ca = { (void *)q->tls.ca.data, q->tls.ca.len, CURL_BLOB_COPY },
			 cert = { (void *)q->tls.cert.data, q->tls.cert.len, CURL_BLOB_COPY },
			 key = { (void *)q->tls.key.data, q->tls.key.len, CURL_BLOB_COPY };
	if (q->tls.ca.data)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	else if (q->tls.ca_file)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, q->tls.ca_file);
	if (q->tls.cert.data) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (q->tls.cert_file) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERT, q->tls.cert_file);
	}
	if (q->tls.key.data) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (q->tls.key_file) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEY, q->tls.key_file);
	}
	if (q->tls.insecure_skip_verify) {
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc |= set_method(e, q);
	if (rc != CURLE_OK) {
		req_free(r);
		snprintf(err, errlen, "curl rejected an option for this request");
		return -1;
	}
	if (c->in_action) {
		r->deferred = true;
		c->ndeferred++;
	} else {
		CURLMcode mc = curl_multi_add_handle(c->multi, e);
		if (mc != CURLM_OK) {
			req_free(r);
			snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
			return -1;
		}
	}
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->active++;
	return 0;
}
