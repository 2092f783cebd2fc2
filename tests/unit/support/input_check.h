/* Helpers for the node input tests: fixture trees for HOST_PROC & co, and
 * a small reader of the captured line protocol and of a plugin README's
 * schema table. Test-only; every function is static. */
#ifndef HG_INPUT_CHECK_H
#define HG_INPUT_CHECK_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IC_FN static __attribute__((unused))

/* ---- fixture trees: a temp dir whose files are symlinks to fixtures ---- */

static char tree_root[256];

IC_FN const char *fixtures_dir(void)
{
	const char *f = getenv("FIXTURES");
	return f && *f ? f : "fixtures";
}

IC_FN const char *tree_new(void)
{
	snprintf(tree_root, sizeof tree_root, "/tmp/hg-input-test.XXXXXX");
	if (!mkdtemp(tree_root)) {
		perror("mkdtemp");
		exit(2);
	}
	return tree_root;
}

IC_FN void mkparents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
}

/* Links <root>/<rel> to $FIXTURES/<fixture>, replacing an earlier link. */
IC_FN void tree_link(const char *root, const char *rel, const char *fixture)
{
	char dst[1024], src[1024];
	snprintf(dst, sizeof dst, "%s/%s", root, rel);
	snprintf(src, sizeof src, "%s/%s", fixtures_dir(), fixture);
	if (src[0] != '/') {
		char cwd[512];
		if (getcwd(cwd, sizeof cwd))
			snprintf(src, sizeof src, "%s/%s/%s", cwd, fixtures_dir(), fixture);
	}
	mkparents(dst);
	unlink(dst);
	if (symlink(src, dst) < 0) {
		perror(dst);
		exit(2);
	}
}

/* Writes <root>/<rel> with len bytes of data (test-made content). */
IC_FN void tree_write(const char *root, const char *rel, const void *data, size_t len)
{
	char dst[1024];
	snprintf(dst, sizeof dst, "%s/%s", root, rel);
	mkparents(dst);
	unlink(dst);
	FILE *f = fopen(dst, "wb");
	if (!f || fwrite(data, 1, len, f) != len) {
		perror(dst);
		exit(2);
	}
	fclose(f);
}

IC_FN void tree_text(const char *root, const char *rel, const char *text)
{
	tree_write(root, rel, text, strlen(text));
}

IC_FN void tree_unlink(const char *root, const char *rel)
{
	char dst[1024];
	snprintf(dst, sizeof dst, "%s/%s", root, rel);
	unlink(dst);
}

IC_FN int tree_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

