/* --sample-config: a commented YAML config of the agent and of every
 * built-in plugin. It loads as printed; uncommenting an option line keeps it
 * loadable (tests check both). */
#include <string.h>
#include "config.h"

static const char *type_word(enum opt_type t)
{
	switch (t) {
	case OPT_BOOL: return "bool";
	case OPT_INT: return "integer";
	case OPT_DOUBLE: return "number";
	case OPT_STRING: return "string";
	case OPT_SECRET: return "secret string";
	case OPT_DURATION: return "duration";
	case OPT_SIZE: return "size";
	case OPT_STRLIST: return "list of strings";
	case OPT_STRMAP: return "map of strings";
	case OPT_TAGFILTER: return "map of tag key to list of globs";
	case OPT_SECTION: return "section";
	}
	return "?";
}

/* A string default is printed double-quoted so that any text (a leading '%',
 * ": ", " #") stays one YAML string; other defaults are YAML text already. */
static void print_value(FILE *out, const struct opt_desc *o)
{
	const char *d = o->def;
	if ((o->type == OPT_STRING || o->type == OPT_SECRET) && d[0] != '"' && d[0] != '\'') {
		fputc('"', out);
		for (; *d; d++) {
			if (*d == '"' || *d == '\\')
				fputc('\\', out);
			fputc(*d, out);
		}
		fputc('"', out);
		return;
	}
	fputs(d, out);
}

/* One option: its help, then "key: default" (commented when commented). */
static void print_option(FILE *out, const char *indent, const struct opt_desc *o, int commented)
{
	fprintf(out, "%s## %s (%s)\n", indent, o->help ? o->help : o->name, type_word(o->type));
	fprintf(out, "%s%s%s:", indent, commented || !o->def ? "# " : "", o->name);
	if (o->def) {
		fputc(' ', out);
		print_value(out, o);
	}
	fputc('\n', out);
}

static void print_plugin(FILE *out, const char *name, const char *summary, const struct opt_desc *opts)
{
	fprintf(out, "\n  ## %s: %s\n  - %s:\n", name, summary ? summary : "", name);
	for (const struct opt_desc *o = opts; o && o->name; o++)
		print_option(out, "      ", o, 1);
}

static void print_common(FILE *out, const char *kind, const struct opt_desc *opts)
{
	fprintf(out, "\n## Every %s also accepts these options (defaults: unset):\n", kind);
	for (const struct opt_desc *o = opts; o->name; o++) {
		fprintf(out, "##   %-20s %s (%s)\n", o->name, o->help, type_word(o->type));
		for (const struct opt_desc *so = o->sub; o->type == OPT_SECTION && so && so->name; so++)
			fprintf(out, "##     %-18s %s (%s, default %s)\n", so->name, so->help, type_word(so->type),
				so->def ? so->def : "unset");
	}
}

void config_print_sample(FILE *out)
{
	fputs("# Heliograph configuration (YAML).\n"
	      "# Scalars may use ${VAR} and ${VAR:-default} (default when VAR is unset or empty);\n"
	      "# \"$${\" is a literal \"${\". A string set to \"\" (or to a ${VAR} that is empty) is unset:\n"
	      "# it gets its default, as in Telegraf. Durations: 10s, 1m30s, 500ms (a bare integer is seconds).\n"
	      "# Sizes: 512, 10MB, 64MiB. Several --config files merge: agent options override key by\n"
	      "# key, global_tags merge, inputs and outputs append.\n\n"
	      "agent:\n",
	      out);
	for (const struct opt_desc *o = agent_options; o->name; o++)
		print_option(out, "  ", o, 0);
	fputs("\n## Tags added to every metric.\n"
	      "global_tags:\n"
	      "  # dc: us-east-1\n",
	      out);
	print_common(out, "input", input_common_options);
	fputs("inputs:", out);
	for (size_t i = 0; input_registry[i]; i++)
		print_plugin(out, input_registry[i]->name, input_registry[i]->summary, input_registry[i]->options);
	print_common(out, "output", output_common_options);
	fputs("outputs:", out);
	for (size_t i = 0; output_registry[i]; i++)
		print_plugin(out, output_registry[i]->name, output_registry[i]->summary, output_registry[i]->options);
	fputc('\n', out);
}
