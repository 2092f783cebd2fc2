/* OpenTelemetry output over OTLP/HTTP: each batch becomes one protobuf
 * ExportMetricsServiceRequest POSTed to url (gzip by default). The output
 * runner owns batching, retries, backoff and 413 splitting; see README.md
 * for the mapping of metrics and of answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "otlp_encode.h"
#include "pb_http.h"
#include "plugin.h"

struct otel_config {
	struct pb_http_cfg http;
	char *compression;
	struct strmap attributes;
};

static const char *const otel_compressions[] = { "gzip", "none", NULL };

static const struct opt_desc otel_options[] = {
	PB_HTTP_OPTIONS(struct otel_config, http, "http://127.0.0.1:4318/v1/metrics",
			"OTLP/HTTP metrics endpoint (the collector's default path is /v1/metrics)"),
	{ .name = "compression", .type = OPT_STRING, .offset = offsetof(struct otel_config, compression), .def = "gzip",
	  .help = "gzip or none", .choices = otel_compressions },
	{ "attributes", OPT_STRMAP, offsetof(struct otel_config, attributes), NULL,
	  "resource attributes, e.g. {service.name: heliograph, host.name: node-1}" },
	OPT_END,
};

struct otel {
	struct pb_http *h;
	struct otlp_encoder enc;
	bool gzip;
	bool utf8_warned;
	bool conflict_warned; /* a type conflict was logged at warning level */
	char label[96];
};

static const char *const otel_headers_gzip[] = {
	"Content-Type: application/x-protobuf",
	"Content-Encoding: gzip",
	NULL,
};
static const char *const otel_headers_plain[] = {
	"Content-Type: application/x-protobuf",
	NULL,
};

static bool is_protobuf(const struct httpc_response *r)
{
	return r->content_type && strncmp(r->content_type, "application/x-protobuf", 22) == 0 && r->body &&
	       r->body_len > 0 && !r->body_truncated;
}

/* The server's reason: a google.rpc.Status message when the body is
 * protobuf, else the text. */
static void error_text(const struct httpc_response *r, char *out, size_t outlen)
{
	out[0] = '\0';
	if (is_protobuf(r)) {
		Otlp__Status *s = otlp__status__unpack(NULL, r->body_len, (const uint8_t *)r->body);
		if (s) {
			snprintf(out, outlen, "%s", s->message);
			otlp__status__free_unpacked(s, NULL);
		}
		if (out[0])
			return;
		/* Some servers answer a 4xx with the success message's
		 * partial_success, which reads as no Status message. */
		Otlp__ExportMetricsServiceResponse *resp =
			otlp__export_metrics_service_response__unpack(NULL, r->body_len, (const uint8_t *)r->body);
		if (resp && resp->partial_success &&
		    (resp->partial_success->rejected_data_points > 0 || resp->partial_success->error_message[0]))
			snprintf(out, outlen, "%lld data point(s) rejected: %s",
				 (long long)resp->partial_success->rejected_data_points,
				 resp->partial_success->error_message);
		if (resp)
			otlp__export_metrics_service_response__free_unpacked(resp, NULL);
		return;
	}
	hg_pb_body_text(r, out, outlen);
}

/* OTLP/HTTP: 429, 502, 503 and 504 are retried (after Retry-After when
 * given); every other 4xx and 5xx must not be. As the other outputs do, 401
 * and 403 are retried too (fixing a credential should not cost data) and 413
 * goes to the runner, which halves the batch. */
static void otel_map(const struct httpc_response *r, const char *where, struct write_result *w)
{
	long st = r->status;
	char text[200];
	if (st >= 200 && st < 300) {
		w->status = WRITE_OK;
		if (!is_protobuf(r))
			return;
		Otlp__ExportMetricsServiceResponse *resp =
			otlp__export_metrics_service_response__unpack(NULL, r->body_len, (const uint8_t *)r->body);
		if (resp && resp->partial_success &&
		    (resp->partial_success->rejected_data_points > 0 || resp->partial_success->error_message[0]))
			snprintf(w->message, sizeof(w->message), "%s: %lld data point(s) rejected: %.180s", where,
				 (long long)resp->partial_success->rejected_data_points,
				 resp->partial_success->error_message);
		if (resp)
			otlp__export_metrics_service_response__free_unpacked(resp, NULL);
		return;
	}
	error_text(r, text, sizeof(text));
	const char *sep = text[0] ? ": " : "";
	if (st == 429 || st == 502 || st == 503 || st == 504) {
		w->status = WRITE_RETRY;
		w->retry_after_ms = r->retry_after_ms > 0 ? r->retry_after_ms : 0;
		snprintf(w->message, sizeof(w->message), "%s: HTTP %ld%s%.200s", where, st, sep, text);
	} else if (st == 401 || st == 403) {
		w->status = WRITE_RETRY;
		snprintf(w->message, sizeof(w->message), "%s: authentication failed (HTTP %ld)%s%.200s", where, st, sep,
			 text);
	} else if (st == 413) {
		w->status = WRITE_TOO_LARGE;
		snprintf(w->message, sizeof(w->message), "%s: request too large (HTTP 413)%s%.200s", where, sep, text);
	} else if (st >= 400) {
		w->status = WRITE_DROP;
		snprintf(w->message, sizeof(w->message), "%s: batch rejected (HTTP %ld)%s%.200s", where, st, sep, text);
	} else {
		w->status = WRITE_RETRY; /* 1xx/3xx: not an answer to act on */
		snprintf(w->message, sizeof(w->message), "%s: unexpected HTTP %ld", where, st);
	}
}

