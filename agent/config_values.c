/* Applying option tables to YAML nodes: one opt_desc to a node, a mapping
 * to a table, defaults. Units are in config_units.c, ${VAR} expansion in
 * config_env.c. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_values.h"

const struct opt_desc *hg_opt_find(const struct opt_desc *opts, const char *name)
{
	for (const struct opt_desc *o = opts; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

int hg_strmap_set(struct strmap *m, const char *key, const char *value)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->k[i], key) == 0) {
			char *v = strdup(value);
			if (!v)
				return -1;
			free(m->v[i]);
			m->v[i] = v;
			return 0;
		}
	}
	char **k = realloc(m->k, (m->n + 1) * sizeof(*k));
	if (!k)
		return -1;
	m->k = k;
	char **v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	m->v = v;
	char *ks = strdup(key), *vs = strdup(value);
	if (!ks || !vs) {
		free(ks);
		free(vs);
		return -1;
	}
	m->k[m->n] = ks;
	m->v[m->n] = vs;
	m->n++;
	return 0;
}

/* Context for messages about one option. */
struct actx {
	const struct opt_desc *o;
	struct ydoc *d;
	char *err;
	size_t errlen;
	bool from_default; /* applying o->def: "" there must not fall back to it again */
};

static int apply_default(const struct opt_desc *o, void *base, const char *what, char *err, size_t errlen);

static const char *type_name(enum opt_type t)
{
	switch (t) {
	case OPT_BOOL: return "true or false";
	case OPT_INT: return "an integer";
	case OPT_DOUBLE: return "a number";
	case OPT_STRING:
	case OPT_SECRET: return "a string";
	case OPT_DURATION: return "a duration";
	case OPT_SIZE: return "a size";
	case OPT_STRLIST: return "a list of strings";
	case OPT_STRMAP: return "a mapping of strings";
	case OPT_TAGFILTER: return "a mapping of tag keys to lists of globs";
	case OPT_SECTION: return "a mapping of options";
	}
	return "?";
}

/* The expanded text of scalar n, malloc'd; NULL with err set. */
static char *scalar_value(struct actx *c, yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE) {
		hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
			   type_name(c->o->type), n->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
		return NULL;
	}
	if (strlen(ynode_text(n)) != n->data.scalar.length) {
		hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": NUL character in value", c->o->name);
		return NULL;
	}
	char msg[128];
	char *v = hg_env_expand(ynode_text(n), msg, sizeof(msg));
	if (!v)
		hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": %s", c->o->name, msg);
	return v;
}

/* OPT_F_URL: scheme "://" and something after it, no spaces or control
 * characters. The value is not echoed: it may carry user:password. */
static int url_check(struct actx *c, yaml_node_t *n, const char *v)
{
	const char *p = v;
	if (!(c->o->flags & OPT_F_URL))
		return 0;
	if (isalpha((unsigned char)*p))
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
			p++;
	bool ok = p > v && !strncmp(p, "://", 3) && p[3];
	for (const char *q = v; ok && *q; q++)
		ok = (unsigned char)*q > ' ' && *q != 0x7f;
	if (ok)
		return 0;
	return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": not a URL (expected scheme://host[:port][/path])",
			  c->o->name);
}

static int choice_check(struct actx *c, yaml_node_t *n, const char *v);

static int strlist_from(struct actx *c, yaml_node_t *n, struct strlist *out)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
				  type_name(OPT_STRLIST), n->type == YAML_MAPPING_NODE ? "mapping" : "scalar");
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt > YDOC_MAX_ITEMS)
		return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": more than %d items", c->o->name,
				  YDOC_MAX_ITEMS);
	struct strlist l = { 0, cnt ? calloc(cnt, sizeof(char *)) : NULL };
	if (cnt && !l.v)
		return hg_ydoc_error(c->err, c->errlen, c->d, n, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = hg_ydoc_node(c->d, n->data.sequence.items.start[i]);
		char *v = scalar_value(c, it);
		if (!v || url_check(c, it, v) < 0 || choice_check(c, it, v) < 0) {
			free(v);
			hg_strlist_free(&l);
			return -1;
		}
		l.v[l.n++] = v;
	}
	*out = l;
	return 0;
}

