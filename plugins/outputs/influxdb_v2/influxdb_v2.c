/* InfluxDB 2.x output: POST /api/v2/write, one batch per call; the output
 * runner owns retries, backoff and 413 splitting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "influx_http.h"
#include "plugin.h"

struct influxdb_v2_config {
	struct influx_http_cfg http;
	char *token;
	char *organization;
	char *bucket;
	bool influx_uint_support;
};

static const struct opt_desc influxdb_v2_options[] = {
	INFLUX_HTTP_OPTIONS(struct influxdb_v2_config, http),
	{ "token", OPT_SECRET, offsetof(struct influxdb_v2_config, token), NULL, "API token (Authorization: Token ...)" },
	{ "organization", OPT_STRING, offsetof(struct influxdb_v2_config, organization), NULL,
	  "organization name or ID" },
	{ "bucket", OPT_STRING, offsetof(struct influxdb_v2_config, bucket), NULL, "destination bucket" },
	{ "influx_uint_support", OPT_BOOL, offsetof(struct influxdb_v2_config, influx_uint_support), "true",
	  "write unsigned integers as 'u' (InfluxDB 2.x accepts them)" },
	OPT_END,
};

struct influxdb_v2 {
	struct influx_http h;
	char *token;
	char **write_urls;
	bool uint_support, closed, busy;
	unsigned pending;
	size_t url_idx;
	write_done_fn done;
	void *done_arg;
};

static void destroy(struct influxdb_v2 *s)
{
	for (size_t i = 0; s->write_urls && i < s->h.nurls; i++)
		free(s->write_urls[i]);
	free(s->write_urls);
	hg_influx_http_free(&s->h);
	if (s->token) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	free(s);
}

static void written(void *arg, const struct httpc_response *r)
{
	struct influxdb_v2 *s = arg;
	s->busy = false;
	s->pending--;
	if (s->closed) {
		/* The runner freed us: nobody is waiting for the result. */
		if (s->pending == 0)
			destroy(s);
		return;
	}
	struct write_result w;
	hg_influx_result(r, s->h.urls[s->url_idx], &w);
	hg_influx_after_write(&s->h, s->url_idx, r);
	hg_influx_scrub(w.message, s->token);
	s->done(s->done_arg, &w);
}

static void probed(void *arg, const struct httpc_response *r)
{
	struct influx_probe *p = arg;
	struct influxdb_v2 *s = p->owner;
	p->inflight = false;
	s->pending--;
	if (s->closed) {
		if (s->pending == 0)
			destroy(s);
		return;
	}
	hg_influx_probe_answer(p, r);
}

static void influxdb_v2_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	struct influxdb_v2 *s = state;
	char err[256];
	struct httpc_request q;
	s->pending += hg_influx_probe_due(&s->h, probed, s);
	if (hg_influx_begin_write(&s->h, s->busy, b, s->write_urls, &s->url_idx, &q, done, arg) != 0)
		return;
	if (hg_httpc_send(s->h.http, &q, written, s, err, sizeof(err)) != 0) {
		hg_influx_fail_now(done, arg, err);
		return;
	}
	s->busy = true;
	s->done = done;
	s->done_arg = arg;
	s->pending++;
}

static int influxdb_v2_check(const void *config, char *err, size_t errlen)
{
	const struct influxdb_v2_config *cfg = config;
	if (!cfg->bucket || !cfg->bucket[0]) {
		snprintf(err, errlen, "bucket: must be set");
		return -1;
	}
	if (!cfg->organization || !cfg->organization[0]) {
		snprintf(err, errlen, "organization: must be set");
		return -1;
	}
	return hg_influx_http_check(&cfg->http, err, errlen);
}

static int influxdb_v2_init(void **state, const void *config, const struct plugin_env *env, char *err,
			    size_t errlen)
{
	const struct influxdb_v2_config *cfg = config;
	if (influxdb_v2_check(config, err, errlen) != 0)
		return -1;
	struct influxdb_v2 *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *auth = NULL;
	if (cfg->token && cfg->token[0]) {
		size_t n = strlen(cfg->token) + sizeof("Authorization: Token ");
		if ((auth = malloc(n)))
			snprintf(auth, n, "Authorization: Token %s", cfg->token);
	}
	int rc = (cfg->token && cfg->token[0] && !auth)
			 ? (snprintf(err, errlen, "out of memory"), -1)
			 : hg_influx_http_init(&s->h, &cfg->http, env->http, auth, err, errlen);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (rc == 0 && hg_influx_probe_init(&s->h, "/health",
					 env->instance_name ? env->instance_name : "outputs.influxdb_v2", err, errlen) != 0) {
		hg_influx_http_free(&s->h);
		rc = -1;
	}
	if (rc != 0) {
		free(s);
		return -1;
	}
	s->uint_support = cfg->influx_uint_support;
	s->token = cfg->token ? strdup(cfg->token) : NULL;
	s->write_urls = calloc(s->h.nurls, sizeof(char *));
	char *wq = hg_influx_query_add(NULL, "org", cfg->organization);
	wq = hg_influx_query_add(wq, "bucket", cfg->bucket);
	wq = hg_influx_query_add(wq, "precision", "ns");
	bool ok = (!cfg->token || s->token) && s->write_urls && wq;
	for (size_t i = 0; ok && i < s->h.nurls; i++)
		ok = (s->write_urls[i] = hg_influx_url(s->h.urls[i], "/api/v2/write", wq)) != NULL;
	free(wq);
	if (!ok) {
		destroy(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*state = s;
	return 0;
}

static unsigned influxdb_v2_max_in_flight(void *state)
{
	return ((struct influxdb_v2 *)state)->h.max_in_flight;
}

static int influxdb_v2_uint_support(void *state)
{
	return ((struct influxdb_v2 *)state)->uint_support;
}

static void influxdb_v2_free(void *state)
{
	struct influxdb_v2 *s = state;
	if (!s)
		return;
	s->closed = true;
	if (s->pending == 0)
		destroy(s);
}

const struct output_plugin hg_output_influxdb_v2 = {
	.name = "influxdb_v2",
	.summary = "Writes line protocol to InfluxDB 2.x over HTTP (/api/v2/write)",
	.config_size = sizeof(struct influxdb_v2_config),
	.options = influxdb_v2_options,
	.init = influxdb_v2_init,
	.uint_support = influxdb_v2_uint_support,
	.max_in_flight = influxdb_v2_max_in_flight,
	.write = influxdb_v2_write,
	.free = influxdb_v2_free,
	.check = influxdb_v2_check,
};
