/* agentctl deploy-check: after a deploy, compares the service's pods with
 * themselves before it (or canary pods with stable ones) from what the
 * agents wrote to InfluxDB, prints the signals, records the verdict as a
 * `deploy` point (phase verified or degraded) and exits 0 healthy, 1
 * degraded, 2 usage, 3 not enough data, so a pipeline can gate on it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "deploy_check.h"
#include "deploy_check_report.h"
#include "deploy_event.h"
#include "deploy_strategy.h"
#include "influx_conn.h"
#include "quantity.h"

#define STARTED_ENV "HELIOGRAPH_DEPLOY_STARTED"
/* One answer in memory (and its JSON tree, a few times larger): a 1 h window
 * of 100 pods of 3 containers at 10 s is about 9 MB. */
#define ANSWER_MAX (16u << 20)

static void check_usage(FILE *out)
{
	fprintf(out,
		"Usage: agentctl deploy-check --service S [--namespace N] [--window DURATION] [options]\n"
		"Judges a deploy from what the agents wrote to InfluxDB: the service's pods during\n"
		"--window after the deploy against the same span before it started, or canary pods\n"
		"against stable pods over the same window. Waits (sleeping) until the window has\n"
		"passed, prints one line per signal, records the verdict as a `deploy` point (phase\n"
		"verified or degraded) and exits 0 healthy, 1 degraded, 3 not enough data.\n"
		"  --service NAME                 the Deployment or Rollout (tag name of the record);\n"
		"                                 its pods are NAME-<hash>-<suffix>\n"
		"  --namespace NAME               Kubernetes namespace (default: default)\n"
		"  --window DURATION              span compared: 5m, 300s, 1h (default: 5m)\n"
		"  --started-at TIME              when the deploy started: the span before it ends there\n"
		"                                 (default: $" STARTED_ENV ", else --time)\n"
		"  --time TIME                    when the deploy was done: the window after it starts\n"
		"                                 there (default: now); TIME as deploy-event's\n"
		"  --pods REGEX                   pod_name regex instead of NAME-<hash>-<suffix>\n"
		"Canary:\n"
		"Canary pods against stable pods over the same window; give one pair.\n"
		"  --canary-workload NAME         the canary Deployment (labelled track=canary) and\n"
		"  --stable-workload NAME         the stable one\n"
		"  --canary-hash HASH             Argo Rollouts: the canary and stable pod template\n"
		"  --stable-hash HASH             hashes (status.currentPodHash, status.stableRS)\n"
		"  --canary-pods REGEX            any other pair of pod_name regexes\n"
		"  --stable-pods REGEX\n"
		"Signals:\n"
		"A signal is degraded when its rise passes its threshold (docs/deploy-check.md).\n"
		"  --max-restarts N               more container restarts than before (default: 0)\n"
		"  --max-oom N                    more OOMKilled containers than before (default: 0)\n"
		"  --max-not-ready POINTS         rise of the unready share of samples, percentage\n"
		"                                 points (default: 10)\n"
		"  --max-cpu-increase PCT         typical rise of CPU per pod (default: 30) and at\n"
		"  --min-cpu-increase CPU         least this much (default: 50m)\n"
		"  --max-memory-increase PCT      typical rise of memory per pod (default: 20) and at\n"
		"  --min-memory-increase BYTES    least this much (default: 32Mi)\n"
		"  --max-p95-increase PCT         rise of the p95 of CPU and memory (default: 50)\n"
		"  --min-samples N                per window and signal, else exit 3 (default: 10)\n"
		"  --error-rate EXPR              errors / requests over prometheus-input counters,\n"
		"                                 e.g. 'http_requests_total{code=~\"5..\"} / http_requests_total'\n"
		"  --prometheus-metric-version N  the prometheus input's metric_version, 1 or 2 (default: 1)\n"
		"  --max-error-rate-increase POINTS  percentage points (default: 1)\n"
		"  --min-requests N               requests per window for an error rate (default: 20)\n"
		"Recording and output:\n"
		"  --strategy STRATEGY            strategy tag of the record (default: canary with a\n"
		"                                 canary pair, else rolling)\n"
		"  --version VERSION              version field of the record\n"
		"  --kind KIND                    kind tag (default: Deployment)\n"
		"  --cluster NAME                 cluster tag (default: $HELIOGRAPH_CLUSTER)\n"
		"  --no-record                    judge only, write nothing\n"
		"  --output FORMAT                table (default) or json\n"
		"  --show-queries                 print each InfluxQL query on stderr\n"
		"Connection:\n"
		"As deploy-event's; reading needs a user that may read the database.\n"
		"  --url URL                      InfluxDB (default: $HELIOGRAPH_INFLUX_URL, else\n"
		"                                 http://127.0.0.1:8086)\n"
		"  --database NAME                v1 database (default: $HELIOGRAPH_INFLUX_DATABASE, else\n"
		"                                 " INFLUX_CONN_DEFAULT_DATABASE ")\n"
		"  --username NAME                v1 user (default: $HELIOGRAPH_INFLUX_USERNAME)\n"
		"  --password PASSWORD            v1 password (default: $HELIOGRAPH_INFLUX_PASSWORD)\n"
		"  --token TOKEN                  v2 token; queries /query with db=BUCKET (needs a DBRP\n"
		"                                 mapping) (default: $HELIOGRAPH_INFLUX_TOKEN)\n"
		"  --org ORG                      v2 organization (default: $HELIOGRAPH_INFLUX_ORG)\n"
		"  --bucket BUCKET                v2 bucket (default: $HELIOGRAPH_INFLUX_BUCKET)\n"
		"  --tls-ca FILE                  CA bundle to verify the server with\n"
		"  --timeout SECONDS              each request (default: 10)\n"
		"  --skip-database-creation       as deploy-event's (the database is read first, so it exists)\n"
		"  -h, --help                     this help\n"
		"Exit codes: 0 healthy; 1 degraded, and only then (roll back: kubectl rollout undo,\n"
		"then deploy-event --phase rolled_back); 2 usage or configuration, including a query\n"
		"InfluxDB refused (credentials, database); 3 not judged: not enough data (what is\n"
		"missing is printed), InfluxDB unreachable or its answer unreadable.\n");
}