static int map_check(struct actx *c, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
				  type_name(c->o->type), n->type == YAML_SEQUENCE_NODE ? "sequence" : "scalar");
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > YDOC_MAX_ITEMS)
		return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": more than %d entries", c->o->name,
				  YDOC_MAX_ITEMS);
	return 0;
}

static const char *map_key(struct actx *c, yaml_node_t *k)
{
	if (k->type != YAML_SCALAR_NODE || strlen(ynode_text(k)) != k->data.scalar.length || !*ynode_text(k)) {
		hg_ydoc_error(c->err, c->errlen, c->d, k, "option \"%s\": keys must be non-empty strings", c->o->name);
		return NULL;
	}
	return ynode_text(k);
}

static int strmap_merge(struct actx *c, yaml_node_t *n, struct strmap *m)
{
	if (map_check(c, n) < 0)
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = map_key(c, hg_ydoc_node(c->d, p->key));
		if (!k)
			return -1;
		yaml_node_t *vn = hg_ydoc_node(c->d, p->value);
		char *v = scalar_value(c, vn);
		if (!v)
			return -1;
		int r = hg_strmap_set(m, k, v);
		free(v);
		if (r < 0)
			return hg_ydoc_error(c->err, c->errlen, c->d, vn, "out of memory");
	}
	return 0;
}

static int tagfilter_merge(struct actx *c, yaml_node_t *n, struct tagfilter *t)
{
	if (map_check(c, n) < 0)
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = map_key(c, hg_ydoc_node(c->d, p->key));
		if (!k)
			return -1;
		struct strlist l;
		if (strlist_from(c, hg_ydoc_node(c->d, p->value), &l) < 0)
			return -1;
		size_t i;
		for (i = 0; i < t->n && strcmp(t->key[i], k); i++)
			;
		if (i < t->n) {
			hg_strlist_free(&t->globs[i]);
			t->globs[i] = l;
			continue;
		}
		char **keys = realloc(t->key, (t->n + 1) * sizeof(*keys));
		if (keys)
			t->key = keys;
		struct strlist *g = keys ? realloc(t->globs, (t->n + 1) * sizeof(*g)) : NULL;
		if (g)
			t->globs = g;
		char *ks = g ? strdup(k) : NULL;
		if (!ks) {
			hg_strlist_free(&l);
			return hg_ydoc_error(c->err, c->errlen, c->d, n, "out of memory");
		}
		t->key[t->n] = ks;
		t->globs[t->n] = l;
		t->n++;
	}
	return 0;
}

/* An option with choices (options.h) takes one of them (a list: each item):
 * anything else is an error at the value, naming what it may be ("watch or
 * list", "a, b or c"). */
static int choice_check(struct actx *c, yaml_node_t *n, const char *v)
{
	/* Not OPT_SECRET: a secret's value is never echoed. A tagfilter's
	 * lists (strlist_from too) have no choices. */
	if ((c->o->type != OPT_STRING && c->o->type != OPT_STRLIST) || hg_opt_choice_ok(c->o, v))
		return 0;
	char allowed[256];
	hg_opt_choices_text(c->o, allowed, sizeof allowed);
	return hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got \"%s\"", c->o->name,
			     allowed, v);
}

