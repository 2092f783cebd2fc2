/* The agent's running state: the inputs and outputs it runs (running_input.h,
 * running_output.h), its timers, signals and totals. The engine's own
 * (agent/); plugins cannot include it (docs/ARCHITECTURE.md, "Layers"). */
#ifndef HG_AGENT_INTERNAL_H
#define HG_AGENT_INTERNAL_H
#include <stdbool.h>
#include <uv.h>
#include "clock.h"
#include "acc_scratch.h"
#include "agent.h"
#include "config.h"
#include "plugin_label.h"
#include "running_input.h"
#include "running_output.h"

struct agent {
	uv_loop_t *loop;
	struct agent_config *cfg;
	struct httpc *http;
	struct acc_scratch *acc_scratch; /* shared by every input's accumulator */
	char hostname[256];
	size_t ninputs, noutputs;
	struct running_input *inputs;
	struct running_output *outputs;
	struct agent_stats totals;
	uv_signal_t sigterm, sigint, sighup;
	bool stopping;
	bool test_mode;          /* --test: lines go to stdout, outputs are not used */
	int exit_code;
	int64_t start_ns;
	bool started;            /* hg_agent_start ran: uv handles exist */
	bool reloading;          /* stopping for a config reload: buffers are carried over */
	bool once;               /* --once: gather once, flush, stop */
	size_t gathers_pending;  /* --test/--once: inputs still gathering */
	size_t outputs_pending;  /* outputs still draining while stopping */
	size_t closes_pending;   /* uv handles not yet closed */
	uv_timer_t stop_timer;   /* bounds the final flush */
	void *health;            /* struct httpd *, when agent.health_listen is set */
	void (*on_stopped)(struct agent *a, void *arg);
	void *on_stopped_arg;
};

/* uv_close that the agent counts, so it knows when it has fully stopped. */
void hg_agent_close_handle(struct agent *a, uv_handle_t *h);

#endif