enum {
	O_SERVICE = 1000, O_NAMESPACE, O_WINDOW, O_STARTED_AT, O_TIME, O_PODS, O_CANARY_WORKLOAD, O_STABLE_WORKLOAD,
	O_CANARY_HASH, O_STABLE_HASH, O_CANARY_PODS, O_STABLE_PODS, O_MAX_RESTARTS, O_MAX_OOM, O_MAX_NOT_READY,
	O_MAX_CPU, O_MIN_CPU, O_MAX_MEM, O_MIN_MEM, O_MAX_P95, O_MIN_SAMPLES, O_ERROR_RATE, O_PROM_VERSION,
	O_MAX_ERR, O_MIN_REQUESTS, O_STRATEGY, O_VERSION, O_KIND, O_CLUSTER, O_NO_RECORD, O_OUTPUT, O_SHOW_QUERIES,
};

static const struct option longopts[] = {
	{ "service", required_argument, NULL, O_SERVICE },
	{ "namespace", required_argument, NULL, O_NAMESPACE },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "started-at", required_argument, NULL, O_STARTED_AT },
	{ "time", required_argument, NULL, O_TIME },
	{ "pods", required_argument, NULL, O_PODS },
	{ "canary-workload", required_argument, NULL, O_CANARY_WORKLOAD },
	{ "stable-workload", required_argument, NULL, O_STABLE_WORKLOAD },
	{ "canary-hash", required_argument, NULL, O_CANARY_HASH },
	{ "stable-hash", required_argument, NULL, O_STABLE_HASH },
	{ "canary-pods", required_argument, NULL, O_CANARY_PODS },
	{ "stable-pods", required_argument, NULL, O_STABLE_PODS },
	{ "max-restarts", required_argument, NULL, O_MAX_RESTARTS },
	{ "max-oom", required_argument, NULL, O_MAX_OOM },
	{ "max-not-ready", required_argument, NULL, O_MAX_NOT_READY },
	{ "max-cpu-increase", required_argument, NULL, O_MAX_CPU },
	{ "min-cpu-increase", required_argument, NULL, O_MIN_CPU },
	{ "max-memory-increase", required_argument, NULL, O_MAX_MEM },
	{ "min-memory-increase", required_argument, NULL, O_MIN_MEM },
	{ "max-p95-increase", required_argument, NULL, O_MAX_P95 },
	{ "min-samples", required_argument, NULL, O_MIN_SAMPLES },
	{ "error-rate", required_argument, NULL, O_ERROR_RATE },
	{ "prometheus-metric-version", required_argument, NULL, O_PROM_VERSION },
	{ "max-error-rate-increase", required_argument, NULL, O_MAX_ERR },
	{ "min-requests", required_argument, NULL, O_MIN_REQUESTS },
	{ "strategy", required_argument, NULL, O_STRATEGY },
	{ "version", required_argument, NULL, O_VERSION },
	{ "kind", required_argument, NULL, O_KIND },
	{ "cluster", required_argument, NULL, O_CLUSTER },
	{ "no-record", no_argument, NULL, O_NO_RECORD },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "show-queries", no_argument, NULL, O_SHOW_QUERIES },
	INFLUX_CONN_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct args {
	const char *service, *namespace_, *window, *started_at, *time, *pods;
	const char *canary_workload, *stable_workload, *canary_hash, *stable_hash, *canary_pods, *stable_pods;
	const char *error_rate, *strategy, *version, *kind, *cluster, *output;
	int prom_version;
	bool no_record, show_queries, json;
	struct influx_conn conn;
	struct dc_params p;
	struct dc_rate rate;
	char pods_before[600], pods_after[600];
	int64_t window_ns, started_ns, time_ns;
};

