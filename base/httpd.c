/* The socket half of the HTTP server: accept, read, answer, close. A
 * connection reads until one request is complete, stops reading while the
 * response is written (pipelined bytes wait in its read buffer), then goes
 * on or closes.
 *
 * Each connection has one timer, armed for the nearest of two deadlines:
 * idle (no bytes for idle_timeout_ms, restarted by every byte) and the
 * phase's (the head within header_timeout_ms, the body within
 * body_timeout_ms, neither restarted by bytes). The idle one alone let a
 * client sending a byte a second hold a connection for ever, and 64 such
 * clients held the whole server, /healthz included (issue 16). */
#include "httpd.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF 16384

enum phase {
	PH_WAIT,  /* kept alive, no byte of the next request yet */
	PH_HEAD,  /* a new connection, or bytes of a head have come */
	PH_BODY,  /* the head is complete, the body is coming */
	PH_WRITE, /* the response is being written */
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct httpd *srv;
	struct conn *prev, *next;
	struct httpd_parse *p;
	size_t pending; /* unparsed bytes at the start of rbuf */
	int open_handles;
	bool closing, close_after_write;
	enum phase ph;
	uint64_t last_io;     /* uv_now of the last byte read or response written */
	uint64_t phase_since; /* uv_now when the head's or the body's clock started */
	/* Order in which connections began waiting for a request (accept, or
	 * the end of the previous response): the smallest is shed first. A
	 * counter rather than a time, so two in one millisecond still differ. */
	uint64_t wait_seq;
	char rbuf[READ_BUF];
};

struct httpd {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct httpd_opts o;
	httpd_handler handler;
	void *ud;
	struct conn *conns;
	unsigned nconns; /* allocated, closing ones included (the server is freed at 0) */
	unsigned nlive;  /* not closing: what max_conns bounds */
	uint64_t wait_counter;
	struct httpd_stats st;
	bool listener_open, stopping;
};

static void maybe_free_server(struct httpd *s)
{
	if (s->stopping && !s->listener_open && !s->nconns)
		free(s);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open_handles)
		return;
	struct httpd *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	httpd_parse_free(c->p);
	free(c);
	maybe_free_server(s);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->srv->nlive--;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

/* The phase's deadline, or UINT64_MAX when the phase has none. */
static uint64_t phase_deadline(const struct conn *c)
{
	if (c->ph == PH_HEAD)
		return c->phase_since + c->srv->o.header_timeout_ms;
	if (c->ph == PH_BODY)
		return c->phase_since + c->srv->o.body_timeout_ms;
	return UINT64_MAX;
}

static void on_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct httpd *s = c->srv;
	if (uv_now(s->loop) >= phase_deadline(c)) {
		/* Best effort and never blocking: a client too slow to send its
		 * request may well not read either; the close follows regardless. */
		static const char r408[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
					   "Connection: close\r\n\r\n";
		uv_buf_t b = uv_buf_init((char *)r408, sizeof r408 - 1);
		uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (c->ph == PH_HEAD)
			s->st.header_timeouts++;
		else
			s->st.body_timeouts++;
	}
	conn_close(c);
}

/* Arms the timer for the nearer of the idle and the phase deadline. */
static void arm(struct conn *c)
{
	uint64_t now = uv_now(c->srv->loop);
	uint64_t due = c->last_io + c->srv->o.idle_timeout_ms, ph = phase_deadline(c);
	if (ph < due)
		due = ph;
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

static void enter(struct conn *c, enum phase ph)
{
	c->ph = ph;
	c->phase_since = uv_now(c->srv->loop);
	if (ph == PH_WAIT)
		c->wait_seq = ++c->srv->wait_counter;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct conn *c = h->data;
	*buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *wr, int status);

/* Parses data (which lies in c->rbuf); true when a response is being
 * written, false when more bytes are needed. */
static bool process(struct conn *c, const char *data, size_t len)
{
	if (c->ph == PH_WAIT)
		enter(c, PH_HEAD); /* the first byte of the next request starts its head's clock */
	size_t used = 0;
	int r = httpd_parse_feed(c->p, data, len, &used);
	if (r == HTTPD_PARSE_MORE) {
		if (c->ph == PH_HEAD && httpd_parse_headers_done(c->p))
			enter(c, PH_BODY);
		arm(c);
		return false;
	}
	if (r == HTTPD_PARSE_REQUEST && len > used) {
		memmove(c->rbuf, data + used, len - used);
		c->pending = len - used;
	}
	c->close_after_write = r == HTTPD_PARSE_ERROR || !httpd_parse_keep_alive(c->p) || c->srv->stopping;
	const char *out;
	size_t outlen;
	httpd_parse_respond(c->p, c->srv->handler, c->srv->ud, &out, &outlen);
	uv_read_stop((uv_stream_t *)&c->tcp);
	/* A client that does not read the response is closed by the idle
	 * deadline (from the last byte read), as before. */
	enter(c, PH_WRITE);
	arm(c);
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)outlen);
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		conn_close(c);
	return true;
}

