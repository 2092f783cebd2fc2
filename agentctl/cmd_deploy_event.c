/* agentctl deploy-event: records one deploy phase from a pipeline (Jenkins,
 * a bash deploy script) as a `deploy` line with source=pipeline, written to
 * InfluxDB's /write (v1, or the agent's line-protocol listener) or
 * /api/v2/write. One blocking request: the sync pattern of kube/ over the
 * shared HTTP client, so TLS and proxy options behave as the agent's. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "deploy_event.h"
#include "deploy_strategy.h"
#include "clock.h"
#include "influx_conn.h"

#define STARTED_ENV "HELIOGRAPH_DEPLOY_STARTED"
#define LINE_MAX_BYTES 8192
#define DEFAULT_DATABASE INFLUX_CONN_DEFAULT_DATABASE

static void deploy_usage(FILE *out)
{
	fprintf(out,
		"Usage: agentctl deploy-event --service S --strategy STRATEGY --version V --phase PHASE [options]\n"
		"Records a deploy in InfluxDB as a `deploy` point (source=pipeline), shown on the\n"
		"Deploys dashboard and as annotations on the node and Kubernetes dashboards.\n"
		"  --service NAME                 the deployed service (tag name)\n"
		"  --strategy STRATEGY            bigbang, rolling, canary or bluegreen; any case, with '-'\n"
		"                                 or '_' (blue-green, Big-Bang), and recreate for bigbang\n"
		"  --version VERSION              the version being deployed\n"
		"  --phase PHASE                  started, completed, failed or rolled_back (after a\n"
		"                                 `kubectl rollout undo`, e.g. when deploy-check says 1)\n"
		"  --namespace NAME               Kubernetes namespace (default: default)\n"
		"  --kind KIND                    object kind (default: Deployment)\n"
		"  --cluster NAME                 cluster tag (default: $HELIOGRAPH_CLUSTER)\n"
		"  --image IMAGE                  image reference\n"
		"  --message TEXT                 free text (build URL, reason of a failure)\n"
		"  --started-at TIME              when the deploy started, for duration_s of a final\n"
		"                                 phase: nanoseconds as `started` printed,\n"
		"                                 or seconds followed by 's' (default: $" STARTED_ENV ")\n"
		"  --duration SECONDS             duration_s of the final phases, instead of --started-at\n"
		"  --time TIME                    time of the event, as --started-at (default: now)\n"
		"  --url URL                      InfluxDB or agent listener (default: $HELIOGRAPH_INFLUX_URL,\n"
		"                                 else http://127.0.0.1:8086)\n"
		"  --database NAME                v1 database (default: $HELIOGRAPH_INFLUX_DATABASE, else\n"
		"                                 " DEFAULT_DATABASE ", the local set-up's; install-stack's is heliograph)\n"
		"  --skip-database-creation       v1: never send CREATE DATABASE (by default a write answered\n"
		"                                 \"database not found\" creates it and is sent again)\n"
		"  --username NAME                v1 user (default: $HELIOGRAPH_INFLUX_USERNAME)\n"
		"  --password PASSWORD            v1 password (default: $HELIOGRAPH_INFLUX_PASSWORD; prefer the\n"
		"                                 variable: arguments are visible to other users)\n"
		"  --token TOKEN                  v2 API token, writes to /api/v2/write (default:\n"
		"                                 $HELIOGRAPH_INFLUX_TOKEN)\n"
		"  --org ORG                      v2 organization (default: $HELIOGRAPH_INFLUX_ORG)\n"
		"  --bucket BUCKET                v2 bucket (default: $HELIOGRAPH_INFLUX_BUCKET)\n"
		"  --tls-ca FILE                  CA bundle to verify the server with\n"
		"  --timeout SECONDS              whole request (default: 10)\n"
		"  -h, --help                     this help\n"
		"With --phase started, prints " STARTED_ENV "=<ns> on stdout: export it, and the\n"
		"completed or failed call computes duration_s from it:\n"
		"  started=$(agentctl deploy-event ... --phase started) && export \"$started\"\n"
		"Exit codes: 0 recorded; 1 refused by the server (credentials, a missing database, a\n"
		"bad request: fix the pipeline); 2 usage; 3 server unreachable, timed out or unavailable\n"
		"(5xx, 429): the one a pipeline may ignore (`|| [ $? -eq 3 ]`).\n");
}

enum {
	O_SERVICE = 1000, O_STRATEGY, O_VERSION, O_PHASE, O_NAMESPACE, O_KIND, O_CLUSTER, O_IMAGE, O_MESSAGE,
	O_STARTED_AT, O_DURATION, O_TIME,
};

static const struct option longopts[] = {
	{ "service", required_argument, NULL, O_SERVICE },
	{ "strategy", required_argument, NULL, O_STRATEGY },
	{ "version", required_argument, NULL, O_VERSION },
	{ "phase", required_argument, NULL, O_PHASE },
	{ "namespace", required_argument, NULL, O_NAMESPACE },
	{ "kind", required_argument, NULL, O_KIND },
	{ "cluster", required_argument, NULL, O_CLUSTER },
	{ "image", required_argument, NULL, O_IMAGE },
	{ "message", required_argument, NULL, O_MESSAGE },
	{ "started-at", required_argument, NULL, O_STARTED_AT },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "time", required_argument, NULL, O_TIME },
	INFLUX_CONN_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct args {
	struct deploy_event ev;
	const char *started_at, *duration, *time;
	struct influx_conn conn;
};

#define env_or hg_influx_conn_env_or

static int usage_error(const char *fmt, const char *a)
{
	fprintf(stderr, "agentctl deploy-event: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "; see agentctl deploy-event --help\n");
	return AGENTCTL_USAGE;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* Everything that can be checked before the request: 0 or an exit code. */