static int usage_error(const char *fmt, const char *a)
{
	fprintf(stderr, "agentctl deploy-check: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "; see agentctl deploy-check --help\n");
	return AGENTCTL_USAGE;
}

/* A number >= 0 for a threshold flag; -1 when it is not one. */
static int number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0) || v > 1e15)
		return -1;
	*out = v;
	return 0;
}

static int set_number(const char *flag, const char *v, double *out)
{
	if (number(v, out) < 0) {
		char m[160];
		snprintf(m, sizeof m, "%s '%%s': expected a number >= 0", flag);
		return usage_error(m, v);
	}
	return 0;
}

/* The pod regexes of both sides. 0 or a usage exit code. */
static int pick_pods(struct args *a)
{
	int pairs = !!(a->canary_workload || a->stable_workload) + !!(a->canary_hash || a->stable_hash) +
		    !!(a->canary_pods || a->stable_pods);
	if (pairs > 1)
		return usage_error("%s", "give one canary pair: --canary-workload/--stable-workload, "
					 "--canary-hash/--stable-hash or --canary-pods/--stable-pods");
	a->p.canary = pairs == 1;
	if (!a->p.canary) {
		if (a->pods)
			snprintf(a->pods_before, sizeof a->pods_before, "%s", a->pods);
		else if (hg_dc_workload_pods(a->service, NULL, a->pods_before, sizeof a->pods_before) < 0)
			return usage_error("--service '%s': not a Kubernetes name (give --pods REGEX)", a->service);
		snprintf(a->pods_after, sizeof a->pods_after, "%s", a->pods_before);
		return 0;
	}
	if (a->pods)
		return usage_error("%s", "--pods is for a before/after check; a canary pair names both sides");
	if (a->canary_workload || a->stable_workload) {
		if (!a->canary_workload || !a->stable_workload)
			return usage_error("%s", "--canary-workload and --stable-workload go together");
		if (hg_dc_workload_pods(a->canary_workload, NULL, a->pods_after, sizeof a->pods_after) < 0)
			return usage_error("--canary-workload '%s': not a Kubernetes name", a->canary_workload);
		if (hg_dc_workload_pods(a->stable_workload, NULL, a->pods_before, sizeof a->pods_before) < 0)
			return usage_error("--stable-workload '%s': not a Kubernetes name", a->stable_workload);
	} else if (a->canary_hash || a->stable_hash) {
		if (!a->canary_hash || !a->stable_hash)
			return usage_error("%s", "--canary-hash and --stable-hash go together");
		if (hg_dc_workload_pods(a->service, a->canary_hash, a->pods_after, sizeof a->pods_after) < 0)
			return usage_error("--canary-hash '%s': expected letters and digits (and --service a "
					   "Kubernetes name)", a->canary_hash);
		if (hg_dc_workload_pods(a->service, a->stable_hash, a->pods_before, sizeof a->pods_before) < 0)
			return usage_error("--stable-hash '%s': expected letters and digits", a->stable_hash);
	} else {
		if (!a->canary_pods || !a->stable_pods)
			return usage_error("%s", "--canary-pods and --stable-pods go together");
		snprintf(a->pods_after, sizeof a->pods_after, "%s", a->canary_pods);
		snprintf(a->pods_before, sizeof a->pods_before, "%s", a->stable_pods);
	}
	if (strcmp(a->pods_after, a->pods_before) == 0)
		return usage_error("%s", "the canary and stable pods are the same");
	return 0;
}

