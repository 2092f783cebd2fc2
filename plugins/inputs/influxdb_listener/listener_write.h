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
/* The same in slices: parses about slice bytes of the body (whole lines;
 * 0 = all of it) and returns true while more remains, the answer not yet
 * given; call again with the same req and task until it returns false,
 * then resp holds the answer. *task is NULL at the first call and again
 * after the last; one left by a request given up goes to hg_lw_task_free.
 * Lines go to acc as they are parsed, as in hg_lw_handle. */
bool hg_lw_handle_slice(struct lw *w, struct acc *acc, enum lw_api api, const struct httpd_req *req,
			struct httpd_resp *resp, int64_t now, void **task, size_t slice);
void hg_lw_task_free(void *task);
/* Body bytes parsed per loop turn and connection, like httpd's inflate
 * slice: 3 to 4 ms of work (a 7 MiB body parses in about 0.1 s). 64 KiB
 * answered /healthz no faster under attack and let a flood of refused
 * requests slow an admitted body more (bench/RESULTS.md). */
#define LW_SLICE (256 * 1024)
const struct lw_stats *hg_lw_stats(const struct lw *w);

/* Appends s as the inside of a JSON string: quotes, backslashes and control
 * bytes escaped, bytes >= 0x80 replaced by '?' (the text may not be UTF-8). */
void hg_lw_json_escape(struct httpd_resp *r, const char *s, size_t len);

#endif
