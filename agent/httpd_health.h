/* agent.health_listen: /healthz for Kubernetes probes and /metrics (the
 * agent's own statistics in Prometheus text format). */
#ifndef HG_HTTPD_HEALTH_H
#define HG_HTTPD_HEALTH_H
#include <stddef.h>
#include <stdint.h>

struct agent;
int hg_health_start(struct agent *a, const char *listen, char *err, size_t errlen);
void hg_health_stop(struct agent *a);
int hg_health_port(const struct agent *a);
/* 0 when healthy; else 503 and the reason in why. now_ns is wall clock. */
int hg_health_check(const struct agent *a, int64_t now_ns, char *why, size_t whylen);

#endif
