/* An input as the agent runs it: its plugin state, its accumulator, its
 * schedule (interval, jitter, precision) and statistics. Scheduled by
 * agent.c; its accumulator delivers through input_emit.c. */
#ifndef HG_RUNNING_INPUT_H
#define HG_RUNNING_INPUT_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "acc_sink.h"
#include "agent_stats.h"

struct agent;
struct input_cfg;

struct running_input {
	struct agent *agent;
	const struct input_cfg *cfg;
	char label[160];         /* "inputs.cpu", or "inputs.cpu::alias" */
	void *state;
	struct acc *acc;
	bool gathering;
	bool baseline;           /* --test/--once: this gather only sets needs_baseline's baseline; its metrics are dropped */
	int64_t interval_ns, jitter_ns;
	int64_t precision_ns;    /* timestamps are rounded to this */
	int64_t tick_ns;         /* wall clock of the current nominal tick */
	uint64_t gather_started_ns; /* monotonic */
	uint64_t gather_metrics; /* metrics of the gather in progress (or the last one) */
	uv_timer_t timer;
	struct input_stats stats;
};

/* input_emit.c: the accumulator of a running input, delivering to its
 * agent's outputs through the agent's acc_scratch, which must outlive it. */
struct acc *hg_input_acc_new(struct running_input *ri);

/* Called by the input scheduler when an input's gather finished. */
void hg_agent_gather_finished(struct running_input *ri);

#endif