static int check_args(struct args *a, int64_t now)
{
	struct deploy_event *e = &a->ev;
	char err[256];
	if (!e->service || !*e->service)
		return usage_error("%s", "--service is required");
	if (!e->strategy)
		return usage_error("%s", "--strategy is required");
	int st = hg_deploy_strategy_parse(e->strategy);
	if (st < 0)
		return usage_error("--strategy '%s': expected bigbang, rolling, canary or bluegreen "
				   "(also big-bang, blue-green, recreate, in any case)", e->strategy);
	/* The tag value the dashboards group by, whatever was typed. */
	e->strategy = hg_deploy_strategy_name(st);
	if (!e->version || !*e->version)
		return usage_error("%s", "--version is required");
	if (!e->phase)
		return usage_error("%s", "--phase is required");
	if (!hg_deploy_phase_valid(e->phase))
		return usage_error("--phase '%s': expected started, completed, failed or rolled_back", e->phase);
	if (!*e->namespace_ || !*e->kind)
		return usage_error("%s", "--namespace and --kind cannot be empty");
	e->time_ns = now;
	if (a->time && hg_deploy_parse_time(a->time, &e->time_ns, err, sizeof err) < 0)
		return usage_error("--time %s", err);
	bool final = hg_deploy_phase_final(e->phase);
	if (!final && (a->duration || a->started_at))
		return usage_error("%s", "--duration and --started-at apply to --phase completed, failed or rolled_back");
	if (a->duration && parse_seconds(a->duration, &e->duration_s) < 0)
		return usage_error("--duration '%s': expected seconds (a number >= 0)", a->duration);
	e->has_duration = a->duration != NULL;
	const char *started = final && !a->duration ? env_or(a->started_at, STARTED_ENV) : NULL;
	if (started) {
		int64_t t0;
		if (hg_deploy_parse_time(started, &t0, err, sizeof err) < 0)
			return usage_error(a->started_at ? "--started-at %s" : STARTED_ENV " %s", err);
		if (t0 > e->time_ns)
			return usage_error("%s", "the deploy started after this event (--started-at/" STARTED_ENV
						 " later than --time or now)");
		e->duration_s = (double)(e->time_ns - t0) / 1e9;
		e->has_duration = true;
	}
	char buf[600];
	const char *bad = hg_influx_conn_check(&a->conn, buf, sizeof buf);
	if (bad)
		return usage_error("%s", bad);
	return 0;
}

static int run_deploy_event(int argc, char **argv)
{
	struct args a = { .ev = { .namespace_ = "default", .kind = "Deployment" }, .conn = { .cmd = "deploy-event" } };
	struct deploy_event *e = &a.ev;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (hg_influx_conn_option(&a.conn, c, optarg))
			continue;
		switch (c) {
		case 'h': deploy_usage(stdout); return AGENTCTL_OK;
		case O_SERVICE: e->service = optarg; break;
		case O_STRATEGY: e->strategy = optarg; break;
		case O_VERSION: e->version = optarg; break;
		case O_PHASE: e->phase = optarg; break;
		case O_NAMESPACE: e->namespace_ = optarg; break;
		case O_KIND: e->kind = optarg; break;
		case O_CLUSTER: e->cluster = optarg; break;
		case O_IMAGE: e->image = optarg; break;
		case O_MESSAGE: e->message = optarg; break;
		case O_STARTED_AT: a.started_at = optarg; break;
		case O_DURATION: a.duration = optarg; break;
		case O_TIME: a.time = optarg; break;
		case ':':
			/* Only the option name: a value given as --password=... is never echoed. */
			return usage_error("%s needs a value", argv[optind - 1]);
		default: {
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return usage_error("unknown option %s", name);
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	e->cluster = env_or(e->cluster, "HELIOGRAPH_CLUSTER");
	hg_influx_conn_from_env(&a.conn);
	int rc = check_args(&a, hg_now_ns());
	if (rc)
		return rc;

	char line[LINE_MAX_BYTES], err[1024];
	long n = hg_deploy_event_line(e, line, sizeof line, err, sizeof err);
	if (n < 0)
		return usage_error("%s", err);
	rc = hg_influx_conn_write(&a.conn, line, (size_t)n, err, sizeof err);
	if (rc != AGENTCTL_OK) {
		fprintf(stderr, "agentctl deploy-event: not recorded: %s\n", err);
		return rc;
	}
	if (strcmp(e->phase, "started") == 0)
		printf(STARTED_ENV "=%" PRId64 "\n", e->time_ns);
	return AGENTCTL_OK;
}

const struct agentctl_command hg_cmd_deploy_event = {
	.name = "deploy-event",
	.summary = "record a deploy (started/completed/failed) from a pipeline",
	.run = run_deploy_event,
	.usage = deploy_usage,
};
