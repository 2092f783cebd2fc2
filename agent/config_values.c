/* Typed values of the config: durations, sizes, ${VAR} expansion, and
 * applying one opt_desc to a YAML node. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_yaml.h"

/* A decimal number "12", "1.5", ".5": integer part and fraction (digits past
 * the 18th are ignored, far below a nanosecond of any unit). Returns the
 * length consumed, 0 if none. */
static size_t parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, uint64_t *scale, int *overflow)
{
	size_t i = 0;
	*ip = 0;
	*frac = 0;
	*scale = 1;
	*overflow = 0;
	int digits = 0;
	while (isdigit((unsigned char)s[i])) {
		unsigned d = (unsigned)(s[i] - '0');
		if (*ip > (UINT64_MAX - d) / 10)
			*overflow = 1;
		else
			*ip = *ip * 10 + d;
		i++;
		digits++;
	}
	if (s[i] == '.') {
		size_t j = i + 1;
		int fd = 0;
		while (isdigit((unsigned char)s[j])) {
			if (fd < 18) {
				*frac = *frac * 10 + (uint64_t)(s[j] - '0');
				*scale *= 10;
			}
			fd++;
			j++;
		}
		if (fd == 0 && digits == 0)
			return 0;
		i = j;
		digits += fd;
	}
	return digits ? i : 0;
}

/* value = ip * unit + frac / scale * unit, or -1 on overflow past limit. */
static int scale_value(uint64_t ip, uint64_t frac, uint64_t scale, uint64_t unit, uint64_t limit, uint64_t *out)
{
	if (ip > limit / unit)
		return -1;
	uint64_t v = ip * unit;
	uint64_t f = (uint64_t)((long double)frac * (long double)unit / (long double)scale);
	if (f > limit - v)
		return -1;
	*out = v + f;
	return 0;
}

int parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		uint64_t ns;
	} units[] = {
		{ "ns", 1ULL },
		{ "us", 1000ULL },
		{ "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
		{ "\xce\xbcs", 1000ULL }, /* U+03BC greek mu */
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
		{ "m", 60000000000ULL },
		{ "h", 3600000000000ULL },
	};
	if (!s || !*s)
		return -1;
	/* Telegraf reads a bare integer as seconds. */
	size_t k = 0;
	while (isdigit((unsigned char)s[k]))
		k++;
	if (k > 0 && s[k] == '\0') {
		uint64_t ip, fr, sc, v;
		int of;
		parse_decimal(s, &ip, &fr, &sc, &of);
		if (of || scale_value(ip, 0, 1, 1000000000ULL, INT64_MAX, &v) < 0)
			return -1;
		*ns = (int64_t)v;
		return 0;
	}
	uint64_t total = 0;
	const char *p = s;
	while (*p) {
		uint64_t ip, fr, sc, v;
		int of;
		size_t n = parse_decimal(p, &ip, &fr, &sc, &of);
		if (!n || of)
			return -1;
		p += n;
		size_t best = 0;
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);
			/* Longest match, so "ms" is not read as "m" then "s". */
			if (ul > best && strncmp(p, units[i].u, ul) == 0) {
				best = ul;
				unit = units[i].ns;
			}
		}
		if (!best)
			return -1;
		p += best;
		if (scale_value(ip, fr, sc, unit, INT64_MAX, &v) < 0 || v > (uint64_t)INT64_MAX - total)
			return -1;
		total += v;
	}
	*ns = (int64_t)total;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{ "", 1ULL },
		{ "B", 1ULL },
		{ "KB", 1000ULL },
		{ "MB", 1000000ULL },
		{ "GB", 1000000000ULL },
		{ "TB", 1000000000000ULL },
		{ "PB", 1000000000000000ULL },
		{ "EB", 1000000000000000000ULL },
		{ "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
		{ "PiB", 1ULL << 50 },
		{ "EiB", 1ULL << 60 },
	};
	if (!s)
		return -1;
	uint64_t ip, fr, sc;
	int of;
	size_t n = parse_decimal(s, &ip, &fr, &sc, &of);
	if (!n || of)
		return -1;
	const char *u = s + n;
	while (*u == ' ')
		u++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].u) == 0) {
			/* A fraction of a byte is meaningless. */
			if (units[i].mul == 1 && fr)
				return -1;
			return scale_value(ip, fr, sc, units[i].mul, UINT64_MAX, bytes);
		}
	}
	return -1;
}

