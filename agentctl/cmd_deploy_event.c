/* agentctl deploy-event: records one deploy phase from a pipeline (Jenkins,
 * a bash deploy script) as a `deploy` line with source=pipeline, written to
 * InfluxDB's /write (v1, or the agent's line-protocol listener) or
 * /api/v2/write. One blocking request: the sync pattern of kube/ over the
 * shared HTTP client, so TLS and proxy options behave as the agent's. */
#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>
#include "commands.h"
#include "deploy_event.h"
#include "deploy_strategy.h"
#include "httpc.h"
#include "influx_http.h"
#include "url_redact.h"
#include "clock.h"

#define STARTED_ENV "HELIOGRAPH_DEPLOY_STARTED"
#define LINE_MAX_BYTES 8192
/* The influxdb output's default and Telegraf's, which the local set-up
 * (packaging/agent.yaml, etc/output-influxdb.yaml) and its dashboards use.
 * install-stack's InfluxDB has STACK_DATABASE ("heliograph") instead: pipelines
 * writing there say so with HELIOGRAPH_INFLUX_DATABASE, and the error for a
 * missing or forbidden database names both. */
#define DEFAULT_DATABASE "telegraf"
#define DATABASE_HINT                                                                                         \
	"name the database with --database or HELIOGRAPH_INFLUX_DATABASE (default " DEFAULT_DATABASE            \
	", the local set-up's; install-stack's InfluxDB uses heliograph)"

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
		"  --phase PHASE                  started, completed or failed\n"
		"  --namespace NAME               Kubernetes namespace (default: default)\n"
		"  --kind KIND                    object kind (default: Deployment)\n"
		"  --cluster NAME                 cluster tag (default: $HELIOGRAPH_CLUSTER)\n"
		"  --image IMAGE                  image reference\n"
		"  --message TEXT                 free text (build URL, reason of a failure)\n"
		"  --started-at TIME              when the deploy started, for duration_s of\n"
		"                                 completed/failed: nanoseconds as `started` printed,\n"
		"                                 or seconds followed by 's' (default: $" STARTED_ENV ")\n"
		"  --duration SECONDS             duration_s of completed/failed, instead of --started-at\n"
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
	O_STARTED_AT, O_DURATION, O_TIME, O_URL, O_DATABASE, O_USERNAME, O_PASSWORD, O_TOKEN, O_ORG, O_BUCKET,
	O_TLS_CA, O_TIMEOUT, O_SKIP_CREATE,
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
	{ "url", required_argument, NULL, O_URL },
	{ "database", required_argument, NULL, O_DATABASE },
	{ "username", required_argument, NULL, O_USERNAME },
	{ "password", required_argument, NULL, O_PASSWORD },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "org", required_argument, NULL, O_ORG },
	{ "bucket", required_argument, NULL, O_BUCKET },
	{ "tls-ca", required_argument, NULL, O_TLS_CA },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "skip-database-creation", no_argument, NULL, O_SKIP_CREATE },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct args {
	struct deploy_event ev;
	const char *started_at, *duration, *time, *timeout;
	const char *url, *database, *username, *password, *token, *org, *bucket, *tls_ca;
	bool skip_create;
};

static const char *env_or(const char *v, const char *name)
{
	if (v)
		return v;
	const char *e = getenv(name);
	return e && *e ? e : NULL;
}

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
	int st = deploy_strategy_parse(e->strategy);
	if (st < 0)
		return usage_error("--strategy '%s': expected bigbang, rolling, canary or bluegreen "
				   "(also big-bang, blue-green, recreate, in any case)", e->strategy);
	/* The tag value the dashboards group by, whatever was typed. */
	e->strategy = deploy_strategy_name(st);
	if (!e->version || !*e->version)
		return usage_error("%s", "--version is required");
	if (!e->phase)
		return usage_error("%s", "--phase is required");
	if (!deploy_phase_valid(e->phase))
		return usage_error("--phase '%s': expected started, completed or failed", e->phase);
	if (!*e->namespace_ || !*e->kind)
		return usage_error("%s", "--namespace and --kind cannot be empty");
	e->time_ns = now;
	if (a->time && deploy_parse_time(a->time, &e->time_ns, err, sizeof err) < 0)
		return usage_error("--time %s", err);
	bool final = deploy_phase_final(e->phase);
	if (!final && (a->duration || a->started_at))
		return usage_error("%s", "--duration and --started-at apply to --phase completed or failed");
	if (a->duration && parse_seconds(a->duration, &e->duration_s) < 0)
		return usage_error("--duration '%s': expected seconds (a number >= 0)", a->duration);
	e->has_duration = a->duration != NULL;
	const char *started = final && !a->duration ? env_or(a->started_at, STARTED_ENV) : NULL;
	if (started) {
		int64_t t0;
		if (deploy_parse_time(started, &t0, err, sizeof err) < 0)
			return usage_error(a->started_at ? "--started-at %s" : STARTED_ENV " %s", err);
		if (t0 > e->time_ns)
			return usage_error("%s", "the deploy started after this event (--started-at/" STARTED_ENV
						 " later than --time or now)");
		e->duration_s = (double)(e->time_ns - t0) / 1e9;
		e->has_duration = true;
	}
	if (a->token && a->skip_create)
		return usage_error("%s", "--skip-database-creation is for v1 (--database): v2 writes to a --bucket");
	if (a->token && (a->username || a->password))
		return usage_error("%s", "give --token (v2) or --username/--password (v1), not both");
	if (!a->token && (a->org || a->bucket))
		return usage_error("%s", "--org and --bucket are for v2: give --token too");
	if (a->token && !a->bucket)
		return usage_error("%s", "--token (v2) needs --bucket");
	if (!!a->username != !!a->password)
		return usage_error("%s", "--username and --password go together");
	char shown[512];
	if (strncmp(a->url, "http://", 7) != 0 && strncmp(a->url, "https://", 8) != 0)
		return usage_error("--url '%s': expected http://HOST:PORT or https://...",
				   url_redact(a->url, shown, sizeof shown));
	double t;
	if (a->timeout && (parse_seconds(a->timeout, &t) < 0 || t <= 0))
		return usage_error("--timeout '%s': expected seconds (a number > 0)", a->timeout);
	return 0;
}

