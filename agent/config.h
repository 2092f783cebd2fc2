/* The agent's configuration, loaded from YAML files (libyaml). Errors name
 * file:line:column; main exits 2 on them. */
#ifndef HG_CONFIG_H
#define HG_CONFIG_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "filter.h"
#include "options.h"
#include "plugin.h"

/* An output's buffer: "memory" (default) holds up to metric_buffer_limit
 * metrics; "disk" spools them under path/<output> up to max_size and keeps
 * only what is in flight in memory. */
struct output_buffer_cfg {
	char *type;
	char *path;
	uint64_t max_size;
	int64_t fsync_interval_ns; /* 0 = fsync every append */
};

/* Options every input and output accepts besides its own. */
struct plugin_common {
	int64_t interval_ns;      /* inputs: 0 = agent interval */
	int64_t collection_jitter_ns; /* inputs: -1 = agent's */
	char *alias;
	char *name_override, *name_prefix, *name_suffix;
	struct strmap tags;       /* inputs: added to every metric */
	struct metric_filter filter;
	int64_t flush_interval_ns; /* outputs: 0 = agent's */
	int64_t metric_batch_size; /* outputs: 0 = agent's */
	int64_t metric_buffer_limit; /* outputs: 0 = agent's */
	struct output_buffer_cfg buffer; /* outputs */
};

struct input_cfg {
	const struct input_plugin *plugin;
	void *config; /* plugin->config_size bytes, described by plugin->options */
	struct plugin_common common;
	char *origin; /* "file:line:col" of its entry, for messages */
};

struct output_cfg {
	const struct output_plugin *plugin;
	void *config;
	struct plugin_common common;
	char *origin;
};

struct agent_config {
	int64_t interval_ns;
	bool round_interval;
	int64_t collection_jitter_ns;
	int64_t flush_interval_ns;
	int64_t flush_jitter_ns;
	int64_t metric_batch_size;
	int64_t metric_buffer_limit;
	int64_t precision_ns;     /* 0 = ns; else the rounding unit of timestamps */
	char *hostname;           /* NULL/empty = os hostname */
	bool omit_hostname;
	bool debug, quiet;
	char *logfile;
	char *health_listen;      /* "127.0.0.1:8080"; NULL = off */
	int64_t health_max_flush_intervals; /* /healthz 503 after this many flush intervals without a write */
	int64_t health_header_timeout_ns;   /* the health server's request deadline (head, and body if any) */
	int64_t health_idle_timeout_ns;
	int64_t health_write_timeout_ns;    /* an answer not read by then closes the connection */
	int64_t health_max_connections;
	int64_t shutdown_timeout_ns; /* bound for the final flush at SIGTERM */
	struct strmap global_tags;
	size_t ninputs, noutputs;
	struct input_cfg *inputs;
	struct output_cfg *outputs;
};

/* Options of the agent: section, and the common plugin options (for
 * --sample-config and the loader). */
extern const struct opt_desc hg_agent_options[];
extern const struct opt_desc hg_input_common_options[];
extern const struct opt_desc hg_output_common_options[];

/* Loads and merges files in order, then every *.yaml / *.yml of dir (dot files skipped)
 * (sorted) when dir is not NULL. Unset agent options get Telegraf's defaults.
 * On error returns -1 with "file:line:column: message" in err. */
int hg_config_load(struct agent_config *cfg, const char *const *files, size_t nfiles, const char *dir, char *err,
		size_t errlen);
/* Like hg_config_load with one file whose contents are buf[0..len); name is used
 * in messages. For tests and the fuzzer. */
int hg_config_load_buffer(struct agent_config *cfg, const char *name, const char *buf, size_t len, char *err,
		       size_t errlen);
void hg_config_free(struct agent_config *cfg);
/* Prints a commented YAML config listing every built-in plugin and option.
 * With a filter ("a:b", as --input-filter/--output-filter), only those
 * plugins, enabled; without one, every plugin, and only Telegraf's default
 * ones enabled (the others commented out). */
void hg_config_print_sample(FILE *out, const char *input_filter, const char *output_filter);

/* Value parsers shared with plugins and tests. 0 on success, -1 on a bad value. */
int hg_parse_duration(const char *s, int64_t *ns);
int hg_parse_size(const char *s, uint64_t *bytes);
/* Expands ${VAR}, ${VAR:-default} and ${VAR-default} in s (the default is used
 * when VAR is unset or, with ':', empty, and may hold references itself); an unset ${VAR} expands
 * to "". A reference that is a URL's whole host ("://${VAR}" followed by
 * ':', '/', '?', '#' or the end) and whose value is a literal IPv6 address
 * expands to it in brackets. "$${" is a literal "${"; any other '$' is literal. Returns a malloc'd string, or
 * NULL with err set on an unterminated reference. */
char *hg_env_expand(const char *s, char *err, size_t errlen);

#endif
