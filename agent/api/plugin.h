/* Plugin interfaces. A plugin is a const struct named input_<name> or
 * output_<name> in plugins/{inputs,outputs}/<name>/; CMake generates the
 * registry from the folder names, so adding a plugin is one folder. */
#ifndef HG_PLUGIN_H
#define HG_PLUGIN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "batch.h"
#include "options.h"

struct acc;
struct httpc;
struct agent_config;
struct agent;

/* What a plugin may use at init. */
struct plugin_env {
	uv_loop_t *loop;
	struct httpc *http;               /* shared curl-multi client */
	const struct agent_config *agent;
	struct agent *core;               /* for the internal input: self statistics */
	const char *instance_name;        /* log label: "outputs.influxdb" or "outputs.influxdb::alias" */
	struct acc *acc;                  /* inputs: the instance's accumulator, for service inputs
					   * (listeners) that emit outside gathers */
	unsigned lane;                    /* outputs: which of the instance's parallel writers this
					   * state is (0 = the first; see output_plugin.max_in_flight) */
};

#define GATHER_DONE 0
#define GATHER_PENDING 1 /* the plugin calls hg_acc_gather_done() later (async inputs) */

struct input_plugin {
	const char *name;
	const char *summary;            /* one line for --sample-config */
	size_t config_size;             /* size of the plugin's config struct */
	const struct opt_desc *options; /* plugin-specific options, OPT_END terminated */
	int (*init)(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen);
	/* Gathers into acc: hg_acc_metric()/metric_*()/hg_acc_emit(); hg_acc_error() for
	 * failures. Returns GATHER_DONE or GATHER_PENDING. */
	int (*gather)(void *state, struct acc *acc);
	/* May be called while a gather is pending: cancel it, never call
	 * hg_acc_gather_done() afterwards. */
	void (*free)(void *state);
	/* Optional: the agent is stopping (or reloading). An input holding
	 * points back (deploy_events' started points waiting for a revision
	 * number) emits them now, before the outputs' last flush; free() comes
	 * after that flush. */
	void (*stop)(void *state);
	/* Its fields are rates against the previous gather, so a first gather
	 * reports (next to) nothing: --test and --once gather it twice, 500 ms
	 * apart, and keep only the second, as Telegraf's --test does for cpu. */
	bool needs_baseline;
};

enum write_status {
	WRITE_OK,        /* written (dropped_lines may say some lines were rejected) */
	WRITE_RETRY,     /* keep the batch, retry later (5xx, 429, network, 401/403) */
	WRITE_TOO_LARGE, /* 413: the runner splits the batch in halves */
	WRITE_DROP,      /* the whole batch is unwritable (e.g. 400 on every line) */
};

struct write_result {
	enum write_status status;
	int64_t retry_after_ms;    /* from Retry-After, 0 if none */
	size_t dropped_lines;      /* partial write: lines the server rejected */
	/* WRITE_RETRY from a server that is up and answering, for a cause that ends
	 * outside of it (e.g. "database not found" until someone creates it): no
	 * exponential backoff, which protects an overloaded server, but a retry
	 * within the flush interval, so the write lands soon after the cause ends. */
	bool retry_at_flush;
	char message[256];         /* for the log; never contains secrets */
};

typedef void (*write_done_fn)(void *arg, const struct write_result *r);

struct output_plugin {
	const char *name;
	const char *summary;
	size_t config_size;
	const struct opt_desc *options;
	int (*init)(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen);
	/* Whether lines for this output are serialized with 'u' integers. */
	int (*uint_support)(void *state);
	/* How many writes the output may have in flight at once (optional; 1
	 * when absent). Each state has one write in flight at most, so the
	 * runner inits the plugin that many times, env.lane 0..n-1, and writes
	 * through the states in parallel; retries, backoff and 413 splitting
	 * stay the runner's, for the whole output. */
	unsigned (*max_in_flight)(void *state);
	/* Starts writing the batch; calls done exactly once (possibly later,
	 * from the loop). The batch stays valid and unchanged until then. */
	void (*write)(void *state, const struct batch *b, write_done_fn done, void *arg);
	/* May be called while a write is in flight (shutdown timeout): the
	 * plugin cancels it and never calls done afterwards. */
	void (*free)(void *state);
	/* Optional: checks the configuration without side effects (no file, no
	 * request), at start, reload and --test. 0; -1 for a config error (exit 2);
	 * OUTPUT_UNSUPPORTED when it asks for what this build does not do (e.g. a
	 * udp:// URL, which Telegraf speaks): the agent runs without this output and
	 * says so. err names the option and never holds secrets. */
	int (*check)(const void *config, char *err, size_t errlen);
};
#define OUTPUT_UNSUPPORTED 1

/* The max_in_flight option of the InfluxDB outputs: its default (measured
 * in bench/RESULTS.md, "Parallel writes"), its help and its range (every
 * output that has the option). */
#define OUTPUT_IN_FLIGHT_DEFAULT "4"
#define OUTPUT_IN_FLIGHT_HELP "writes in flight at once (1-64); 429/5xx back off the whole output"
#define OUTPUT_IN_FLIGHT_MAX 64

extern const struct input_plugin *const hg_input_registry[];
extern const struct output_plugin *const hg_output_registry[];
const struct input_plugin *hg_input_find(const char *name);
const struct output_plugin *hg_output_find(const char *name);
/* Whether a filter of plugin names joined by ':' (--input-filter a:b)
 * names name; a NULL filter selects every plugin. */
bool hg_plugin_selected(const char *filter, const char *name);

#endif
