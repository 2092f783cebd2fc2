/* libFuzzer target for the listener's request path: raw client bytes go
 * through the HTTP request step (cut into reads of a size the first byte
 * picks) and every complete request into the listener's write handler,
 * v1 or v2 by its path, gzip bodies included, into a capture accumulator,
 * in one go or in slices as the agent's loop parses them (the first byte
 * picks that too).
 * Small limits make 413, max_line_size and the bounded inflate reachable. */
#include <stdint.h>
#include <string.h>
#include "../plugins/inputs/influxdb_listener/listener_write.h"
#include "acc.h"
#include "httpd.h"

static struct lw *lw;
static struct acc *acc;
static size_t slice; /* 0: the body in one go; else the slice the agent's loop would take, small */

static void handler(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	(void)ud;
	enum lw_api api = req->path.len > 4 && memcmp(req->path.p, "/api", 4) == 0 ? LW_V2 : LW_V1;
	if (!slice) {
		hg_lw_handle(lw, acc, api, req, resp, 1700000000123456789LL);
		return;
	}
	/* As the agent's loop does: a slice a turn until the answer is given. */
	void *task = NULL;
	while (hg_lw_handle_slice(lw, acc, api, req, resp, 1700000000123456789LL, &task, slice))
		if (!task)
			__builtin_trap(); /* more to do, and nowhere it is kept */
	if (task)
		__builtin_trap(); /* answered, but the task was not released */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!lw) {
		struct lw_opts o = { .max_body = 4096, .max_line = 256, .database_tag = "db",
				     .retention_policy_tag = "rp", .bucket_tag = "bucket" };
		lw = hg_lw_new(&o);
		acc = hg_acc_capture_new();
		if (!lw || !acc)
			__builtin_trap();
	}
	if (size < 1)
		return 0;
	size_t cut = (size_t)data[0] % 64 + 1;
	slice = (size_t)(data[0] >> 6) * 37; /* 0 (one go), 37, 74 or 111 bytes: slices end mid-line */
	data++;
	size--;
	struct httpd_opts o = { .max_header = 1024, .max_body = 2048, .max_response = 16384, .inflate_gzip = true };
	struct httpd_parse *p = hg_httpd_parse_new(&o);
	if (!p)
		return 0;
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < cut ? size - off : cut;
		size_t used = 0;
		int r = hg_httpd_parse_feed(p, (const char *)data + off, n, &used);
		if (used > n)
			__builtin_trap();
		if (r == HTTPD_PARSE_MORE) {
			off += n;
			continue;
		}
		const char *out;
		size_t outlen;
		hg_httpd_parse_respond(p, handler, NULL, &out, &outlen);
		if (outlen < 12 || memcmp(out, "HTTP/1.1 ", 9) != 0)
			__builtin_trap();
		if (r == HTTPD_PARSE_ERROR || !hg_httpd_parse_keep_alive(p))
			break;
		off += used;
		hg_httpd_parse_next(p);
	}
	hg_httpd_parse_free(p);
	hg_acc_capture_clear(acc);
	return 0;
}
