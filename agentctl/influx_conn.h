/* A pipeline command's connection to InfluxDB (deploy-event writes,
 * deploy-check reads and writes): the flags and HELIOGRAPH_INFLUX_*
 * variables they share, one blocking request at a time over the shared HTTP
 * client, credentials in headers (basic auth or a v2 token), never in a URL
 * or a message. */
#ifndef AGENTCTL_INFLUX_CONN_H
#define AGENTCTL_INFLUX_CONN_H
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* The influxdb output's default and Telegraf's, which the local set-up
 * (packaging/agent.yaml, etc/output-influxdb.yaml) and its dashboards use.
 * install-stack's InfluxDB has STACK_DATABASE ("heliograph") instead. */
#define INFLUX_CONN_DEFAULT_DATABASE "telegraf"
#define INFLUX_CONN_DATABASE_HINT                                                                              \
	"name the database with --database or HELIOGRAPH_INFLUX_DATABASE (default " INFLUX_CONN_DEFAULT_DATABASE \
	", the local set-up's; install-stack's InfluxDB uses heliograph)"

struct influx_conn {
	const char *cmd; /* "deploy-event", for messages */
	const char *url, *database, *username, *password, *token, *org, *bucket, *tls_ca, *timeout;
	bool skip_create;
};

/* The connection flags every command that talks to InfluxDB takes (getopt_long
 * values from INFLUX_CONN_O_FIRST up; a command's own start below it). */
enum {
	INFLUX_CONN_O_FIRST = 2000,
	INFLUX_CONN_O_URL = INFLUX_CONN_O_FIRST, INFLUX_CONN_O_DATABASE, INFLUX_CONN_O_USERNAME,
	INFLUX_CONN_O_PASSWORD, INFLUX_CONN_O_TOKEN, INFLUX_CONN_O_ORG, INFLUX_CONN_O_BUCKET, INFLUX_CONN_O_TLS_CA,
	INFLUX_CONN_O_TIMEOUT, INFLUX_CONN_O_SKIP_CREATE,
};
/* Their rows of a struct option table. */
#define INFLUX_CONN_LONGOPTS                                                                   \
	{ "url", required_argument, NULL, INFLUX_CONN_O_URL },                                  \
	{ "database", required_argument, NULL, INFLUX_CONN_O_DATABASE },                        \
	{ "username", required_argument, NULL, INFLUX_CONN_O_USERNAME },                        \
	{ "password", required_argument, NULL, INFLUX_CONN_O_PASSWORD },                        \
	{ "token", required_argument, NULL, INFLUX_CONN_O_TOKEN },                              \
	{ "org", required_argument, NULL, INFLUX_CONN_O_ORG },                                  \
	{ "bucket", required_argument, NULL, INFLUX_CONN_O_BUCKET },                            \
	{ "tls-ca", required_argument, NULL, INFLUX_CONN_O_TLS_CA },                            \
	{ "timeout", required_argument, NULL, INFLUX_CONN_O_TIMEOUT },                          \
	{ "skip-database-creation", no_argument, NULL, INFLUX_CONN_O_SKIP_CREATE }
/* Takes getopt_long's answer opt (with optarg arg) when it is a connection
 * flag: true, else false (the command's own). */
bool hg_influx_conn_option(struct influx_conn *c, int opt, const char *arg);

/* The value, else the non-empty environment variable, else NULL. */
const char *hg_influx_conn_env_or(const char *v, const char *name);
/* Fills what the flags left open from HELIOGRAPH_INFLUX_* and the defaults.
 * Credentials on the command line choose the API; the environment fills in
 * only what they leave open. */
void hg_influx_conn_from_env(struct influx_conn *c);
/* The checks that need no request: NULL, or what is wrong (a usage error). */
const char *hg_influx_conn_check(const struct influx_conn *c, char *buf, size_t buflen);

/* Writes line protocol (v1 /write?db= or v2 /api/v2/write), creating a
 * missing v1 database first unless skip_create. An AGENTCTL_* exit code:
 * OK, FAILED (refused: fix the pipeline) or UNREACHABLE (may work later);
 * err (secrets scrubbed) says why when not OK. */
int hg_influx_conn_write(const struct influx_conn *c, const char *lines, size_t len, char *err, size_t errlen);

/* Runs one InfluxQL statement (POST /query, form body db=&q=&epoch=ns; with
 * a token, the v2 API's v1-compatible /query and db=bucket). On AGENTCTL_OK
 * *body is the malloc'd answer (the caller frees it); otherwise err says why
 * and the code is FAILED or UNREACHABLE as for writes. max_bytes bounds the
 * answer: a longer one is an error, never a partial result. */
int hg_influx_conn_query(const struct influx_conn *c, const char *q, size_t max_bytes, char **body, char *err,
		      size_t errlen);

#endif