static int scalar_apply(struct actx *c, yaml_node_t *n, void *field)
{
	const struct opt_desc *o = c->o;
	char *v = scalar_value(c, n);
	if (!v)
		return -1;
	/* Secrets are never echoed; other bad values are, to help the user. */
	const char *shown = o->type == OPT_SECRET ? "(secret)" : v;
	int rc = 0;
	char *end = NULL;
	switch (o->type) {
	case OPT_BOOL:
		if (!strcmp(v, "true"))
			*(bool *)field = true;
		else if (!strcmp(v, "false"))
			*(bool *)field = false;
		else
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected true or false, got \"%s\"",
					o->name, shown);
		break;
	case OPT_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || isspace((unsigned char)*v) || *end)
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected an integer, got \"%s\"",
					o->name, shown);
		else if (errno == ERANGE)
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": integer out of range: \"%s\"",
					o->name, shown);
		else
			*(int64_t *)field = (int64_t)x;
		break;
	}
	case OPT_DOUBLE: {
		errno = 0;
		double x = strtod(v, &end);
		if (!*v || isspace((unsigned char)*v) || *end || !isfinite(x) || errno == ERANGE)
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected a number, got \"%s\"",
					o->name, shown);
		else
			*(double *)field = x;
		break;
	}
	case OPT_DURATION: {
		int64_t ns;
		if (hg_parse_duration(v, &ns) < 0)
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n,
					"option \"%s\": bad duration \"%s\" (e.g. \"10s\", \"1m30s\", \"500ms\")", o->name,
					shown);
		else
			*(int64_t *)field = ns;
		break;
	}
	case OPT_SIZE: {
		uint64_t b;
		if (hg_parse_size(v, &b) < 0)
			rc = hg_ydoc_error(c->err, c->errlen, c->d, n,
					"option \"%s\": bad size \"%s\" (e.g. \"64MiB\", \"10MB\", \"512\")", o->name,
					shown);
		else
			*(uint64_t *)field = b;
		break;
	}
	case OPT_STRING:
	case OPT_SECRET:
		free(*(char **)field);
		*(char **)field = NULL;
		if (*v || (o->flags & OPT_F_EMPTY_IS_VALUE)) {
			if (*v && (url_check(c, n, v) < 0 || choice_check(c, n, v) < 0)) {
				free(v);
				return -1;
			}
			*(char **)field = v;
			return 0;
		}
		/* "" means unset (see OPT_F_EMPTY_IS_VALUE): back to the default. */
		free(v);
		if (c->from_default || !o->def)
			return 0;
		return apply_default(o, (char *)field - o->offset, "default", c->err, c->errlen);
	default:
		break;
	}
	free(v);
	return rc;
}

/* Options whose value must be > 0 when given (0 or less means nothing useful). */
static const char *const positive[] = {
	"interval", "flush_interval", "metric_batch_size", "metric_buffer_limit", "health_max_flush_intervals",
	"shutdown_timeout", "health_header_timeout", "health_idle_timeout", "health_write_timeout",
	"health_max_connections", NULL,
};

static int check_positive(const struct opt_desc *o, const void *base, struct ydoc *d, yaml_node_t *n, char *err,
			  size_t errlen)
{
	if (o->type != OPT_INT && o->type != OPT_DURATION)
		return 0;
	for (size_t i = 0; positive[i]; i++)
		if (!strcmp(positive[i], o->name) && *(const int64_t *)((const char *)base + o->offset) <= 0)
			return hg_ydoc_error(err, errlen, d, n, "option \"%s\": must be greater than 0", o->name);
	return 0;
}