static int check_args(struct args *a, int64_t now)
{
	char err[256], buf[600];
	if (!a->service || !*a->service)
		return usage_error("%s", "--service is required");
	if (!*a->namespace_ || !*a->kind)
		return usage_error("%s", "--namespace and --kind cannot be empty");
	if (hg_parse_duration(a->window, &a->window_ns) < 0 || a->window_ns < 1000000000)
		return usage_error("--window '%s': expected a duration of 1s or more (5m, 300s, 1h)", a->window);
	a->time_ns = now;
	if (a->time && hg_deploy_parse_time(a->time, &a->time_ns, err, sizeof err) < 0)
		return usage_error("--time %s", err);
	a->started_ns = a->time_ns;
	const char *started = hg_influx_conn_env_or(a->started_at, STARTED_ENV);
	if (started && hg_deploy_parse_time(started, &a->started_ns, err, sizeof err) < 0)
		return usage_error(a->started_at ? "--started-at %s" : STARTED_ENV " %s", err);
	if (a->started_ns > a->time_ns)
		return usage_error("%s", "the deploy started after it was done (--started-at/" STARTED_ENV
					 " later than --time or now)");
	if (a->time_ns > INT64_MAX - a->window_ns || a->started_ns < a->window_ns)
		return usage_error("%s", "--window is too long for these times");
	if (a->strategy) {
		int st = hg_deploy_strategy_parse(a->strategy);
		if (st < 0)
			return usage_error("--strategy '%s': expected bigbang, rolling, canary or bluegreen", a->strategy);
		a->strategy = hg_deploy_strategy_name(st);
	}
	if (strcmp(a->output, "table") != 0 && strcmp(a->output, "json") != 0)
		return usage_error("--output '%s': expected table or json", a->output);
	a->json = strcmp(a->output, "json") == 0;
	if (a->prom_version != 1 && a->prom_version != 2)
		return usage_error("%s", "--prometheus-metric-version: expected 1 or 2");
	if (a->error_rate) {
		if (hg_dc_rate_parse(a->error_rate, a->prom_version, &a->rate, err, sizeof err) < 0)
			return usage_error("--error-rate %s", err);
		a->p.rate = &a->rate;
	}
	int rc = pick_pods(a);
	if (rc)
		return rc;
	if (!a->strategy)
		a->strategy = a->p.canary ? "canary" : "rolling";
	const char *bad = hg_influx_conn_check(&a->conn, buf, sizeof buf);
	if (bad)
		return usage_error("%s", bad);
	struct dc_params *p = &a->p;
	p->namespace_ = a->namespace_;
	p->pods_before = a->pods_before;
	p->pods_after = a->pods_after;
	p->after_from = a->time_ns;
	p->after_to = a->time_ns + a->window_ns;
	if (p->canary) {
		p->before_from = p->after_from;
		p->before_to = p->after_to;
	} else {
		p->before_from = a->started_ns - a->window_ns;
		p->before_to = a->started_ns;
	}
	return 0;
}

