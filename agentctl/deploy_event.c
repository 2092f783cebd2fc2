/* The `deploy` line a pipeline writes. Tag and field names and types are the
 * deploy_events input's (plugins/inputs/deploy_events), so both sources land
 * in the same series and the dashboards need no second query. */
#include "deploy_event.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lp.h"
#include "metric.h"

static bool one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

bool hg_deploy_phase_valid(const char *s)
{
	static const char *const v[] = { "started", "completed", "failed", "rolled_back", NULL };
	return one_of(s, v);
}

bool hg_deploy_phase_final(const char *s)
{
	static const char *const v[] = { "completed", "failed", "rolled_back", NULL };
	return one_of(s, v);
}

int hg_deploy_parse_time(const char *s, int64_t *ns, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	bool seconds = end != s && strcmp(end, "s") == 0;
	if (end == s || (*end && !seconds) || errno || v <= 0) {
		snprintf(err, errlen, "'%s': expected nanoseconds since the epoch, or seconds followed by 's'", s);
		return -1;
	}
	if (seconds) {
		if (v > INT64_MAX / 1000000000) {
			snprintf(err, errlen, "'%s': too far in the future", s);
			return -1;
		}
		v *= 1000000000;
	}
	*ns = v;
	return 0;
}

long hg_deploy_event_line(const struct deploy_event *e, char *out, size_t cap, char *err, size_t errlen)
{
	struct metric mbuf = { 0 }, *m = &mbuf;
	hg_metric_reset(m, sv_c("deploy"));
	hg_metric_tag(m, "namespace", e->namespace_);
	hg_metric_tag(m, "name", e->service);
	hg_metric_tag(m, "kind", e->kind);
	hg_metric_tag(m, "strategy", e->strategy);
	hg_metric_tag(m, "phase", e->phase);
	hg_metric_tag(m, "source", "pipeline");
	if (e->cluster && *e->cluster)
		hg_metric_tag(m, "cluster", e->cluster);
	hg_metric_string(m, "version", e->version);
	if (e->image && *e->image)
		hg_metric_string(m, "image", e->image);
	if (e->message && *e->message)
		hg_metric_string(m, "message", e->message);
	if (e->has_duration)
		hg_metric_float(m, "duration_s", e->duration_s);
	m->time_ns = e->time_ns;
	struct lp_opts o = { .precision_ns = 1, .uint_support = false };
	struct lp_stats st = { 0 };
	long n = hg_lp_serialize(m, &o, out, cap, &st);
	hg_metric_release(m);
	if (n == -ENOSPC)
		snprintf(err, errlen, "the event is longer than %zu bytes (shorten --message)", cap);
	else if (n < 0)
		snprintf(err, errlen, "cannot write the event as line protocol");
	return n < 0 ? -1 : n;
}