IC_FN void tree_free(const char *root)
{
	nftw(root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- line protocol reading (enough for what the node inputs emit) ---- */

/* Copies the line of text starting with prefix + ' ' (measurement and tags)
 * into out, without its timestamp. Returns false when absent. nth picks
 * the nth such line (0-based). */
IC_FN bool lp_find(const char *text, const char *prefix, int nth, char *out, size_t cap)
{
	size_t pl = strlen(prefix);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len > pl && memcmp(l, prefix, pl) == 0 && l[pl] == ' ' && nth-- == 0) {
			const char *ts = l + len;
			while (ts > l && ts[-1] != ' ')
				ts--;
			len = (size_t)(ts - l) - 1; /* drop " <timestamp>" */
			if (len >= cap)
				len = cap - 1;
			memcpy(out, l, len);
			out[len] = '\0';
			return true;
		}
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

IC_FN int lp_count(const char *text, const char *prefix)
{
	char tmp[8192];
	int n = 0;
	while (lp_find(text, prefix, n, tmp, sizeof tmp))
		n++;
	return n;
}

/* Finds field key in a line (without timestamp) and copies its raw value. */
IC_FN bool lp_field(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = line;
	bool q = false;
	while (*p && (q || *p != ' ')) { /* skip measurement and tags */
		if (*p == '\\' && p[1])
			p++;
		p++;
	}
	if (*p)
		p++;
	size_t kl = strlen(key);
	while (*p) {
		const char *k = p;
		while (*p && *p != '=')
			p++;
		bool match = (size_t)(p - k) == kl && memcmp(k, key, kl) == 0;
		if (*p)
			p++;
		const char *v = p;
		q = false;
		while (*p && (q || *p != ',')) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				q = !q;
			p++;
		}
		if (match) {
			size_t len = (size_t)(p - v);
			if (len >= cap)
				len = cap - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return true;
		}
		if (*p)
			p++;
	}
	return false;
}

/* Float field value; NaN when absent or not a float. */
IC_FN double lp_float(const char *line, const char *key)
{
	char v[128], *end;
	if (!lp_field(line, key, v, sizeof v))
		return __builtin_nan("");
	double d = strtod(v, &end);
	return *end ? __builtin_nan("") : d;
}

/* ---- schema: "measurement|tag,keys|field|type" entries ---- */

#define SCHEMA_MAX 512
struct schema {
	int n;
	char e[SCHEMA_MAX][160];
};

IC_FN void schema_add(struct schema *s, const char *m, const char *tags, const char *f, const char *type)
{
	char e[160];
	/* A truncated entry could compare equal to another: refuse it. */
	if (snprintf(e, sizeof e, "%s|%s|%s|%s", m, tags, f, type) >= (int)sizeof e) {
		fprintf(stderr, "schema entry too long: %s|%s|%s|%s\n", m, tags, f, type);
		exit(2);
	}
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->e[i], e) == 0)
			return;
	if (s->n < SCHEMA_MAX)
		strcpy(s->e[s->n++], e);
}

IC_FN int schema_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

IC_FN void schema_sort(struct schema *s)
{
	qsort(s->e, (size_t)s->n, sizeof s->e[0], schema_cmp);
}

IC_FN const char *value_type(const char *v)
{
	size_t n = strlen(v);
	if (v[0] == '"')
		return "string";
	if (!strcmp(v, "true") || !strcmp(v, "false"))
		return "bool";
	if (n && v[n - 1] == 'i')
		return "int";
	if (n && v[n - 1] == 'u')
		return "uint";
	return "float";
}

/* The schema of every line in text. */
IC_FN void schema_from_lp(struct schema *s, const char *text)
{
	char line[8192];
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		l = nl ? nl + 1 : NULL;
		/* measurement and tags end at the first unescaped space; tags are
		 * split at unescaped commas (values may hold "\\ " and "\\,") */
		char *sp = line;
		while (*sp && *sp != ' ')
			sp += (*sp == '\\' && sp[1]) ? 2 : 1;
		if (!*sp)
			continue;
		*sp = '\0';
		char meas[64], tags[256] = "";
		char *c = line;
		while (*c && *c != ',')
			c += (*c == '\\' && c[1]) ? 2 : 1;
		snprintf(meas, sizeof meas, "%.*s", (int)(c - line), line);
		for (char *t = *c ? c : NULL; t;) {
			t++;
			char *eq = strchr(t, '=');
			if (!eq)
				break;
			if (tags[0])
				strcat(tags, ",");
			strncat(tags, t, (size_t)(eq - t));
			t = eq + 1;
			while (*t && *t != ',')
				t += (*t == '\\' && t[1]) ? 2 : 1;
			if (!*t)
				t = NULL;
		}
		if (!tags[0])
			strcpy(tags, "-");
		/* fields: walk "k=v,k=v" (quotes may hold ',' and ' ') */
		char *p = sp + 1;
		bool q = false;
		while (*p) {
			char *k = p;
			while (*p && *p != '=')
				p++;
			if (!*p)
				break;
			*p++ = '\0';
			char *v = p;
			q = false;
			while (*p && (q || (*p != ',' && *p != ' '))) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '"')
					q = !q;
				p++;
			}
			char end = *p;
			*p = '\0';
			schema_add(s, meas, tags, k, value_type(v));
			if (end != ',')
				break;
			p++;
		}
	}
	schema_sort(s);
}

