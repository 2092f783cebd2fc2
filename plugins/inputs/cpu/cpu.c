/* cpu: per-CPU and total CPU time and usage from /proc/stat, with
 * Telegraf's schema and arithmetic (see README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct cpu_config {
	bool percpu;
	bool totalcpu;
	bool collect_cpu_time;
	bool report_active;
};

enum { T_USER, T_NICE, T_SYSTEM, T_IDLE, T_IOWAIT, T_IRQ, T_SOFTIRQ, T_STEAL, T_GUEST, T_GUEST_NICE, T_N };

struct cpu_times {
	char name[24]; /* "cpu-total" or "cpuN" */
	double v[T_N]; /* seconds */
};

struct cpu_set {
	struct cpu_times *t;
	size_t n, cap;
};

struct cpu_state {
	struct cpu_config cfg;
	struct hostfs_buf buf;
	struct cpu_set cur, last;
	bool have_last; /* a previous gather produced at least one CPU */
	double ticks;   /* USER_HZ */
};

/* Grows a set at need; only when the CPU count rises, never per gather. */
static struct cpu_times *set_add(struct cpu_set *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct cpu_times *t = realloc(s->t, cap * sizeof *t);
		if (!t)
			return NULL;
		s->t = t;
		s->cap = cap;
	}
	return &s->t[s->n++];
}

/* Parses "cpuN u n s i io irq sirq [steal [guest [guest_nice]]]" within
 * [line, line+len). The first seven counters are required, as gopsutil
 * requires them; later ones default to 0 on older kernels. */
static int parse_cpu_line(const char *line, size_t len, double ticks, struct cpu_times *out)
{
	const char *p = line, *end = line + len;
	const char *name = p;
	while (p < end && *p != ' ')
		p++;
	size_t nl = (size_t)(p - name);
	if (nl == 3)
		memcpy(out->name, "cpu-total", sizeof "cpu-total");
	else if (nl < sizeof out->name)
		memcpy(out->name, name, nl), out->name[nl] = '\0';
	else
		return -1;
	int k = 0;
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end || k == T_N)
			break;
		uint64_t u = 0;
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9') {
			unsigned dg = (unsigned)(*p - '0');
			if (u > (UINT64_MAX - dg) / 10)
				return -1;
			u = u * 10 + dg;
			p++;
		}
		if (p == d || (p < end && *p != ' '))
			return -1;
		out->v[k++] = (double)u / ticks;
	}
	if (k < T_STEAL)
		return -1;
	for (; k < T_N; k++)
		out->v[k] = 0;
	return 0;
}

/* Sums in Telegraf's order so the floating-point results match bit for bit. */
static double total_time(const double *v)
{
	return v[T_USER] + v[T_SYSTEM] + v[T_NICE] + v[T_IOWAIT] + v[T_IRQ] + v[T_SOFTIRQ] + v[T_STEAL] + v[T_IDLE];
}

static double active_time(const double *v)
{
	return v[T_USER] + v[T_SYSTEM] + v[T_NICE] + v[T_IOWAIT] + v[T_IRQ] + v[T_SOFTIRQ] + v[T_STEAL];
}

static const struct cpu_times *find_last(const struct cpu_state *s, const char *name, size_t hint)
{
	if (hint < s->last.n && strcmp(s->last.t[hint].name, name) == 0)
		return &s->last.t[hint];
	for (size_t i = 0; i < s->last.n; i++)
		if (strcmp(s->last.t[i].name, name) == 0)
			return &s->last.t[i];
	return NULL;
}

static void emit_times(struct acc *acc, const struct cpu_times *c, bool active)
{
	const double *v = c->v;
	struct metric *m = hg_acc_metric(acc, "cpu");
	hg_metric_tag(m, "cpu", c->name);
	if (active)
		hg_metric_float(m, "time_active", active_time(v));
	hg_metric_float(m, "time_guest", v[T_GUEST]);
	hg_metric_float(m, "time_guest_nice", v[T_GUEST_NICE]);
	hg_metric_float(m, "time_idle", v[T_IDLE]);
	hg_metric_float(m, "time_iowait", v[T_IOWAIT]);
	hg_metric_float(m, "time_irq", v[T_IRQ]);
	hg_metric_float(m, "time_nice", v[T_NICE]);
	hg_metric_float(m, "time_softirq", v[T_SOFTIRQ]);
	hg_metric_float(m, "time_steal", v[T_STEAL]);
	hg_metric_float(m, "time_system", v[T_SYSTEM]);
	hg_metric_float(m, "time_user", v[T_USER]);
	hg_acc_emit(acc, m, 0);
}

