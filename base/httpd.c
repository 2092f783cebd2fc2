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
 * clients held the whole server, /healthz included (issue 16). A response
 * has a deadline too (write_timeout_ms), so a client that sends requests
 * and never reads the answers is closed then, and shed before that when a
 * new connection needs its place; so is a body trickling in at a few bytes
 * a second (shed_candidate).
 *
 * An answer given before the body was read (head_check, or an error) is
 * followed by a lingering close: the write side is shut, and what the
 * client still sends is read and discarded until it closes, for DRAIN_MS
 * at most (and DRAIN_BYTES), then the connection is closed. Closing at once with unread
 * bytes would send a reset, which can destroy the answer before the client
 * reads it; never closing would let it hold the slot.
 *
 * gzip bodies (inflate_gzip) are decompressed in slices of
 * HTTPD_INFLATE_SLICE bytes, one per connection per loop turn (an idle
 * handle), so other connections and servers on the loop are served in
 * between; a handler that asks for it (hg_httpd_resp_again) is called
 * once per turn the same way (PH_DECODE covers both). */
#include "httpd.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF 16384
#define DRAIN_MS 1000
/* Above what the socket buffers on both sides can hold, so a client that
 * goes on sending has to come back to its socket (and read the answer)
 * before the drain can end; the time bounds the work in any case. */
#define DRAIN_BYTES (64 * 1024 * 1024)
/* A body that has been coming for SLOW_BODY_GRACE_MS at under
 * SLOW_BODY_RATE bytes a second may be shed when a new connection needs its
 * place: 16 clients trickling bodies held every listener slot until their
 * body deadline (issue 16). A client on a poor link sends tens of KiB a
 * second; one trickling to hold a slot sends bytes. */
#define SLOW_BODY_GRACE_MS 1000
#define SLOW_BODY_RATE (16 * 1024)

enum phase {
	PH_WAIT,  /* kept alive, no byte of the next request yet */
	PH_HEAD,  /* a new connection, or bytes of a head have come */
	PH_BODY,  /* the head is complete, the body is coming */
	PH_WRITE, /* the response is being written */
	PH_DECODE, /* the body is being decompressed or handled, a slice per loop turn */
	PH_DRAIN, /* answered early, write side shut: discarding the rest */
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_write_t cont_wr; /* "100 Continue" */
	uv_shutdown_t sd;
	struct httpd *srv;
	struct conn *prev, *next;
	struct httpd_parse *p;
	size_t pending; /* unparsed bytes at the start of rbuf */
	int open_handles;
	bool closing, close_after_write, drain_after_write;
	size_t drained;
	enum phase ph;
	uint64_t last_io;     /* uv_now of the last byte read or response written */
	uint64_t phase_since; /* uv_now when the head's or the body's clock started */
	/* Order in which connections began waiting for a request (accept, or
	 * the end of the previous response): the smallest is shed first. A
	 * counter rather than a time, so two in one millisecond still differ. */
	uint64_t wait_seq;
	uint64_t body_bytes;  /* read since the body began (PH_BODY) */
	char rbuf[READ_BUF];
};

struct httpd {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_idle_t decoder; /* runs while a connection is in PH_DECODE */
	struct httpd_opts o;
	struct httpd_budget budget; /* bodies of all connections */
	httpd_handler handler;
	void *ud;
	struct conn *conns;
	unsigned nconns; /* allocated, closing ones included (the server is freed at 0) */
	unsigned nlive;  /* not closing: what max_conns bounds */
	uint64_t wait_counter;
	struct httpd_stats st;
	bool listener_open, decoder_open, stopping;
};

static void maybe_free_server(struct httpd *s)
{
	if (s->stopping && !s->listener_open && !s->decoder_open && !s->nconns)
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
	hg_httpd_parse_free(c->p);
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
	if (c->ph == PH_WRITE)
		return c->phase_since + c->srv->o.write_timeout_ms;
	if (c->ph == PH_DRAIN)
		return c->phase_since + DRAIN_MS;
	return UINT64_MAX;
}