/* Growable output of env_expand. */
struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Expands s[0..len) into b. Defaults may hold references themselves; depth
 * bounds that recursion. */
static int expand(struct sbuf *b, const char *s, size_t len, int depth, char *err, size_t errlen)
{
	if (depth > 8) {
		snprintf(err, errlen, "${...} references nested too deeply");
		return -1;
	}
	size_t i = 0;
	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		if (!d) {
			sb_add(b, s + i, len - i);
			break;
		}
		size_t at = (size_t)(d - s);
		sb_add(b, s + i, at - i);
		/* "$${" is a literal "${"; any other '$' is itself. */
		if (at + 2 < len && s[at + 1] == '$' && s[at + 2] == '{') {
			sb_add(b, "${", 2);
			i = at + 3;
			continue;
		}
		if (at + 1 >= len || s[at + 1] != '{') {
			sb_add(b, "$", 1);
			i = at + 1;
			continue;
		}
		size_t nm = at + 2, ne = nm;
		while (ne < len && (isalnum((unsigned char)s[ne]) || s[ne] == '_'))
			ne++;
		if (ne == nm || isdigit((unsigned char)s[nm])) {
			snprintf(err, errlen, "bad variable name in ${...} reference");
			return -1;
		}
		/* Find the closing brace, skipping nested ${...} in a default. */
		size_t end = ne, dstart = 0;
		int has_def = 0;
		if (end < len && s[end] == '}') {
			/* ${VAR} */
		} else if (end + 1 < len && s[end] == ':' && s[end + 1] == '-') {
			has_def = 1;
			dstart = end + 2;
			int nest = 0;
			for (end = dstart; end < len; end++) {
				if (s[end] == '$' && end + 1 < len && s[end + 1] == '{') {
					nest++;
					end++;
				} else if (s[end] == '}') {
					if (nest == 0)
						break;
					nest--;
				}
			}
		} else if (end >= len) {
			snprintf(err, errlen, "unterminated ${...} reference");
			return -1;
		} else {
			snprintf(err, errlen, "bad ${...} reference (expected ${VAR} or ${VAR:-default})");
			return -1;
		}
		if (end >= len) {
			snprintf(err, errlen, "unterminated ${...} reference");
			return -1;
		}
		char name[256];
		if (ne - nm >= sizeof(name)) {
			snprintf(err, errlen, "variable name too long in ${...} reference");
			return -1;
		}
		memcpy(name, s + nm, ne - nm);
		name[ne - nm] = '\0';
		const char *val = getenv(name);
		if (has_def && (!val || !*val)) {
			if (expand(b, s + dstart, end - dstart, depth + 1, err, errlen) < 0)
				return -1;
		} else if (val) {
			sb_add(b, val, strlen(val));
		}
		i = end + 1;
	}
	return 0;
}

char *env_expand(const char *s, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	sb_add(&b, "", 0);
	if (expand(&b, s, strlen(s), 0, err, errlen) < 0 || b.oom) {
		if (b.oom)
			snprintf(err, errlen, "out of memory");
		free(b.p);
		return NULL;
	}
	return b.p;
}

const struct opt_desc *opt_find(const struct opt_desc *opts, const char *name)
{
	for (const struct opt_desc *o = opts; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

int strmap_set(struct strmap *m, const char *key, const char *value)
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
};

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
		ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
			   type_name(c->o->type), n->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
		return NULL;
	}
	if (strlen(ynode_text(n)) != n->data.scalar.length) {
		ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": NUL character in value", c->o->name);
		return NULL;
	}
	char msg[128];
	char *v = env_expand(ynode_text(n), msg, sizeof(msg));
	if (!v)
		ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": %s", c->o->name, msg);
	return v;
}

