/* The socket half of the HTTP server: accept, read, answer, close. A
 * connection reads until one request is complete, stops reading while the
 * response is written (pipelined bytes wait in its read buffer), then goes
 * on or closes. */
#include "httpd.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF 16384

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
	char rbuf[READ_BUF];
};

struct httpd {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct httpd_opts o;
	httpd_handler handler;
	void *ud;
	struct conn *conns;
	unsigned nconns;
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
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void touch(struct conn *c)
{
	uv_timer_start(&c->timer, on_idle, c->srv->o.idle_timeout_ms, 0);
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
	size_t used = 0;
	int r = httpd_parse_feed(c->p, data, len, &used);
	if (r == HTTPD_PARSE_MORE)
		return false;
	if (r == HTTPD_PARSE_REQUEST && len > used) {
		memmove(c->rbuf, data + used, len - used);
		c->pending = len - used;
	}
	c->close_after_write = r == HTTPD_PARSE_ERROR || !httpd_parse_keep_alive(c->p) || c->srv->stopping;
	const char *out;
	size_t outlen;
	httpd_parse_respond(c->p, c->srv->handler, c->srv->ud, &out, &outlen);
	uv_read_stop((uv_stream_t *)&c->tcp);
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
	touch(c);
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
	touch(c);
	process(c, buf->base, (size_t)nread);
}

static void on_reject_closed(uv_handle_t *h) { free(h); }

static void on_connection(uv_stream_t *ls, int status)
{
	struct httpd *s = ls->data;
	if (status < 0)
		return;
	struct conn *c = NULL;
	if (s->nconns < s->o.max_conns && (c = calloc(1, sizeof *c)) && !(c->p = httpd_parse_new(&s->o))) {
		free(c);
		c = NULL;
	}
	if (!c) {
		/* Accept and close at once: leaving it in the backlog would have
		 * the client wait for nothing. */
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
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	touch(c);
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
