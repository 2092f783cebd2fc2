/* The write path of the InfluxDB listener, without sockets: one request's
 * body (decompressed by httpd's inflate_gzip) parsed line by line into the accumulator, and the
 * answer InfluxDB would give. The server, the unit test and the fuzzer all
 * run this same code. */
#ifndef HG_LISTENER_WRITE_H
#define HG_LISTENER_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "acc.h"
#include "httpd.h"

enum lw_api { LW_V1, LW_V2 };

struct lw_opts {
	size_t max_body;          /* as httpd's (which also bounds decompressed bodies) */
	size_t max_line;          /* longer lines are rejected like unparsable ones */
	const char *database_tag; /* v1 db= goes into this tag; NULL = off */
	const char *retention_policy_tag;
	const char *bucket_tag;   /* v2 bucket= goes into this tag; NULL = off */
};

struct lw_stats {
	uint64_t writes, lines_ok, lines_bad, bytes_received, too_large;
};

struct lw;
/* NULL when out of memory. The options' strings must outlive w. */
struct lw *hg_lw_new(const struct lw_opts *o);
void hg_lw_free(struct lw *w);
/* Handles a POST to /write (v1) or /api/v2/write (v2): emits the good
 * lines into acc and answers 204, 400 (partial write, naming the bad
 * lines) or 413. now_ns stamps lines without a timestamp. */
void hg_lw_handle(struct lw *w, struct acc *acc, enum lw_api api, const struct httpd_req *req, struct httpd_resp *resp,
	       int64_t now_ns);
const struct lw_stats *hg_lw_stats(const struct lw *w);

/* The percent-decoded value of query parameter name into out (NUL
 * terminated, cut to outlen-1). false when absent. */
bool hg_lw_query_param(struct sv query, const char *name, char *out, size_t outlen);
/* Appends s as the inside of a JSON string: quotes, backslashes and control
 * bytes escaped, bytes >= 0x80 replaced by '?' (the text may not be UTF-8). */
void hg_lw_json_escape(struct httpd_resp *r, const char *s, size_t len);

#endif