IC_FN void trim(char *s)
{
	char *b = s;
	while (*b == ' ')
		b++;
	memmove(s, b, strlen(b) + 1);
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '`'))
		s[--n] = '\0';
	if (s[0] == '`')
		memmove(s, s + 1, strlen(s));
}

/* The rows of the README table headed "| measurement | tags | field | type |
 * when |" whose "when" conditions (comma-separated; "always" for none) are
 * all in the space-separated list enabled. */
IC_FN int schema_from_readme(struct schema *s, const char *path, const char *enabled)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	bool in = false;
	while (fgets(line, sizeof line, f)) {
		if (!in) {
			in = strncmp(line, "| measurement | tags | field | type | when |", 44) == 0;
			continue;
		}
		if (line[0] != '|')
			break;
		if (strncmp(line, "|---", 4) == 0 || strncmp(line, "| ---", 5) == 0)
			continue;
		char col[5][128] = { "" };
		char *p = line + 1;
		for (int i = 0; i < 5; i++) {
			char *bar = strchr(p, '|');
			if (!bar)
				break;
			*bar = '\0';
			size_t cl = strlen(p) < sizeof col[i] - 1 ? strlen(p) : sizeof col[i] - 1;
			memcpy(col[i], p, cl);
			col[i][cl] = '\0';
			trim(col[i]);
			p = bar + 1;
		}
		bool ok = true;
		if (strcmp(col[4], "always") != 0) {
			char w[128];
			snprintf(w, sizeof w, "%s", col[4]);
			for (char *tok = strtok(w, ", "); tok; tok = strtok(NULL, ", ")) {
				char pat[140];
				snprintf(pat, sizeof pat, " %s ", tok);
				char en[512];
				snprintf(en, sizeof en, " %s ", enabled);
				if (!strstr(en, pat))
					ok = false;
			}
		}
		if (ok)
			schema_add(s, col[0], col[1][0] ? col[1] : "-", col[2], col[3]);
	}
	fclose(f);
	schema_sort(s);
	return 0;
}

/* Prints the differences; returns the number of them. */
IC_FN int schema_diff(const struct schema *readme, const struct schema *got)
{
	int d = 0;
	for (int i = 0; i < readme->n; i++) {
		bool found = false;
		for (int j = 0; j < got->n && !found; j++)
			found = !strcmp(readme->e[i], got->e[j]);
		if (!found)
			fprintf(stderr, "documented but not emitted: %s\n", readme->e[i]), d++;
	}
	for (int j = 0; j < got->n; j++) {
		bool found = false;
		for (int i = 0; i < readme->n && !found; i++)
			found = !strcmp(readme->e[i], got->e[j]);
		if (!found)
			fprintf(stderr, "emitted but not documented: %s\n", got->e[j]), d++;
	}
	return d;
}

#endif

/* ---- plugin configs built from the plugin's own option table ---- */
#include "options.h"
#include "plugin.h"

