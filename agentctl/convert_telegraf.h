/* Telegraf TOML config -> Heliograph YAML config. Plugins and options are
 * matched by name against the agent's own option tables (hg_agent_options,
 * input/hg_output_common_options and each plugin's options), so a new
 * Heliograph option is carried over without touching the converter. The
 * tables below are what differs from "same name"; docs/convert-telegraf.md
 * lists them (a unit test compares the two). */
#ifndef HG_CONVERT_TELEGRAF_H
#define HG_CONVERT_TELEGRAF_H
#include <stdio.h>
#include "toml.h"

/* Options Telegraf renamed (or took from its older names): the value of
 * "from" is the agent's "to", merged with "to" when both are given (lists)
 * or after it (scalars: Telegraf uses "to" first). kind/plugin NULL: any. */
struct telegraf_rename {
	const char *kind, *plugin, *from, *to;
	const char *note; /* where Telegraf has the rule, for the docs */
};
extern const struct telegraf_rename hg_telegraf_renames[];

/* Settings the agent accepts by name but which would mean something else:
 * reported and left out. value: the TOML text that triggers it ("false"),
 * NULL for any. */
struct telegraf_warned {
	const char *kind, *plugin, *option, *value;
	const char *why;
};
extern const struct telegraf_warned hg_telegraf_warned[];

/* Outputs whose "urls" the agent speaks only as http:// and https://:
 * other URLs (udp://, unix://) are left out, and the output with them when
 * none is left. */
extern const char *const hg_telegraf_http_only_outputs[];

/* Writes the YAML for doc to out. Everything it cannot carry over is one
 * line "name:LINE: ..." on rep (name is the TOML file's name; control
 * characters in it are written \xNN); so is what it carries with a
 * difference, as "name:LINE: warning: ...". Returns the number of lines of
 * the first kind (0: everything was carried over), or -1 with err set when
 * writing failed. */
int hg_convert_telegraf(const struct toml_doc *doc, const char *name, FILE *out, FILE *rep, char *err, size_t errlen);

#endif
