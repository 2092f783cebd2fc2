/* Telegraf TOML -> Heliograph YAML, generic over the option tables. */
#include "convert_telegraf.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

struct conv {
	const char *name;
	FILE *rep;
	int dropped;
};

static void report(struct conv *c, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(c->rep, "%s:%d: ", c->name, line);
	va_start(ap, fmt);
	vfprintf(c->rep, fmt, ap);
	va_end(ap);
	fputc('\n', c->rep);
	c->dropped++;
}

/* Telegraf's $VAR becomes ${VAR} (its ${VAR} is already ours). Written
 * double-quoted, so any text survives YAML. */
static void put_str(FILE *out, const char *s, size_t len, int env)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (env && ch == '$' && i + 1 < len && (s[i + 1] == '_' || (s[i + 1] | 0x20) >= 'a') &&
		    (s[i + 1] | 0x20) <= 'z') {
			size_t j = i + 1;
			while (j < len && (s[j] == '_' || ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z') ||
					   (s[j] >= '0' && s[j] <= '9')))
				j++;
			fprintf(out, "${%.*s}", (int)(j - i - 1), s + i + 1);
			i = j - 1;
			continue;
		}
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\t')
			fputs("\\t", out);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static int is_scalar(const struct toml_node *v)
{
	return v->type != TOML_TABLE && v->type != TOML_ARRAY;
}

/* A scalar as a YAML string (numbers and booleans as their text). */
static void put_scalar_str(FILE *out, const struct toml_node *v)
{
	char num[64];
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME: put_str(out, v->s, v->len, 1); return;
	case TOML_INT: snprintf(num, sizeof(num), "%" PRId64, v->i); break;
	case TOML_FLOAT: snprintf(num, sizeof(num), "%.17g", v->f); break;
	case TOML_BOOL: snprintf(num, sizeof(num), "%s", v->b ? "true" : "false"); break;
	default: num[0] = '\0';
	}
	put_str(out, num, strlen(num), 0);
}

static void indent(FILE *out, int n)
{
	fprintf(out, "%*s", n, "");
}

