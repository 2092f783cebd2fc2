/* See influx_answer.h. The shape, from InfluxDB 1.x's httpd handler:
 * {"results":[{"statement_id":0,"series":[{"name":..,"tags":{..},
 * "columns":[..],"values":[[..],..]}],"error":".."}]}. */
#include "influx_answer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonq.h"

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "unexpected answer from InfluxDB: %s", what);
	return -1;
}

static int check_series(yajl_val v, struct ia_series *s, char *err, size_t errlen)
{
	if (!YAJL_IS_OBJECT(v))
		return bad(err, errlen, "a series is not an object");
	yajl_val name = hg_jq_at(v, "name", JQ_END), tags = hg_jq_at(v, "tags", JQ_END);
	yajl_val cols = hg_jq_at(v, "columns", JQ_END), vals = hg_jq_at(v, "values", JQ_END);
	s->name = YAJL_IS_STRING(name) ? name->u.string : NULL;
	if (tags && !YAJL_IS_NULL(tags)) {
		if (!YAJL_IS_OBJECT(tags))
			return bad(err, errlen, "\"tags\" is not an object");
		for (size_t i = 0; i < tags->u.object.len; i++)
			if (!YAJL_IS_STRING(tags->u.object.values[i]))
				return bad(err, errlen, "a tag value is not a string");
		s->tags = tags;
	} else {
		s->tags = NULL;
	}
	if (!YAJL_IS_ARRAY(cols))
		return bad(err, errlen, "a series has no \"columns\" array");
	s->columns = cols;
	s->ncols = cols->u.array.len;
	for (size_t i = 0; i < s->ncols; i++)
		if (!YAJL_IS_STRING(cols->u.array.values[i]))
			return bad(err, errlen, "a column name is not a string");
	s->values = vals;
	s->nrows = 0;
	if (vals && !YAJL_IS_NULL(vals)) {
		if (!YAJL_IS_ARRAY(vals))
			return bad(err, errlen, "\"values\" is not an array");
		for (size_t i = 0; i < vals->u.array.len; i++) {
			yajl_val row = vals->u.array.values[i];
			if (!YAJL_IS_ARRAY(row) || row->u.array.len != s->ncols)
				return bad(err, errlen, "a row is not an array as long as \"columns\"");
		}
		s->nrows = vals->u.array.len;
	} else {
		s->values = NULL;
	}
	return 0;
}

int hg_influx_answer_parse(const char *body, struct influx_answer *a, char *err, size_t errlen)
{
	*a = (struct influx_answer){ 0 };
	char why[256];
	a->root = hg_jq_parse(body, why, sizeof why);
	if (!a->root) {
		snprintf(err, errlen, "InfluxDB: %s", why);
		return -1;
	}
	const char *top_error = hg_jq_str(a->root, "error", JQ_END);
	if (top_error) {
		snprintf(err, errlen, "InfluxDB: %.400s", top_error);
		goto fail;
	}
	yajl_val results = hg_jq_at(a->root, "results", JQ_END);
	if (!YAJL_IS_ARRAY(results) || results->u.array.len < 1) {
		bad(err, errlen, "no \"results\" array");
		goto fail;
	}
	yajl_val r = results->u.array.values[0];
	if (!YAJL_IS_OBJECT(r)) {
		bad(err, errlen, "a result is not an object");
		goto fail;
	}
	const char *stmt_error = hg_jq_str(r, "error", JQ_END);
	if (stmt_error) {
		snprintf(err, errlen, "InfluxDB: %.400s", stmt_error);
		goto fail;
	}
	yajl_val series = hg_jq_at(r, "series", JQ_END);
	if (!series || YAJL_IS_NULL(series))
		return 0;
	if (!YAJL_IS_ARRAY(series)) {
		bad(err, errlen, "\"series\" is not an array");
		goto fail;
	}
	size_t n = series->u.array.len;
	if (n) {
		a->series = calloc(n, sizeof *a->series);
		if (!a->series) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (check_series(series->u.array.values[i], &a->series[i], err, errlen) < 0)
			goto fail;
	a->nseries = n;
	return 0;
fail:
	hg_influx_answer_free(a);
	return -1;
}

void hg_influx_answer_free(struct influx_answer *a)
{
	yajl_tree_free(a->root);
	free(a->series);
	*a = (struct influx_answer){ 0 };
}

const char *hg_ia_tag(const struct ia_series *s, const char *key)
{
	if (!s->tags)
		return NULL;
	for (size_t i = 0; i < s->tags->u.object.len; i++)
		if (strcmp(s->tags->u.object.keys[i], key) == 0)
			return s->tags->u.object.values[i]->u.string;
	return NULL;
}

int hg_ia_col(const struct ia_series *s, const char *name)
{
	for (size_t i = 0; i < s->ncols && i < 1000000; i++)
		if (strcmp(s->columns->u.array.values[i]->u.string, name) == 0)
			return (int)i;
	return -1;
}

static yajl_val cell(const struct ia_series *s, size_t row, int col)
{
	if (!s->values || row >= s->nrows || col < 0 || (size_t)col >= s->ncols)
		return NULL;
	return s->values->u.array.values[row]->u.array.values[col];
}

bool hg_ia_num(const struct ia_series *s, size_t row, int col, double *out)
{
	yajl_val v = cell(s, row, col);
	if (!YAJL_IS_NUMBER(v))
		return false;
	*out = YAJL_IS_INTEGER(v) ? (double)YAJL_GET_INTEGER(v) : YAJL_GET_DOUBLE(v);
	return true;
}

const char *hg_ia_str(const struct ia_series *s, size_t row, int col)
{
	yajl_val v = cell(s, row, col);
	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool hg_ia_int(const struct ia_series *s, size_t row, int col, int64_t *out)
{
	yajl_val v = cell(s, row, col);
	if (!YAJL_IS_INTEGER(v))
		return false;
	*out = YAJL_GET_INTEGER(v);
	return true;
}