IC_FN const struct opt_desc *hg_opt_find(const struct input_plugin *p, const char *name)
{
	for (const struct opt_desc *o = p->options; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	fprintf(stderr, "%s has no option %s\n", p->name, name);
	exit(2);
}

/* A config with the documented defaults of the bool options applied. */
IC_FN void *config_new(const struct input_plugin *p)
{
	char *c = calloc(1, p->config_size ? p->config_size : 1);
	for (const struct opt_desc *o = p->options; o && o->name; o++)
		if (o->type == OPT_BOOL && o->def)
			*(bool *)(c + o->offset) = !strcmp(o->def, "true");
	return c;
}

IC_FN void config_bool(const struct input_plugin *p, void *c, const char *name, bool v)
{
	const struct opt_desc *o = hg_opt_find(p, name);
	*(bool *)((char *)c + o->offset) = v;
}

/* Sets a string-list option to the given NULL-terminated items (the list
 * points at the caller's strings; config_free_list() only frees the array). */
IC_FN void config_list(const struct input_plugin *p, void *c, const char *name, char **items)
{
	const struct opt_desc *o = hg_opt_find(p, name);
	struct strlist *l = (struct strlist *)((char *)c + o->offset);
	l->n = 0;
	while (items[l->n])
		l->n++;
	l->v = items;
}

IC_FN void *plugin_start(const struct input_plugin *p, const void *cfg)
{
	void *state = NULL;
	char err[256] = "";
	struct plugin_env env = { .instance_name = p->name };
	if (p->init(&state, cfg, &env, err, sizeof err) != 0) {
		fprintf(stderr, "%s init: %s\n", p->name, err);
		exit(2);
	}
	return state;
}

/* ---- node_exporter's text output, for cross-checks with a peer ---- */

/* One sample line of Prometheus text: its name, up to 8 labels and value. */
struct prom_line {
	char name[128];
	int nlabels;
	char key[8][32];
	char value[8][160];
	double v;
};

/* Parses the sample line at l (up to '\n'): false for comments, blank or
 * unparsable lines (label values with \" \\ \n escapes are decoded). */
IC_FN bool prom_parse_line(const char *l, struct prom_line *out)
{
	memset(out, 0, sizeof *out);
	if (*l == '#' || *l == '\n' || !*l)
		return false;
	size_t n = strcspn(l, "{ \n");
	if (n == 0 || n >= sizeof out->name)
		return false;
	memcpy(out->name, l, n);
	const char *p = l + n;
	if (*p == '{') {
		p++;
		while (*p && *p != '}') {
			if (out->nlabels == 8)
				return false;
			size_t kl = strcspn(p, "=");
			if (kl >= sizeof out->key[0] || p[kl] != '=' || p[kl + 1] != '"')
				return false;
			memcpy(out->key[out->nlabels], p, kl);
			p += kl + 2;
			size_t vl = 0;
			while (*p && *p != '"') {
				char c = *p++;
				if (c == '\\' && *p)
					c = *p == 'n' ? '\n' : *p, p++;
				if (vl + 1 < sizeof out->value[0])
					out->value[out->nlabels][vl++] = c;
			}
			if (*p != '"')
				return false;
			p++;
			out->nlabels++;
			if (*p == ',')
				p++;
		}
		if (*p != '}')
			return false;
		p++;
	}
	char *end;
	out->v = strtod(p, &end);
	return end != p;
}

IC_FN const char *prom_label(const struct prom_line *pl, const char *key)
{
	for (int i = 0; i < pl->nlabels; i++)
		if (!strcmp(pl->key[i], key))
			return pl->value[i];
	return "";
}

/* Appends ",key=value" with line protocol's tag escapes; nothing when the
 * value is empty (empty tags are not written, in Telegraf either). */
IC_FN void lp_add_tag(char *buf, size_t cap, const char *key, const char *value)
{
	if (!*value)
		return;
	size_t n = strlen(buf);
	n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, ",%s=", key);
	for (const char *c = value; *c && n + 2 < cap; c++) {
		if (*c == ',' || *c == ' ' || *c == '=')
			buf[n++] = '\\';
		buf[n++] = *c;
	}
	buf[n < cap ? n : cap - 1] = '\0';
}

/* Reads a whole file into a malloc'ed string (test helper: exits on error). */
IC_FN char *ic_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	if (!b)
		exit(2);
	b[len] = '\0';
	return b;
}

/* $FIXTURES/rel, whole and NUL-terminated; the test ends (exit 2) when it cannot be read. */
IC_FN char *fixture_slurp(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", fixtures_dir(), rel);
	return ic_slurp(path);
}
