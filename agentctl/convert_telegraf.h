/* Telegraf TOML config -> Heliograph YAML config. Plugins and options are
 * matched by name against the agent's own option tables (agent_options,
 * input/output_common_options and each plugin's options), so a new
 * Heliograph option is carried over without touching the converter. */
#ifndef HG_CONVERT_TELEGRAF_H
#define HG_CONVERT_TELEGRAF_H
#include <stdio.h>
#include "toml.h"

/* Writes the YAML for doc to out. Everything it cannot carry over is one
 * line "name:LINE: ..." on rep (name is the TOML file's name). Returns the
 * number of such lines (0: everything was carried over), or -1 with err set
 * when writing failed. */
int convert_telegraf(const struct toml_doc *doc, const char *name, FILE *out, FILE *rep, char *err, size_t errlen);

#endif