static const struct opt_desc *find_opt(const struct opt_desc *opts, const char *name)
{
	for (const struct opt_desc *o = opts; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* Telegraf option names that Telegraf itself renamed; the new name is ours. */
static const char *const renamed[][2] = {
	{ "ssl_ca", "tls_ca" },
	{ "ssl_cert", "tls_cert" },
	{ "ssl_key", "tls_key" },
};

/* Settings that state what Heliograph always does: nothing to carry. */
static int implied(const char *key, const struct toml_node *v)
{
	return !strcmp(key, "data_format") && v->type == TOML_STRING && !strcmp(v->s, "influx");
}

static int emit_section(struct conv *c, FILE *out, const struct toml_node *t, const char *what,
			const struct opt_desc *opts, const struct opt_desc *common, int ind);

/* One option's value after "key:" (a space, a scalar or flow sequence, or
 * a block on the next lines). Returns 0, or 1 after reporting a value that
 * does not fit the option's type. */
static int emit_value(struct conv *c, FILE *out, const struct opt_desc *o, const struct toml_node *v,
		      const char *what, int ind)
{
	const char *bad = NULL;
	switch (o->type) {
	case OPT_BOOL:
		if (v->type != TOML_BOOL)
			bad = "a boolean";
		else
			fprintf(out, " %s\n", v->b ? "true" : "false");
		break;
	case OPT_INT:
		if (v->type == TOML_INT)
			fprintf(out, " %" PRId64 "\n", v->i);
		else if (v->type == TOML_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e15)
			fprintf(out, " %.0f\n", v->f);
		else
			bad = "an integer";
		break;
	case OPT_DOUBLE:
		if (v->type == TOML_INT)
			fprintf(out, " %" PRId64 "\n", v->i);
		else if (v->type == TOML_FLOAT && isfinite(v->f))
			fprintf(out, " %.17g\n", v->f);
		else
			bad = "a number";
		break;
	case OPT_STRING:
	case OPT_SECRET:
		if (!is_scalar(v)) {
			bad = "a string";
			break;
		}
		fputc(' ', out);
		put_scalar_str(out, v);
		fputc('\n', out);
		break;
	case OPT_DURATION:
		if (v->type == TOML_STRING && v->len == 0) {
			report(c, v->line, "%s.%s = \"\" (Telegraf's default) left out: Heliograph's default %s applies", what,
			       o->name, o->def ? o->def : "(unset)");
			return 1;
		} else if (v->type == TOML_STRING) {
			fputc(' ', out);
			put_str(out, v->s, v->len, 1);
			fputc('\n', out);
		} else if (v->type == TOML_INT) {
			/* Telegraf reads a bare integer duration as seconds, as we do. */
			fprintf(out, " \"%" PRId64 "s\"\n", v->i);
		} else if (v->type == TOML_FLOAT && isfinite(v->f) && v->f >= 0 && v->f < 9e12) {
			fprintf(out, " \"%.0fms\"\n", v->f * 1000);
		} else {
			bad = "a duration";
		}
		break;
	case OPT_SIZE:
		if (v->type == TOML_STRING) {
			fputc(' ', out);
			put_str(out, v->s, v->len, 1);
			fputc('\n', out);
		} else if (v->type == TOML_INT && v->i >= 0) {
			fprintf(out, " %" PRId64 "\n", v->i);
		} else {
			bad = "a size";
		}
		break;
	case OPT_STRLIST:
		if (is_scalar(v)) {
			fputs(" [", out);
			put_scalar_str(out, v);
			fputs("]\n", out);
			break;
		}
		if (v->type != TOML_ARRAY) {
			bad = "a list of strings";
			break;
		}
		for (size_t i = 0; i < v->n && !bad; i++)
			if (!is_scalar(v->kids[i]))
				bad = "a list of strings";
		if (bad)
			break;
		fputs(" [", out);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputs(", ", out);
			put_scalar_str(out, v->kids[i]);
		}
		fputs("]\n", out);
		break;
	case OPT_STRMAP:
	case OPT_TAGFILTER: {
		if (v->type != TOML_TABLE) {
			bad = o->type == OPT_STRMAP ? "a table of strings" : "a table of tag keys to lists of globs";
			break;
		}
		fputs(v->n ? "\n" : " {}\n", out);
		for (size_t i = 0; i < v->n; i++) {
			const struct toml_node *e = v->kids[i];
			int ok = o->type == OPT_STRMAP ? is_scalar(e) : is_scalar(e) || e->type == TOML_ARRAY;
			for (size_t j = 0; ok && e->type == TOML_ARRAY && j < e->n; j++)
				ok = is_scalar(e->kids[j]);
			if (!ok) {
				report(c, e->line, "%s%s%s.%s: a %s where %s is expected; left out", what, *what ? "." : "",
				       o->name, e->key, toml_type_name(e->type),
				       o->type == OPT_STRMAP ? "a string" : "a list of globs");
				continue;
			}
			indent(out, ind + 2);
			put_str(out, e->key, strlen(e->key), 0);
			fputc(':', out);
			if (o->type == OPT_STRMAP) {
				fputc(' ', out);
				put_scalar_str(out, e);
				fputc('\n', out);
				continue;
			}
			fputs(" [", out);
			if (is_scalar(e)) {
				put_scalar_str(out, e);
			} else {
				for (size_t j = 0; j < e->n; j++) {
					if (j)
						fputs(", ", out);
					put_scalar_str(out, e->kids[j]);
				}
			}
			fputs("]\n", out);
		}
		break;
	}
	case OPT_SECTION: {
		if (v->type != TOML_TABLE) {
			bad = "a table";
			break;
		}
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", what, o->name);
		fputs(v->n ? "\n" : " {}\n", out);
		emit_section(c, out, v, sub, o->sub, NULL, ind + 2);
		break;
	}
	}
	if (bad) {
		report(c, v->line, "%s.%s: a %s where Heliograph expects %s; left out", what, o->name,
		       toml_type_name(v->type), bad);
		return 1;
	}
	return 0;
}

/* Every key of table t, matched against opts then common; the others are
 * reported. Returns the number of options written. */
static int emit_section(struct conv *c, FILE *out, const struct toml_node *t, const char *what,
			const struct opt_desc *opts, const struct opt_desc *common, int ind)
{
	int written = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct toml_node *v = t->kids[i];
		const char *key = v->key;
		const struct opt_desc *o = find_opt(opts, key);
		if (!o)
			o = find_opt(common, key);
		for (size_t r = 0; !o && r < sizeof(renamed) / sizeof(*renamed); r++)
			if (!strcmp(key, renamed[r][0]) && (o = find_opt(opts, renamed[r][1])) == NULL)
				o = find_opt(common, renamed[r][1]);
		if (!o) {
			if (implied(key, v))
				continue;
			if (v->type == TOML_TABLE || (v->type == TOML_ARRAY && v->aot))
				report(c, v->line, "[%s.%s]: Heliograph has no such section; left out", what, key);
			else
				report(c, v->line, "%s: option \"%s\" is not supported by Heliograph; left out", what, key);
			continue;
		}
		/* Any output goes to a buffer first: a value that does not fit
		 * leaves no half-written key behind. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m) {
			report(c, v->line, "%s.%s: out of memory; left out", what, key);
			continue;
		}
		indent(m, ind);
		fprintf(m, "%s:", o->name);
		int rc = emit_value(c, m, o, v, what, ind);
		fclose(m);
		if (rc == 0) {
			fwrite(buf, 1, len, out);
			written++;
		}
		free(buf);
	}
	return written;
}

/* One plugin instance: "  - name:" and its options. */
static void emit_plugin(struct conv *c, FILE *out, const char *kind, const char *pname, const struct toml_node *t,
			const struct opt_desc *opts, const struct opt_desc *common)
{
	char what[160];
	snprintf(what, sizeof(what), "%s.%s", kind, pname);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		report(c, t->line, "[[%s]]: out of memory; left out", what);
		return;
	}
	int n = emit_section(c, m, t, what, opts, common, 6);
	fclose(m);
	fprintf(out, "  # %s:%d\n  - %s:%s\n", c->name, t->line, pname, n ? "" : " {}");
	fwrite(buf, 1, len, out);
	free(buf);
}

/* The instances of [[inputs.NAME]] (an array of tables) or [inputs.NAME]. */
static void each_instance(const struct toml_node *v, void (*fn)(void *, const struct toml_node *), void *arg)
{
	if (v->type == TOML_TABLE) {
		fn(arg, v);
		return;
	}
	for (size_t i = 0; v->type == TOML_ARRAY && i < v->n; i++)
		if (v->kids[i]->type == TOML_TABLE)
			fn(arg, v->kids[i]);
}

struct plugins_ctx {
	struct conv *c;
	FILE *out;
	const char *kind, *pname;
	const struct opt_desc *opts, *common;
};

static void plugin_cb(void *arg, const struct toml_node *t)
{
	struct plugins_ctx *p = arg;
	emit_plugin(p->c, p->out, p->kind, p->pname, t, p->opts, p->common);
}

static void count_cb(void *arg, const struct toml_node *t)
{
	(void)t;
	(*(int *)arg)++;
}

static void emit_plugins(struct conv *c, FILE *out, const struct toml_node *sec, int inputs)
{
	const char *kind = inputs ? "inputs" : "outputs";
	if (sec->type != TOML_TABLE) {
		report(c, sec->line, "%s: a %s, not a table of plugins; left out", kind, toml_type_name(sec->type));
		return;
	}
	int any = 0;
	for (size_t i = 0; i < sec->n; i++) {
		const struct toml_node *v = sec->kids[i];
		const struct opt_desc *opts = NULL;
		int known = 0;
		if (inputs) {
			const struct input_plugin *p = input_find(v->key);
			if (p) {
				known = 1;
				opts = p->options;
			}
		} else {
			const struct output_plugin *p = output_find(v->key);
			if (p) {
				known = 1;
				opts = p->options;
			}
		}
		if (!known || !(v->type == TOML_TABLE || (v->type == TOML_ARRAY && v->aot))) {
			int n = 0;
			each_instance(v, count_cb, &n);
			for (size_t k = 0; v->type == TOML_ARRAY && k < v->n; k++)
				report(c, v->kids[k]->line, "[[%s.%s]]: Heliograph has no %s plugin \"%s\"; left out", kind,
				       v->key, inputs ? "input" : "output", v->key);
			if (v->type != TOML_ARRAY)
				report(c, v->line, "[%s.%s]: Heliograph has no %s plugin \"%s\"; left out", kind, v->key,
				       inputs ? "input" : "output", v->key);
			continue;
		}
		if (!any)
			fprintf(out, "%s:\n", kind);
		any = 1;
		struct plugins_ctx p = { c, out, kind, v->key, opts, inputs ? input_common_options : output_common_options };
		each_instance(v, plugin_cb, &p);
	}
}

static void report_section(struct conv *c, const struct toml_node *v)
{
	/* processors, aggregators, global_fields, secretstores...: each entry. */
	if (v->type == TOML_TABLE && v->n) {
		for (size_t i = 0; i < v->n; i++) {
			const struct toml_node *e = v->kids[i];
			if (e->type == TOML_ARRAY && e->aot) {
				for (size_t k = 0; k < e->n; k++)
					report(c, e->kids[k]->line, "[[%s.%s]]: Heliograph has no %s; left out", v->key,
					       e->key, v->key);
			} else {
				report(c, e->line, "%s.%s: Heliograph has no %s; left out", v->key, e->key, v->key);
			}
		}
	} else if (v->type == TOML_ARRAY && v->aot) {
		for (size_t k = 0; k < v->n; k++)
			report(c, v->kids[k]->line, "[[%s]]: Heliograph has no such section; left out", v->key);
	} else if (v->type != TOML_TABLE) {
		report(c, v->line, "top-level key \"%s\" is not a Telegraf setting Heliograph knows; left out", v->key);
	}
}

int convert_telegraf(const struct toml_doc *doc, const char *name, FILE *out, FILE *rep, char *err, size_t errlen)
{
	struct conv c = { name, rep, 0 };
	const struct toml_node *root = doc->root;
	fprintf(out, "# Heliograph agent configuration, converted from %s by agentctl convert-telegraf.\n"
		     "# Comments \"# file:line\" name the Telegraf section each entry came from.\n", name);
	const struct toml_node *agent = toml_get(root, "agent");
	if (agent && agent->type == TOML_TABLE) {
		fputs("agent:\n", out);
		if (emit_section(&c, out, agent, "agent", agent_options, NULL, 2) == 0)
			fputs("  {}\n", out);
	}
	const struct toml_node *tags = toml_get(root, "global_tags");
	if (tags && tags->type == TOML_TABLE && tags->n) {
		static const struct opt_desc gt = { "global_tags", OPT_STRMAP, 0, NULL, NULL, NULL };
		fputs("global_tags:", out);
		/* emit_value writes the newline and the entries. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m) {
			emit_value(&c, m, &gt, tags, "", 0);
			fclose(m);
			fwrite(buf, 1, len, out);
			free(buf);
		}
	}
	const struct toml_node *in = toml_get(root, "inputs");
	if (in)
		emit_plugins(&c, out, in, 1);
	const struct toml_node *outs = toml_get(root, "outputs");
	if (outs)
		emit_plugins(&c, out, outs, 0);
	for (size_t i = 0; i < root->n; i++) {
		const struct toml_node *v = root->kids[i];
		if (v == agent && v->type == TOML_TABLE)
			continue;
		if ((v == tags && v->type == TOML_TABLE) || v == in || v == outs)
			continue;
		report_section(&c, v);
	}
	fflush(out);
	if (ferror(out)) {
		snprintf(err, errlen, "cannot write the converted configuration");
		return -1;
	}
	return c.dropped;
}
