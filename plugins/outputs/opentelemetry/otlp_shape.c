/* See otlp_shape.h. The rules are influx2otel's (influxdb-observability,
 * influx2otel/metrics.go and metrics_telegraf_prometheus_v1.go); where they
 * need Telegraf's value type, the type is recovered as described there. */
#include "otlp_shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The fields Telegraf's inputs add with acc.AddCounter (telegraf
 * plugins/inputs/<name>/<name>.go), for the inputs we have. Telegraf marks
 * the whole field set of the call, so a few fields that are levels (net's
 * speed, diskio's iops_in_progress, io_await, io_svctm, io_util, kernel's
 * boot_time and entropy_avail, conntrack's entries) are counters there too;
 * they are kept so, for the same OTLP (and so Prometheus-exporter) names as
 * Telegraf's. Measurements and fields not listed are gauges, as in
 * Telegraf (AddGauge, AddFields). */
static const char *const cpu_f[] = { /* cpu.go: fieldsC, collect_cpu_time */
	"time_user", "time_system", "time_idle", "time_nice", "time_iowait", "time_irq",
	"time_softirq", "time_steal", "time_guest", "time_guest_nice", "time_active", NULL
};
static const char *const net_f[] = { /* net.go: every field of the interface line */
	"bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "err_in", "err_out", "drop_in", "drop_out", "speed", NULL
};
static const char *const system_f[] = { "uptime", NULL }; /* system.go: uptime alone; load*, n_* are gauges */
static const char *const diskio_f[] = { /* diskio.go: every field */
	"reads", "writes", "read_bytes", "write_bytes", "read_time", "write_time", "io_time", "weighted_io_time",
	"iops_in_progress", "merged_reads", "merged_writes", "io_await", "io_svctm", "io_util", NULL
};
static const char *const swap_f[] = { "in", "out", NULL }; /* swap.go: fieldsC; total/used/free are gauges */
static const char *const kernel_f[] = { /* kernel.go: every field of "kernel" */
	"interrupts", "context_switches", "processes_forked", "boot_time", "disk_pages_in", "disk_pages_out",
	"entropy_avail", NULL
};
static const char *const pressure_f[] = { "total", NULL }; /* kernel/psi.go; avg10/60/300 are gauges */
static const char *const conntrack_f[] = { /* conntrack.go: statFields (collect: all/percpu);
					      ip_conntrack_* / nf_conntrack_* files are AddFields */
	"entries", "searched", "found", "new", "invalid", "ignore", "delete", "delete_list", "insert",
	"insert_failed", "drop", "early_drop", "icmp_error", "expect_new", "expect_create", "expect_delete",
	"search_restart", NULL
};

static const struct {
	const char *measurement;
	const char *const *fields;
} counters[] = {
	{ "cpu", cpu_f },	    { "net", net_f },	    { "system", system_f },	  { "diskio", diskio_f },
	{ "swap", swap_f },	    { "kernel", kernel_f }, { "pressure", pressure_f }, { "conntrack", conntrack_f },
};

enum otlp_kind hg_otlp_field_kind(struct sv measurement, struct sv field)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (!sv_eq_c(measurement, counters[i].measurement))
			continue;
		for (const char *const *f = counters[i].fields; *f; f++)
			if (sv_eq_c(field, *f))
				return OTLP_KIND_SUM;
		return OTLP_KIND_GAUGE;
	}
	return OTLP_KIND_GAUGE;
}

bool hg_otlp_bound(struct sv key, double *out)
{
	char buf[64];
	if (key.len == 0 || key.len >= sizeof(buf))
		return false;
	memcpy(buf, key.p, key.len);
	buf[key.len] = '\0';
	const char *q = buf + (buf[0] == '+' || buf[0] == '-');
	/* strtod takes what Go refuses (leading blanks, hex without an
	 * exponent, nan(...)); bounds and quantiles are decimal. */
	if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'i' || *q == 'I'))
		return false;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		return false;
	if (*q == 'i' || *q == 'I') {
		if (strcasecmp(q, "inf") != 0 && strcasecmp(q, "infinity") != 0)
			return false;
		*out = buf[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	char *e;
	*out = strtod(buf, &e);
	return *e == '\0' && !isnan(*out);
}

bool hg_otlp_numeric(const struct metric_field *f, double *out)
{
	return hg_metric_field_double(f, false, out);
}

/* Telegraf prometheus v1 histogram or summary: every field is "count",
 * "sum" or named by a bound, all numeric, with at least a bound or both
 * count and sum (a lone "count", as interrupts' cpu_as_tag line, is not one;
 * influx2otel would take it for a histogram and then drop it for its
 * missing sum). A histogram always has the +Inf bucket (the exposition
 * formats require it), a summary never: that tells them apart, which
 * influx2otel cannot do without the type and calls both histograms. */
static bool dist_shape(const struct metric *m, enum otlp_kind *kind)
{
	bool count = false, sum = false, bound = false, inf = false;
	double v, b;
	for (size_t i = 0; i < m->nfields; i++) {
		const struct metric_field *f = &m->fields[i];
		if (!hg_otlp_numeric(f, &v))
			return false;
		if (sv_eq_c(f->key, "count"))
			count = true;
		else if (sv_eq_c(f->key, "sum"))
			sum = true;
		else if (hg_otlp_bound(f->key, &b)) {
			bound = true;
			if (isinf(b) && b > 0)
				inf = true;
		} else
			return false;
	}
	if (!bound && !(count && sum))
		return false;
	*kind = inf ? OTLP_KIND_HISTOGRAM : OTLP_KIND_SUMMARY;
	return true;
}

void hg_otlp_shape_of(const struct metric *m, struct otlp_shape *s)
{
	s->form = OTLP_FORM_FIELDS;
	s->kind = OTLP_KIND_GAUGE;
	s->value = 0;
	/* influx2otel reads measurement "prometheus" as metric_version 2, never v1. */
	if (sv_eq_c(m->name, "prometheus") || m->nfields == 0)
		return;
	/* influx2otel's order: a "gauge" field, then a "counter" field, then the
	 * histogram shape. */
	double v;
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass == 0 ? "gauge" : "counter";
		for (size_t i = 0; i < m->nfields; i++) {
			if (sv_eq_c(m->fields[i].key, key) && hg_otlp_numeric(&m->fields[i], &v)) {
				s->form = OTLP_FORM_VALUE;
				s->kind = pass == 0 ? OTLP_KIND_GAUGE : OTLP_KIND_SUM;
				s->value = i;
				return;
			}
		}
	}
	if (dist_shape(m, &s->kind))
		s->form = OTLP_FORM_DIST;
}
