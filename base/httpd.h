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
};

/* Counters since start, and the connections open now by what they do. */
struct httpd_stats {
	uint64_t accepted;
	uint64_t shed;            /* closed to make room for a new connection */
	uint64_t rejected;        /* new connections closed at once (no room, none to shed) */
	uint64_t header_timeouts; /* 408: head not complete within header_timeout_ms */
	uint64_t body_timeouts;   /* 408: body not complete within body_timeout_ms */
	unsigned conns_waiting;   /* open, waiting for (or receiving) a request head */
	unsigned conns_body;      /* receiving a body */
	unsigned conns_writing;   /* being answered */
};
void httpd_get_stats(const struct httpd *h, struct httpd_stats *out);

/* Copies in (or zeroes) and fills every 0 with its default. */
void httpd_opts_defaults(struct httpd_opts *o, const struct httpd_opts *in);

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
	struct sv body;
	const struct httpd_header *headers; /* in arrival order */
	size_t nheaders;
};

/* The value of the first header named name (ASCII case-insensitive), or an
 * empty view with p == NULL when absent. */
struct sv httpd_req_header(const struct httpd_req *req, const char *name);

/* The credentials of an Authorization value when its scheme is scheme
 * ("Basic", "Token" ...; compared case-insensitively, RFC 9110 11.1) and
 * one or more spaces follow it; else p == NULL. */
struct sv httpd_auth_credentials(struct sv authorization, const char *scheme);

/* The response under construction, handed to the handler. Defaults: 200,
 * "text/plain; charset=utf-8", empty body. */
struct httpd_resp;
void httpd_resp_status(struct httpd_resp *r, int status);
/* type must outlive the request (a literal) and be shorter than 128 bytes. */
void httpd_resp_type(struct httpd_resp *r, const char *type);
void httpd_resp_append(struct httpd_resp *r, const char *data, size_t len);
/* An extra response header. Headers with CR/LF, or beyond 256 bytes in all,
 * are left out. */
void httpd_resp_header(struct httpd_resp *r, const char *name, const char *value);
void httpd_resp_printf(struct httpd_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs on the loop thread, must not block; everything it needs from req is
 * valid only during the call. */
typedef void (*httpd_handler)(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

/* listen: "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or ":8080" (all
 * interfaces, IPv6 and IPv4 where the host allows); port 0 picks a free
 * port (see httpd_port). opts may be NULL. 0 or negative with err filled. */
int httpd_start(uv_loop_t *loop, const char *listen, const struct httpd_opts *opts, httpd_handler handler,
		void *ud, struct httpd **out, char *err, size_t errlen);
int httpd_port(const struct httpd *h);
/* Whether the address bound is a loopback one (127.0.0.0/8, ::1): only
 * this host's processes can connect. */
bool httpd_loopback_only(const struct httpd *h);
/* Closes the listener and every connection; memory is released by the
 * close callbacks, so the loop must run once more afterwards. */
void httpd_stop(struct httpd *h);

/* --- the socket-free request step --- */
enum {
	HTTPD_PARSE_MORE = 0,    /* all bytes consumed, the request is not complete yet */
	HTTPD_PARSE_REQUEST = 1, /* a request is complete; bytes after *used are the next one */
	HTTPD_PARSE_ERROR = -1,  /* malformed or too big: respond (the error) and close */
};
struct httpd_parse;
struct httpd_parse *httpd_parse_new(const struct httpd_opts *opts);
void httpd_parse_free(struct httpd_parse *p);
int httpd_parse_feed(struct httpd_parse *p, const char *data, size_t len, size_t *used);
/* After REQUEST: runs handler and returns the response bytes; after ERROR:
 * returns the error response (handler not called). Valid until the next
 * call on p. */
void httpd_parse_respond(struct httpd_parse *p, httpd_handler handler, void *ud, const char **out, size_t *outlen);
/* Whether the connection may carry another request after this response. */
bool httpd_parse_keep_alive(const struct httpd_parse *p);
/* Whether the head of the request being parsed is complete (its body,
 * if any, is being read). */
bool httpd_parse_headers_done(const struct httpd_parse *p);
/* Status of the last error response, 0 if none. */
int httpd_parse_error_status(const struct httpd_parse *p);
/* Makes p ready for the next request on the same connection. */
void httpd_parse_next(struct httpd_parse *p);

#endif