static void on_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct httpd *s = c->srv;
	if (uv_now(s->loop) >= phase_deadline(c) && c->ph == PH_WRITE) {
		s->st.write_timeouts++; /* the client is not reading: nothing to tell it */
	} else if (uv_now(s->loop) >= phase_deadline(c) && (c->ph == PH_HEAD || c->ph == PH_BODY)) {
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
	if (ph == PH_WAIT || ph == PH_DRAIN)
		c->wait_seq = ++c->srv->wait_counter;
	if (ph == PH_BODY)
		c->body_bytes = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct conn *c = h->data;
	*buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *wr, int status);

/* Builds the answer to the request parsed (or the error) and writes it. */
static void answer(struct conn *c)
{
	const char *out;
	size_t outlen;
	hg_httpd_parse_respond(c->p, c->srv->handler, c->srv->ud, &out, &outlen);
	/* After respond: decompressing may have ended in an error (503). */
	c->close_after_write = !hg_httpd_parse_keep_alive(c->p) || c->srv->stopping;
	enter(c, PH_WRITE);
	arm(c);
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)outlen);
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		conn_close(c);
}

/* One loop turn's work on a request: a slice of its gzip body, else one
 * call of the handler (which may ask for another turn). True while more
 * remains. */
static bool work_turn(struct conn *c)
{
	if (hg_httpd_parse_decode(c->p, HTTPD_INFLATE_SLICE))
		return true;
	return hg_httpd_parse_step(c->p, c->srv->handler, c->srv->ud);
}

static void on_decode_turn(uv_idle_t *idle)
{
	struct httpd *s = idle->data;
	bool more = false;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->closing || c->ph != PH_DECODE)
			continue;
		c->last_io = uv_now(s->loop); /* working for it, not idle */
		if (work_turn(c))
			more = true;
		else
			answer(c);
	}
	if (!more)
		uv_idle_stop(idle);
}

/* Nothing to do: a failed write shows on the socket's next read or write. */
static void on_continue_written(uv_write_t *wr, int status)
{
	(void)wr;
	(void)status;
}

/* Parses data (which lies in c->rbuf); true when a response is being
 * written, false when more bytes are needed. */
static bool process(struct conn *c, const char *data, size_t len)
{
	if (c->ph == PH_WAIT)
		enter(c, PH_HEAD); /* the first byte of the next request starts its head's clock */
	size_t used = 0;
	int r = hg_httpd_parse_feed(c->p, data, len, &used);
	if (r == HTTPD_PARSE_MORE) {
		if (c->ph == PH_HEAD && hg_httpd_parse_headers_done(c->p)) {
			enter(c, PH_BODY);
			/* The head passed head_check and the body budget: tell a
			 * client waiting for it (curl does for bodies over 1 MiB,
			 * for a second) to send the body now. */
			if (hg_httpd_parse_expects_continue(c->p)) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
				if (uv_write(&c->cont_wr, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written) < 0) {
					conn_close(c);
					return false;
				}
			}
		}
		arm(c);
		return false;
	}
	if (r == HTTPD_PARSE_REQUEST && len > used) {
		memmove(c->rbuf, data + used, len - used);
		c->pending = len - used;
	}
	bool early = r == HTTPD_PARSE_REQUEST && hg_httpd_parse_early(c->p);
	/* The body (or the rest of a bad head) may still be coming. */
	c->drain_after_write = r == HTTPD_PARSE_ERROR || early;
	if (early)
		c->srv->st.early_answers++;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (r == HTTPD_PARSE_REQUEST && work_turn(c)) {
		enter(c, PH_DECODE);
		arm(c);
		uv_idle_start(&c->srv->decoder, on_decode_turn);
		return true;
	}
	answer(c);
	return true;
}

static void on_drain_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct conn *c = h->data;
	*buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_drain_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct conn *c = st->data;
	if (nread < 0 || (c->drained += (size_t)nread) > DRAIN_BYTES)
		conn_close(c);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
	struct conn *c = sd->data;
	if (c->closing)
		return;
	if (status < 0 || uv_read_start((uv_stream_t *)&c->tcp, on_drain_alloc, on_drain_read) < 0)
		conn_close(c);
}

