/* What `agentctl deploy-check` measures: a service's pods after a deploy
 * against the same pods' span before it (or canary pods against stable
 * ones over the same span), from what the kubernetes and kube_inventory
 * inputs (and, for an error rate, the prometheus input) wrote to InfluxDB.
 * The queries go through a callback, so the command can show them and the
 * tests can check them against the plugins' schemas. */
#ifndef AGENTCTL_DEPLOY_CHECK_H
#define AGENTCTL_DEPLOY_CHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dc_verdict { DC_OK = 0, DC_DEGRADED = 1, DC_MISSING = 3 };

enum {
	DC_RESTARTS,
	DC_OOM,
	DC_NOT_READY,
	DC_CPU_MEDIAN,
	DC_CPU_P95,
	DC_MEM_MEDIAN,
	DC_MEM_P95,
	DC_ERROR_RATE,
	DC_NSIGNALS
};

/* One side of an error-rate expression: a prometheus-input series and the
 * InfluxQL condition its labels make. */
struct dc_series_expr {
	char measurement[256], field[256];
	char where[1024]; /* "" or " AND ..." */
};

struct dc_rate {
	struct dc_series_expr num, den;
};

/* Parses `errors{code=~"5.."} / requests` (prometheus-style label matchers
 * =, !=, =~, !~; a regex is anchored as in PromQL) for the prometheus
 * input's metric_version (1: measurement = metric, field counter; 2:
 * measurement prometheus, field = metric). 0, or -1 with err. */
int hg_dc_rate_parse(const char *expr, int metric_version, struct dc_rate *out, char *err, size_t errlen);

struct dc_params {
	const char *namespace_;
	const char *pods_before, *pods_after; /* regexes over pod_name (stable / canary in canary mode) */
	int64_t before_from, before_to, after_from, after_to; /* ns, [from, to) */
	bool canary;
	size_t min_samples;  /* per window and signal family */
	double min_requests; /* error rate: denominator increase per window */
	double max_restarts, max_oom, max_not_ready; /* increase allowed: counts, percentage points */
	double cpu_rel, cpu_abs;                     /* millicores */
	double mem_rel, mem_abs;                     /* bytes */
	double p95_rel;
	double err_abs, err_rel; /* percentage points, fraction */
	const struct dc_rate *rate; /* or NULL */
};

struct dc_signal {
	const char *name; /* the field prefix in the recorded point, the JSON key */
	const char *unit; /* "", "%", "millicores", "bytes" */
	bool used;
	double before, after;
	enum dc_verdict verdict;
	char detail[1024];
};

struct dc_result {
	struct dc_signal sig[DC_NSIGNALS];
	enum dc_verdict verdict;
};

/* Runs one InfluxQL statement: 0 with *body (malloc'd, freed by the caller)
 * or an AGENTCTL_* exit code with err. */
typedef int (*dc_query_fn)(void *arg, const char *q, char **body, char *err, size_t errlen);

/* 0 with the result, or with err the exit code of a failed query (what the
 * query callback returned) or AGENTCTL_UNREACHABLE for an answer that cannot
 * be read (or no memory): the deploy is not judged. */
int hg_deploy_check_run(const struct dc_params *p, dc_query_fn query, void *arg, struct dc_result *r, char *err,
		     size_t errlen);

/* The default pod regex of a Deployment or Rollout's pods:
 * NAME-<pod-template-hash>-<suffix>. -1 when name is not a DNS-1123 name. */
int hg_dc_workload_pods(const char *name, const char *hash, char *out, size_t outlen);

#endif
