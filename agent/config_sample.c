/* --sample-config: a commented YAML config of the agent and of every
 * built-in plugin. It loads as printed and runs off-cluster (the plugins that
 * need a cluster or a server are commented out); uncommenting a plugin or an
 * option line keeps it loadable (tests check all three). */
#include <stdbool.h>
#include <string.h>
#include "config.h"

/* The plugins enabled when no filter is given: Telegraf's sample enables the
 * same ones (its inputDefaults and outputDefaults), which read only the local
 * node, and write to the local InfluxDB. */
static const char default_inputs[] = "cpu:disk:diskio:kernel:mem:processes:swap:system";
static const char default_outputs[] = "influxdb";

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

/* A disabled plugin is the same block with "  # " in front of each line, as
 * Telegraf comments out its non-default plugins: removing that prefix enables
 * it. */
static void print_plugin(FILE *out, const char *name, const char *summary, const struct opt_desc *opts,
			 bool enabled)
{
	const char *pre = enabled ? "  " : "  # ";
	fprintf(out, "\n  ## %s: %s\n%s- %s:\n", name, summary ? summary : "", pre, name);
	char indent[16];
	snprintf(indent, sizeof indent, "%s    ", pre);
	for (const struct opt_desc *o = opts; o && o->name; o++)
		print_option(out, indent, o, 1);
}

/* With a filter, the plugins it names are printed, enabled; without one,
 * every plugin is printed and the defaults are enabled. */
static bool enabled(const char *filter, const char *defaults, const char *name)
{
	return hg_plugin_selected(filter ? filter : defaults, name);
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

void hg_config_print_sample(FILE *out, const char *input_filter, const char *output_filter)
{
	fputs("# Heliograph configuration (YAML).\n"
	      "# Scalars may use ${VAR}, ${VAR:-default} (default when VAR is unset or empty) and\n"
	      "# ${VAR-default} (when unset); \"$${\" is a literal \"${\". A string set to \"\" (or to a\n"
	      "# ${VAR} that is empty) is unset: it gets its default, as in Telegraf. Durations: 10s,\n"
	      "# 1m30s, 500ms, 1d (a bare number is seconds, as in Telegraf).\n"
	      "# Sizes: 512, 10MB, 64MiB. Several --config files merge: agent options override key by\n"
	      "# key, global_tags merge, inputs and outputs append.\n\n"
	      "agent:\n",
	      out);
	for (const struct opt_desc *o = hg_agent_options; o->name; o++)
		print_option(out, "  ", o, 0);
	fputs("\n## Tags added to every metric.\n"
	      "global_tags:\n"
	      "  # dc: us-east-1\n",
	      out);
	print_common(out, "input", hg_input_common_options);
	fputs("inputs:", out);
	for (size_t i = 0; hg_input_registry[i]; i++) {
		const struct input_plugin *p = hg_input_registry[i];
		if (hg_plugin_selected(input_filter, p->name))
			print_plugin(out, p->name, p->summary, p->options, enabled(input_filter, default_inputs, p->name));
	}
	print_common(out, "output", hg_output_common_options);
	fputs("outputs:", out);
	for (size_t i = 0; hg_output_registry[i]; i++) {
		const struct output_plugin *p = hg_output_registry[i];
		if (hg_plugin_selected(output_filter, p->name))
			print_plugin(out, p->name, p->summary, p->options,
				     enabled(output_filter, default_outputs, p->name));
	}
	fputc('\n', out);
}
