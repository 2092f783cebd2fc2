/* The agent's own counters, as the internal input and the health server
 * read them: the one view of the engine that plugins may have. */
#ifndef HG_AGENT_STATS_H
#define HG_AGENT_STATS_H
#include <stddef.h>
#include <stdint.h>

struct agent;

struct input_stats {
	const char *name, *alias;
	uint64_t metrics_gathered;
	uint64_t errors;
	uint64_t gather_timeouts; /* gathers skipped because the previous was still running */
	int64_t gather_time_ns;   /* duration of the last gather */
};

struct output_stats {
	const char *name, *alias;
	uint64_t metrics_added;    /* accepted into the buffer */
	uint64_t metrics_filtered; /* rejected by the output's filters */
	uint64_t metrics_written;
	uint64_t metrics_dropped;  /* buffer overflow or rejected by the server */
	uint64_t errors;           /* failed write attempts */
	uint64_t buffer_size, buffer_limit;
	int64_t write_time_ns;     /* duration of the last write */
	int64_t last_success_ns;   /* wall clock of the last successful write, 0 = never */
	int64_t flush_interval_ns; /* the output's flush interval in force */
};

struct agent_stats {
	uint64_t metrics_gathered, metrics_written, metrics_dropped, gather_errors, nan_fields_dropped;
	uint64_t outputs_disabled; /* configured outputs this build cannot serve (output_plugin.check) */
};

size_t hg_agent_input_count(const struct agent *a);
const struct input_stats *hg_agent_input_stats(const struct agent *a, size_t i);
size_t hg_agent_output_count(const struct agent *a);
const struct output_stats *hg_agent_output_stats(const struct agent *a, size_t i);
struct agent_stats hg_agent_totals(const struct agent *a);

#endif
