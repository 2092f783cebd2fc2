/* A small HTTP/1.1 server on the libuv loop (health endpoint, self metrics,
 * later the listener input). One request at a time per connection, parsed
 * with http-parser; bounded header, body and response sizes; idle
 * connections are closed; nothing blocks the loop.
 *
 * The parse-and-respond step works without sockets (httpd_parse_*), so the
 * fuzzer and tests drive exactly the code the server runs. */
#ifndef HG_HTTPD_H
#define HG_HTTPD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "sv.h"

struct httpd;
struct httpd_req;
struct httpd_resp;

/* Called when a request's head is complete, before a byte of its body is
 * read (req has no body yet): answering here (filling resp and returning
 * true) keeps the body from being buffered at all, e.g. a 401 for wrong
 * credentials. The connection is then closed after the answer, once the
 * unread body has been drained within a bound (see httpd.c). */
typedef bool (*httpd_head_check)(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

struct httpd_opts {
	size_t max_header;        /* request line + headers; more gets 431. 0 = 8 KiB */
	size_t max_body;          /* more gets 413. 0 = 64 KiB */
	size_t max_response;      /* a bigger response becomes a 500. 0 = 4 MiB */
	uint64_t idle_timeout_ms; /* no bytes in or out for this long closes. 0 = 30 s */
	/* The whole request head must arrive within this of the accept (or, on a
	 * kept-alive connection, of the request's first byte); each byte does
	 * not restart it, so a client trickling a head (slowloris) is answered
	 * 408 and closed. 0 = 10 s */
	uint64_t header_timeout_ms;
	/* The whole body must arrive within this of the head's end. 0 = 30 s */
	uint64_t body_timeout_ms;
	/* At this many connections a new one sheds the one that has waited
	 * longest for a request head (idle, or trickling one); when every one
	 * is reading a body or being answered, the new one is closed at once.
	 * 0 = 64 */
	unsigned max_conns;
	/* A response must be taken by the client within this of its start; a
	 * client that sends requests and never reads is closed then, and is
	 * shed before that when a new connection needs room. 0 = 10 s */
	uint64_t write_timeout_ms;
	/* Request bodies buffered at once across all connections of the server,
	 * decompressed copies included. A head whose Content-Length does not
	 * fit what is left, or a body (chunked, or decompressing) that grows
	 * past it, is answered 503 with Retry-After. 0 = max_body * max_conns
	 * (no bound beyond the per-connection one). */
	size_t max_body_total;
	/* Decompress "Content-Encoding: gzip" bodies before the handler sees
	 * them (bounded by max_body and max_body_total), in slices of
	 * HTTPD_INFLATE_SLICE output bytes per loop turn, so one connection's
	 * gzip bomb cannot hold the loop. */
	bool inflate_gzip;
	httpd_head_check head_check; /* NULL: none */
	/* Frees a handler's task (httpd_req.task) left when its request ends
	 * before the handler answered (the connection closed, the server
	 * stopped). It must not need the handler's ud, which may be gone by
	 * then. NULL: tasks need no freeing. */
	void (*task_free)(void *task);
	void *head_ud;               /* head_check's ud (hg_httpd_start sets its own ud) */
};

#define HTTPD_INFLATE_SLICE (256 * 1024)

/* Counters since start, and the connections open now by what they do. */
struct httpd_stats {
	uint64_t accepted;
	uint64_t shed;            /* closed to make room for a new connection */
	uint64_t rejected;        /* new connections closed at once (no room, none to shed) */
	uint64_t header_timeouts; /* 408: head not complete within header_timeout_ms */
	uint64_t body_timeouts;   /* 408: body not complete within body_timeout_ms */
	uint64_t write_timeouts;  /* closed: response not taken within write_timeout_ms */
	uint64_t early_answers;   /* answered from the head (head_check), body not read */
	uint64_t budget_refusals; /* 503: bodies of all connections at max_body_total */
	size_t body_bytes;        /* body buffers held now, across connections */
	size_t body_bytes_peak;   /* the most ever held at once */
	unsigned conns_waiting;   /* open, waiting for (or receiving) a request head */
	unsigned conns_body;      /* receiving a body */
	unsigned conns_writing;   /* being answered */
	unsigned conns_draining;  /* answered early; the unread body is being discarded */
};
void hg_httpd_get_stats(const struct httpd *h, struct httpd_stats *out);

/* Copies in (or zeroes) and fills every 0 with its default. */
void hg_httpd_opts_defaults(struct httpd_opts *o, const struct httpd_opts *in);

/* Request headers kept per request; later ones are not stored (their bytes
 * still count against max_header). */
#define HTTPD_MAX_HEADERS 32

struct httpd_header {
	struct sv name, value;
};

struct httpd_req {
	const char *method; /* "GET", "HEAD", "POST" ... */
	struct sv path;     /* the URL up to '?' */
	struct sv query;    /* after '?', empty when none */
	struct sv body;     /* decompressed when inflate_gzip and it came gzipped */
	/* 0, or why the body could not be decoded (inflate_gzip): 400 (not
	 * gzip, or truncated) or 413 (inflates past max_body). The handler
	 * answers it in its API's words; body is then empty. */
	int body_error;
	const struct httpd_header *headers; /* in arrival order */
	size_t nheaders;
	/* The handler's own state for this request, NULL at its first call.
	 * A handler with more work than one loop turn should do (parsing a
	 * big body) keeps its place here and calls hg_httpd_resp_again: it is
	 * called again with the same request (body included) on the next loop
	 * turn, one call per connection per turn, and the answer is sent
	 * after the first call that does not ask again. The handler frees its
	 * task on that call and sets it back to NULL; one left behind (the
	 * connection closed meanwhile) goes to opts.task_free. */
	void **task;
};

/* The value of the first header named name (ASCII case-insensitive), or an
 * empty view with p == NULL when absent. */
struct sv hg_httpd_req_header(const struct httpd_req *req, const char *name);

/* The percent-decoded value of query parameter name into out (NUL
 * terminated, cut to outlen-1): httpd_query.c. false when absent. */
bool hg_httpd_query_param(struct sv query, const char *name, char *out, size_t outlen);

/* The credentials of an Authorization value when its scheme is scheme
 * ("Basic", "Token" ...; compared case-insensitively, RFC 9110 11.1) and
 * one or more spaces follow it; else p == NULL. */
struct sv hg_httpd_auth_credentials(struct sv authorization, const char *scheme);

/* The response under construction, handed to the handler. Defaults: 200,
 * "text/plain; charset=utf-8", empty body. */
void hg_httpd_resp_status(struct httpd_resp *r, int status);
/* type must outlive the request (a literal) and be shorter than 128 bytes. */
void hg_httpd_resp_type(struct httpd_resp *r, const char *type);
void hg_httpd_resp_append(struct httpd_resp *r, const char *data, size_t len);
/* An extra response header. Headers with CR/LF, or beyond 256 bytes in all,
 * are left out. */
void hg_httpd_resp_header(struct httpd_resp *r, const char *name, const char *value);
void hg_httpd_resp_printf(struct httpd_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The handler has more to do: call it again on the next loop turn (see
 * httpd_req.task). What it put into r so far is kept. */
void hg_httpd_resp_again(struct httpd_resp *r);

/* Runs on the loop thread, must not block; everything it needs from req is
 * valid only during the call. */
typedef void (*httpd_handler)(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

/* listen: "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or ":8080" (all
 * interfaces, IPv6 and IPv4 where the host allows); port 0 picks a free
 * port (see hg_httpd_port). opts may be NULL. 0 or negative with err filled. */
int hg_httpd_start(uv_loop_t *loop, const char *listen, const struct httpd_opts *opts, httpd_handler handler,
		void *ud, struct httpd **out, char *err, size_t errlen);
int hg_httpd_port(const struct httpd *h);
/* Whether the address bound is a loopback one (127.0.0.0/8, ::1): only
 * this host's processes can connect. */
bool hg_httpd_loopback_only(const struct httpd *h);
/* Closes the listener and every connection; memory is released by the
 * close callbacks, so the loop must run once more afterwards. */
void hg_httpd_stop(struct httpd *h);

/* --- the socket-free request step --- */
enum {
	HTTPD_PARSE_MORE = 0,    /* all bytes consumed, the request is not complete yet */
	HTTPD_PARSE_REQUEST = 1, /* a request is complete; bytes after *used are the next one */
	HTTPD_PARSE_ERROR = -1,  /* malformed or too big: respond (the error) and close */
};
struct httpd_parse;
/* What the bodies of all a server's connections may hold at once. */
struct httpd_budget {
	size_t limit, used, peak;
	uint64_t refusals;
};
struct httpd_parse *hg_httpd_parse_new(const struct httpd_opts *opts);
/* Charges p's body buffers to b (shared by a server's connections) instead
 * of p's own budget of max_body_total. Call before the first feed. */
void hg_httpd_parse_share_budget(struct httpd_parse *p, struct httpd_budget *b);
void hg_httpd_parse_free(struct httpd_parse *p);
int hg_httpd_parse_feed(struct httpd_parse *p, const char *data, size_t len, size_t *used);
/* After REQUEST: decompresses a gzip body (inflate_gzip) by up to max_out
 * bytes; true while more remains. The server calls it once per loop turn
 * with HTTPD_INFLATE_SLICE; respond finishes what is left. */
bool hg_httpd_parse_decode(struct httpd_parse *p, size_t max_out);
/* After REQUEST (and decode): calls handler once; true when it asked to
 * be called again (hg_httpd_resp_again). The server calls it once per
 * loop turn; respond finishes what is left. */
bool hg_httpd_parse_step(struct httpd_parse *p, httpd_handler handler, void *ud);
/* Whether the answer came from head_check (the body was not read). */
bool hg_httpd_parse_early(const struct httpd_parse *p);
/* After REQUEST: runs handler and returns the response bytes; after ERROR:
 * returns the error response (handler not called). Valid until the next
 * call on p. */
void hg_httpd_parse_respond(struct httpd_parse *p, httpd_handler handler, void *ud, const char **out, size_t *outlen);
/* Whether the connection may carry another request after this response. */
bool hg_httpd_parse_keep_alive(const struct httpd_parse *p);
/* Whether the request whose head is complete asked for "Expect:
 * 100-continue" (HTTP/1.1) and its body has not come whole yet. */
bool hg_httpd_parse_expects_continue(const struct httpd_parse *p);
/* Whether the head of the request being parsed is complete (its body,
 * if any, is being read). */
bool hg_httpd_parse_headers_done(const struct httpd_parse *p);
/* Status of the last error response, 0 if none. */
int hg_httpd_parse_error_status(const struct httpd_parse *p);
/* Makes p ready for the next request on the same connection, and releases
 * the body buffers (an idle kept-alive connection holds none) and a
 * response buffer grown past its initial size. */
void hg_httpd_parse_next(struct httpd_parse *p);

#endif