static void on_written(uv_write_t *wr, int status)
{
	struct conn *c = wr->data;
	if (c->closing)
		return;
	if (status >= 0 && c->drain_after_write) {
		enter(c, PH_DRAIN);
		arm(c);
		c->sd.data = c;
		if (uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
			conn_close(c);
		return;
	}
	if (status < 0 || c->close_after_write) {
		conn_close(c);
		return;
	}
	c->last_io = uv_now(c->srv->loop);
	enter(c, PH_WAIT);
	arm(c);
	hg_httpd_parse_next(c->p);
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
	if (c->ph == PH_BODY)
		c->body_bytes += (uint64_t)nread;
	process(c, buf->base, (size_t)nread);
}

/* The connection that began waiting for a request longest ago, among those
 * waiting for or receiving a head or draining; failing that, the one whose
 * answer has waited longest to be taken (a client that reads its answers
 * is done in microseconds, so one still being written to is most likely
 * not reading); failing that, the slowest body still under SLOW_BODY_RATE
 * after SLOW_BODY_GRACE_MS; NULL when every one is reading a body at a
 * client's pace or decompressing one (work a client asked for, each bounded
 * by its own deadline). */
static struct conn *shed_candidate(struct httpd *s)
{
	struct conn *best = NULL, *writer = NULL, *slow = NULL;
	uint64_t now = uv_now(s->loop), slow_rate = UINT64_MAX;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if ((c->ph == PH_WAIT || c->ph == PH_HEAD || c->ph == PH_DRAIN) && (!best || c->wait_seq < best->wait_seq))
			best = c;
		if (c->ph == PH_WRITE && (!writer || c->phase_since < writer->phase_since))
			writer = c;
		uint64_t age = now - c->phase_since;
		if (c->ph == PH_BODY && age >= SLOW_BODY_GRACE_MS) {
			uint64_t rate = c->body_bytes * 1000 / age;
			if (rate < SLOW_BODY_RATE && rate < slow_rate) {
				slow = c;
				slow_rate = rate;
			}
		}
	}
	return best ? best : writer ? writer : slow;
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
	if (s->nlive < s->o.max_conns && (c = calloc(1, sizeof *c)) && !(c->p = hg_httpd_parse_new(&s->o))) {
		free(c);
		c = NULL;
	}
	if (c)
		hg_httpd_parse_share_budget(c->p, &s->budget);
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

static void on_decoder_closed(uv_handle_t *h)
{
	struct httpd *s = h->data;
	s->decoder_open = false;
	maybe_free_server(s);
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
	uv_idle_init(s->loop, &s->decoder);
	s->decoder.data = s;
	s->decoder_open = true;
	r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	return r;
}

int hg_httpd_start(uv_loop_t *loop, const char *listen, const struct httpd_opts *opts, httpd_handler handler,
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
	hg_httpd_opts_defaults(&s->o, opts);
	s->o.head_ud = ud;
	s->budget.limit = s->o.max_body_total;
	s->loop = loop;
	s->handler = handler;
	s->ud = ud;
	int r = bind_listen(s, host, port);
	if (r < 0) {
		snprintf(err, errlen, "http listen on %s: %s", listen, uv_strerror(r));
		s->stopping = true;
		if (s->decoder_open)
			uv_close((uv_handle_t *)&s->decoder, on_decoder_closed);
		if (s->listener_open)
			uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		else if (!s->decoder_open)
			free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int hg_httpd_port(const struct httpd *h)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

bool hg_httpd_loopback_only(const struct httpd *h)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
}

void hg_httpd_stop(struct httpd *h)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	uv_close((uv_handle_t *)&h->listener, on_listener_closed);
	uv_close((uv_handle_t *)&h->decoder, on_decoder_closed);
	for (struct conn *c = h->conns; c; c = c->next)
		conn_close(c);
	maybe_free_server(h);
}

void hg_httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
	*out = h->st;
	out->budget_refusals = h->budget.refusals;
	out->body_bytes = h->budget.used;
	out->body_bytes_peak = h->budget.peak;
	out->conns_waiting = out->conns_body = out->conns_writing = out->conns_draining = 0;
	for (const struct conn *c = h->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->ph == PH_BODY || c->ph == PH_DECODE)
			out->conns_body++;
		else if (c->ph == PH_DRAIN)
			out->conns_draining++;
		else if (c->ph == PH_WRITE)
			out->conns_writing++;
		else
			out->conns_waiting++;
	}
}