static int strlist_from(struct actx *c, yaml_node_t *n, struct strlist *out)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
				  type_name(OPT_STRLIST), n->type == YAML_MAPPING_NODE ? "mapping" : "scalar");
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt > YDOC_MAX_ITEMS)
		return ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": more than %d items", c->o->name,
				  YDOC_MAX_ITEMS);
	struct strlist l = { 0, cnt ? calloc(cnt, sizeof(char *)) : NULL };
	if (cnt && !l.v)
		return ydoc_error(c->err, c->errlen, c->d, n, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ydoc_node(c->d, n->data.sequence.items.start[i]);
		char *v = scalar_value(c, it);
		if (!v) {
			strlist_free(&l);
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
		return ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected %s, got a %s", c->o->name,
				  type_name(c->o->type), n->type == YAML_SEQUENCE_NODE ? "sequence" : "scalar");
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > YDOC_MAX_ITEMS)
		return ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": more than %d entries", c->o->name,
				  YDOC_MAX_ITEMS);
	return 0;
}

static const char *map_key(struct actx *c, yaml_node_t *k)
{
	if (k->type != YAML_SCALAR_NODE || strlen(ynode_text(k)) != k->data.scalar.length || !*ynode_text(k)) {
		ydoc_error(c->err, c->errlen, c->d, k, "option \"%s\": keys must be non-empty strings", c->o->name);
		return NULL;
	}
	return ynode_text(k);
}

static int strmap_merge(struct actx *c, yaml_node_t *n, struct strmap *m)
{
	if (map_check(c, n) < 0)
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = map_key(c, ydoc_node(c->d, p->key));
		if (!k)
			return -1;
		yaml_node_t *vn = ydoc_node(c->d, p->value);
		char *v = scalar_value(c, vn);
		if (!v)
			return -1;
		int r = strmap_set(m, k, v);
		free(v);
		if (r < 0)
			return ydoc_error(c->err, c->errlen, c->d, vn, "out of memory");
	}
	return 0;
}

static int tagfilter_merge(struct actx *c, yaml_node_t *n, struct tagfilter *t)
{
	if (map_check(c, n) < 0)
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = map_key(c, ydoc_node(c->d, p->key));
		if (!k)
			return -1;
		struct strlist l;
		if (strlist_from(c, ydoc_node(c->d, p->value), &l) < 0)
			return -1;
		size_t i;
		for (i = 0; i < t->n && strcmp(t->key[i], k); i++)
			;
		if (i < t->n) {
			strlist_free(&t->globs[i]);
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
			strlist_free(&l);
			return ydoc_error(c->err, c->errlen, c->d, n, "out of memory");
		}
		t->key[t->n] = ks;
		t->globs[t->n] = l;
		t->n++;
	}
	return 0;
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
			rc = ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected true or false, got \"%s\"",
					o->name, shown);
		break;
	case OPT_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || isspace((unsigned char)*v) || *end)
			rc = ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected an integer, got \"%s\"",
					o->name, shown);
		else if (errno == ERANGE)
			rc = ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": integer out of range: \"%s\"",
					o->name, shown);
		else
			*(int64_t *)field = (int64_t)x;
		break;
	}
	case OPT_DOUBLE: {
		errno = 0;
		double x = strtod(v, &end);
		if (!*v || isspace((unsigned char)*v) || *end || !isfinite(x) || errno == ERANGE)
			rc = ydoc_error(c->err, c->errlen, c->d, n, "option \"%s\": expected a number, got \"%s\"",
					o->name, shown);
		else
			*(double *)field = x;
		break;
	}
	case OPT_DURATION: {
		int64_t ns;
		if (parse_duration(v, &ns) < 0)
			rc = ydoc_error(c->err, c->errlen, c->d, n,
					"option \"%s\": bad duration \"%s\" (e.g. \"10s\", \"1m30s\", \"500ms\")", o->name,
					shown);
		else
			*(int64_t *)field = ns;
		break;
	}
	case OPT_SIZE: {
		uint64_t b;
		if (parse_size(v, &b) < 0)
			rc = ydoc_error(c->err, c->errlen, c->d, n,
					"option \"%s\": bad size \"%s\" (e.g. \"64MiB\", \"10MB\", \"512\")", o->name,
					shown);
		else
			*(uint64_t *)field = b;
		break;
	}
	case OPT_STRING:
	case OPT_SECRET:
		free(*(char **)field);
		*(char **)field = v;
		return 0;
	default:
		break;
	}
	free(v);
	return rc;
}

