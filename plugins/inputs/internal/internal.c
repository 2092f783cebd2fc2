/* inputs.internal: the agent's own statistics with Telegraf's
 * internal_agent / internal_gather / internal_write schema, plus
 * internal_process (RSS and CPU of this process) in place of Telegraf's
 * Go-runtime internal_memstats. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "acc.h"
#include "agent_stats.h"
#include "plugin.h"

struct internal_config {
	bool collect_process;
};

static const struct opt_desc internal_options[] = {
	{ "collect_process", OPT_BOOL, offsetof(struct internal_config, collect_process), "true",
	  "also report the agent's RSS and CPU time (internal_process)" },
	OPT_END,
};

struct internal_state {
	const struct internal_config *cfg;
	struct agent *agent;
	int statm_fd;
	long page_size;
	double last_cpu_s, last_wall_s;
};

static int internal_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	struct internal_state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = config;
	s->agent = env->core;
	s->page_size = sysconf(_SC_PAGESIZE);
	/* Kept open: one pread per gather, no open/close churn. */
	s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	*state = s;
	return 0;
}

static void internal_free(void *state)
{
	struct internal_state *s = state;
	if (s && s->statm_fd >= 0)
		close(s->statm_fd);
	free(s);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void gather_process(struct internal_state *s, struct acc *acc)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		hg_acc_error(acc, "getrusage failed");
		return;
	}
	struct metric *m = hg_acc_metric(acc, "internal_process");
	hg_metric_tag(m, "version", HG_VERSION);
	char buf[128];
	ssize_t n = s->statm_fd >= 0 ? pread(s->statm_fd, buf, sizeof buf - 1, 0) : -1;
	if (n > 0) {
		buf[n] = '\0';
		unsigned long long size, resident;
		if (sscanf(buf, "%llu %llu", &size, &resident) == 2)
			hg_metric_int(m, "rss_bytes", (int64_t)(resident * (unsigned long long)s->page_size));
	}
	hg_metric_int(m, "rss_peak_bytes", (int64_t)ru.ru_maxrss * 1024);
	double user = tv_s(ru.ru_utime), sys = tv_s(ru.ru_stime);
	hg_metric_float(m, "cpu_time_user", user);
	hg_metric_float(m, "cpu_time_system", sys);
	double wall = (double)hg_acc_gather_time(acc) / 1e9;
	if (s->last_wall_s > 0 && wall > s->last_wall_s)
		hg_metric_float(m, "cpu_usage", 100.0 * (user + sys - s->last_cpu_s) / (wall - s->last_wall_s));
	s->last_cpu_s = user + sys;
	s->last_wall_s = wall;
	hg_acc_emit(acc, m, 0);
}

static int internal_gather(void *state, struct acc *acc)
{
	struct internal_state *s = state;
	const struct agent *a = s->agent;
	if (!a) {
		hg_acc_error(acc, "no agent statistics available");
		return GATHER_DONE;
	}
	struct agent_stats t = hg_agent_totals(a);
	uint64_t timeouts = 0, write_errors = 0;
	for (size_t i = 0; i < hg_agent_input_count(a); i++)
		timeouts += hg_agent_input_stats(a, i)->gather_timeouts;
	for (size_t i = 0; i < hg_agent_output_count(a); i++)
		write_errors += hg_agent_output_stats(a, i)->errors;

	struct metric *m = hg_acc_metric(acc, "internal_agent");
	hg_metric_tag(m, "version", HG_VERSION);
	hg_metric_int(m, "metrics_gathered", (int64_t)t.metrics_gathered);
	hg_metric_int(m, "metrics_written", (int64_t)t.metrics_written);
	hg_metric_int(m, "metrics_dropped", (int64_t)t.metrics_dropped);
	hg_metric_int(m, "metrics_rejected", 0);
	hg_metric_int(m, "gather_errors", (int64_t)t.gather_errors);
	hg_metric_int(m, "gather_timeouts", (int64_t)timeouts);
	hg_metric_int(m, "write_errors", (int64_t)write_errors);
	hg_metric_int(m, "outputs_disabled", (int64_t)t.outputs_disabled);
	hg_acc_emit(acc, m, 0);

	for (size_t i = 0; i < hg_agent_input_count(a); i++) {
		const struct input_stats *is = hg_agent_input_stats(a, i);
		m = hg_acc_metric(acc, "internal_gather");
		hg_metric_tag(m, "input", is->name);
		if (is->alias)
			hg_metric_tag(m, "alias", is->alias);
		hg_metric_tag(m, "version", HG_VERSION);
		hg_metric_int(m, "errors", (int64_t)is->errors);
		hg_metric_int(m, "gather_errors", (int64_t)is->errors);
		hg_metric_int(m, "gather_time_ns", is->gather_time_ns);
		hg_metric_int(m, "gather_timeouts", (int64_t)is->gather_timeouts);
		hg_metric_int(m, "metrics_gathered", (int64_t)is->metrics_gathered);
		hg_metric_int(m, "startup_errors", 0);
		hg_acc_emit(acc, m, 0);
	}
	for (size_t i = 0; i < hg_agent_output_count(a); i++) {
		const struct output_stats *os = hg_agent_output_stats(a, i);
		m = hg_acc_metric(acc, "internal_write");
		hg_metric_tag(m, "output", os->name);
		if (os->alias)
			hg_metric_tag(m, "alias", os->alias);
		hg_metric_tag(m, "version", HG_VERSION);
		hg_metric_int(m, "buffer_limit", (int64_t)os->buffer_limit);
		hg_metric_int(m, "buffer_size", (int64_t)os->buffer_size);
		hg_metric_int(m, "errors", (int64_t)os->errors);
		hg_metric_int(m, "write_errors", (int64_t)os->errors);
		hg_metric_int(m, "metrics_added", (int64_t)os->metrics_added);
		hg_metric_int(m, "metrics_dropped", (int64_t)os->metrics_dropped);
		hg_metric_int(m, "metrics_filtered", (int64_t)os->metrics_filtered);
		hg_metric_int(m, "metrics_rejected", 0);
		hg_metric_int(m, "metrics_written", (int64_t)os->metrics_written);
		hg_metric_int(m, "startup_errors", 0);
		hg_metric_int(m, "write_time_ns", os->write_time_ns);
		hg_acc_emit(acc, m, 0);
	}
	if (s->cfg->collect_process)
		gather_process(s, acc);
	return GATHER_DONE;
}

const struct input_plugin hg_input_internal = {
	.name = "internal",
	.summary = "The agent's own statistics (Telegraf's internal_* schema) and its RSS/CPU",
	.config_size = sizeof(struct internal_config),
	.options = internal_options,
	.init = internal_init,
	.gather = internal_gather,
	.free = internal_free,
};
