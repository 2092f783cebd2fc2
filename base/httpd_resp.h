/* An answer being built (httpd.h's httpd_resp_*): the body grows behind
 * space reserved for the status line and headers, which are written in
 * front of it once its length is known, so the answer is one contiguous
 * write. Private to the server (httpd_parse.c, httpd_resp.c). */
#ifndef HG_HTTPD_RESP_H
#define HG_HTTPD_RESP_H
#include <stdbool.h>
#include <stddef.h>
#include "httpd.h"

#define HEAD_RESERVE 768
#define TYPE_MAX 128
#define EXTRA_MAX 256

struct httpd_resp {
	int status;
	const char *type;
	char *buf; /* HEAD_RESERVE bytes, then the body */
	size_t len, cap, max; /* len counts body bytes only */
	bool overflow;
	bool again; /* hg_httpd_resp_again was called in this call of the handler */
	char extra[EXTRA_MAX]; /* extra header lines, each ending in CRLF */
	size_t extra_len;
};

/* Empties r for a new answer of at most max body bytes: 200, text/plain. */
void hg_httpd_resp_reset(struct httpd_resp *r, size_t max);
/* "OK", "Bad Request", ...: the reason phrase of a status. */
const char *hg_httpd_status_reason(int status);
/* Writes the status line and headers in front of the body; *out and *outlen
 * are the whole answer (without the body for HEAD, 204, 304 and 1xx). */
void hg_httpd_resp_finish(struct httpd_resp *r, bool keep_alive, bool head, const char **out, size_t *outlen);

#endif
