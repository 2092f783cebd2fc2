/* The health endpoint. An output is unhealthy when it holds metrics and has
 * not written for health_max_flush_intervals flush intervals: then the
 * kubelet's liveness probe sees 503 with the reason, while an agent whose
 * outputs merely have nothing to send stays healthy. */
#include <stdio.h>
#include <string.h>
#include "agent_internal.h"
#include "httpd.h"
#include "httpd_health.h"

int hg_health_check(const struct agent *a, int64_t now, char *why, size_t whylen)
{
	int64_t n = a->cfg->health_max_flush_intervals > 0 ? a->cfg->health_max_flush_intervals : 3;
	for (size_t i = 0; i < hg_agent_output_count(a); i++) {
		const struct output_stats *o = hg_agent_output_stats(a, i);
		int64_t since = o->last_success_ns > a->start_ns ? o->last_success_ns : a->start_ns;
		int64_t allowed = n * o->flush_interval_ns;
		if (o->buffer_size > 0 && now - since > allowed) {
			char label[160];
			hg_plugin_label(label, sizeof label, "outputs", o->name, o->alias);
			snprintf(why, whylen, "output %s has not written for %llds (%llu metrics buffered, %llu write errors)",
				 label, (long long)((now - since) / 1000000000), (unsigned long long)o->buffer_size,
				 (unsigned long long)o->errors);
			return 503;
		}
	}
	snprintf(why, whylen, "ok");
	return 0;
}

static void prom_counter(struct httpd_resp *r, const char *name, const char *help, uint64_t v)
{
	hg_httpd_resp_printf(r, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
			  (unsigned long long)v);
}

/* A label value as the text exposition format wants it: backslash,
 * double quote and newline escaped. An alias may hold any of them, and one
 * bad value makes Prometheus refuse the whole scrape. */