/* Options whose value must be > 0 when given (0 or less means nothing useful). */
static const char *const positive[] = {
	"interval", "flush_interval", "metric_batch_size", "metric_buffer_limit", "health_max_flush_intervals",
	"shutdown_timeout", NULL,
};

static int check_positive(const struct opt_desc *o, const void *base, struct ydoc *d, yaml_node_t *n, char *err,
			  size_t errlen)
{
	if (o->type != OPT_INT && o->type != OPT_DURATION)
		return 0;
	for (size_t i = 0; positive[i]; i++)
		if (!strcmp(positive[i], o->name) && *(const int64_t *)((const char *)base + o->offset) <= 0)
			return ydoc_error(err, errlen, d, n, "option \"%s\": must be greater than 0", o->name);
	return 0;
}

static size_t opts_count(const struct opt_desc *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

int opts_apply_map(struct ydoc *d, yaml_node_t *n, const char *what, const struct opt_desc *t1, void *b1,
		     const struct opt_desc *t2, void *b2, char *err, size_t errlen)
{
	if (ynode_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return ydoc_error(err, errlen, d, n, "%s: expected a mapping of options", what);
	size_t n1 = opts_count(t1), n2 = opts_count(t2);
	bool *seen = calloc(n1 + n2 + 1, sizeof(bool));
	if (!seen)
		return ydoc_error(err, errlen, d, n, "out of memory");
	int rc = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !rc; p++) {
		yaml_node_t *k = ydoc_node(d, p->key), *v = ydoc_node(d, p->value);
		if (k->type != YAML_SCALAR_NODE) {
			rc = ydoc_error(err, errlen, d, k, "%s: option names must be strings", what);
			break;
		}
		const char *name = ynode_text(k);
		const struct opt_desc *o = opt_find(t1, name);
		void *base = b1;
		size_t idx = o ? (size_t)(o - t1) : 0;
		if (!o && (o = opt_find(t2, name))) {
			base = b2;
			idx = n1 + (size_t)(o - t2);
		}
		if (!o) {
			rc = ydoc_error(err, errlen, d, k, "%s: unknown option \"%s\"", what, name);
		} else if (seen[idx]) {
			rc = ydoc_error(err, errlen, d, k, "%s: option \"%s\" given twice", what, name);
		} else {
			seen[idx] = true;
			rc = opt_apply(o, base, d, v, err, errlen);
			if (!rc)
				rc = check_positive(o, base, d, v, err, errlen);
		}
	}
	free(seen);
	return rc;
}

int opt_apply(const struct opt_desc *o, void *base, struct ydoc *d, yaml_node_t *n, char *err, size_t errlen)
{
	struct actx c = { o, d, err, errlen };
	void *field = (char *)base + o->offset;
	if (ynode_is_null(n))
		return 0;
	switch (o->type) {
	case OPT_STRLIST: {
		struct strlist l;
		if (strlist_from(&c, n, &l) < 0)
			return -1;
		strlist_free(field);
		*(struct strlist *)field = l;
		return 0;
	}
	case OPT_STRMAP:
		return strmap_merge(&c, n, field);
	case OPT_TAGFILTER:
		return tagfilter_merge(&c, n, field);
	case OPT_SECTION:
		return opts_apply_map(d, n, o->name, o->sub, field, NULL, NULL, err, errlen);
	default:
		return scalar_apply(&c, n, field);
	}
}

int opt_apply_default(const struct opt_desc *o, void *base, const char *what, char *err, size_t errlen)
{
	if (o->type == OPT_SECTION) {
		for (const struct opt_desc *so = o->sub; so && so->name; so++)
			if (opt_apply_default(so, (char *)base + o->offset, what, err, errlen) < 0)
				return -1;
		return 0;
	}
	if (!o->def)
		return 0;
	char name[160];
	snprintf(name, sizeof(name), "default of %s option %s", what, o->name);
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
		return opt_apply(o, base, &d, &n, err, errlen);
	}
	if (ydoc_load(&d, name, o->def, strlen(o->def), err, errlen) < 0)
		return -1;
	yaml_node_t *r = ydoc_root(&d);
	int rc = r ? opt_apply(o, base, &d, r, err, errlen) : 0;
	ydoc_free(&d);
	return rc;
}