static void otel_write(void *state, const struct batch *b, write_done_fn done, void *arg)
{
	struct otel *s = state;
	if (hg_pb_http_busy(s->h)) {
		hg_pb_done_now(done, arg, WRITE_RETRY, "a write is already in flight");
		return;
	}
	const unsigned char *pb;
	size_t len;
	struct otlp_stats st;
	char err[256];
	/* Every line the agent buffers carries its timestamp, except one at
	 * exactly 0, which line protocol may write without it: so a line
	 * without one is at 0, not at the time of this write. */
	if (hg_otlp_encode(&s->enc, b->data, b->len, 0, &pb, &len, &st, err, sizeof(err)) != 0) {
		hg_pb_done_now(done, arg, WRITE_RETRY, err);
		return;
	}
	if (st.utf8_repaired) {
		/* Logged once per output: a scrape target keeps sending what it sends. */
		if (!s->utf8_warned)
			log_warn(s->label, "%zu line(s) with bytes that are not UTF-8 sent with U+FFFD in their place "
					   "(OTLP strings must be UTF-8); further ones are logged at debug level",
				 st.utf8_repaired);
		else
			log_debug(s->label, "%zu line(s) with invalid UTF-8 repaired", st.utf8_repaired);
		s->utf8_warned = true;
	}
	if (st.conflicts) {
		/* As Telegraf's "Failed to add point": the batch goes, those points do not. */
		if (!s->conflict_warned)
			log_warn(s->label, "%zu point(s) not sent: their name (first: %s) is already a metric of "
					   "another type in the batch; further ones are logged at debug level",
				 st.conflicts, st.first_conflict);
		else
			log_debug(s->label, "%zu point(s) not sent for a type conflict (first: %s)", st.conflicts,
				  st.first_conflict);
		s->conflict_warned = true;
	}
	if (len == 0) {
		hg_pb_done_empty(done, arg, st.bad_lines, st.first_error);
		return;
	}
	int rc = s->gzip ? hg_pb_http_gzip(s->h, pb, len, err, sizeof(err)) : hg_pb_http_copy(s->h, pb, len, err, sizeof(err));
	if (rc != 0) {
		hg_pb_done_now(done, arg, WRITE_RETRY, err);
		return;
	}
	hg_pb_http_send(s->h, st.bad_lines, st.first_error, done, arg);
}

static int otel_check(const void *config, char *err, size_t errlen)
{
	const struct otel_config *cfg = config;
	const char *c = cfg->compression ? cfg->compression : "gzip";
	/* The loader refuses other values at the value (otel_compressions);
	 * this guards a config built without it (tests). */
	if (strcmp(c, "gzip") != 0 && strcmp(c, "none") != 0) {
		snprintf(err, errlen, "compression: \"%s\" is not gzip or none", c);
		return -1;
	}
	return hg_pb_http_check(&cfg->http, err, errlen);
}

static int otel_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct otel_config *cfg = config;
	if (otel_check(config, err, errlen) != 0)
		return -1;
	bool gzip = !cfg->compression || strcmp(cfg->compression, "gzip") == 0;
	struct otel *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->gzip = gzip;
	snprintf(s->label, sizeof(s->label), "%s", env->instance_name ? env->instance_name : "outputs.opentelemetry");
	if (hg_otlp_encoder_init(&s->enc, &cfg->attributes, err, errlen) != 0) {
		free(s);
		return -1;
	}
	s->h = hg_pb_http_new(&cfg->http, env->http, s->label, gzip ? otel_headers_gzip : otel_headers_plain, otel_map,
			   err, errlen);
	if (!s->h) {
		hg_otlp_encoder_free(&s->enc);
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* Unsigned fields come as 'u' so values above 2^63 keep their magnitude. */
static int otel_uint_support(void *state)
{
	(void)state;
	return 1;
}

static void otel_free(void *state)
{
	struct otel *s = state;
	if (!s)
		return;
	hg_pb_http_close(s->h); /* a request in flight finishes on its own, without calling us */
	hg_otlp_encoder_free(&s->enc);
	free(s);
}

const struct output_plugin hg_output_opentelemetry = {
	.name = "opentelemetry",
	.summary = "Writes OTLP metrics over HTTP (protobuf) to an OpenTelemetry collector or backend",
	.config_size = sizeof(struct otel_config),
	.options = otel_options,
	.init = otel_init,
	.uint_support = otel_uint_support,
	.write = otel_write,
	.free = otel_free,
	.check = otel_check,
};
