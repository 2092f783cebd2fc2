/* What deploy-check shows and records of a result: the table, the JSON
 * object, and the `deploy` point of the verdict. */
#ifndef AGENTCTL_DEPLOY_CHECK_REPORT_H
#define AGENTCTL_DEPLOY_CHECK_REPORT_H
#include <stddef.h>
#include <stdint.h>
#include "deploy_check.h"

/* The check as the command was asked for it. */
struct dc_report {
	const char *service, *namespace_, *kind, *strategy, *cluster, *version; /* cluster, version: or NULL */
	const struct dc_params *p;
	int64_t window_ns;
};

/* ns since the epoch as 2026-12-07T10:01:00Z. */
void hg_dc_format_time(int64_t ns, char *out, size_t len);
/* One line per used signal (before, after, change, verdict) and the verdict, on stdout. */
void hg_dc_print_table(const struct dc_report *a, const struct dc_result *r);
/* The same as one JSON object on stdout (docs/deploy-check.md). */
void hg_dc_print_json(const struct dc_report *a, const struct dc_result *r);
/* The verdict as a line of line protocol (with '\n'): measurement deploy,
 * phase verified or degraded, timed at the end of the window. Its length, or
 * -1 when it does not fit in cap. */
long hg_dc_verdict_line(const struct dc_report *a, const struct dc_result *r, char *line, size_t cap);

#endif