struct sync_state {
	bool done;
	long status;
	int curl_code;
	bool db_missing, query_failed;
	char msg[512];
};

static void on_done(void *arg, const struct httpc_response *r)
{
	struct sync_state *s = arg;
	s->done = true;
	s->status = r->status;
	s->curl_code = r->curl_code;
	s->db_missing = influx_database_missing(r);
	/* A /query that failed says so in a 200's body. */
	s->query_failed = r->curl_code == 0 && !influx_query_succeeded(r);
	if (r->curl_code != 0)
		snprintf(s->msg, sizeof s->msg, "%s", r->error && *r->error ? r->error : "transport error");
	else if (r->status < 200 || r->status >= 300 || s->query_failed)
		influx_error_text(r, s->msg, sizeof s->msg);
}

/* Whether a failed request may succeed unchanged later: the server was not
 * reached, did not answer in time, or said it is unavailable. Everything else
 * (TLS verification, 4xx) needs the pipeline fixed. */
static bool transient(const struct sync_state *s)
{
	switch (s->curl_code) {
	case CURLE_OK:
		return s->status >= 500 || s->status == 429 || s->status == 408;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return true;
	default:
		return false;
	}
}

/* base + path + "?" + query, without a trailing '/' on the base. malloc'd or NULL. */
static char *server_url(const struct args *a, const char *path, const char *query)
{
	char base[1024];
	snprintf(base, sizeof base, "%s", a->url);
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		base[--n] = '\0';
	return influx_url(base, path, query);
}

static char *write_url(const struct args *a)
{
	char *q = NULL;
	if (a->token) {
		q = influx_query_add(q, "org", a->org);
		if (q || !a->org)
			q = influx_query_add(q, "bucket", a->bucket);
	} else {
		q = influx_query_add(q, "db", a->database);
	}
	if (!q)
		return NULL;
	q = influx_query_add(q, "precision", "ns");
	if (!q)
		return NULL;
	char *url = server_url(a, a->token ? "/api/v2/write" : "/write", q);
	free(q);
	return url;
}

/* One blocking POST; the outcome in *s. 0, or -1 with err when it could not
 * be sent at all. */
static int post(const struct args *a, const char *url, const char *content_type, const char *body, size_t len,
		struct sync_state *s, char *err, size_t errlen)
{
	char auth[1024] = "", ctype[128];
	snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
	const char *headers[3] = { ctype, NULL, NULL };
	if (a->token) {
		snprintf(auth, sizeof auth, "Authorization: Token %s", a->token);
		headers[1] = auth;
	}
	double timeout = 10;
	if (a->timeout)
		parse_seconds(a->timeout, &timeout);
	struct httpc_request q = {
		.method = "POST",
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = len,
		.timeout_ms = (int64_t)(timeout * 1000),
		.username = a->username,
		.password = a->password,
		.user_agent = "heliograph-agentctl/" HG_VERSION,
		.tls = { .ca_file = a->tls_ca },
		.max_response = 4096,
	};
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct httpc *hc = httpc_new(&loop);
	int rc = -1;
	*s = (struct sync_state){ 0 };
	if (!hc) {
		snprintf(err, errlen, "cannot start the HTTP client");
	} else if (httpc_send(hc, &q, on_done, s, err, errlen) == 0) {
		while (!s->done)
			uv_run(&loop, UV_RUN_ONCE);
		rc = 0;
	}
	if (hc)
		httpc_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	memset(auth, 0, sizeof auth);
	return rc;
}

/* CREATE DATABASE, as the influxdb output does when a write finds none.
 * 0, or -1 with why in err. */
static int create_database(const struct args *a, char *err, size_t errlen)
{
	char *url = server_url(a, "/query", NULL), *body = influx_create_database_body(a->database);
	struct sync_state s;
	int rc = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory");
	else if (post(a, url, "application/x-www-form-urlencoded", body, strlen(body), &s, err, errlen) == 0) {
		if (s.curl_code != 0)
			snprintf(err, errlen, "%.400s", s.msg);
		else if (s.status < 200 || s.status >= 300 || s.query_failed)
			snprintf(err, errlen, "HTTP %ld%s%.400s", s.status, s.msg[0] ? ": " : "", s.msg);
		else
			rc = 0;
	}
	free(url);
	free(body);
	return rc;
}

