/* InfluxDB 1.x output: POST /write, one batch per call; the output runner
 * owns retries, backoff and 413 splitting. Also creates the database
 * (POST /query CREATE DATABASE) at start and when a write says it is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "influx_http.h"
#include "log.h"
#include "plugin.h"

struct influxdb_config {
	struct influx_http_cfg http;
	char *database;
	char *retention_policy;
	char *write_consistency;
	char *username;
	char *password;
	bool skip_database_creation;
	bool influx_uint_support;
};

static const char *const write_consistencies[] = { "any", "one", "quorum", "all", NULL };

static const struct opt_desc influxdb_options[] = {
	INFLUX_HTTP_OPTIONS(struct influxdb_config, http),
	{ "database", OPT_STRING, offsetof(struct influxdb_config, database), "telegraf", "target database" },
	{ "retention_policy", OPT_STRING, offsetof(struct influxdb_config, retention_policy), NULL,
	  "retention policy; unset = the database's default" },
	/* InfluxDB answers any other consistency= with 400 "invalid consistency
	 * level" on every write (1.x reads it in any case; we take Telegraf's
	 * spelling). */
	{ .name = "write_consistency", .type = OPT_STRING, .offset = offsetof(struct influxdb_config, write_consistency),
	  .help = "clusters only: any, one, quorum or all", .choices = write_consistencies },
	{ "username", OPT_STRING, offsetof(struct influxdb_config, username), NULL, "HTTP basic auth user" },
	{ "password", OPT_SECRET, offsetof(struct influxdb_config, password), NULL, "HTTP basic auth password" },
	{ "skip_database_creation", OPT_BOOL, offsetof(struct influxdb_config, skip_database_creation), "false",
	  "never send CREATE DATABASE" },
	{ "influx_uint_support", OPT_BOOL, offsetof(struct influxdb_config, influx_uint_support), "false",
	  "write unsigned integers as 'u' (InfluxDB 1.x needs them enabled at build time)" },
	OPT_END,
};

struct influxdb {
	struct influx_http h;
	char label[96];
	char *db, *user, *pass;
	char **write_urls, **query_urls; /* one per configured URL */
	char *create_body;
	bool skip_create, uint_support;
	bool creating, closed;
	unsigned lane; /* which of the output's writers; only the first logs the creation */
	unsigned pending; /* requests whose callback has yet to run */
	/* The write in flight (one at a time: the gzip buffer is shared). */
	bool busy;
	size_t url_idx;
	const struct batch *batch;
	write_done_fn done;
	void *done_arg;
	/* This batch met "database not found" and is being sent again after CREATE DATABASE;
	 * a second 404 goes to the runner (no loop when CREATE does not help). */
	bool resent;
	/* A write that came while CREATE DATABASE was in flight waits for it: sent together, the
	 * write could reach InfluxDB first and fail with "database not found" (with --once that
	 * failed the run about every other time on a new database). */
	const struct batch *held;
	write_done_fn held_done;
	void *held_arg;
};

static void influxdb_write(void *state, const struct batch *b, write_done_fn done, void *arg);

static void destroy(struct influxdb *s)
{
	for (size_t i = 0; i < s->h.nurls; i++) {
		free(s->write_urls ? s->write_urls[i] : NULL);
		free(s->query_urls ? s->query_urls[i] : NULL);
	}
	free(s->write_urls);
	free(s->query_urls);
	hg_influx_http_free(&s->h);
	free(s->db);
	free(s->user);
	if (s->pass) {
		explicit_bzero(s->pass, strlen(s->pass));
		free(s->pass);
	}
	free(s->create_body);
	free(s);
}

/* Returns true when s is gone (freed while the request was in flight). */
static bool request_ended(struct influxdb *s)
{
	s->pending--;
	if (s->closed && s->pending == 0) {
		destroy(s);
		return true;
	}
	return s->closed;
}