/* Sleeps until the window has passed: one absolute-time sleep, resumed
 * after a signal handler ran. */
static void wait_for_window(int64_t end)
{
	int64_t now = hg_now_ns();
	if (end <= now)
		return;
	char until[32];
	hg_dc_format_time(end, until, sizeof until);
	fprintf(stderr, "agentctl deploy-check: waiting %.0f s, until %s, for the window to pass\n",
		ceil((double)(end - now) / 1e9), until);
	struct timespec ts = { .tv_sec = (time_t)(end / 1000000000), .tv_nsec = (long)(end % 1000000000) };
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int query_cb(void *arg, const char *q, char **body, char *err, size_t errlen)
{
	const struct args *a = arg;
	if (a->show_queries)
		fprintf(stderr, "query: %s\n", q);
	int rc = hg_influx_conn_query(&a->conn, q, ANSWER_MAX, body, err, errlen);
	/* 1 is "degraded", and a pipeline rolls back on it: a refused query
	 * (credentials, database) is the pipeline's configuration, 2. */
	return rc == AGENTCTL_FAILED ? AGENTCTL_USAGE : rc;
}

/* Writes the verdict's point. An exit code; err says why when not OK. */
static int record(const struct args *a, const struct dc_report *rep, const struct dc_result *r, char *err,
		  size_t errlen)
{
	char line[8192];
	long n = hg_dc_verdict_line(rep, r, line, sizeof line);
	if (n < 0) {
		snprintf(err, errlen, "cannot write the verdict as line protocol");
		return AGENTCTL_FAILED;
	}
	return hg_influx_conn_write(&a->conn, line, (size_t)n, err, errlen);
}

static int run_deploy_check(int argc, char **argv)
{
	struct args a = {
		.namespace_ = "default", .window = "5m", .kind = "Deployment", .output = "table", .prom_version = 1,
		.conn = { .cmd = "deploy-check" },
		.p = { .min_samples = 10, .min_requests = 20, .max_not_ready = 10, .cpu_rel = 0.30, .cpu_abs = 50,
		       .mem_rel = 0.20, .mem_abs = 32 * 1048576.0, .p95_rel = 0.50, .err_abs = 1, .err_rel = 0.5 },
	};
	struct dc_params *p = &a.p;
	double v = 0;
	int64_t q = 0;
	int c, rc = 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1 && !rc) {
		if (hg_influx_conn_option(&a.conn, c, optarg))
			continue;
		switch (c) {
		case 'h': check_usage(stdout); return AGENTCTL_OK;
		case O_SERVICE: a.service = optarg; break;
		case O_NAMESPACE: a.namespace_ = optarg; break;
		case O_WINDOW: a.window = optarg; break;
		case O_STARTED_AT: a.started_at = optarg; break;
		case O_TIME: a.time = optarg; break;
		case O_PODS: a.pods = optarg; break;
		case O_CANARY_WORKLOAD: a.canary_workload = optarg; break;
		case O_STABLE_WORKLOAD: a.stable_workload = optarg; break;
		case O_CANARY_HASH: a.canary_hash = optarg; break;
		case O_STABLE_HASH: a.stable_hash = optarg; break;
		case O_CANARY_PODS: a.canary_pods = optarg; break;
		case O_STABLE_PODS: a.stable_pods = optarg; break;
		case O_MAX_RESTARTS: rc = set_number("--max-restarts", optarg, &p->max_restarts); break;
		case O_MAX_OOM: rc = set_number("--max-oom", optarg, &p->max_oom); break;
		case O_MAX_NOT_READY: rc = set_number("--max-not-ready", optarg, &p->max_not_ready); break;
		case O_MAX_CPU:
			rc = set_number("--max-cpu-increase", optarg, &v);
			p->cpu_rel = v / 100;
			break;
		case O_MAX_MEM:
			rc = set_number("--max-memory-increase", optarg, &v);
			p->mem_rel = v / 100;
			break;
		case O_MAX_P95:
			rc = set_number("--max-p95-increase", optarg, &v);
			p->p95_rel = v / 100;
			break;
		case O_MIN_CPU: {
			/* A CPU quantity: millicores ("50m") or cores ("0.05"). */
			char *end;
			double mc = strtod(optarg, &end);
			if (end != optarg && strcmp(end, "m") == 0 && mc >= 0)
				p->cpu_abs = mc;
			else if (end != optarg && !*end && mc >= 0)
				p->cpu_abs = mc * 1000;
			else
				rc = usage_error("--min-cpu-increase '%s': expected millicores (50m) or cores (0.05)", optarg);
			break;
		}
		case O_MIN_MEM:
			if (hg_quantity_parse(optarg, &q) < 0)
				rc = usage_error("--min-memory-increase '%s': expected bytes (32Mi, 50M, 1048576)", optarg);
			p->mem_abs = (double)q;
			break;
		case O_MIN_SAMPLES:
			rc = set_number("--min-samples", optarg, &v);
			if (!rc && (v < 2 || v != floor(v)))
				rc = usage_error("--min-samples '%s': expected a whole number of 2 or more", optarg);
			p->min_samples = (size_t)v;
			break;
		case O_ERROR_RATE: a.error_rate = optarg; break;
		case O_PROM_VERSION: a.prom_version = strcmp(optarg, "1") == 0 ? 1 : strcmp(optarg, "2") == 0 ? 2 : 0; break;
		case O_MAX_ERR: rc = set_number("--max-error-rate-increase", optarg, &p->err_abs); break;
		case O_MIN_REQUESTS: rc = set_number("--min-requests", optarg, &p->min_requests); break;
		case O_STRATEGY: a.strategy = optarg; break;
		case O_VERSION: a.version = optarg; break;
		case O_KIND: a.kind = optarg; break;
		case O_CLUSTER: a.cluster = optarg; break;
		case O_NO_RECORD: a.no_record = true; break;
		case O_OUTPUT: a.output = optarg; break;
		case O_SHOW_QUERIES: a.show_queries = true; break;
		case ':': return usage_error("%s needs a value", argv[optind - 1]);
		default: {
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return usage_error("unknown option %s", name);
		}
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	a.cluster = hg_influx_conn_env_or(a.cluster, "HELIOGRAPH_CLUSTER");
	hg_influx_conn_from_env(&a.conn);
	if ((rc = check_args(&a, hg_now_ns())))
		return rc;

	wait_for_window(p->after_to);
	struct dc_result r;
	char err[1024];
	rc = hg_deploy_check_run(p, query_cb, &a, &r, err, sizeof err);
	if (rc) {
		fprintf(stderr, "agentctl deploy-check: cannot judge: %s\n", err);
		return rc;
	}
	struct dc_report rep = { .service = a.service, .namespace_ = a.namespace_, .kind = a.kind,
				 .strategy = a.strategy, .cluster = a.cluster, .version = a.version, .p = p,
				 .window_ns = a.window_ns };
	if (a.json)
		hg_dc_print_json(&rep, &r);
	else
		hg_dc_print_table(&rep, &r);
	fflush(stdout);
	if (r.verdict != DC_MISSING && !a.no_record) {
		int w = record(&a, &rep, &r, err, sizeof err);
		/* The verdict is the exit code; a verdict that could not be
		 * recorded is said, not turned into another code. */
		if (w != AGENTCTL_OK)
			fprintf(stderr, "agentctl deploy-check: verdict not recorded: %s\n", err);
	}
	return (int)r.verdict;
}

const struct agentctl_command hg_cmd_deploy_check = {
	.name = "deploy-check",
	.summary = "judge a deploy from its pods' metrics (exit 0 healthy, 1 degraded, 3 no data)",
	.run = run_deploy_check,
	.usage = check_usage,
};