static size_t opts_count(const struct opt_desc *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

int hg_opts_apply_map(struct ydoc *d, yaml_node_t *n, const char *what, const struct opt_desc *t1, void *b1,
		     const struct opt_desc *t2, void *b2, char *err, size_t errlen)
{
	if (hg_ynode_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return hg_ydoc_error(err, errlen, d, n, "%s: expected a mapping of options", what);
	size_t n1 = opts_count(t1), n2 = opts_count(t2);
	bool *seen = calloc(n1 + n2 + 1, sizeof(bool));
	if (!seen)
		return hg_ydoc_error(err, errlen, d, n, "out of memory");
	int rc = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !rc; p++) {
		yaml_node_t *k = hg_ydoc_node(d, p->key), *v = hg_ydoc_node(d, p->value);
		if (k->type != YAML_SCALAR_NODE) {
			rc = hg_ydoc_error(err, errlen, d, k, "%s: option names must be strings", what);
			break;
		}
		const char *name = ynode_text(k);
		const struct opt_desc *o = hg_opt_find(t1, name);
		void *base = b1;
		size_t idx = o ? (size_t)(o - t1) : 0;
		if (!o && (o = hg_opt_find(t2, name))) {
			base = b2;
			idx = n1 + (size_t)(o - t2);
		}
		if (!o) {
			rc = hg_ydoc_error(err, errlen, d, k, "%s: unknown option \"%s\"", what, name);
		} else if (seen[idx]) {
			rc = hg_ydoc_error(err, errlen, d, k, "%s: option \"%s\" given twice", what, name);
		} else {
			seen[idx] = true;
			rc = hg_opt_apply(o, base, d, v, err, errlen);
			if (!rc)
				rc = check_positive(o, base, d, v, err, errlen);
		}
	}
	free(seen);
	return rc;
}

static int apply(const struct opt_desc *o, void *base, struct ydoc *d, yaml_node_t *n, char *err, size_t errlen,
		 bool from_default)
{
	struct actx c = { o, d, err, errlen, from_default };
	void *field = (char *)base + o->offset;
	if (hg_ynode_is_null(n))
		return 0;
	switch (o->type) {
	case OPT_STRLIST: {
		struct strlist l;
		if (strlist_from(&c, n, &l) < 0)
			return -1;
		hg_strlist_free(field);
		*(struct strlist *)field = l;
		return 0;
	}
	case OPT_STRMAP:
		return strmap_merge(&c, n, field);
	case OPT_TAGFILTER:
		return tagfilter_merge(&c, n, field);
	case OPT_SECTION:
		return hg_opts_apply_map(d, n, o->name, o->sub, field, NULL, NULL, err, errlen);
	default:
		return scalar_apply(&c, n, field);
	}
}

int hg_opt_apply(const struct opt_desc *o, void *base, struct ydoc *d, yaml_node_t *n, char *err, size_t errlen)
{
	return apply(o, base, d, n, err, errlen, false);
}

int hg_opt_apply_default(const struct opt_desc *o, void *base, const char *what, char *err, size_t errlen)
{
	if (o->type == OPT_SECTION) {
		for (const struct opt_desc *so = o->sub; so && so->name; so++)
			if (hg_opt_apply_default(so, (char *)base + o->offset, what, err, errlen) < 0)
				return -1;
		return 0;
	}
	char name[160];
	snprintf(name, sizeof(name), "default of %s option %s", what, o->name);
	return apply_default(o, base, name, err, errlen);
}

/* name: what messages about the default call it. */
static int apply_default(const struct opt_desc *o, void *base, const char *name, char *err, size_t errlen)
{
	if (!o->def)
		return 0;
	struct ydoc d;
	/* An unquoted scalar default is taken as plain text, so a string default
	 * such as "%Y-%m-%d" or "a: b" needs no YAML quoting in C. */
	if (o->type != OPT_STRLIST && o->type != OPT_STRMAP && o->type != OPT_TAGFILTER && o->def[0] != '"' &&
	    o->def[0] != '\'') {
		yaml_node_t n;
		memset(&n, 0, sizeof(n));
		n.type = YAML_SCALAR_NODE;
		n.data.scalar.value = (yaml_char_t *)(uintptr_t)o->def;
		n.data.scalar.length = strlen(o->def);
		n.data.scalar.style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
		memset(&d, 0, sizeof(d));
		d.name = name;
		return apply(o, base, &d, &n, err, errlen, true);
	}
	if (hg_ydoc_load(&d, name, o->def, strlen(o->def), err, errlen) < 0)
		return -1;
	yaml_node_t *r = hg_ydoc_root(&d);
	int rc = r ? apply(o, base, &d, r, err, errlen, true) : 0;
	hg_ydoc_free(&d);
	return rc;
}