/* Sends the line, creating a missing v1 database first unless told not to.
 * An exit code; err (secrets scrubbed) says why when it is not AGENTCTL_OK. */
static int send_line(const struct args *a, const char *line, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	char *url = write_url(a);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return AGENTCTL_FAILED;
	}
	char redacted[512];
	influx_url_redact(url, redacted, sizeof redacted);
	struct sync_state s;
	int rc = AGENTCTL_FAILED;
	if (post(a, url, "text/plain; charset=utf-8", line, len, &s, err, errlen) != 0)
		goto out;
	bool created = false;
	if (s.db_missing && !a->token && !a->skip_create) {
		char why[512];
		if (create_database(a, why, sizeof why) != 0) {
			snprintf(err, errlen, "%.300s: database \"%.100s\" not found, and CREATE DATABASE failed (%.300s): %s",
				 redacted, a->database, why, DATABASE_HINT);
			goto out;
		}
		created = true;
		if (post(a, url, "text/plain; charset=utf-8", line, len, &s, err, errlen) != 0)
			goto out;
	}
	if (s.curl_code == 0 && s.status >= 200 && s.status < 300) {
		rc = AGENTCTL_OK;
		if (created)
			fprintf(stderr, "agentctl deploy-event: created database \"%s\"\n", a->database);
		goto out;
	}
	rc = transient(&s) ? AGENTCTL_UNREACHABLE : AGENTCTL_FAILED;
	if (s.curl_code != 0)
		snprintf(err, errlen, "%.300s: %.300s", redacted, s.msg);
	else
		snprintf(err, errlen, "%.300s: HTTP %ld%s%.300s", redacted, s.status, s.msg[0] ? ": " : "", s.msg);
	/* A v1 database that is missing or not this user's: say how to name another. */
	if (!a->token && (s.db_missing || s.status == 403)) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, "%s%s", s.db_missing && a->skip_create ? " (--skip-database-creation is set); " : "; ",
			 DATABASE_HINT);
	}
out:
	free(url);
	/* Servers echo what they were sent in some errors; the message is printed. */
	influx_scrub(err, a->password);
	influx_scrub(err, a->token);
	return rc;
}

static int run_deploy_event(int argc, char **argv)
{
	struct args a = { .ev = { .namespace_ = "default", .kind = "Deployment" } };
	struct deploy_event *e = &a.ev;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
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
		case O_URL: a.url = optarg; break;
		case O_DATABASE: a.database = optarg; break;
		case O_USERNAME: a.username = optarg; break;
		case O_PASSWORD: a.password = optarg; break;
		case O_TOKEN: a.token = optarg; break;
		case O_ORG: a.org = optarg; break;
		case O_BUCKET: a.bucket = optarg; break;
		case O_TLS_CA: a.tls_ca = optarg; break;
		case O_TIMEOUT: a.timeout = optarg; break;
		case O_SKIP_CREATE: a.skip_create = true; break;
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
	a.url = env_or(a.url, "HELIOGRAPH_INFLUX_URL");
	if (!a.url)
		a.url = "http://127.0.0.1:8086";
	a.database = env_or(a.database, "HELIOGRAPH_INFLUX_DATABASE");
	if (!a.database)
		a.database = DEFAULT_DATABASE;
	/* Credentials on the command line choose the API; the environment
	 * fills in only what they leave open. */
	if (!a.username && !a.password)
		a.token = env_or(a.token, "HELIOGRAPH_INFLUX_TOKEN");
	if (!a.token) {
		a.username = env_or(a.username, "HELIOGRAPH_INFLUX_USERNAME");
		a.password = env_or(a.password, "HELIOGRAPH_INFLUX_PASSWORD");
	} else {
		a.org = env_or(a.org, "HELIOGRAPH_INFLUX_ORG");
		a.bucket = env_or(a.bucket, "HELIOGRAPH_INFLUX_BUCKET");
	}
	int rc = check_args(&a, now_ns());
	if (rc)
		return rc;

	char line[LINE_MAX_BYTES], err[1024];
	long n = deploy_event_line(e, line, sizeof line, err, sizeof err);
	if (n < 0)
		return usage_error("%s", err);
	rc = send_line(&a, line, (size_t)n, err, sizeof err);
	if (rc != AGENTCTL_OK) {
		fprintf(stderr, "agentctl deploy-event: not recorded: %s\n", err);
		return rc;
	}
	if (strcmp(e->phase, "started") == 0)
		printf(STARTED_ENV "=%" PRId64 "\n", e->time_ns);
	return AGENTCTL_OK;
}

const struct agentctl_command cmd_deploy_event = {
	.name = "deploy-event",
	.summary = "record a deploy (started/completed/failed) from a pipeline",
	.run = run_deploy_event,
	.usage = deploy_usage,
};
