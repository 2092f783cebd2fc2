/* Telegraf's per-plugin metric filters. Order as Telegraf documents it
 * (docs/CONFIGURATION.md, "Metric Filtering"): the selectors namepass,
 * namedrop, tagpass, tagdrop decide on the metric as gathered; then the
 * modifiers fieldpass (fieldinclude), fielddrop (fieldexclude), taginclude,
 * tagexclude trim it, and a metric left with no field is dropped. */
#include "filter.h"
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Names, keys and values are views, and fnmatch wants a C string: each is
 * copied once into a stack buffer of this size, never to the heap. */
#define GLOB_SUBJECT_MAX 4096

/* A glob of only '*' matches anything, even a subject too long to copy. */
static bool glob_is_star(const char *g)
{
	if (!*g)
		return false;
	while (*g == '*')
		g++;
	return !*g;
}

bool hg_filter_name_matches(const struct strlist *globs, struct sv name)
{
	if (!globs->n)
		return false;
	char buf[GLOB_SUBJECT_MAX];
	bool fits = name.len < sizeof buf;
	if (fits) {
		if (name.len)
			memcpy(buf, name.p, name.len);
		buf[name.len] = 0;
	}
	for (size_t i = 0; i < globs->n; i++) {
		const char *g = globs->v[i];
		if (fits ? fnmatch(g, buf, 0) == 0 : glob_is_star(g))
			return true;
	}
	return false;
}

/* True when some listed key is a tag of m whose value matches one of that
 * key's globs. A key the metric lacks never matches. */
static bool tagfilter_matches(const struct tagfilter *tf, const struct metric *m)
{
	for (size_t i = 0; i < tf->n; i++) {
		const struct metric_tag *t = hg_metric_find_tag(m, tf->key[i]);
		if (t && hg_filter_name_matches(&tf->globs[i], t->value))
			return true;
	}
	return false;
}

bool hg_filter_is_empty(const struct metric_filter *f)
{
	return !f->namepass.n && !f->namedrop.n && !f->fieldpass.n && !f->fielddrop.n && !f->taginclude.n &&
	       !f->tagexclude.n && !f->tagpass.n && !f->tagdrop.n;
}

static void keep_fields(struct metric *m, const struct strlist *globs, bool keep_if_match)
{
	size_t w = 0;
	for (size_t r = 0; r < m->nfields; r++)
		if (hg_filter_name_matches(globs, m->fields[r].key) == keep_if_match)
			m->fields[w++] = m->fields[r];
	m->nfields = w;
}

static void keep_tags(struct metric *m, const struct strlist *globs, bool keep_if_match)
{
	size_t w = 0;
	for (size_t r = 0; r < m->ntags; r++)
		if (hg_filter_name_matches(globs, m->tags[r].key) == keep_if_match)
			m->tags[w++] = m->tags[r];
	m->ntags = w;
}

bool hg_filter_apply(const struct metric_filter *f, struct metric *m)
{
	if (f->namepass.n && !hg_filter_name_matches(&f->namepass, m->name))
		return false;
	if (f->namedrop.n && hg_filter_name_matches(&f->namedrop, m->name))
		return false;
	if (f->tagpass.n && !tagfilter_matches(&f->tagpass, m))
		return false;
	if (f->tagdrop.n && tagfilter_matches(&f->tagdrop, m))
		return false;
	if (f->fieldpass.n)
		keep_fields(m, &f->fieldpass, true);
	if (f->fielddrop.n)
		keep_fields(m, &f->fielddrop, false);
	if (f->taginclude.n)
		keep_tags(m, &f->taginclude, true);
	if (f->tagexclude.n)
		keep_tags(m, &f->tagexclude, false);
	return m->nfields > 0;
}

/* Frees the members here rather than through options.c so the filter links
 * on its own (the fuzzers and this module's unit test pull in no config). */
static void free_list(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct strlist){ 0 };
}

static void free_tagfilter(struct tagfilter *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->key[i]);
		free_list(&t->globs[i]);
	}
	free(t->key);
	free(t->globs);
	*t = (struct tagfilter){ 0 };
}

void hg_filter_free(struct metric_filter *f)
{
	free_list(&f->namepass);
	free_list(&f->namedrop);
	free_list(&f->fieldpass);
	free_list(&f->fielddrop);
	free_list(&f->taginclude);
	free_list(&f->tagexclude);
	free_tagfilter(&f->tagpass);
	free_tagfilter(&f->tagdrop);
}