/* 1 emitted, 0 no time passed, -1 counters went backwards. */
static int emit_usage(struct acc *acc, const struct cpu_times *c, const struct cpu_times *l, bool active)
{
	const double *v = c->v, *o = l->v;
	double total = total_time(v), last_total = total_time(o);
	if (total < last_total)
		return -1;
	if (total == last_total)
		return 0;
	double dt = total - last_total;
	struct metric *m = hg_acc_metric(acc, "cpu");
	hg_metric_tag(m, "cpu", c->name);
	if (active)
		hg_metric_float(m, "usage_active", 100.0 * (active_time(v) - active_time(o)) / dt);
	hg_metric_float(m, "usage_guest", 100.0 * (v[T_GUEST] - o[T_GUEST]) / dt);
	hg_metric_float(m, "usage_guest_nice", 100.0 * (v[T_GUEST_NICE] - o[T_GUEST_NICE]) / dt);
	hg_metric_float(m, "usage_idle", 100.0 * (v[T_IDLE] - o[T_IDLE]) / dt);
	hg_metric_float(m, "usage_iowait", 100.0 * (v[T_IOWAIT] - o[T_IOWAIT]) / dt);
	hg_metric_float(m, "usage_irq", 100.0 * (v[T_IRQ] - o[T_IRQ]) / dt);
	hg_metric_float(m, "usage_nice", 100.0 * (v[T_NICE] - o[T_NICE] - (v[T_GUEST_NICE] - o[T_GUEST_NICE])) / dt);
	hg_metric_float(m, "usage_softirq", 100.0 * (v[T_SOFTIRQ] - o[T_SOFTIRQ]) / dt);
	hg_metric_float(m, "usage_steal", 100.0 * (v[T_STEAL] - o[T_STEAL]) / dt);
	hg_metric_float(m, "usage_system", 100.0 * (v[T_SYSTEM] - o[T_SYSTEM]) / dt);
	hg_metric_float(m, "usage_user", 100.0 * (v[T_USER] - o[T_USER] - (v[T_GUEST] - o[T_GUEST])) / dt);
	hg_acc_emit(acc, m, 0);
	return 1;
}

static bool is_cpu_line(const char *line, size_t len)
{
	return len >= 3 && memcmp(line, "cpu", 3) == 0;
}

/* Fills s->cur: per-CPU lines first, then the total, as Telegraf orders them. */
static int read_times(struct cpu_state *s, struct acc *acc)
{
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "stat");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/stat: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return -1;
	}
	s->cur.n = 0;
	const char *pos = s->buf.p, *line;
	size_t len;
	const char *first = hg_hostfs_next_line(&pos, &len);
	size_t first_len = len;
	if (s->cfg.percpu) {
		while ((line = hg_hostfs_next_line(&pos, &len)) && is_cpu_line(line, len)) {
			struct cpu_times *t = set_add(&s->cur);
			if (!t) {
				hg_acc_error(acc, "out of memory");
				return -1;
			}
			if (parse_cpu_line(line, len, s->ticks, t) < 0) {
				s->cur.n--;
				hg_acc_error(acc, "malformed line in %s/stat: \"%.*s\"", hg_hostfs_root(HOSTFS_PROC),
					  (int)(len > 64 ? 64 : len), line);
			}
		}
	}
	if (s->cfg.totalcpu && first) {
		struct cpu_times *t = set_add(&s->cur);
		if (!t) {
			hg_acc_error(acc, "out of memory");
			return -1;
		}
		if (!is_cpu_line(first, first_len) || parse_cpu_line(first, first_len, s->ticks, t) < 0 ||
		    strcmp(t->name, "cpu-total") != 0) {
			s->cur.n--;
			hg_acc_error(acc, "malformed first line in %s/stat: \"%.*s\"", hg_hostfs_root(HOSTFS_PROC),
				  (int)(first_len > 64 ? 64 : first_len), first);
		}
	}
	return 0;
}

static int cpu_gather(void *state, struct acc *acc)
{
	struct cpu_state *s = state;
	if (read_times(s, acc) < 0)
		return GATHER_DONE;
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct cpu_times *c = &s->cur.t[i];
		if (s->cfg.collect_cpu_time)
			emit_times(acc, c, s->cfg.report_active);
		if (!s->have_last)
			continue;
		const struct cpu_times *l = find_last(s, c->name, i);
		if (!l)
			continue;
		if (emit_usage(acc, c, l, s->cfg.report_active) < 0) {
			/* Like Telegraf: stop here, but still keep this sample as the
			 * baseline for the next gather. */
			hg_acc_error(acc, "current total CPU time is less than previous total CPU time");
			break;
		}
	}
	struct cpu_set tmp = s->last;
	s->last = s->cur;
	s->cur = tmp;
	s->cur.n = 0;
	s->have_last = s->last.n > 0;
	return GATHER_DONE;
}

static int cpu_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	struct cpu_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 16384) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = *(const struct cpu_config *)config;
	long hz = sysconf(_SC_CLK_TCK);
	s->ticks = hz > 0 ? (double)hz : 100.0;
	*state = s;
	return 0;
}

static void cpu_free(void *state)
{
	struct cpu_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s->cur.t);
	free(s->last.t);
	free(s);
}

static const struct opt_desc cpu_options[] = {
	{ "percpu", OPT_BOOL, offsetof(struct cpu_config, percpu), "true", "report per-CPU stats" },
	{ "totalcpu", OPT_BOOL, offsetof(struct cpu_config, totalcpu), "true", "report total system CPU stats" },
	{ "collect_cpu_time", OPT_BOOL, offsetof(struct cpu_config, collect_cpu_time), "false",
	  "collect raw CPU time metrics (time_*)" },
	{ "report_active", OPT_BOOL, offsetof(struct cpu_config, report_active), "false",
	  "compute and report the sum of all non-idle CPU states" },
	OPT_END,
};

const struct input_plugin hg_input_cpu = {
	.name = "cpu",
	.summary = "Read metrics about cpu usage",
	.config_size = sizeof(struct cpu_config),
	.options = cpu_options,
	.init = cpu_init,
	.gather = cpu_gather,
	.free = cpu_free,
	.needs_baseline = true,
};
