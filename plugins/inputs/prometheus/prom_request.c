/* One scrape target of inputs.prometheus: its URL (as requested, as
 * tagged, as shown in messages), its parsers, and its request: sent over
 * the shared httpc, the body fed to the parser its Content-Type names as
 * it arrives, the outcome reported to the gather's acc on completion.
 * The plugin's lifecycle and the gather that sends these is prometheus.c. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acc.h"
#include "httpc.h"
#include "prom.h"
#include "prom_scrape.h"
#include "url_redact.h"

#define MAX_LINE (128 * 1024)
#define DEFAULT_MAX_MESSAGE (16u << 20)
#define ERRORS_SHOWN 1 /* parse errors quoted per scrape; all are counted */

void hg_prom_scrape_free(struct scrape *s)
{
	if (!s)
		return;
	free(s->url);
	free(s->tag);
	free(s->shown);
	hg_prom_text_free(s->text);
	hg_prom_proto_free(s->proto);
	hg_prom_map_free(s->map);
	free(s->pod_id);
	free(s->tagblock);
	free(s->tags);
	free(s);
}

/* The URL to request (with /metrics when it has no path, as Telegraf), the
 * same without userinfo for the url tag, and that with the values of
 * secret-looking query parameters (?token=...) redacted for messages. */
static int prepare_url(struct scrape *s, const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	char *full = NULL, *bare = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "urls: not a valid URL");
		goto out;
	}
	const char *auth = strstr(url, "://");
	if (auth && auth[3 + strcspn(auth + 3, "/?#")] != '/')
		curl_url_set(u, CURLUPART_PATH, "/metrics", 0);
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		snprintf(err, errlen, "urls: not a valid URL");
		goto out;
	}
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &bare, 0) != CURLUE_OK) {
		snprintf(err, errlen, "urls: not a valid URL");
		goto out;
	}
	s->url = strdup(full);
	s->tag = strdup(bare);
	char shown[1024];
	s->shown = strdup(hg_url_redact(bare, shown, sizeof shown));
	if (!s->url || !s->tag || !s->shown) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	curl_free(full);
	curl_free(bare);
	curl_url_cleanup(u);
	return rc;
}

static void on_sample(void *arg, const struct prom_sample *smp)
{
	hg_prom_map_sample(((struct scrape *)arg)->map, smp);
}

static void on_parse_error(void *arg, const char *msg)
{
	struct scrape *s = arg;
	if (s->errors++ < ERRORS_SHOWN)
		snprintf(s->first_error, sizeof s->first_error, "%s", msg);
}

