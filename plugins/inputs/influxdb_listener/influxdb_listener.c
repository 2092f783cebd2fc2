/* inputs.influxdb_listener: a service input that accepts the InfluxDB HTTP
 * write API (1.x /write and 2.x /api/v2/write) on the agent's loop, so apps
 * and pipelines can push line protocol through the agent's buffers. It
 * listens from init; each request's lines go to the outputs as it arrives
 * (listener_write.c); gather() only reports the listener's own counters
 * when asked to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "acc.h"
#include "httpd.h"
#include "listener_write.h"
#include "log.h"
#include "plugin.h"

struct listener_config {
	char *service_address;
	uint64_t max_body_size;
	uint64_t max_body_memory;
	uint64_t max_line_size;
	int64_t read_timeout_ns, write_timeout_ns;
	int64_t max_connections;
	char *basic_username;
	char *basic_password;
	char *token;
	char *database_tag;
	char *retention_policy_tag;
	char *bucket_tag;
	bool report_stats;
};

#define OFF(f) offsetof(struct listener_config, f)
static const struct opt_desc listener_options[] = {
	{ "service_address", OPT_STRING, OFF(service_address), ":8186", "address and port to listen on" },
	{ "max_body_size", OPT_SIZE, OFF(max_body_size), "32MiB",
	  "largest request body, compressed and decompressed (413 above); in effect at most max_body_memory" },
	{ "max_body_memory", OPT_SIZE, OFF(max_body_memory), "8MiB",
	  "request bodies held at once across all connections, decompressed gzip copies included; a body that does "
	  "not fit gets 503 with Retry-After (413 if it could never fit)" },
	{ "max_line_size", OPT_SIZE, OFF(max_line_size), "64KiB", "longer lines are rejected like unparsable ones" },
	{ "read_timeout", OPT_DURATION, OFF(read_timeout_ns), "10s",
	  "a request's head must arrive within this of its connection (or first byte), its body within this after; else 408" },
	{ "write_timeout", OPT_DURATION, OFF(write_timeout_ns), "10s",
	  "an answer not taken by the client within this is dropped with its connection" },
	{ "max_connections", OPT_INT, OFF(max_connections), "16",
	  "connections served at once; a new one beyond closes the one waiting longest for a request, else the one "
	  "whose answer has waited longest to be read (never one reading a body); bodies are bounded together by "
	  "max_body_memory" },
	{ "basic_username", OPT_STRING, OFF(basic_username), NULL, "require HTTP basic auth with this user" },
	{ "basic_password", OPT_SECRET, OFF(basic_password), NULL, "and this password" },
	{ "token", OPT_SECRET, OFF(token), NULL, "accept \"Authorization: Token <token>\" (InfluxDB 2.x style)" },
	{ "database_tag", OPT_STRING, OFF(database_tag), NULL, "put the v1 db= parameter in this tag" },
	{ "retention_policy_tag", OPT_STRING, OFF(retention_policy_tag), NULL, "put the v1 rp= parameter in this tag" },
	{ "bucket_tag", OPT_STRING, OFF(bucket_tag), NULL, "put the v2 bucket= parameter in this tag" },
	{ "report_stats", OPT_BOOL, OFF(report_stats), "false",
	  "emit internal_influxdb_listener counters at every interval" },
	OPT_END,
};

struct listener {
	const struct listener_config *cfg;
	char label[160];
	struct httpd *srv;
	struct lw *lw;
	struct acc *acc;   /* from the plugin env: requests emit outside gathers */
	char *basic;       /* "Basic base64(user:pass)", or NULL */
	uint64_t requests, pings, queries, not_found, auth_failures;
};

static char *basic_header(const char *user, const char *pass)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t ul = strlen(user), pl = strlen(pass), n = ul + 1 + pl;
	unsigned char *in = malloc(n + 1);
	char *out = malloc(6 + (n + 2) / 3 * 4 + 1);
	if (!in || !out) {
		free(in);
		free(out);
		return NULL;
	}
	memcpy(in, user, ul);
	in[ul] = ':';
	memcpy(in + ul + 1, pass, pl);
	char *o = out + 6;
	memcpy(out, "Basic ", 6);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = 0;
	memset(in, 0, n);
	free(in);
	return out;
}

/* Compares without an early exit, so timing tells nothing about the secret
 * beyond its length. */
static bool secret_eq(struct sv got, const char *want)
{
	size_t n = strlen(want);
	if (got.len != n)
		return false;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)got.p[i] ^ (unsigned char)want[i];
	return d == 0;
}

