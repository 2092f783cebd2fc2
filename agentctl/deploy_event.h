/* The `deploy` measurement as a pipeline records it (agentctl deploy-event):
 * the same schema the deploy_events input writes, with source=pipeline. */
#ifndef AGENTCTL_DEPLOY_EVENT_H
#define AGENTCTL_DEPLOY_EVENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct deploy_event {
	const char *service;   /* tag name */
	const char *namespace_;
	const char *kind;
	const char *strategy;  /* bigbang, rolling, canary, bluegreen (plugins/common/deploy_strategy.h) */
	const char *phase;     /* started, completed, failed, rolled_back */
	const char *cluster;   /* or NULL */
	const char *version;   /* field */
	const char *image;     /* field, or NULL */
	const char *message;   /* field, or NULL */
	bool has_duration;
	double duration_s;
	int64_t time_ns;
};

/* Whether s is one of the phases the dashboards group by. */
bool hg_deploy_phase_valid(const char *s);
/* A phase that ends a deploy, and so may carry duration_s. */
bool hg_deploy_phase_final(const char *s);

/* "<ns>" (as `started` prints it) or "<seconds>s" (date +%s followed by s)
 * into nanoseconds since the epoch. 0, or -1 with err. */
int hg_deploy_parse_time(const char *s, int64_t *ns, char *err, size_t errlen);

/* The event as one line of line protocol (with '\n') in out. Returns its
 * length, or -1 with err. */
long hg_deploy_event_line(const struct deploy_event *e, char *out, size_t cap, char *err, size_t errlen);

#endif