static void created(void *arg, const struct httpc_response *r)
{
	struct influxdb *s = arg;
	s->creating = false;
	if (request_ended(s))
		return;
	char text[200];
	hg_influx_error_text(r, text, sizeof(text));
	hg_influx_scrub(text, s->pass);
	if (hg_influx_query_succeeded(r)) {
		if (s->lane == 0)
			log_info(s->label, "database \"%s\" created (or already there)", s->db);
	}
	else if (r->curl_code != 0)
		log_warn(s->label, "CREATE DATABASE \"%s\" failed: %s", s->db, r->error);
	else
		log_warn(s->label, "CREATE DATABASE \"%s\" failed (HTTP %ld): %s", s->db, r->status, text);
	if (s->held) {
		const struct batch *b = s->held;
		s->held = NULL;
		influxdb_write(s, b, s->held_done, s->held_arg);
	}
}

static void create_database(struct influxdb *s, size_t idx)
{
	if (s->creating)
		return;
	struct httpc_request q = { 0 };
	hg_influx_http_request(&s->h, &q, true);
	q.url = s->query_urls[idx];
	q.body = s->create_body;
	q.body_len = strlen(s->create_body);
	q.username = s->user;
	q.password = s->user ? s->pass : NULL;
	char err[256];
	if (hg_httpc_send(s->h.http, &q, created, s, err, sizeof(err)) != 0) {
		log_warn(s->label, "CREATE DATABASE: %s", err);
		return;
	}
	s->creating = true;
	s->pending++;
}

static void written(void *arg, const struct httpc_response *r)
{
	struct influxdb *s = arg;
	s->busy = false;
	if (request_ended(s))
		return; /* the runner freed us: nobody is waiting for the result */
	const char *url = s->h.urls[s->url_idx];
	struct write_result w;
	if (hg_influx_database_missing(r)) {
		char where[128];
		hg_influx_url_redact(url, where, sizeof(where));
		if (!s->skip_create && !s->resent) {
			/* Create it and send this batch again as soon as CREATE DATABASE answers
			 * (created() sends what is held): the runner sees the outcome of that write,
			 * so a database that now exists costs no backoff. */
			log_info(s->label, "%s: database \"%s\" not found, creating it", where, s->db);
			create_database(s, s->url_idx);
			if (s->creating) {
				s->resent = true;
				s->held = s->batch;
				s->held_done = s->done;
				s->held_arg = s->done_arg;
				return;
			}
		}
		memset(&w, 0, sizeof(w));
		w.status = WRITE_RETRY;
		w.retry_at_flush = true; /* the server is fine; the database may appear any time */
		if (s->skip_create) {
			snprintf(w.message, sizeof(w.message),
				 "%s: database \"%s\" not found and skip_database_creation is set", where, s->db);
		} else {
			snprintf(w.message, sizeof(w.message), "%s: database \"%s\" %s", where, s->db,
				 s->resent ? "still not found after CREATE DATABASE"
					   : "not found and CREATE DATABASE could not be sent");
		}
	} else {
		hg_influx_result(r, url, &w);
		hg_influx_after_write(&s->h, s->url_idx, r);
	}
	hg_influx_scrub(w.message, s->pass);
	s->resent = false;
	s->done(s->done_arg, &w);
}

static void probed(void *arg, const struct httpc_response *r)
{
	struct influx_probe *p = arg;
	struct influxdb *s = p->owner;
	p->inflight = false;
	if (request_ended(s))
		return;
	hg_influx_probe_answer(p, r);
}

static void influxdb_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	struct influxdb *s = state;
	char err[256];
	struct httpc_request q;
	if (s->creating) {
		s->held = b;
		s->held_done = done;
		s->held_arg = arg;
		return;
	}
	s->pending += hg_influx_probe_due(&s->h, probed, s);
	if (hg_influx_begin_write(&s->h, s->busy, b, s->write_urls, &s->url_idx, &q, done, arg) != 0)
		return;
	q.username = s->user;
	q.password = s->user ? s->pass : NULL;
	if (hg_httpc_send(s->h.http, &q, written, s, err, sizeof(err)) != 0) {
		hg_influx_fail_now(done, arg, err);
		return;
	}
	s->busy = true;
	s->batch = b;
	s->done = done;
	s->done_arg = arg;
	s->pending++;
}