static void on_written(uv_write_t *wr, int status)
{
	struct conn *c = wr->data;
	if (c->closing)
		return;
	if (status < 0 || c->close_after_write) {
		conn_close(c);
		return;
	}
	c->last_io = uv_now(c->srv->loop);
	enter(c, PH_WAIT);
	arm(c);
	httpd_parse_next(c->p);
	size_t n = c->pending;
	c->pending = 0;
	if (n && process(c, c->rbuf, n))
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		conn_close(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = st->data;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	c->last_io = uv_now(c->srv->loop);
	process(c, buf->base, (size_t)nread);
}

/* The connection that began waiting for a request longest ago, among those
 * waiting for or receiving a head; NULL when every one is reading a body or
 * being answered (those are doing work a client asked for). */
static struct conn *shed_candidate(struct httpd *s)
{
	struct conn *best = NULL;
	for (struct conn *c = s->conns; c; c = c->next)
		if (!c->closing && (c->ph == PH_WAIT || c->ph == PH_HEAD) && (!best || c->wait_seq < best->wait_seq))
			best = c;
	return best;
}

static void on_reject_closed(uv_handle_t *h) { free(h); }

static void on_connection(uv_stream_t *ls, int status)
{
	struct httpd *s = ls->data;
	if (status < 0)
		return;
	struct conn *c = NULL, *old;
	/* Shedding rather than refusing: the kubelet's probe comes on a new
	 * connection and sends its request at once, while a slowloris client
	 * holds old ones; the oldest waiting one goes, so the probe is served
	 * (and the attacker's connections are gone by header_timeout_ms). A
	 * shed connection holds its memory until its close callback, so at
	 * most max_conns more may be closing: memory stays bounded. */
	if (s->nlive >= s->o.max_conns && s->nconns < 2 * s->o.max_conns && (old = shed_candidate(s))) {
		s->st.shed++;
		conn_close(old);
	}
	if (s->nlive < s->o.max_conns && (c = calloc(1, sizeof *c)) && !(c->p = httpd_parse_new(&s->o))) {
		free(c);
		c = NULL;
	}
	if (!c) {
		/* Accept and close at once: leaving it in the backlog would have
		 * the client wait for nothing. */
		s->st.rejected++;
		uv_tcp_t *t = malloc(sizeof *t);
		if (!t)
			return;
		uv_tcp_init(s->loop, t);
		uv_accept(ls, (uv_stream_t *)t);
		uv_close((uv_handle_t *)t, on_reject_closed);
		return;
	}
	c->srv = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c->wr.data = c;
	c->open_handles = 2;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->nlive++;
	s->st.accepted++;
	/* A new connection's head clock starts now: it connected to send one. */
	c->last_io = uv_now(s->loop);
	enter(c, PH_WAIT);
	c->ph = PH_HEAD;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	arm(c);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct httpd *s = h->data;
	s->listener_open = false;
	maybe_free_server(s);
}

/* Splits "host:port", "[v6]:port" or ":port". An empty host means every
 * interface. */
static int parse_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = listen;
	size_t hl;
	if (*listen == '[') {
		const char *rb = strchr(listen, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = listen + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - listen);
	}
	if (hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == 0 || *end || errno || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/* Resolves the address and binds. An empty host means every interface:
 * "::" (dual-stack on Linux), or 0.0.0.0 on a node without IPv6. */
static int bind_listen(struct httpd *s, const char *host, int port)
{
	struct sockaddr_storage ss;
	int r;
	if (!*host) {
		uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss);
		if (uv_tcp_init_ex(s->loop, &s->listener, AF_INET6) < 0) {
			uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
			if ((r = uv_tcp_init_ex(s->loop, &s->listener, AF_INET)) < 0)
				return r;
		}
	} else {
		if (strcmp(host, "localhost") == 0)
			uv_ip4_addr("127.0.0.1", port, (struct sockaddr_in *)&ss);
		else if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
			 uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
			return UV_EINVAL;
		if ((r = uv_tcp_init_ex(s->loop, &s->listener, ss.ss_family)) < 0)
			return r;
	}
	s->listener.data = s;
	s->listener_open = true;
	r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	return r;
}

int httpd_start(uv_loop_t *loop, const char *listen, const struct httpd_opts *opts, httpd_handler handler,
		void *ud, struct httpd **out, char *err, size_t errlen)
{
	char host[128];
	int port;
	*out = NULL;
	if (!listen || parse_listen(listen, host, sizeof host, &port) < 0) {
		snprintf(err, errlen, "http listen address \"%s\": expected host:port, [v6]:port or :port",
			 listen ? listen : "");
		return -1;
	}
	struct httpd *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "http server: out of memory");
		return -1;
	}
	httpd_opts_defaults(&s->o, opts);
	s->loop = loop;
	s->handler = handler;
	s->ud = ud;
	int r = bind_listen(s, host, port);
	if (r < 0) {
		snprintf(err, errlen, "http listen on %s: %s", listen, uv_strerror(r));
		s->stopping = true;
		if (s->listener_open)
			uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		else
			free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int httpd_port(const struct httpd *h)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

bool httpd_loopback_only(const struct httpd *h)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
}

void httpd_stop(struct httpd *h)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	uv_close((uv_handle_t *)&h->listener, on_listener_closed);
	for (struct conn *c = h->conns; c; c = c->next)
		conn_close(c);
	maybe_free_server(h);
}

void httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
	*out = h->st;
	out->conns_waiting = out->conns_body = out->conns_writing = 0;
	for (const struct conn *c = h->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->ph == PH_BODY)
			out->conns_body++;
		else if (c->ph == PH_WRITE)
			out->conns_writing++;
		else
			out->conns_waiting++;
	}
}
