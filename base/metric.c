/* The metric builder: views only; the field array grows to the largest metric seen. */
#include "metric.h"
#include <stdlib.h>

int hg_sv_cmp(struct sv a, struct sv b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.p, b.p, n) : 0;
	if (c)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

#define FIELDS_FIRST 16
#define TAGS_FIRST 16

void hg_metric_release(struct metric *m)
{
	free(m->tags);
	m->tags = NULL;
	m->tags_cap = 0;
	m->ntags = 0;
	free(m->fields);
	m->fields = NULL;
	m->fields_cap = 0;
	m->nfields = 0;
}

bool hg_metric_reserve(struct metric *m, size_t n)
{
	if (n <= m->fields_cap)
		return true;
	if (n > METRIC_MAX_FIELDS)
		return false;
	size_t cap = m->fields_cap ? m->fields_cap : FIELDS_FIRST;
	while (cap < n)
		cap *= 2;
	if (cap > METRIC_MAX_FIELDS)
		cap = METRIC_MAX_FIELDS;
	struct metric_field *nf = realloc(m->fields, cap * sizeof *nf);
	if (!nf)
		return false;
	m->fields = nf;
	m->fields_cap = cap;
	return true;
}

bool hg_metric_reserve_tags(struct metric *m, size_t n)
{
	if (n <= m->tags_cap)
		return true;
	if (n > METRIC_MAX_TAGS)
		return false;
	size_t cap = m->tags_cap ? m->tags_cap : TAGS_FIRST;
	while (cap < n)
		cap *= 2;
	if (cap > METRIC_MAX_TAGS)
		cap = METRIC_MAX_TAGS;
	struct metric_tag *nt = realloc(m->tags, cap * sizeof *nt);
	if (!nt)
		return false;
	m->tags = nt;
	m->tags_cap = cap;
	return true;
}

void hg_metric_reset(struct metric *m, struct sv name)
{
	m->name = name;
	m->ntags = m->nfields = 0;
	m->time_ns = 0;
	m->overflow = false;
}

void hg_metric_tag_sv(struct metric *m, struct sv key, struct sv value)
{
	for (size_t i = 0; i < m->ntags; i++) {
		if (sv_eq(m->tags[i].key, key)) {
			m->tags[i].value = value;
			return;
		}
	}
	if (!hg_metric_reserve_tags(m, m->ntags + 1)) {
		m->overflow = true;
		return;
	}
	m->tags[m->ntags++] = (struct metric_tag){ key, value };
}

void hg_metric_tag(struct metric *m, const char *key, const char *value)
{
	hg_metric_tag_sv(m, sv_c(key), sv_c(value));
}

/* A repeated field key replaces the earlier value, as in line protocol
 * where the last duplicate wins. */
void hg_metric_field_sv(struct metric *m, const struct metric_field *f)
{
	for (size_t i = 0; i < m->nfields; i++) {
		if (sv_eq(m->fields[i].key, f->key)) {
			m->fields[i] = *f;
			return;
		}
	}
	if (!hg_metric_reserve(m, m->nfields + 1)) {
		m->overflow = true;
		return;
	}
	m->fields[m->nfields++] = *f;
}

void hg_metric_float(struct metric *m, const char *key, double v)
{
	struct metric_field f = { .key = sv_c(key), .type = FIELD_FLOAT, .v.f = v };
	hg_metric_field_sv(m, &f);
}

void hg_metric_int(struct metric *m, const char *key, int64_t v)
{
	struct metric_field f = { .key = sv_c(key), .type = FIELD_INT, .v.i = v };
	hg_metric_field_sv(m, &f);
}

void hg_metric_uint(struct metric *m, const char *key, uint64_t v)
{
	struct metric_field f = { .key = sv_c(key), .type = FIELD_UINT, .v.u = v };
	hg_metric_field_sv(m, &f);
}

void hg_metric_bool(struct metric *m, const char *key, bool v)
{
	struct metric_field f = { .key = sv_c(key), .type = FIELD_BOOL, .v.b = v };
	hg_metric_field_sv(m, &f);
}

void hg_metric_string(struct metric *m, const char *key, const char *v)
{
	struct metric_field f = { .key = sv_c(key), .type = FIELD_STRING, .v.s = sv_c(v) };
	hg_metric_field_sv(m, &f);
}

const struct metric_tag *hg_metric_find_tag(const struct metric *m, const char *key)
{
	struct sv k = sv_c(key);
	for (size_t i = 0; i < m->ntags; i++)
		if (sv_eq(m->tags[i].key, k))
			return &m->tags[i];
	return NULL;
}

const struct metric_field *hg_metric_find_field(const struct metric *m, const char *key)
{
	struct sv k = sv_c(key);
	for (size_t i = 0; i < m->nfields; i++)
		if (sv_eq(m->fields[i].key, k))
			return &m->fields[i];
	return NULL;
}

void hg_metric_remove_tag(struct metric *m, size_t idx)
{
	if (idx >= m->ntags)
		return;
	memmove(&m->tags[idx], &m->tags[idx + 1], (m->ntags - idx - 1) * sizeof m->tags[0]);
	m->ntags--;
}

void hg_metric_remove_field(struct metric *m, size_t idx)
{
	if (idx >= m->nfields)
		return;
	memmove(&m->fields[idx], &m->fields[idx + 1], (m->nfields - idx - 1) * sizeof m->fields[0]);
	m->nfields--;
}

static bool tag_less(const struct metric_tag *a, const struct metric_tag *b)
{
	return hg_sv_cmp(a->key, b->key) < 0;
}

static void sift_down(struct metric_tag *t, size_t root, size_t n)
{
	for (;;) {
		size_t c = 2 * root + 1;
		if (c >= n)
			return;
		if (c + 1 < n && tag_less(&t[c], &t[c + 1]))
			c++;
		if (!tag_less(&t[root], &t[c]))
			return;
		struct metric_tag x = t[root];
		t[root] = t[c];
		t[c] = x;
		root = c;
	}
}

/* Already sorted is the common case (line protocol from clients, the
 * agent's own inputs): one pass. Otherwise heapsort: in place, and a
 * line of thousands of unsorted tags costs n log n, not n^2. */
void hg_metric_sort_tags(struct metric *m)
{
	struct metric_tag *t = m->tags;
	size_t n = m->ntags, i = 1;
	while (i < n && !tag_less(&t[i], &t[i - 1]))
		i++;
	if (i >= n)
		return;
	for (size_t r = n / 2; r-- > 0;)
		sift_down(t, r, n);
	for (size_t end = n; end-- > 1;) {
		struct metric_tag x = t[0];
		t[0] = t[end];
		t[end] = x;
		sift_down(t, 0, end);
	}
}

bool hg_metric_field_double(const struct metric_field *f, bool bools, double *out)
{
	switch (f->type) {
	case FIELD_FLOAT:
		*out = f->v.f;
		return true;
	case FIELD_INT:
		*out = (double)f->v.i;
		return true;
	case FIELD_UINT:
		*out = (double)f->v.u;
		return true;
	case FIELD_BOOL:
		*out = f->v.b ? 1.0 : 0.0;
		return bools;
	case FIELD_STRING:
		break;
	}
	return false;
}
