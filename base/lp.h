/* InfluxDB line protocol: the agent's internal representation.
 * Serializer: a metric becomes one '\n'-terminated line, written once at
 * gather time. Parser: zero-copy over a caller buffer; views point into the
 * input except where escapes had to be removed (then into a caller scratch). */
#ifndef HG_LP_H
#define HG_LP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "metric.h"

/* Timestamp precision as the divisor of nanoseconds: 1 (ns), 1000 (us),
 * 1000000 (ms), 1000000000 (s). */
struct lp_opts {
	int64_t precision_ns;
	bool uint_support;   /* false: uint fields written as clamped 'i' (InfluxDB 1.x) */
	/* Write time 0 as "0" (1970-01-01) instead of leaving the timestamp
	 * out. The agent's outputs set it: every metric there has its time
	 * (gather or receive time, or the one a line carried), so 0 is an
	 * explicit epoch timestamp and leaving it out would make the server
	 * stamp its receive time. Left false, 0 means "not set". */
	bool zero_time_explicit;
};

struct lp_stats {
	unsigned dropped_fields; /* NaN/Inf float fields left out */
};

/* Unsorted tags beyond this many must be sorted by the caller. */
#define LP_SORT_INDEX_MAX 256

/* Writes the line (with trailing '\n') into out. Returns the length written,
 * -ENOSPC when cap is too small, -EINVAL when no field is left to write
 * (all dropped, or none), the name is empty, or more than LP_SORT_INDEX_MAX
 * tags are not sorted. Tags are written sorted by key (the metric itself is
 * not modified); empty tag keys or values are skipped. */
long hg_lp_serialize(const struct metric *m, const struct lp_opts *o, char *out, size_t cap, struct lp_stats *st);

/* Parser over [buf, buf+len). Each call parses the next non-empty,
 * non-comment line. */
struct lp_parser {
	const char *buf, *end, *pos;
	unsigned line;            /* 1-based number of the line just parsed */
	const char *line_start;   /* raw text of the line just parsed (without '\n') */
	size_t line_len;
	int64_t default_time_ns;  /* used when a line has no timestamp */
	int64_t precision_ns;     /* multiplier for the timestamps in the text */
	char *scratch;            /* unescaped strings go here when needed */
	size_t scratch_cap, scratch_used;
	bool tags_sorted;         /* the line's tags were put in key order: its text is not the metric's */
};

void hg_lp_parser_init(struct lp_parser *p, const char *buf, size_t len, int64_t precision_ns, int64_t default_time_ns,
		    char *scratch, size_t scratch_cap);
/* 1: a metric was parsed into m; 0: end of input; -1: this line is malformed
 * (err says where and why, "at line L:C: ..."), parsing can go on with the
 * next call. */
int hg_lp_parse_next(struct lp_parser *p, struct metric *m, char *err, size_t errlen);

#endif
