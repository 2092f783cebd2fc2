/* libFuzzer target for the line protocol parser. Every metric the parser
 * accepts is serialized and parsed again: the result must be the same
 * metric (tags compared as a set, since the serializer sorts them; a raw
 * '\n' in a string field comes back as the two characters \n, by design,
 * because serialized lines never hold a raw newline). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lp.h"

static struct metric m, back;
static char scratch[1 << 16], scratch2[1 << 16], line[1 << 20];

#define ASSERT(c)                                                                        \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                         \
		}                                                                        \
	} while (0)

static bool string_matches(struct sv orig, struct sv got)
{
	size_t j = 0;
	for (size_t i = 0; i < orig.len; i++) {
		if (orig.p[i] == '\n') {
			if (j + 2 > got.len || got.p[j] != '\\' || got.p[j + 1] != 'n')
				return false;
			j += 2;
		} else {
			if (j >= got.len || got.p[j] != orig.p[i])
				return false;
			j++;
		}
	}
	return j == got.len;
}

static void check_same(const struct metric *a, const struct metric *b)
{
	ASSERT(sv_eq(a->name, b->name));
	/* Written with zero_time_explicit, an epoch timestamp survives the trip. */
	ASSERT(a->time_ns == b->time_ns);
	ASSERT(a->ntags == b->ntags);
	ASSERT(a->nfields == b->nfields);
	for (size_t i = 0; i < a->ntags; i++) {
		bool found = false;
		for (size_t j = 0; j < b->ntags && !found; j++)
			found = sv_eq(a->tags[i].key, b->tags[j].key) && sv_eq(a->tags[i].value, b->tags[j].value);
		ASSERT(found);
	}
	for (size_t i = 0; i < a->nfields; i++) {
		const struct metric_field *x = &a->fields[i], *y = &b->fields[i];
		ASSERT(sv_eq(x->key, y->key));
		ASSERT(x->type == y->type);
		switch (x->type) {
		case FIELD_FLOAT:
			ASSERT(x->v.f == y->v.f);
			break;
		case FIELD_INT:
			ASSERT(x->v.i == y->v.i);
			break;
		case FIELD_UINT:
			ASSERT(x->v.u == y->v.u);
			break;
		case FIELD_BOOL:
			ASSERT(x->v.b == y->v.b);
			break;
		case FIELD_STRING:
			ASSERT(string_matches(x->v.s, y->v.s));
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t precisions[] = { 1, 1000, 1000000, 1000000000 };
	int64_t prec = precisions[size % 4];
	const int64_t deftime = 1600000000123456789;
	char err[256];
	struct lp_parser p;
	hg_lp_parser_init(&p, (const char *)data, size, prec, deftime, scratch, sizeof scratch);
	int rc;
	unsigned last_line = 0;
	while ((rc = hg_lp_parse_next(&p, &m, err, sizeof err)) != 0) {
		ASSERT(p.line >= last_line);
		last_line = p.line;
		if (rc < 0) {
			ASSERT(strncmp(err, "at line ", 8) == 0);
			continue;
		}
		ASSERT(rc == 1);
		ASSERT(m.name.len > 0 && m.nfields > 0);
		struct lp_opts o = { .precision_ns = prec, .uint_support = true, .zero_time_explicit = true };
		struct lp_stats st = { 0 };
		long n = hg_lp_serialize(&m, &o, line, sizeof line, &st);
		ASSERT(n > 0);
		ASSERT(st.dropped_fields == 0);
		ASSERT(memchr(line, '\n', (size_t)n) == line + n - 1);
		struct lp_parser p2;
		hg_lp_parser_init(&p2, line, (size_t)n, prec, deftime, scratch2, sizeof scratch2);
		int rc2 = hg_lp_parse_next(&p2, &back, err, sizeof err);
		if (rc2 != 1)
			fprintf(stderr, "re-parse failed: %s\nline: %.*s", err, (int)n, line);
		ASSERT(rc2 == 1);
		check_same(&m, &back);
		ASSERT(hg_lp_parse_next(&p2, &back, err, sizeof err) == 0);
	}
	return 0;
}