static int influxdb_check(const void *config, char *err, size_t errlen)
{
	const struct influxdb_config *cfg = config;
	if (!cfg->database) { /* "" is the default, "telegraf"; a default-less table would end here */
		snprintf(err, errlen, "database: must be set");
		return -1;
	}
	return hg_influx_http_check(&cfg->http, err, errlen);
}

static int influxdb_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct influxdb_config *cfg = config;
	if (influxdb_check(config, err, errlen) != 0)
		return -1;
	struct influxdb *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hg_influx_http_init(&s->h, &cfg->http, env->http, NULL, err, errlen) != 0) {
		free(s);
		return -1;
	}
	snprintf(s->label, sizeof(s->label), "%s", env->instance_name ? env->instance_name : "outputs.influxdb");
	if (hg_influx_probe_init(&s->h, "/ping", s->label, err, errlen) != 0) {
		hg_influx_http_free(&s->h);
		free(s);
		return -1;
	}
	s->skip_create = cfg->skip_database_creation;
	s->uint_support = cfg->influx_uint_support;
	s->db = strdup(cfg->database);
	s->user = cfg->username && cfg->username[0] ? strdup(cfg->username) : NULL;
	s->pass = cfg->password ? strdup(cfg->password) : NULL;
	s->write_urls = calloc(s->h.nurls, sizeof(char *));
	s->query_urls = calloc(s->h.nurls, sizeof(char *));
	char *wq = hg_influx_query_add(NULL, "db", cfg->database);
	wq = hg_influx_query_add(wq, "rp", cfg->retention_policy);
	wq = hg_influx_query_add(wq, "consistency", cfg->write_consistency);
	wq = hg_influx_query_add(wq, "precision", "n"); /* v1 spells nanoseconds "n" */
	s->create_body = hg_influx_create_database_body(cfg->database);
	bool ok = s->db && (!cfg->username || s->user) && (!cfg->password || s->pass) && s->write_urls &&
		  s->query_urls && wq && s->create_body;
	for (size_t i = 0; ok && i < s->h.nurls; i++) {
		s->write_urls[i] = hg_influx_url(s->h.urls[i], "/write", wq);
		s->query_urls[i] = hg_influx_url(s->h.urls[i], "/query", NULL);
		ok = s->write_urls[i] && s->query_urls[i];
	}
	free(wq);
	if (!ok) {
		destroy(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Every writer (lane) creates it and holds its first write until the
	 * answer: a lane that did not could write first into a missing
	 * database. CREATE DATABASE of an existing one is a no-op. */
	s->lane = env->lane;
	if (!s->skip_create)
		create_database(s, 0);
	*state = s;
	return 0;
}

static unsigned influxdb_max_in_flight(void *state)
{
	return ((struct influxdb *)state)->h.max_in_flight;
}

static int influxdb_uint_support(void *state)
{
	return ((struct influxdb *)state)->uint_support;
}

static void influxdb_free(void *state)
{
	struct influxdb *s = state;
	if (!s)
		return;
	/* httpc has no per-request cancel: pending callbacks see closed and finish the job. */
	s->closed = true;
	if (s->pending == 0)
		destroy(s);
}

const struct output_plugin hg_output_influxdb = {
	.name = "influxdb",
	.summary = "Writes line protocol to InfluxDB 1.x over HTTP (/write)",
	.config_size = sizeof(struct influxdb_config),
	.options = influxdb_options,
	.init = influxdb_init,
	.uint_support = influxdb_uint_support,
	.max_in_flight = influxdb_max_in_flight,
	.write = influxdb_write,
	.free = influxdb_free,
	.check = influxdb_check,
};
