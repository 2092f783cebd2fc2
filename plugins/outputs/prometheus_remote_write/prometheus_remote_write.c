/* Prometheus remote write 1.0 output: each batch becomes one snappy
 * compressed prompb WriteRequest POSTed to url. The output runner owns
 * batching, retries, backoff and 413 splitting; see README.md for the
 * mapping of metrics and of answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pb_http.h"
#include "plugin.h"
#include "prw_encode.h"
#include "clock.h"

struct prw_config {
	struct pb_http_cfg http;
	int64_t max_in_flight;
};

static const struct opt_desc prw_options[] = {
	PB_HTTP_OPTIONS(struct prw_config, http, NULL,
			"remote write endpoint, e.g. http://victoria:8428/api/v1/write (required)"),
	/* 1, not the InfluxDB outputs' default: batches written in parallel can
	 * land out of order, and Prometheus (without out_of_order_time_window)
	 * refuses a sample older than its series' newest with a 400, which
	 * drops the batch. */
	{ "max_in_flight", OPT_INT, offsetof(struct prw_config, max_in_flight), "1",
	  "writes in flight at once (1-64); above 1 only for receivers that accept out-of-order samples" },
	OPT_END,
};

struct prw {
	struct pb_http *h;
	struct prw_encoder enc;
	char label[96];
	unsigned max_in_flight;
};

static const char *const prw_headers[] = {
	"Content-Type: application/x-protobuf",
	"Content-Encoding: snappy",
	"X-Prometheus-Remote-Write-Version: 0.1.0",
	NULL,
};

/* Remote write 1.0: retry 5xx and 429, never other 4xx (the server will
 * refuse the same data again). Deviations, as the other outputs do: 401/403
 * are retried, since fixing a credential should not lose data, and 413 goes
 * to the runner, which halves the batch. */
static void prw_map(const struct httpc_response *r, const char *where, struct write_result *w)
{
	long st = r->status;
	if (st >= 200 && st < 300) {
		w->status = WRITE_OK;
		return;
	}
	char text[200];
	hg_pb_body_text(r, text, sizeof(text));
	const char *sep = text[0] ? ": " : "";
	if (st == 401 || st == 403) {
		w->status = WRITE_RETRY;
		snprintf(w->message, sizeof(w->message), "%s: authentication failed (HTTP %ld)%s%.200s", where, st, sep,
			 text);
	} else if (st == 413) {
		w->status = WRITE_TOO_LARGE;
		snprintf(w->message, sizeof(w->message), "%s: request too large (HTTP 413)%s%.200s", where, sep, text);
	} else if (st >= 400 && st < 500 && st != 429) {
		w->status = WRITE_DROP;
		snprintf(w->message, sizeof(w->message), "%s: batch rejected (HTTP %ld)%s%.200s", where, st, sep, text);
	} else {
		w->status = WRITE_RETRY;
		w->retry_after_ms = r->retry_after_ms > 0 ? r->retry_after_ms : 0;
		snprintf(w->message, sizeof(w->message), "%s: HTTP %ld%s%.200s", where, st, sep, text);
	}
}

static void prw_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	struct prw *s = state;
	if (hg_pb_http_busy(s->h)) {
		hg_pb_done_now(done, arg, WRITE_RETRY, "a write is already in flight");
		return;
	}
	const unsigned char *pb;
	size_t len;
	struct prw_stats st;
	char err[256];
	/* now: only for lines without a timestamp, which ours never are */
	if (hg_prw_encode(&s->enc, b->data, b->len, hg_now_ns(), &pb, &len, &st, err, sizeof(err)) != 0) {
		hg_pb_done_now(done, arg, WRITE_RETRY, err);
		return;
	}
	if (st.bad_names)
		log_debug(s->label, "%zu field(s) skipped: no valid Prometheus name could be made", st.bad_names);
	if (len == 0) {
		hg_pb_done_empty(done, arg, st.bad_lines, st.first_error);
		return;
	}
	if (hg_pb_http_snappy(s->h, pb, len, err, sizeof(err)) != 0) {
		hg_pb_done_now(done, arg, WRITE_RETRY, err);
		return;
	}
	hg_pb_http_send(s->h, st.bad_lines, st.first_error, done, arg);
}

static int prw_check(const void *config, char *err, size_t errlen)
{
	const struct prw_config *cfg = config;
	if (cfg->max_in_flight < 1 || cfg->max_in_flight > OUTPUT_IN_FLIGHT_MAX) {
		snprintf(err, errlen, "max_in_flight: %lld is not between 1 and %d", (long long)cfg->max_in_flight,
			 OUTPUT_IN_FLIGHT_MAX);
		return -1;
	}
	return hg_pb_http_check(&cfg->http, err, errlen);
}

static int prw_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct prw_config *cfg = config;
	if (prw_check(config, err, errlen) != 0)
		return -1;
	struct prw *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(s->label, sizeof(s->label), "%s",
		 env->instance_name ? env->instance_name : "outputs.prometheus_remote_write");
	if (!(s->h = hg_pb_http_new(&cfg->http, env->http, s->label, prw_headers, prw_map, err, errlen))) {
		free(s);
		return -1;
	}
	s->max_in_flight = (unsigned)cfg->max_in_flight;
	*state = s;
	return 0;
}

static unsigned prw_max_in_flight(void *state)
{
	return ((struct prw *)state)->max_in_flight;
}

/* Unsigned fields come as 'u' so values above 2^63 keep their magnitude. */
static int prw_uint_support(void *state)
{
	(void)state;
	return 1;
}

static void prw_free(void *state)
{
	struct prw *s = state;
	if (!s)
		return;
	hg_pb_http_close(s->h); /* a request in flight finishes on its own, without calling us */
	hg_prw_encoder_free(&s->enc);
	free(s);
}

const struct output_plugin hg_output_prometheus_remote_write = {
	.name = "prometheus_remote_write",
	.summary = "Writes to a Prometheus remote write 1.0 endpoint (Prometheus, VictoriaMetrics, Mimir, Thanos)",
	.config_size = sizeof(struct prw_config),
	.options = prw_options,
	.init = prw_init,
	.uint_support = prw_uint_support,
	.max_in_flight = prw_max_in_flight,
	.write = prw_write,
	.free = prw_free,
	.check = prw_check,
};