struct scrape *hg_prom_scrape_add(struct prom *p, const char *url, char *err, size_t errlen)
{
	if (p->nscrapes == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 8;
		struct scrape **nv = realloc(p->scrapes, c * sizeof *nv);
		if (!nv) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		p->scrapes = nv;
		p->cap = c;
	}
	struct scrape *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->p = p;
	if (prepare_url(s, url, err, errlen) != 0) {
		hg_prom_scrape_free(s);
		return NULL;
	}
	s->text = hg_prom_text_new(MAX_LINE, on_sample, on_parse_error, s);
	s->map = hg_prom_map_new();
	if (!s->text || !s->map) {
		hg_prom_scrape_free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (p->url_tag)
		hg_prom_map_url_tag(s->map, p->url_tag);
	p->scrapes[p->nscrapes++] = s;
	return s;
}

void hg_prom_scrape_retire(struct prom *p, size_t i)
{
	struct scrape *s = p->scrapes[i];
	if (s->busy) {
		s->gone = true; /* freed by its completion */
		return;
	}
	hg_prom_scrape_free(s);
	p->scrapes[i] = p->scrapes[--p->nscrapes];
}

static bool param_is(const char *ct, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	for (const char *q = strchr(ct, ';'); q; q = strchr(q + 1, ';')) {
		const char *a = q + 1;
		while (*a == ' ' || *a == '\t')
			a++;
		if (strncasecmp(a, name, nl) == 0 && a[nl] == '=') {
			const char *v = a + nl + 1;
			if (*v == '"')
				v++;
			return strncmp(v, value, vl) == 0 && (v[vl] == '\0' || v[vl] == ';' || v[vl] == '"' ||
							       v[vl] == ' ');
		}
	}
	return false;
}

static enum body_format format_of(const char *ct)
{
	if (!ct)
		return BODY_TEXT;
	while (*ct == ' ')
		ct++;
	size_t mt = strcspn(ct, "; ");
	if (mt == 31 && strncasecmp(ct, "application/vnd.google.protobuf", mt) == 0 &&
	    param_is(ct, "proto", "io.prometheus.client.MetricFamily") && param_is(ct, "encoding", "delimited"))
		return BODY_PROTOBUF;
	if (mt == 28 && strncasecmp(ct, "application/openmetrics-text", mt) == 0)
		return BODY_OPENMETRICS;
	/* text/plain, and (like Telegraf) anything else is tried as text. */
	return BODY_TEXT;
}

static bool on_response(void *arg, long status, const char *content_type)
{
	struct scrape *s = arg;
	struct prom *p = s->p;
	s->status = status;
	if (p->closed || status != 200)
		return false; /* an error page is no exposition: stop reading it */
	s->fmt = format_of(content_type);
	hg_prom_map_begin(s->map, p->acc, p->version, p->url_tag ? s->tag : NULL, p->ignore_ts);
	hg_prom_map_extra_tags(s->map, s->tags, s->ntags);
	if (s->fmt == BODY_PROTOBUF) {
		if (!s->proto)
			s->proto = hg_prom_proto_new(p->limit && p->limit < DEFAULT_MAX_MESSAGE ? (size_t)p->limit
											  : DEFAULT_MAX_MESSAGE,
						  on_sample, on_parse_error, s);
		if (!s->proto)
			return false;
		hg_prom_proto_reset(s->proto);
	} else {
		hg_prom_text_reset(s->text, s->fmt == BODY_OPENMETRICS);
	}
	return true;
}

static bool on_data(void *arg, const char *d, size_t n)
{
	struct scrape *s = arg;
	if (s->p->closed)
		return false;
	s->bytes += n;
	if (s->p->limit && s->bytes > s->p->limit) {
		/* The bytes up to the limit are parsed (complete lines only: the
		 * document is not finished), whatever the chunking. */
		s->over_limit = true;
		n -= (size_t)(s->bytes - s->p->limit);
		if (n && s->fmt == BODY_PROTOBUF)
			hg_prom_proto_feed(s->proto, d, n);
		else if (n)
			hg_prom_text_feed(s->text, d, n);
		return false;
	}
	/* The map and parsers point metrics at the scratch of the acc of
	 * this gather: map_sample runs synchronously inside feed. */
	if (s->fmt == BODY_PROTOBUF)
		hg_prom_proto_feed(s->proto, d, n);
	else
		hg_prom_text_feed(s->text, d, n);
	return true;
}

static void scrape_done(void *arg, const struct httpc_response *r)
{
	struct scrape *s = arg;
	struct prom *p = s->p;
	s->busy = false;
	p->pending--;
	if (p->closed) {
		if (p->pending == 0)
			hg_prom_destroy(p);
		return;
	}
	struct acc *acc = p->acc;
	if (s->fmt != BODY_NONE) {
		if (s->fmt == BODY_PROTOBUF)
			hg_prom_proto_finish(s->proto);
		else if (!s->over_limit && r->curl_code == 0)
			hg_prom_text_finish(s->text);
		hg_prom_map_end(s->map);
	}
	long status = s->status ? s->status : r->status;
	if (s->over_limit)
		hg_acc_error(acc, "%s: body larger than content_length_limit (%llu bytes); the rest was not read", s->shown,
			  (unsigned long long)p->limit);
	else if (status == 401)
		hg_acc_error(acc,
			  "%s returned HTTP status 401 Unauthorized: the credentials were not accepted (check "
			  "bearer_token or username/password)",
			  s->shown);
	else if (status == 403)
		hg_acc_error(acc,
			  "%s returned HTTP status 403 Forbidden: the credentials lack permission (a kubelet's "
			  "/metrics needs get on nodes/metrics in the ServiceAccount's ClusterRole)",
			  s->shown);
	else if (status != 0 && status != 200)
		hg_acc_error(acc, "%s returned HTTP status %ld", s->shown, status);
	else if (r->curl_code != 0)
		hg_acc_error(acc, "error making HTTP request to %s: %s", s->shown, r->error);
	if (s->errors)
		hg_acc_error(acc, "%s: %lu invalid %s skipped (first: %s)", s->shown, s->errors,
			  s->fmt == BODY_PROTOBUF ? "messages" : "lines", s->first_error);
	/* hg_prom_scrape_retire frees s: nothing may read it afterwards. */
	for (size_t i = 0; s->gone && i < p->nscrapes; i++) {
		if (p->scrapes[i] == s) {
			hg_prom_scrape_retire(p, i);
			break;
		}
	}
	if (p->pending == 0) {
		p->acc = NULL;
		hg_acc_gather_done(acc);
	}
}

void hg_prom_scrape_send(struct prom *p, struct scrape *s, const char *token)
{
	const char *headers[] = { p->accept, NULL };
	s->status = 0;
	s->fmt = BODY_NONE;
	s->bytes = 0;
	s->over_limit = false;
	s->errors = 0;
	s->first_error[0] = '\0';
	const char *tok = s->creds ? token : NULL, *user = s->creds ? p->user : NULL,
		   *pass = s->creds ? p->pass : NULL;
	struct httpc_request q = {
		.method = "GET",
		.url = s->url,
		.headers = headers,
		.timeout_ms = p->timeout_ms,
		.bearer_token = tok,
		.username = tok ? NULL : user,
		.password = tok ? NULL : pass,
		.user_agent = "heliograph/" HG_VERSION,
		.tls = { p->tls_ca, p->tls_cert, p->tls_key, p->insecure },
		.on_data = on_data,
		.on_response = on_response,
	};
	if (!tok && !user && pass)
		q.username = "";
	char err[256];
	if (hg_httpc_send(p->http, &q, scrape_done, s, err, sizeof err) != 0) {
		hg_acc_error(p->acc, "%s: %s", s->shown, err);
		return;
	}
	s->busy = true;
	p->pending++;
}
