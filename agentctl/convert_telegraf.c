/* Telegraf TOML -> Heliograph YAML, generic over the option tables. */
#include "convert_telegraf.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "telegraf_values.h"

const struct telegraf_rename hg_telegraf_renames[] = {
	{ NULL, NULL, "fieldinclude", "fieldpass", "Telegraf 1.29 renamed fieldpass to fieldinclude" },
	{ NULL, NULL, "fieldexclude", "fielddrop", "Telegraf 1.29 renamed fielddrop to fieldexclude" },
	{ NULL, NULL, "pass", "fieldpass", "the name before Telegraf 0.10.4" },
	{ NULL, NULL, "drop", "fielddrop", "the name before Telegraf 0.10.4" },
	{ NULL, NULL, "ssl_ca", "tls_ca", "the name before Telegraf 1.7; tls_ca wins when both are set" },
	{ NULL, NULL, "ssl_cert", "tls_cert", "the name before Telegraf 1.7; tls_cert wins when both are set" },
	{ NULL, NULL, "ssl_key", "tls_key", "the name before Telegraf 1.7; tls_key wins when both are set" },
	{ "outputs", "influxdb", "url", "urls", "deprecated since Telegraf 0.1.9; added after urls" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct telegraf_warned hg_telegraf_warned[] = {
	{ "inputs", "net", "ignore_protocol_stats", "false",
	  "the agent's net input emits no interface=all line of protocol counters; Telegraf's fields there "
	  "(tcp_activeopens, udp_indatagrams, icmp_inmsgs ...) are the nstat input's counters of /proc/net/snmp, "
	  "named as the kernel spells them (TcpActiveOpens, UdpInDatagrams, IcmpInMsgs ...; tag name=snmp): "
	  "add [[inputs.nstat]]" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const char *const hg_telegraf_http_only_outputs[] = { "influxdb", "influxdb_v2", NULL };

struct conv {
	const char *name; /* shown: control characters escaped */
	FILE *rep;
	int dropped;
	const char *kind, *plugin; /* the plugin being written, or NULL */
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

/* Carried over, but not quite as Telegraf has it: said, not counted. */
static void warn(struct conv *c, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(c->rep, "%s:%d: warning: ", c->name, line);
	va_start(ap, fmt);
	vfprintf(c->rep, fmt, ap);
	va_end(ap);
	fputc('\n', c->rep);
}

/* s as a YAML double-quoted scalar, any text surviving. */
static void put_quoted(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
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

/* A Telegraf string value: its environment references restated for the
 * agent (hg_telegraf_env_to_agent), quoted. Returns 0, 1 after a warning, or
 * -1 with *why when it cannot be carried. */
static int put_str(FILE *out, const char *s, size_t len, const char **why)
{
	size_t rl;
	if (hg_telegraf_secret_ref(s, len, &rl) >= 0) {
		*why = "a Telegraf secret-store reference";
		return -1;
	}
	if (!memchr(s, '$', len)) {
		put_quoted(out, s, len);
		return 0;
	}
	char *t = NULL;
	size_t tl = 0;
	FILE *m = open_memstream(&t, &tl);
	if (!m) {
		*why = "out of memory";
		return -1;
	}
	int rc = hg_telegraf_env_to_agent(m, s, len, why);
	fclose(m);
	if (rc >= 0)
		put_quoted(out, t, tl);
	free(t);
	return rc;
}

static int is_scalar(const struct toml_node *v)
{
	return v->type != TOML_TABLE && v->type != TOML_ARRAY;
}

/* A scalar as a YAML string (numbers and booleans as their text). Returns
 * as put_str. */
static int put_scalar_str(FILE *out, const struct toml_node *v, const char **why)
{
	char num[64];
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME: return put_str(out, v->s, v->len, why);
	case TOML_INT: snprintf(num, sizeof(num), "%" PRId64, v->i); break;
	case TOML_FLOAT: snprintf(num, sizeof(num), "%.17g", v->f); break;
	case TOML_BOOL: snprintf(num, sizeof(num), "%s", v->b ? "true" : "false"); break;
	default: /* not a scalar: no text */
		put_quoted(out, "", 0);
		return 0;
	}
	put_quoted(out, num, strlen(num));
	return 0;
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

/* Settings that state what Heliograph always does: nothing to carry. */
static int implied(const char *key, const struct toml_node *v)
{
	return !strcmp(key, "data_format") && v->type == TOML_STRING && !strcmp(v->s, "influx");
}

static int emit_section(struct conv *c, FILE *out, const struct toml_node *t, const char *what,
			const struct opt_desc *opts, const struct opt_desc *common, int ind);

/* "" is how Telegraf configs say "unset" (the Helm chart's username = "",
 * precision = ""): Telegraf then applies its default, and so does the agent
 * when the option is not written. */
static int is_unset(const struct toml_node *v)
{
	return v->type == TOML_STRING && !v->unquoted && v->len == 0;
}

static int http_only_output(const struct conv *c)
{
	for (const char *const *o = hg_telegraf_http_only_outputs; c->kind && *o; o++)
		if (!strcmp(c->kind, "outputs") && !strcmp(c->plugin, *o))
			return 1;
	return 0;
}

/* The first secret-store reference in v's strings. */
static const struct toml_node *secret_in(const struct toml_node *v, long *at, size_t *rl)
{
	if (v->type == TOML_STRING) {
		*at = hg_telegraf_secret_ref(v->s, v->len, rl);
		return *at >= 0 ? v : NULL;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct toml_node *r = secret_in(v->kids[i], at, rl);
		if (r)
			return r;
	}
	return NULL;
}

/* Reports the first secret-store reference in v, on the option named full;
 * 1 if there was one. */
static int report_secret(struct conv *c, const struct toml_node *v, const char *full)
{
	long at;
	size_t rl;
	const struct toml_node *sec = secret_in(v, &at, &rl);
	if (!sec)
		return 0;
	char *ref = strndup(sec->s + at, rl), *shown = ref ? hg_telegraf_shown_name(ref) : NULL;
	report(c, sec->line,
	       "%s: %s is a Telegraf secret-store reference; the agent has no secret stores (give the value, "
	       "or ${VAR} from the environment); left out",
	       full, shown ? shown : "@{...}");
	free(shown);
	free(ref);
	return 1;
}

/* A scalar in a list or map; a warning is said, a failure returned. */
static int put_item(struct conv *c, FILE *out, const struct toml_node *v, const char *what, const char *oname,
		    const char **why)
{
	int r = put_scalar_str(out, v, why);
	if (r > 0)
		warn(c, v->line, "%s%s%s: %s", what, *what ? "." : "", oname, *why);
	return r < 0 ? -1 : 0;
}

/* Whether v may go to an option with choices (options.h): one of them, or a
 * ${VAR} the agent checks once expanded. */
static int choice_fits(const struct opt_desc *o, const struct toml_node *v)
{
	if (!o->choices || (v->type == TOML_STRING && memchr(v->s, '$', v->len)))
		return 1;
	return v->type == TOML_STRING && strlen(v->s) == v->len && hg_opt_choice_ok(o, v->s);
}

/* v, quoted and escaped (at most 64 bytes of it), for a message: malloc'd,
 * or NULL. */
static char *shown_value(const struct toml_node *v)
{
	char *shown = NULL;
	size_t sl = 0;
	FILE *m = open_memstream(&shown, &sl);
	if (!m)
		return NULL;
	put_quoted(m, v->s, v->len < 64 ? v->len : 64);
	fclose(m);
	return shown;
}

/* A list of strings; for an output that speaks only HTTP, its urls without
 * those it cannot write to (each reported). */
static int put_list(struct conv *c, FILE *out, const struct opt_desc *o, const struct toml_node *v,
		    const char *what, const char **why)
{
	int urls = http_only_output(c) && !strcmp(o->name, "urls");
	size_t n = v->type == TOML_ARRAY ? v->n : 1;
	int first = 1;
	fputs(" [", out);
	for (size_t i = 0; i < n; i++) {
		const struct toml_node *e = v->type == TOML_ARRAY ? v->kids[i] : v;
		if (urls && e->type == TOML_STRING && !hg_telegraf_url_usable(e->s)) {
			char shown[256];
			hg_telegraf_url_shown(e->s, shown, sizeof shown);
			report(c, e->line, "%s%s%s: %s is not a URL the agent writes to (http:// and https:// only); left out",
			       what, *what ? "." : "", o->name, shown);
			continue;
		}
		if (!choice_fits(o, e)) {
			char allowed[96];
			hg_opt_choices_text(o, allowed, sizeof allowed);
			char *shown = e->type == TOML_STRING ? shown_value(e) : NULL;
			report(c, e->line, "%s%s%s: %s is not a value Heliograph takes (%s); left out", what, *what ? "." : "",
			       o->name, shown ? shown : "an item", allowed);
			free(shown);
			continue;
		}
		if (!first)
			fputs(", ", out);
		first = 0;
		if (urls && e->type == TOML_STRING && !strchr(e->s, '$')) {
			/* Telegraf reads the scheme in any case; the agent in lower case. */
			char *l = strdup(e->s);
			if (!l) {
				*why = "out of memory";
				return -1;
			}
			for (char *p = l; *p && *p != ':'; p++)
				*p = (char)(*p | 0x20);
			put_quoted(out, l, strlen(l));
			free(l);
		} else if (put_item(c, out, e, what, o->name, why) < 0) {
			return -1;
		}
	}
	fputs("]\n", out);
	return 0;
}

/* One option's value after "key:" (a space, a scalar or flow sequence, or
 * a block on the next lines). Returns 0; 1 after reporting a value that
 * cannot be carried; 2 for a value that means "unset" (nothing written,
 * nothing to say). */
static int emit_value(struct conv *c, FILE *out, const struct opt_desc *o, const struct toml_node *v,
		      const char *what, int ind)
{
	const char *bad = NULL, *why = NULL;
	char detail[160] = "", allowed[96];
	char full[256]; /* the option as messages name it */
	snprintf(full, sizeof full, "%s%s%s", what, *what ? "." : "", o->name);
	if (v->type != TOML_TABLE && report_secret(c, v, full))
		return 1;
	if (is_unset(v) && o->type != OPT_BOOL && o->type != OPT_INT && o->type != OPT_DOUBLE)
		return 2;
	if (v->type == TOML_STRING && v->unquoted) {
		/* port = ${PORT}: the agent expands it, then reads the option's type. */
		if (o->type == OPT_STRLIST || o->type == OPT_STRMAP || o->type == OPT_TAGFILTER || o->type == OPT_SECTION) {
			bad = "a list or table (an unquoted reference cannot be one for the agent)";
		} else {
			fputc(' ', out);
			if (put_item(c, out, v, what, o->name, &why) < 0)
				goto failed;
			fputc('\n', out);
			return 0;
		}
	} else switch (o->type) {
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
		if (!choice_fits(o, v)) {
			/* Telegraf may take more (its influxdb output sends any
			 * content_encoding but gzip as identity); the agent
			 * would refuse the file: left out, it gets the default. */
			hg_opt_choices_text(o, allowed, sizeof allowed);
			bad = allowed;
			if (v->type == TOML_STRING) {
				char *shown = shown_value(v);
				snprintf(detail, sizeof detail, "%s is not a value Heliograph takes (%s)",
					 shown ? shown : "the value", allowed);
				free(shown);
			}
			break;
		}
		fputc(' ', out);
		if (put_item(c, out, v, what, o->name, &why) < 0)
			goto failed;
		fputc('\n', out);
		break;
	case OPT_DURATION: {
		/* Telegraf's config.Duration: numbers are seconds, strings also
		 * "1.5" and "1d"; written in a form the agent reads. */
		int64_t ns = 0;
		int r;
		if (v->type == TOML_STRING && memchr(v->s, '$', v->len)) {
			fputc(' ', out);
			if (put_item(c, out, v, what, o->name, &why) < 0)
				goto failed;
			fputc('\n', out);
			break;
		} else if (v->type == TOML_STRING) {
			r = strlen(v->s) == v->len ? hg_telegraf_duration(v->s, &ns) : -1;
		} else if (v->type == TOML_INT) {
			r = v->i < 0 ? -2 : v->i > INT64_MAX / 1000000000LL ? -3 : 0;
			ns = v->i * (r ? 0 : 1000000000LL);
		} else if (v->type == TOML_FLOAT) {
			r = !isfinite(v->f) ? -1 : v->f < 0 ? -2 : v->f >= 9.2e9 ? -3 : 0;
			ns = r ? 0 : (int64_t)llround(v->f * 1e9);
		} else {
			bad = "a duration";
			break;
		}
		if (r == 0) {
			fputc(' ', out);
			hg_telegraf_put_duration(out, ns);
			fputc('\n', out);
		} else {
			bad = "a duration";
			snprintf(detail, sizeof detail, "%s",
				 r == -2 ? "a negative duration, which the agent has not"
				 : r == -3 ? "a duration beyond 292 years"
				 : "not a duration (Telegraf reads seconds, \"1.5\", \"1d\", \"1h30m\", \"500ms\")");
		}
		break;
	}
	case OPT_SIZE:
		if (v->type == TOML_STRING) {
			fputc(' ', out);
			if (put_item(c, out, v, what, o->name, &why) < 0)
				goto failed;
			fputc('\n', out);
		} else if (v->type == TOML_INT && v->i >= 0) {
			fprintf(out, " %" PRId64 "\n", v->i);
		} else {
			bad = "a size";
		}
		break;
	case OPT_STRLIST:
		if (!is_scalar(v) && v->type != TOML_ARRAY) {
			bad = "a list of strings";
			break;
		}
		for (size_t i = 0; v->type == TOML_ARRAY && i < v->n && !bad; i++)
			if (!is_scalar(v->kids[i]))
				bad = "a list of strings";
		if (bad)
			break;
		if (put_list(c, out, o, v, what, &why) < 0)
			goto failed;
		break;
	case OPT_STRMAP:
	case OPT_TAGFILTER: {
		if (v->type != TOML_TABLE) {
			bad = o->type == OPT_STRMAP ? "a table of strings" : "a table of tag keys to lists of globs";
			break;
		}
		const char *sub = full;
		char *all = NULL;
		size_t alen = 0;
		FILE *entries = open_memstream(&all, &alen);
		if (!entries) {
			why = "out of memory";
			goto failed;
		}
		for (size_t i = 0; i < v->n; i++) {
			const struct toml_node *e = v->kids[i];
			int ok = o->type == OPT_STRMAP ? is_scalar(e) : is_scalar(e) || e->type == TOML_ARRAY;
			for (size_t j = 0; ok && e->type == TOML_ARRAY && j < e->n; j++)
				ok = is_scalar(e->kids[j]);
			if (!ok) {
				report(c, e->line, "%s.%s: a %s where %s is expected; left out", sub, e->key,
				       hg_toml_type_name(e->type), o->type == OPT_STRMAP ? "a string" : "a list of globs");
				continue;
			}
			/* Each entry on its own: one that cannot be written is
			 * left out alone. */
			char ename[384];
			snprintf(ename, sizeof ename, "%s.%s", sub, e->key);
			if (report_secret(c, e, ename))
				continue;
			char *eb = NULL;
			size_t el = 0;
			FILE *em = open_memstream(&eb, &el);
			if (!em) {
				report(c, e->line, "%s.%s: out of memory; left out", sub, e->key);
				continue;
			}
			indent(em, ind + 2);
			put_quoted(em, e->key, strlen(e->key));
			fputc(':', em);
			int r;
			if (o->type == OPT_STRMAP) {
				fputc(' ', em);
				r = put_item(c, em, e, sub, e->key, &why);
				fputc('\n', em);
			} else {
				r = put_list(c, em, o, e, sub, &why);
			}
			fclose(em);
			if (r < 0)
				report(c, e->line, "%s.%s: %s; left out", sub, e->key, why);
			else
				fwrite(eb, 1, el, entries);
			free(eb);
		}
		fclose(entries);
		fputs(alen ? "\n" : " {}\n", out);
		fwrite(all, 1, alen, out);
		free(all);
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
	if (bad && detail[0]) {
		report(c, v->line, "%s: %s; left out", full, detail);
		return 1;
	}
	if (bad) {
		report(c, v->line, "%s: a %s where Heliograph expects %s; left out", full,
		       v->type == TOML_STRING && v->unquoted ? "${...} reference" : hg_toml_type_name(v->type), bad);
		return 1;
	}
	return 0;
failed:
	report(c, v->line, "%s: %s; left out", full, why ? why : "cannot be written");
	return 1;
}

/* The agent's option for Telegraf's key: same name, else renamed. */
static const struct opt_desc *target_of(const struct conv *c, const char *key, const struct opt_desc *opts,
					const struct opt_desc *common)
{
	const struct opt_desc *o = find_opt(opts, key);
	if (!o)
		o = find_opt(common, key);
	for (const struct telegraf_rename *r = hg_telegraf_renames; !o && r->from; r++) {
		if (strcmp(key, r->from) ||
		    (r->kind && (!c->kind || strcmp(r->kind, c->kind) || strcmp(r->plugin, c->plugin))))
			continue;
		if (!(o = find_opt(opts, r->to)))
			o = find_opt(common, r->to);
	}
	return o;
}

static const struct telegraf_warned *warned_of(const struct conv *c, const char *what, const struct toml_node *v)
{
	char plugin[160];
	for (const struct telegraf_warned *w = hg_telegraf_warned; c->kind && w->option; w++) {
		snprintf(plugin, sizeof plugin, "%s.%s", w->kind, w->plugin);
		if (strcmp(what, plugin) || strcmp(v->key, w->option))
			continue;
		if (!w->value || (v->type == TOML_BOOL && !strcmp(w->value, v->b ? "true" : "false")))
			return w;
	}
	return NULL;
}

/* Several Telegraf keys for one agent option (fieldpass, fieldinclude,
 * pass; tls_ca, ssl_ca; urls, url): Telegraf appends lists in that order
 * (its own name first) and, for a single value, uses its own name's before
 * the older one's. Returns the value to write: v, or tmp (a list borrowing
 * the nodes' elements; tmp->kids is to be freed), or NULL when all are
 * unset. */
static const struct toml_node *merge(struct conv *c, const struct toml_node *const *grp, size_t gn,
				     const struct opt_desc *o, const char *what, struct toml_node *tmp)
{
	/* The one under the agent's (= Telegraf's current) name first. */
	size_t canon = 0;
	for (size_t i = 0; i < gn; i++)
		if (!strcmp(grp[i]->key, o->name))
			canon = i;
	if (o->type == OPT_STRLIST) {
		size_t n = 0;
		for (size_t i = 0; i < gn; i++)
			n += grp[i]->type == TOML_ARRAY ? grp[i]->n : 1;
		memset(tmp, 0, sizeof(*tmp));
		tmp->type = TOML_ARRAY;
		tmp->line = grp[canon]->line;
		tmp->kids = calloc(n ? n : 1, sizeof(*tmp->kids));
		if (!tmp->kids)
			return grp[canon];
		for (size_t k = 0; k < gn; k++) {
			const struct toml_node *g = grp[k == 0 ? canon : k <= canon ? k - 1 : k];
			if (g->type != TOML_ARRAY) {
				if (!is_unset(g))
					tmp->kids[tmp->n++] = (struct toml_node *)g;
				continue;
			}
			for (size_t j = 0; j < g->n; j++)
				tmp->kids[tmp->n++] = g->kids[j];
		}
		return tmp->n ? tmp : NULL; /* all "": unset */
	}
	const struct toml_node *win = NULL;
	if (!is_unset(grp[canon]) && !strcmp(grp[canon]->key, o->name))
		win = grp[canon];
	for (size_t i = 0; i < gn && !win; i++)
		if (!is_unset(grp[i]))
			win = grp[i];
	for (size_t i = 0; i < gn; i++)
		if (win && grp[i] != win && !is_unset(grp[i]))
			warn(c, grp[i]->line, "%s.%s is ignored: %s (line %d) is set, and Telegraf uses it first", what,
			     grp[i]->key, win->key, win->line);
	return win;
}

/* Every key of table t, matched against opts then common; the others are
 * reported. Returns the number of options written. */
static int emit_section(struct conv *c, FILE *out, const struct toml_node *t, const char *what,
			const struct opt_desc *opts, const struct opt_desc *common, int ind)
{
	int written = 0;
	char *done = calloc(t->n ? t->n : 1, 1);
	const struct toml_node **grp = calloc(t->n ? t->n : 1, sizeof(*grp));
	if (!done || !grp) {
		report(c, t->line, "%s: out of memory; left out", what);
		free(done);
		free(grp);
		return 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (done[i])
			continue;
		const struct toml_node *v = t->kids[i];
		const char *key = v->key;
		const struct telegraf_warned *w = warned_of(c, what, v);
		if (w) {
			report(c, v->line, "%s.%s%s%s: %s; left out", what, key, w->value ? " = " : "",
			       w->value ? w->value : "", w->why);
			continue;
		}
		const struct opt_desc *o = target_of(c, key, opts, common);
		if (!o) {
			if (implied(key, v))
				continue;
			if (v->type == TOML_TABLE || (v->type == TOML_ARRAY && v->aot))
				report(c, v->line, "[%s.%s]: Heliograph has no such section; left out", what, key);
			else
				report(c, v->line, "%s: option \"%s\" is not supported by Heliograph; left out", what, key);
			continue;
		}
		size_t gn = 0;
		for (size_t j = i; j < t->n; j++) {
			if (done[j] || (j > i && (warned_of(c, what, t->kids[j]) ||
						  target_of(c, t->kids[j]->key, opts, common) != o)))
				continue;
			done[j] = 1;
			grp[gn++] = t->kids[j];
		}
		struct toml_node tmp = { 0 };
		const struct toml_node *val = gn > 1 ? merge(c, grp, gn, o, what, &tmp) : v;
		if (!val) {
			free(tmp.kids);
			continue;
		}
		/* Any output goes to a buffer first: a value that does not fit
		 * leaves no half-written key behind. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m) {
			report(c, v->line, "%s.%s: out of memory; left out", what, key);
			free(tmp.kids);
			continue;
		}
		indent(m, ind);
		fprintf(m, "%s:", o->name);
		int rc = emit_value(c, m, o, val, what, ind);
		fclose(m);
		/* An influxdb output's urls = [] means Telegraf's default URL, as
		 * leaving it out does here. */
		if (rc == 0 && http_only_output(c) && !strcmp(o->name, "urls") && strstr(buf, " []\n"))
			rc = 2;
		if (rc == 0) {
			fwrite(buf, 1, len, out);
			written++;
		}
		free(buf);
		free(tmp.kids);
	}
	free(done);
	free(grp);
	return written;
}

/* For an output that speaks only HTTP: whether any of t's URLs (urls and
 * the older url) is one the agent writes to, or none is given. Else the
 * first other one, shown, in buf. */
static int has_usable_url(const struct toml_node *t, char *buf, size_t len)
{
	int total = 0, usable = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		const struct toml_node *v = t->kids[i];
		if (strcmp(v->key, "urls") && strcmp(v->key, "url"))
			continue;
		size_t n = v->type == TOML_ARRAY ? v->n : 1;
		for (size_t k = 0; k < n; k++) {
			const struct toml_node *e = v->type == TOML_ARRAY ? v->kids[k] : v;
			if (e->type != TOML_STRING || is_unset(e))
				continue;
			total++;
			if (hg_telegraf_url_usable(e->s))
				usable++;
			else if (!buf[0])
				hg_telegraf_url_shown(e->s, buf, len);
		}
	}
	return usable || !total;
}

/* One plugin instance: "  - name:" and its options. */
/* Telegraf's prometheus input sends its bearer token or basic credentials
 * to every pod that annotates itself for scraping; the agent sends them to
 * such pods only with pod_credentials (README, "Credentials and pods"). The
 * converted config keeps the safe default, and says what changed. */
static void warn_pod_credentials(struct conv *c, const struct toml_node *t, const char *what)
{
	if (strcmp(what, "inputs.prometheus") != 0)
		return;
	const struct toml_node *mon = hg_toml_get(t, "monitor_kubernetes_pods");
	if (!mon || mon->type != TOML_BOOL || !mon->b)
		return;
	static const char *const creds[] = { "bearer_token", "bearer_token_string", "username", NULL };
	for (int i = 0; creds[i]; i++) {
		const struct toml_node *v = hg_toml_get(t, creds[i]);
		if (v && !is_unset(v)) {
			warn(c, v->line,
			     "%s.%s: Telegraf also sends it to every pod annotated for scraping "
			     "(monitor_kubernetes_pods); the agent sends it to the urls only, unless "
			     "pod_credentials is all or pod_credentials_namespaces names the pods' namespaces",
			     what, creds[i]);
			return;
		}
	}
}

static void emit_plugin(struct conv *c, FILE *out, const char *kind, const char *pname, const struct toml_node *t,
			const struct opt_desc *opts, const struct opt_desc *common)
{
	char what[160];
	snprintf(what, sizeof(what), "%s.%s", kind, pname);
	c->kind = kind;
	c->plugin = pname;
	char shown[256];
	if (http_only_output(c) && !has_usable_url(t, shown, sizeof shown)) {
		report(c, t->line,
		       "[[%s]]: the agent cannot write to any of its URLs (%s: http:// and https:// only); the output is left out",
		       what, shown);
		c->kind = c->plugin = NULL;
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		report(c, t->line, "[[%s]]: out of memory; left out", what);
		c->kind = c->plugin = NULL;
		return;
	}
	int n = emit_section(c, m, t, what, opts, common, 6);
	fclose(m);
	c->kind = c->plugin = NULL;
	warn_pod_credentials(c, t, what);
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
		report(c, sec->line, "%s: a %s, not a table of plugins; left out", kind, hg_toml_type_name(sec->type));
		return;
	}
	int any = 0;
	for (size_t i = 0; i < sec->n; i++) {
		const struct toml_node *v = sec->kids[i];
		const struct opt_desc *opts = NULL;
		int known = 0;
		if (inputs) {
			const struct input_plugin *p = hg_input_find(v->key);
			if (p) {
				known = 1;
				opts = p->options;
			}
		} else {
			const struct output_plugin *p = hg_output_find(v->key);
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
		/* The section's header only above an instance written (an output
		 * left out for its URLs writes none). */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m) {
			report(c, v->line, "[[%s.%s]]: out of memory; left out", kind, v->key);
			continue;
		}
		struct plugins_ctx p = { c, m, kind, v->key, opts, inputs ? hg_input_common_options : hg_output_common_options };
		each_instance(v, plugin_cb, &p);
		fclose(m);
		if (len && !any)
			fprintf(out, "%s:\n", kind);
		any |= len > 0;
		fwrite(buf, 1, len, out);
		free(buf);
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

int hg_convert_telegraf(const struct toml_doc *doc, const char *name, FILE *out, FILE *rep, char *err, size_t errlen)
{
	char *shown = hg_telegraf_shown_name(name);
	if (!shown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct conv c = { shown, rep, 0, NULL, NULL };
	const struct toml_node *root = doc->root;
	fprintf(out, "# Heliograph agent configuration, converted from %s by agentctl convert-telegraf.\n"
		     "# Comments \"# file:line\" name the Telegraf section each entry came from.\n", shown);
	const struct toml_node *agent = hg_toml_get(root, "agent");
	if (agent && agent->type == TOML_TABLE) {
		fputs("agent:\n", out);
		if (emit_section(&c, out, agent, "agent", hg_agent_options, NULL, 2) == 0)
			fputs("  {}\n", out);
	}
	const struct toml_node *tags = hg_toml_get(root, "global_tags");
	if (tags && tags->type == TOML_TABLE && tags->n) {
		static const struct opt_desc gt = { "global_tags", OPT_STRMAP, 0, NULL, NULL, NULL };
		/* emit_value writes the newline and the entries. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m) {
			fputs("global_tags:", m);
			int rc = emit_value(&c, m, &gt, tags, "", 0);
			fclose(m);
			if (rc == 0)
				fwrite(buf, 1, len, out);
			free(buf);
		}
	}
	const struct toml_node *in = hg_toml_get(root, "inputs");
	if (in)
		emit_plugins(&c, out, in, 1);
	const struct toml_node *outs = hg_toml_get(root, "outputs");
	if (outs)
		emit_plugins(&c, out, outs, 0);
	for (size_t i = 0; i < root->n; i++) {
		const struct toml_node *v = root->kids[i];
		/* The sections handled above; an absent one (NULL) matches no kid. */
		if ((agent && v == agent && agent->type == TOML_TABLE) || (tags && v == tags && tags->type == TOML_TABLE) ||
		    v == in || v == outs)
			continue;
		report_section(&c, v);
	}
	free(shown);
	fflush(out);
	if (ferror(out)) {
		snprintf(err, errlen, "cannot write the converted configuration");
		return -1;
	}
	return c.dropped;
}
