/* Line protocol -> prompb WriteRequest (remote write 1.0), Telegraf's
 * prometheusremotewrite naming: one series per numeric field, named
 * measurement_field (the field alone for measurement "prometheus"),
 * sanitized; tags become labels; labels sorted by name. The request's
 * series are ordered by sample time (stable), so each series' samples go
 * out oldest first. */
#ifndef HG_PRW_ENCODE_H
#define HG_PRW_ENCODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "lp_batch.h"
#include "prompb.pb-c.h"

struct prw_stats {
	size_t samples;        /* series written (one sample each) */
	size_t string_fields;  /* skipped: remote write carries numbers only */
	size_t bad_names;      /* fields whose name could not be made valid */
	size_t bad_lines;      /* malformed lines */
	char first_error[160];
};

struct prw_encoder {
	struct lp_batch_reader rd;
	struct arena a;
	Prompb__TimeSeries **series; /* reused across batches */
	Prompb__TimeSeries **sort_tmp; /* series_cap entries, for sorting by time */
	size_t series_cap;
	unsigned char *pb;
	size_t pb_cap;
};

/* Encodes every line of data into *out (owned by e, valid until the next
 * call); *outlen 0 when no sample came out. 0, or -1 with err (out of memory). */
int hg_prw_encode(struct prw_encoder *e, const char *data, size_t len, int64_t now_ns, const unsigned char **out,
	       size_t *outlen, struct prw_stats *st, char *err, size_t errlen);
void hg_prw_encoder_free(struct prw_encoder *e);

/* Telegraf's sanitizing of a Prometheus metric (colons allowed) or label
 * name into out (room for n+1 bytes): valid names unchanged; otherwise an
 * invalid first character is dropped, later ones become '_', and leading and
 * trailing '_' are trimmed. Returns the length, 0 when nothing valid is left. */
size_t hg_prw_sanitize(const char *in, size_t n, bool metric, char *out);

#endif
