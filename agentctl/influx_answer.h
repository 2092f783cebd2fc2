/* Reading the JSON answer of InfluxDB's /query (v1, and v2's v1-compatible
 * endpoint) to one statement: its series, each with a name, tags, columns
 * and rows. The answer comes from the network, so the whole structure is
 * checked once at parse time and the accessors below never read outside it. */
#ifndef AGENTCTL_INFLUX_ANSWER_H
#define AGENTCTL_INFLUX_ANSWER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

struct ia_series {
	const char *name; /* or NULL */
	yajl_val tags;    /* object, or NULL when the series has none */
	yajl_val columns; /* array of strings, ncols long */
	yajl_val values;  /* array of nrows arrays, each ncols long */
	size_t ncols, nrows;
};

struct influx_answer {
	yajl_val root;
	struct ia_series *series;
	size_t nseries;
};

/* 0, or -1 with err: not JSON, not the shape of an answer, or the statement's
 * own "error". An answer with no "series" (nothing matched) has nseries 0. */
int hg_influx_answer_parse(const char *body, struct influx_answer *a, char *err, size_t errlen);
void hg_influx_answer_free(struct influx_answer *a);

/* The tag's value, or NULL. */
const char *hg_ia_tag(const struct ia_series *s, const char *key);
/* The column's index, or -1. */
int hg_ia_col(const struct ia_series *s, const char *name);
/* The number at (row, col); false when null, not a number or out of range. */
bool hg_ia_num(const struct ia_series *s, size_t row, int col, double *out);
/* The string at (row, col), or NULL. */
const char *hg_ia_str(const struct ia_series *s, size_t row, int col);
/* The integer at (row, col) (the "time" column with epoch=ns); false when
 * it is not an integer. */
bool hg_ia_int(const struct ia_series *s, size_t row, int col, int64_t *out);

#endif
