/* yajl tree accessors for the cluster commands (see jsonq.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "jsonq.h"

#define JQ_MAX_DEPTH 16

yajl_val hg_jq_parse(const char *body, char *err, size_t errlen)
{
	char perr[128];
	yajl_val v = body ? yajl_tree_parse(body, perr, sizeof perr) : NULL;
	if (!v)
		snprintf(err, errlen, "the answer is not JSON%s%s", body ? ": " : "", body ? perr : "");
	return v;
}

static yajl_val walk(yajl_val v, va_list ap)
{
	const char *path[JQ_MAX_DEPTH + 1];
	size_t n = 0;
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL)
		if (n < JQ_MAX_DEPTH)
			path[n++] = k;
	path[n] = NULL;
	if (!v)
		return NULL;
	return n ? yajl_tree_get(v, path, yajl_t_any) : v;
}

yajl_val hg_jq_at(yajl_val v, ...)
{
	va_list ap;
	va_start(ap, v);
	yajl_val r = walk(v, ap);
	va_end(ap);
	return r;
}

const char *hg_jq_str(yajl_val v, ...)
{
	va_list ap;
	va_start(ap, v);
	yajl_val r = walk(v, ap);
	va_end(ap);
	return YAJL_IS_STRING(r) ? YAJL_GET_STRING(r) : NULL;
}

int64_t hg_jq_int(yajl_val v, int64_t def, ...)
{
	va_list ap;
	va_start(ap, def);
	yajl_val r = walk(v, ap);
	va_end(ap);
	return YAJL_IS_INTEGER(r) ? (int64_t)YAJL_GET_INTEGER(r) : def;
}

size_t hg_jq_len(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

yajl_val hg_jq_item(yajl_val v, size_t i)
{
	return YAJL_IS_ARRAY(v) && i < v->u.array.len ? v->u.array.values[i] : NULL;
}

static bool skipped(const char *k, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, k) == 0)
			return true;
	return false;
}

/* The last of duplicate keys counts, as for the API server (Go's JSON
 * decoder); comparing every duplicate against one of them made an object
 * unequal to itself (found by fuzz_jsonq). */
static yajl_val member(yajl_val o, const char *k)
{
	for (size_t i = o->u.object.len; i-- > 0;)
		if (strcmp(o->u.object.keys[i], k) == 0)
			return o->u.object.values[i];
	return NULL;
}

/* a and b are objects (hg_jq_equal_except checks): their u.object is read
 * directly. */
static bool covers(yajl_val a, yajl_val b, const char *const *skip)
{
	for (size_t i = 0; i < a->u.object.len; i++) {
		const char *k = a->u.object.keys[i];
		if (skipped(k, skip) || member(a, k) != a->u.object.values[i])
			continue;
		yajl_val bv = member(b, k);
		if (!bv || !hg_jq_equal(a->u.object.values[i], bv))
			return false;
	}
	return true;
}

bool hg_jq_equal_except(yajl_val a, yajl_val b, const char *const *skip)
{
	if (!YAJL_IS_OBJECT(a) || !YAJL_IS_OBJECT(b))
		return hg_jq_equal(a, b);
	return covers(a, b, skip) && covers(b, a, skip);
}

bool hg_jq_equal(yajl_val a, yajl_val b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case yajl_t_string:
		return strcmp(a->u.string, b->u.string) == 0;
	case yajl_t_number:
		return strcmp(a->u.number.r, b->u.number.r) == 0;
	case yajl_t_object:
		return hg_jq_equal_except(a, b, NULL);
	case yajl_t_array:
		if (hg_jq_len(a) != hg_jq_len(b))
			return false;
		for (size_t i = 0; i < hg_jq_len(a); i++)
			if (!hg_jq_equal(hg_jq_item(a, i), hg_jq_item(b, i)))
				return false;
		return true;
	default:
		return true; /* true, false, null: the type says it all */
	}
}
