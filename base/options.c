/* Copying and freeing the values the option tables describe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

bool hg_opt_choice_ok(const struct opt_desc *o, const char *v)
{
	if (!o->choices)
		return true;
	for (const char *const *ch = o->choices; *ch; ch++)
		if (!strcmp(*ch, v))
			return true;
	return false;
}

void hg_opt_choices_text(const struct opt_desc *o, char *buf, size_t len)
{
	size_t k = 0, at = 0;
	while (o->choices && o->choices[k])
		k++;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < k && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%s", i == 0 ? "" : i + 1 == k ? " or " : ", ", o->choices[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

int hg_strlist_copy(struct strlist *dst, const struct strlist *src)
{
	if (!src->n)
		return 0;
	dst->v = calloc(src->n, sizeof(char *));
	if (!dst->v)
		return -ENOMEM;
	for (size_t i = 0; i < src->n; i++, dst->n++)
		if (!(dst->v[i] = strdup(src->v[i])))
			return -ENOMEM;
	return 0;
}

void hg_strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->n = 0;
	l->v = NULL;
}

void hg_strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->k[i]);
		free(m->v[i]);
	}
	free(m->k);
	free(m->v);
	m->n = 0;
	m->k = m->v = NULL;
}

void hg_tagfilter_free(struct tagfilter *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->key[i]);
		hg_strlist_free(&t->globs[i]);
	}
	free(t->key);
	free(t->globs);
	t->n = 0;
	t->key = NULL;
	t->globs = NULL;
}

void hg_opts_free(const struct opt_desc *opts, void *base)
{
	if (!base)
		return;
	for (const struct opt_desc *o = opts; o && o->name; o++) {
		void *f = (char *)base + o->offset;
		switch (o->type) {
		case OPT_STRING:
		case OPT_SECRET:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case OPT_STRLIST:
			hg_strlist_free(f);
			break;
		case OPT_STRMAP:
			hg_strmap_free(f);
			break;
		case OPT_TAGFILTER:
			hg_tagfilter_free(f);
			break;
		case OPT_SECTION:
			hg_opts_free(o->sub, f);
			break;
		default:
			break;
		}
	}
}