static bool authorized(const struct listener *s, const struct httpd_req *req)
{
	const char *tok = s->cfg->token && *s->cfg->token ? s->cfg->token : NULL;
	if (!s->basic && !tok)
		return true;
	struct sv h = hg_httpd_req_header(req, "Authorization");
	if (!h.p)
		return false;
	/* hg_httpd_auth_credentials matches the scheme case-insensitively (RFC
	 * 9110 11.1): a client's "basic ..." is as good as "Basic ...". */
	if (s->basic && secret_eq(hg_httpd_auth_credentials(h, "Basic"), s->basic + 6))
		return true;
	if (tok) {
		static const char *const schemes[] = { "Token", "Bearer" };
		for (size_t i = 0; i < 2; i++)
			if (secret_eq(hg_httpd_auth_credentials(h, schemes[i]), tok))
				return true;
	}
	return false;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void json_error(struct httpd_resp *resp, int status, const char *msg)
{
	hg_httpd_resp_status(resp, status);
	hg_httpd_resp_type(resp, "application/json");
	hg_httpd_resp_printf(resp, "{\"error\":\"%s\"}", msg);
}

static void refuse(struct listener *s, struct httpd_resp *resp)
{
	s->auth_failures++;
	if (s->basic)
		hg_httpd_resp_header(resp, "WWW-Authenticate", "Basic realm=\"influxdb\"");
	json_error(resp, 401, "authorization failed");
}

/* Runs when a request's head is in, before its body is read: wrong or
 * missing credentials are answered 401 at once, so an unauthenticated
 * client makes the listener buffer nothing (httpd drains the rest of its
 * body within a bound and closes). */
static bool head_check(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	struct listener *s = ud;
	if (sv_eq_c(req->path, "/ping") || sv_eq_c(req->path, "/health") || authorized(s, req))
		return false;
	s->requests++;
	hg_httpd_resp_header(resp, "X-Influxdb-Version", "1.8.10");
	refuse(s, resp);
	return true;
}

static void handle(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	struct listener *s = ud;
	if (*req->task) { /* a write being parsed over several loop turns */
		if (hg_lw_handle_slice(s->lw, s->acc, LW_V1, req, resp, 0, req->task, LW_SLICE))
			hg_httpd_resp_again(resp);
		return;
	}
	s->requests++;
	hg_httpd_resp_header(resp, "X-Influxdb-Version", "1.8.10");
	bool post = strcmp(req->method, "POST") == 0;
	if (sv_eq_c(req->path, "/ping")) {
		char v[8] = "";
		s->pings++;
		if (hg_httpd_query_param(req->query, "verbose", v, sizeof v) && *v && strcmp(v, "0") && strcmp(v, "false")) {
			hg_httpd_resp_type(resp, "application/json");
			hg_httpd_resp_printf(resp, "{\"version\":\"1.8.10\"}");
		} else {
			hg_httpd_resp_status(resp, 204);
		}
		return;
	}
	if (sv_eq_c(req->path, "/health")) {
		hg_httpd_resp_type(resp, "application/json");
		hg_httpd_resp_printf(resp, "{\"name\":\"influxdb_listener\",\"message\":\"ready for writes\","
					"\"status\":\"pass\",\"checks\":[],\"version\":\"1.8.10\"}");
		return;
	}
	if (!authorized(s, req)) { /* head_check answers first; kept for callers without it */
		refuse(s, resp);
		return;
	}
	enum lw_api api;
	if (sv_eq_c(req->path, "/write")) {
		api = LW_V1;
	} else if (sv_eq_c(req->path, "/api/v2/write")) {
		api = LW_V2;
	} else if (sv_eq_c(req->path, "/query")) {
		/* Clients probe with a query (or CREATE DATABASE); the databases
		 * are the outputs' business, as in Telegraf. */
		s->queries++;
		hg_httpd_resp_type(resp, "application/json");
		hg_httpd_resp_printf(resp, "{\"results\":[]}");
		return;
	} else {
		s->not_found++;
		hg_httpd_resp_status(resp, 404);
		hg_httpd_resp_printf(resp, "404 page not found\n");
		return;
	}
	if (!post) {
		hg_httpd_resp_header(resp, "Allow", "POST");
		json_error(resp, 405, "method not allowed; writes are POSTed");
		return;
	}
	/* A big body is parsed a slice per loop turn, so /healthz and other
	 * connections are served in between; the answer follows the last. */
	if (hg_lw_handle_slice(s->lw, s->acc, api, req, resp, wall_ns(), req->task, LW_SLICE))
		hg_httpd_resp_again(resp);
}

static void listener_free(void *state)
{
	struct listener *s = state;
	if (!s)
		return;
	hg_httpd_stop(s->srv);
	hg_lw_free(s->lw);
	if (s->basic) {
		memset(s->basic, 0, strlen(s->basic));
		free(s->basic);
	}
	free(s);
}

static int listener_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct listener_config *c = config;
	if (c->max_body_size < 1 || c->max_body_memory < 1 || c->max_line_size < 1 || c->max_connections < 1) {
		snprintf(err, errlen, "max_body_size, max_body_memory, max_line_size and max_connections must be positive");
		return -1;
	}
	if ((c->basic_username && *c->basic_username) != (c->basic_password && *c->basic_password)) {
		snprintf(err, errlen, "basic_username and basic_password go together");
		return -1;
	}
	if (!env->acc) {
		snprintf(err, errlen, "no accumulator for a service input");
		return -1;
	}
	struct listener *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = c;
	s->acc = env->acc;
	snprintf(s->label, sizeof s->label, "%s", env->instance_name ? env->instance_name : "inputs.influxdb_listener");
	struct lw_opts lo = {
		.max_body = (size_t)c->max_body_size,
		.max_line = (size_t)c->max_line_size,
		.database_tag = c->database_tag,
		.retention_policy_tag = c->retention_policy_tag,
		.bucket_tag = c->bucket_tag,
	};
	if (!(s->lw = hg_lw_new(&lo)) ||
	    (c->basic_username && *c->basic_username && !(s->basic = basic_header(c->basic_username, c->basic_password)))) {
		listener_free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int64_t idle = c->read_timeout_ns > c->write_timeout_ns ? c->read_timeout_ns : c->write_timeout_ns;
	/* Telegraf's read_timeout is Go's ReadTimeout, a deadline on the whole
	 * request; here the head and the body have one each, so a trickling
	 * client (slowloris) holds a connection for at most two of them. */
	uint64_t read_ms = c->read_timeout_ns > 1000000 ? (uint64_t)(c->read_timeout_ns / 1000000) : 1;
	struct httpd_opts ho = {
		.max_header = 16 * 1024,
		.max_body = (size_t)c->max_body_size,
		.idle_timeout_ms = idle > 1000000 ? (uint64_t)(idle / 1000000) : 1,
		.header_timeout_ms = read_ms,
		.body_timeout_ms = read_ms,
		.max_conns = (unsigned)c->max_connections,
		.write_timeout_ms = c->write_timeout_ns > 1000000 ? (uint64_t)(c->write_timeout_ns / 1000000) : 1,
		.max_body_total = (size_t)c->max_body_memory,
		.inflate_gzip = true,
		.head_check = head_check,
		.task_free = hg_lw_task_free,
	};
	if (hg_httpd_start(env->loop, c->service_address, &ho, handle, s, &s->srv, err, errlen) < 0) {
		listener_free(s);
		return -1;
	}
	log_info(s->label, "listening on %s (port %d)", c->service_address, hg_httpd_port(s->srv));
	/* Anyone who reaches the port writes through this agent's outputs and
	 * credentials, with any tags (a forged host=...): say so where it is set up. */
	if (!s->basic && !(c->token && *c->token) && !hg_httpd_loopback_only(s->srv))
		log_warn(s->label,
			 "listening on %s without authentication: anyone who reaches this port (in a cluster, "
			 "every pod) can write any point through this agent's outputs; set basic_username and "
			 "basic_password or token, or listen on 127.0.0.1",
			 c->service_address);
	*state = s;
	return 0;
}

static int listener_gather(void *state, struct acc *acc)
{
	struct listener *s = state;
	if (!s->cfg->report_stats)
		return GATHER_DONE;
	const struct lw_stats *st = hg_lw_stats(s->lw);
	struct metric *m = hg_acc_metric(acc, "internal_influxdb_listener");
	hg_metric_tag(m, "address", s->cfg->service_address);
	hg_metric_int(m, "requests_received", (int64_t)s->requests);
	hg_metric_int(m, "writes_served", (int64_t)st->writes);
	hg_metric_int(m, "queries_served", (int64_t)s->queries);
	hg_metric_int(m, "pings_served", (int64_t)s->pings);
	hg_metric_int(m, "not_founds_served", (int64_t)s->not_found);
	hg_metric_int(m, "auth_failures", (int64_t)s->auth_failures);
	hg_metric_int(m, "bytes_received", (int64_t)st->bytes_received);
	hg_metric_int(m, "lines_received", (int64_t)st->lines_ok);
	hg_metric_int(m, "lines_rejected", (int64_t)st->lines_bad);
	struct httpd_stats hs;
	hg_httpd_get_stats(s->srv, &hs);
	hg_metric_int(m, "connections_shed", (int64_t)hs.shed);
	hg_metric_int(m, "connections_rejected", (int64_t)hs.rejected);
	hg_metric_int(m, "request_timeouts", (int64_t)(hs.header_timeouts + hs.body_timeouts));
	hg_metric_int(m, "response_timeouts", (int64_t)hs.write_timeouts);
	hg_metric_int(m, "bodies_refused", (int64_t)hs.budget_refusals);
	hg_metric_int(m, "body_bytes_peak", (int64_t)hs.body_bytes_peak);
	hg_acc_emit(acc, m, 0);
	return GATHER_DONE;
}

const struct input_plugin hg_input_influxdb_listener = {
	.name = "influxdb_listener",
	.summary = "Accept line protocol over the InfluxDB 1.x/2.x HTTP write API (service input)",
	.config_size = sizeof(struct listener_config),
	.options = listener_options,
	.init = listener_init,
	.gather = listener_gather,
	.free = listener_free,
};
