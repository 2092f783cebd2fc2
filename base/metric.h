/* One metric while it is being built or parsed. It lives only between an
 * input's hg_acc_metric() and hg_acc_emit() (or one parser step), and each producer
 * reuses one instance, so gathering allocates nothing per metric: the field
 * array grows (doubling, up to METRIC_MAX_FIELDS) only when a metric has more
 * fields than any before it, and keeps its size. It starts empty so that an
 * input whose metrics have 10 fields holds 10 fields' worth of memory, not
 * METRIC_MAX_FIELDS' (40 KiB). Tags grow the same way. A zeroed struct is an empty metric; release it
 * with hg_metric_release(). Every string is a view into memory the producer keeps
 * alive until emit. */
#ifndef HG_METRIC_H
#define HG_METRIC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sv.h"

/* InfluxDB 1.x has no tag count limit of its own: it refuses a series key
 * (measurement and tags) over 65535 bytes, and a tag takes at least 4 bytes
 * of it (",k=v"), so no line it accepts has more than 16383 tags. The tag
 * array grows like the field array, so the bound costs nothing until used. */
#define METRIC_MAX_TAGS 16384
#define METRIC_MAX_FIELDS 1024

enum field_type { FIELD_FLOAT, FIELD_INT, FIELD_UINT, FIELD_BOOL, FIELD_STRING };

struct metric_tag {
	struct sv key, value;
};

struct metric_field {
	struct sv key;
	enum field_type type;
	union {
		double f;
		int64_t i;
		uint64_t u;
		bool b;
		struct sv s;
	} v;
};

struct metric {
	struct sv name;
	size_t ntags, nfields;
	int64_t time_ns;      /* 0 = not set (the accumulator stamps gather time) */
	bool overflow;        /* a tag or field did not fit: counted, metric still emitted */
	struct metric_tag *tags;
	size_t tags_cap;      /* entries allocated in tags */
	struct metric_field *fields;
	size_t fields_cap;    /* entries allocated in fields */
};

/* Frees the tag and field arrays; the metric stays usable (empty, zero capacity). */
void hg_metric_release(struct metric *m);
/* Room for n fields (n <= METRIC_MAX_FIELDS): false when out of memory or over the limit. */
bool hg_metric_reserve(struct metric *m, size_t n);
/* Room for n tags (n <= METRIC_MAX_TAGS): false when out of memory or over the limit. */
bool hg_metric_reserve_tags(struct metric *m, size_t n);

void hg_metric_reset(struct metric *m, struct sv name);
/* Adders keep the view; a repeated tag key replaces the earlier value. A
 * tag or field that does not fit sets overflow (the caller counts and logs). */
void hg_metric_tag(struct metric *m, const char *key, const char *value);
void hg_metric_tag_sv(struct metric *m, struct sv key, struct sv value);
void hg_metric_float(struct metric *m, const char *key, double v);
void hg_metric_int(struct metric *m, const char *key, int64_t v);
void hg_metric_uint(struct metric *m, const char *key, uint64_t v);
void hg_metric_bool(struct metric *m, const char *key, bool v);
/* A numeric field's value as a double (uint and int64 as the nearest
 * double); a boolean as 1 / 0 when bools is set. False for strings, and
 * for booleans without bools. */
bool hg_metric_field_double(const struct metric_field *f, bool bools, double *out);
void hg_metric_string(struct metric *m, const char *key, const char *v);
void hg_metric_field_sv(struct metric *m, const struct metric_field *f);
/* Lookup helpers (linear: metrics are small). NULL when absent. */
const struct metric_tag *hg_metric_find_tag(const struct metric *m, const char *key);
const struct metric_field *hg_metric_find_field(const struct metric *m, const char *key);
void hg_metric_remove_tag(struct metric *m, size_t idx);
void hg_metric_remove_field(struct metric *m, size_t idx);
/* Sorts tags by key (byte order), as line protocol wants; in place, no
 * allocation, O(n log n) (keys are unique, so stability does not matter). */
void hg_metric_sort_tags(struct metric *m);

#endif
