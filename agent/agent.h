/* The running agent: inputs on timers, outputs with their buffers, the
 * shared HTTP client, signals. Statistics are read by the internal input
 * and the /metrics endpoint. */
#ifndef HG_AGENT_H
#define HG_AGENT_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "agent_stats.h"
#include "config.h"

struct agent;

struct agent_opts {
	bool test_mode; /* --test: gather once, print line protocol to stdout, no outputs */
	bool once;      /* --once: gather once, flush every output, stop */
	const char *input_filter;  /* "cpu:mem": run only these inputs (NULL = all) */
	const char *output_filter; /* same for outputs */
};

/* Checks the selected outputs' configuration without starting anything
 * (output_plugin.check), for the start, a reload and --test alike. Logs each
 * output this build cannot serve (OUTPUT_UNSUPPORTED), which hg_agent_new then
 * leaves out. -1 with "file:line:column: outputs.name: ..." in err on a config
 * error, or when outputs are configured and none of them is usable (Telegraf
 * too refuses to run without an output): both exit 2. */
int hg_agent_check_outputs(const struct agent_config *cfg, const struct agent_opts *opts, char *err, size_t errlen);
/* Builds the running agent on loop: initialises every plugin (the first
 * failure is returned in err), except outputs that hg_agent_check_outputs
 * reports as unsupported. Nothing runs until hg_agent_start. */
struct agent *hg_agent_new(uv_loop_t *loop, struct agent_config *cfg, const struct agent_opts *opts, char *err,
			size_t errlen);
/* Starts the timers. on_stopped runs when the agent stops by itself
 * (--test, --once). */
void hg_agent_start(struct agent *a, void (*on_stopped)(struct agent *a, void *arg), void *arg);
/* Stops gathering and flushes every output (bounded by
 * agent.shutdown_timeout); when every handle is closed, on_stopped runs.
 * reload: only the writes in flight finish; buffers stay for
 * hg_agent_carry_over. */
void hg_agent_stop(struct agent *a, bool reload, void (*on_stopped)(struct agent *a, void *arg), void *arg);
/* Moves what old's outputs could not write into the outputs of new with
 * the same plugin and alias (config reload keeps buffered metrics). */
void hg_agent_carry_over(struct agent *old, struct agent *new_agent);
/* 0, or 1 when --once had a write that failed. */
int hg_agent_exit_code(const struct agent *a);
void hg_agent_free(struct agent *a);

const struct agent_config *hg_agent_config(const struct agent *a);

#endif