static const char *label_escape(char *buf, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 3 <= cap; s++) {
		char c = *s;
		if (c == '\\' || c == '"' || c == '\n') {
			buf[n++] = '\\';
			c = c == '\n' ? 'n' : c;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

/* "inputs.cpu" or "inputs.cpu::alias", as the log names the instance. */
static const char *input_label(const struct agent *a, size_t i, char *buf, size_t cap)
{
	const struct input_stats *s = hg_agent_input_stats(a, i);
	hg_plugin_label(buf, cap, "inputs", s->name, s->alias);
	return buf;
}

static const char *output_label(const struct agent *a, size_t i, char *buf, size_t cap)
{
	const struct output_stats *s = hg_agent_output_stats(a, i);
	hg_plugin_label(buf, cap, "outputs", s->name, s->alias);
	return buf;
}

/* name{kind="label"} of instance i of n, with instance="k" (1-based, in
 * config order) added when another instance has the same label (two
 * unaliased inputs of one plugin), so their series stay apart instead of
 * colliding into one. */
static void put_series(struct httpd_resp *r, const char *name, const char *kind, const struct agent *a, size_t n,
		       size_t i, const char *(*label_of)(const struct agent *, size_t, char *, size_t))
{
	char mine[160], other[160];
	const char *me = label_of(a, i, mine, sizeof mine);
	size_t same = 0, k = 0;
	for (size_t j = 0; j < n; j++)
		if (strcmp(label_of(a, j, other, sizeof other), me) == 0) {
			same++;
			k += j <= i;
		}
	char esc[2 * 160 + 1]; /* labels are at most 160 bytes, each escaped to at most 2 */
	hg_httpd_resp_printf(r, "%s{%s=\"%s\"", name, kind, label_escape(esc, sizeof esc, me));
	if (same > 1)
		hg_httpd_resp_printf(r, ",instance=\"%zu\"", k);
	hg_httpd_resp_printf(r, "}");
}

static void write_metrics(const struct agent *a, struct httpd_resp *r)
{
	struct agent_stats t = hg_agent_totals(a);
	hg_httpd_resp_type(r, "text/plain; version=0.0.4; charset=utf-8");
	prom_counter(r, "heliograph_metrics_gathered_total", "Metrics gathered by all inputs.", t.metrics_gathered);
	prom_counter(r, "heliograph_metrics_written_total", "Metrics written by all outputs.", t.metrics_written);
	prom_counter(r, "heliograph_metrics_dropped_total", "Metrics dropped (buffer overflow or rejected).",
		     t.metrics_dropped);
	prom_counter(r, "heliograph_gather_errors_total", "Gather errors of all inputs.", t.gather_errors);
	hg_httpd_resp_printf(r, "# HELP heliograph_outputs_disabled Configured outputs the agent runs without "
			     "(a URL scheme it does not speak; logged at start).\n"
			     "# TYPE heliograph_outputs_disabled gauge\nheliograph_outputs_disabled %llu\n",
			  (unsigned long long)t.outputs_disabled);
	if (a->health) {
		struct httpd_stats hs;
		hg_httpd_get_stats(a->health, &hs);
		prom_counter(r, "heliograph_health_connections_shed_total",
			     "Health endpoint connections closed to make room for a new one (the longest waiting, else "
			     "the one whose answer has waited longest to be read).",
			     hs.shed);
		prom_counter(r, "heliograph_health_connections_rejected_total",
			     "Health endpoint connections refused: full of requests being read or answered.", hs.rejected);
		prom_counter(r, "heliograph_health_request_timeouts_total",
			     "Health endpoint requests answered 408: not whole within health_header_timeout.",
			     hs.header_timeouts + hs.body_timeouts);
		prom_counter(r, "heliograph_health_response_timeouts_total",
			     "Health endpoint connections closed because their answer was not read within "
			     "health_write_timeout.",
			     hs.write_timeouts);
	}
	hg_httpd_resp_printf(r, "# HELP heliograph_gather_duration_seconds Duration of the last gather.\n"
			     "# TYPE heliograph_gather_duration_seconds gauge\n");
	size_t ni = hg_agent_input_count(a), no = hg_agent_output_count(a);
	for (size_t i = 0; i < ni; i++) {
		put_series(r, "heliograph_gather_duration_seconds", "input", a, ni, i, input_label);
		hg_httpd_resp_printf(r, " %.9f\n", (double)hg_agent_input_stats(a, i)->gather_time_ns / 1e9);
	}
	hg_httpd_resp_printf(r, "# HELP heliograph_output_buffer_size Metrics waiting in the output's buffer.\n"
			     "# TYPE heliograph_output_buffer_size gauge\n");
	for (size_t i = 0; i < no; i++) {
		put_series(r, "heliograph_output_buffer_size", "output", a, no, i, output_label);
		hg_httpd_resp_printf(r, " %llu\n", (unsigned long long)hg_agent_output_stats(a, i)->buffer_size);
	}
	hg_httpd_resp_printf(r, "# HELP heliograph_output_write_errors_total Failed write attempts.\n"
			     "# TYPE heliograph_output_write_errors_total counter\n");
	for (size_t i = 0; i < no; i++) {
		put_series(r, "heliograph_output_write_errors_total", "output", a, no, i, output_label);
		hg_httpd_resp_printf(r, " %llu\n", (unsigned long long)hg_agent_output_stats(a, i)->errors);
	}
}

static void handle(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
	const struct agent *a = ud;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		hg_httpd_resp_status(resp, 405);
		hg_httpd_resp_printf(resp, "method not allowed\n");
		return;
	}
	if (sv_eq_c(req->path, "/healthz")) {
		char why[512];
		int status = hg_health_check(a, hg_now_ns(), why, sizeof why);
		hg_httpd_resp_status(resp, status ? status : 200);
		hg_httpd_resp_printf(resp, "%s\n", why);
	} else if (sv_eq_c(req->path, "/metrics")) {
		write_metrics(a, resp);
	} else {
		hg_httpd_resp_status(resp, 404);
		hg_httpd_resp_printf(resp, "not found; try /healthz or /metrics\n");
	}
}

/* Milliseconds of a duration, at least 1 (0 would mean the default). */
static uint64_t ms(int64_t ns) { return ns >= 1000000 ? (uint64_t)(ns / 1000000) : 1; }

int hg_health_start(struct agent *a, const char *listen, char *err, size_t errlen)
{
	struct httpd *h = NULL;
	const struct agent_config *c = a->cfg;
	/* Probes are GETs: the body, should one come, has the head's bound.
	 * Unset (0) fields, as in a config built without the loader, keep
	 * httpd's defaults. */
	struct httpd_opts o = {
		.header_timeout_ms = c->health_header_timeout_ns > 0 ? ms(c->health_header_timeout_ns) : 0,
		.body_timeout_ms = c->health_header_timeout_ns > 0 ? ms(c->health_header_timeout_ns) : 0,
		.idle_timeout_ms = c->health_idle_timeout_ns > 0 ? ms(c->health_idle_timeout_ns) : 0,
		.write_timeout_ms = c->health_write_timeout_ns > 0 ? ms(c->health_write_timeout_ns) : 0,
		/* An answer waiting for a client that does not read holds at most
		 * this (/metrics is about 2 KiB plus 200 bytes per plugin). */
		.max_response = 1024 * 1024,
		/* Clamped: each connection holds about 30 KiB. */
		.max_conns = c->health_max_connections > 65536 ? 65536 : (unsigned)(c->health_max_connections > 0 ? c->health_max_connections : 0),
	};
	if (hg_httpd_start(a->loop, listen, &o, handle, a, &h, err, errlen) < 0)
		return -1;
	a->health = h;
	return 0;
}

int hg_health_port(const struct agent *a)
{
	return a->health ? hg_httpd_port(a->health) : 0;
}

void hg_health_stop(struct agent *a)
{
	if (a->health)
		hg_httpd_stop(a->health);
	a->health = NULL;
}
