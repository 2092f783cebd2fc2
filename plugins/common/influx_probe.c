/* Failback for the InfluxDB outputs. A write moves to the next URL after a
 * network error or 5xx and would stay there; the first URL is the one the
 * user prefers (the nearer or bigger server), so while a later URL is in use
 * the earlier ones get a health check (v1 /ping, v2 /health) at most once a
 * failback_interval, and the first that answers 2xx is written to again.
 * The checks ride on the shared curl-multi client and are started as a
 * write starts, so they need no timer of their own and never block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "influx_http.h"
#include "log.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int hg_influx_probe_init(struct influx_http *h, const char *path, const char *label, char *err, size_t errlen)
{
	h->health_urls = calloc(h->nurls, sizeof(*h->health_urls));
	h->probes = calloc(h->nurls, sizeof(*h->probes));
	h->label = strdup(label);
	if (!h->health_urls || !h->probes || !h->label)
		goto oom;
	for (size_t i = 0; i < h->nurls; i++) {
		if (!(h->health_urls[i] = hg_influx_url(h->urls[i], path, NULL)))
			goto oom;
		h->probes[i] = (struct influx_probe){ .h = h, .idx = i };
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void hg_influx_after_write(struct influx_http *h, size_t url_idx, const struct httpc_response *r)
{
	/* A health check that answered meanwhile already chose a better URL. */
	if (!hg_influx_failover(r) || h->nurls < 2 || h->cur != url_idx)
		return;
	h->cur = (url_idx + 1) % h->nurls;
	/* The URL just failed: checking it again at once would only fail too. */
	h->probe_at_ms = now_ms() + (uint64_t)h->failback_ms;
}

unsigned hg_influx_probe_due(struct influx_http *h, httpc_done_fn done, void *owner)
{
	if (h->cur == 0 || h->failback_ms <= 0 || !h->probes)
		return 0;
	uint64_t now = now_ms();
	if (now < h->probe_at_ms)
		return 0;
	h->probe_at_ms = now + (uint64_t)h->failback_ms;
	unsigned started = 0;
	for (size_t i = 0; i < h->cur; i++) {
		struct influx_probe *p = &h->probes[i];
		if (p->inflight)
			continue;
		struct httpc_request q = { 0 };
		hg_influx_http_request(h, &q, true);
		q.method = "GET"; /* the headers stay: a gateway in front may want them */
		q.url = h->health_urls[i];
		char err[256];
		if (hg_httpc_send(h->http, &q, done, p, err, sizeof(err)) != 0) {
			log_warn(h->label, "health check: %s", err);
			continue;
		}
		p->owner = owner;
		p->inflight = true;
		started++;
	}
	return started;
}

void hg_influx_probe_answer(struct influx_probe *p, const struct httpc_response *r)
{
	struct influx_http *h = p->h;
	if (r->curl_code != 0 || r->status < 200 || r->status >= 300 || p->idx >= h->cur)
		return;
	char from[128], to[128];
	hg_influx_url_redact(h->urls[h->cur], from, sizeof(from));
	hg_influx_url_redact(h->urls[p->idx], to, sizeof(to));
	log_info(h->label, "%s answers its health check again: writing to it instead of %s", to, from);
	h->cur = p->idx;
}
