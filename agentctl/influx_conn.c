/* The InfluxDB requests of the pipeline commands: one blocking request at a
 * time, the sync pattern of kube/ over the shared HTTP client, so TLS and
 * proxy options behave as the agent's. */
#include "influx_conn.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "commands.h"
#include "httpc.h"
#include "influx_http.h"
#include "url_redact.h"

#define DEFAULT_URL "http://127.0.0.1:8086"
#define WRITE_ANSWER_BYTES 4096

bool hg_influx_conn_option(struct influx_conn *c, int opt, const char *arg)
{
	switch (opt) {
	case INFLUX_CONN_O_URL: c->url = arg; return true;
	case INFLUX_CONN_O_DATABASE: c->database = arg; return true;
	case INFLUX_CONN_O_USERNAME: c->username = arg; return true;
	case INFLUX_CONN_O_PASSWORD: c->password = arg; return true;
	case INFLUX_CONN_O_TOKEN: c->token = arg; return true;
	case INFLUX_CONN_O_ORG: c->org = arg; return true;
	case INFLUX_CONN_O_BUCKET: c->bucket = arg; return true;
	case INFLUX_CONN_O_TLS_CA: c->tls_ca = arg; return true;
	case INFLUX_CONN_O_TIMEOUT: c->timeout = arg; return true;
	case INFLUX_CONN_O_SKIP_CREATE: c->skip_create = true; return true;
	default: return false;
	}
}

const char *hg_influx_conn_env_or(const char *v, const char *name)
{
	if (v)
		return v;
	const char *e = getenv(name);
	return e && *e ? e : NULL;
}

void hg_influx_conn_from_env(struct influx_conn *c)
{
	c->url = hg_influx_conn_env_or(c->url, "HELIOGRAPH_INFLUX_URL");
	if (!c->url)
		c->url = DEFAULT_URL;
	c->database = hg_influx_conn_env_or(c->database, "HELIOGRAPH_INFLUX_DATABASE");
	if (!c->database)
		c->database = INFLUX_CONN_DEFAULT_DATABASE;
	if (!c->username && !c->password)
		c->token = hg_influx_conn_env_or(c->token, "HELIOGRAPH_INFLUX_TOKEN");
	if (!c->token) {
		c->username = hg_influx_conn_env_or(c->username, "HELIOGRAPH_INFLUX_USERNAME");
		c->password = hg_influx_conn_env_or(c->password, "HELIOGRAPH_INFLUX_PASSWORD");
	} else {
		c->org = hg_influx_conn_env_or(c->org, "HELIOGRAPH_INFLUX_ORG");
		c->bucket = hg_influx_conn_env_or(c->bucket, "HELIOGRAPH_INFLUX_BUCKET");
	}
}

static int parse_timeout(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v > 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

const char *hg_influx_conn_check(const struct influx_conn *c, char *buf, size_t buflen)
{
	if (c->token && c->skip_create)
		return "--skip-database-creation is for v1 (--database): v2 writes to a --bucket";
	if (c->token && (c->username || c->password))
		return "give --token (v2) or --username/--password (v1), not both";
	if (!c->token && (c->org || c->bucket))
		return "--org and --bucket are for v2: give --token too";
	if (c->token && !c->bucket)
		return "--token (v2) needs --bucket";
	if (!!c->username != !!c->password)
		return "--username and --password go together";
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		char shown[512];
		snprintf(buf, buflen, "--url '%s': expected http://HOST:PORT or https://...",
			 hg_url_redact(c->url, shown, sizeof shown));
		return buf;
	}
	double t;
	if (c->timeout && parse_timeout(c->timeout, &t) < 0) {
		snprintf(buf, buflen, "--timeout '%.100s': expected seconds (a number > 0)", c->timeout);
		return buf;
	}
	return NULL;
}

struct sync_state {
	bool done;
	long status;
	int curl_code;
	bool db_missing, query_failed, truncated;
	char msg[512];
	char *body; /* kept when asked for */
	size_t body_len;
	bool keep_body;
};

static void on_done(void *arg, const struct httpc_response *r)
{
	struct sync_state *s = arg;
	s->done = true;
	s->status = r->status;
	s->curl_code = r->curl_code;
	s->db_missing = hg_influx_database_missing(r);
	s->truncated = r->body_truncated;
	/* A /query that failed says so in a 200's body. */
	s->query_failed = r->curl_code == 0 && !hg_influx_query_succeeded(r);
	if (r->curl_code != 0)
		snprintf(s->msg, sizeof s->msg, "%s", r->error && *r->error ? r->error : "transport error");
	else if (r->status < 200 || r->status >= 300 || s->query_failed)
		hg_influx_error_text(r, s->msg, sizeof s->msg);
	if (s->keep_body && r->curl_code == 0 && r->body) {
		s->body = malloc(r->body_len + 1);
		if (s->body) {
			memcpy(s->body, r->body, r->body_len);
			s->body[r->body_len] = '\0';
			s->body_len = r->body_len;
		}
	}
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
static char *server_url(const struct influx_conn *c, const char *path, const char *query)
{
	char base[1024];
	snprintf(base, sizeof base, "%s", c->url);
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		base[--n] = '\0';
	return hg_influx_url(base, path, query);
}

static char *write_url(const struct influx_conn *c)
{
	char *q = NULL;
	if (c->token) {
		q = hg_influx_query_add(q, "org", c->org);
		if (q || !c->org)
			q = hg_influx_query_add(q, "bucket", c->bucket);
	} else {
		q = hg_influx_query_add(q, "db", c->database);
	}
	if (!q)
		return NULL;
	q = hg_influx_query_add(q, "precision", "ns");
	if (!q)
		return NULL;
	char *url = server_url(c, c->token ? "/api/v2/write" : "/write", q);
	free(q);
	return url;
}

/* One blocking POST; the outcome in *s (its body kept when keep_body). 0, or
 * -1 with err when it could not be sent at all. */
static int post(const struct influx_conn *c, const char *url, const char *content_type, const char *body,
		size_t len, size_t max_response, bool keep_body, struct sync_state *s, char *err, size_t errlen)
{
	char auth[1024] = "", ctype[128];
	snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
	const char *headers[3] = { ctype, NULL, NULL };
	if (c->token) {
		snprintf(auth, sizeof auth, "Authorization: Token %s", c->token);
		headers[1] = auth;
	}
	double timeout = 10;
	if (c->timeout)
		parse_timeout(c->timeout, &timeout);
	struct httpc_request q = {
		.method = "POST",
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = len,
		.timeout_ms = (int64_t)(timeout * 1000),
		.username = c->username,
		.password = c->password,
		.user_agent = "heliograph-agentctl/" HG_VERSION,
		.tls = { .ca_file = c->tls_ca },
		.max_response = max_response,
	};
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct httpc *hc = hg_httpc_new(&loop);
	int rc = -1;
	*s = (struct sync_state){ .keep_body = keep_body };
	if (!hc) {
		snprintf(err, errlen, "cannot start the HTTP client");
	} else if (hg_httpc_send(hc, &q, on_done, s, err, errlen) == 0) {
		while (!s->done)
			uv_run(&loop, UV_RUN_ONCE);
		rc = 0;
	}
	if (hc)
		hg_httpc_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	memset(auth, 0, sizeof auth);
	return rc;
}

/* CREATE DATABASE, as the influxdb output does when a write finds none.
 * 0, or -1 with why in err. */
static int create_database(const struct influx_conn *c, char *err, size_t errlen)
{
	char *url = server_url(c, "/query", NULL), *body = hg_influx_create_database_body(c->database);
	struct sync_state s;
	int rc = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory");
	else if (post(c, url, "application/x-www-form-urlencoded", body, strlen(body), WRITE_ANSWER_BYTES, false, &s,
		      err, errlen) == 0) {
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

/* The message of a request that did not succeed, and its exit code. */
static int failure(const struct influx_conn *c, const struct sync_state *s, const char *redacted, char *err,
		   size_t errlen)
{
	if (s->curl_code != 0)
		snprintf(err, errlen, "%.300s: %.300s", redacted, s->msg);
	else
		snprintf(err, errlen, "%.300s: HTTP %ld%s%.300s", redacted, s->status, s->msg[0] ? ": " : "", s->msg);
	/* A v1 database that is missing or not this user's: say how to name another. */
	if (!c->token && (s->db_missing || s->status == 403)) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, "%s%s",
			 s->db_missing && c->skip_create ? " (--skip-database-creation is set); " : "; ",
			 INFLUX_CONN_DATABASE_HINT);
	}
	return transient(s) ? AGENTCTL_UNREACHABLE : AGENTCTL_FAILED;
}

int hg_influx_conn_write(const struct influx_conn *c, const char *line, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	char *url = write_url(c);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return AGENTCTL_FAILED;
	}
	char redacted[512];
	hg_influx_url_redact(url, redacted, sizeof redacted);
	struct sync_state s;
	int rc = AGENTCTL_FAILED;
	const char *ct = "text/plain; charset=utf-8";
	if (post(c, url, ct, line, len, WRITE_ANSWER_BYTES, false, &s, err, errlen) != 0)
		goto out;
	bool created = false;
	if (s.db_missing && !c->token && !c->skip_create) {
		char why[512];
		if (create_database(c, why, sizeof why) != 0) {
			snprintf(err, errlen,
				 "%.300s: database \"%.100s\" not found, and CREATE DATABASE failed (%.300s): %s",
				 redacted, c->database, why, INFLUX_CONN_DATABASE_HINT);
			goto out;
		}
		created = true;
		if (post(c, url, ct, line, len, WRITE_ANSWER_BYTES, false, &s, err, errlen) != 0)
			goto out;
	}
	if (s.curl_code == 0 && s.status >= 200 && s.status < 300) {
		rc = AGENTCTL_OK;
		if (created)
			fprintf(stderr, "agentctl %s: created database \"%s\"\n", c->cmd, c->database);
		goto out;
	}
	rc = failure(c, &s, redacted, err, errlen);
out:
	free(url);
	/* Servers echo what they were sent in some errors; the message is printed. */
	hg_influx_scrub(err, c->password);
	hg_influx_scrub(err, c->token);
	return rc;
}

int hg_influx_conn_query(const struct influx_conn *c, const char *q, size_t max_bytes, char **body, char *err,
		      size_t errlen)
{
	err[0] = '\0';
	*body = NULL;
	char *url = server_url(c, "/query", NULL);
	char *form = hg_influx_query_add(NULL, "db", c->token ? c->bucket : c->database);
	if (form)
		form = hg_influx_query_add(form, "epoch", "ns");
	if (form)
		form = hg_influx_query_add(form, "q", q);
	int rc = AGENTCTL_FAILED;
	if (!url || !form) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	char redacted[512];
	hg_influx_url_redact(url, redacted, sizeof redacted);
	struct sync_state s;
	if (post(c, url, "application/x-www-form-urlencoded", form, strlen(form), max_bytes, true, &s, err, errlen) !=
	    0)
		goto out;
	if (s.curl_code == 0 && s.status >= 200 && s.status < 300 && s.truncated) {
		snprintf(err, errlen, "%.300s: the answer is larger than %zu bytes (a shorter --window, or a narrower "
				      "--pods, reads less)", redacted, max_bytes);
	} else if (s.curl_code == 0 && s.status >= 200 && s.status < 300 && !s.query_failed) {
		if (!s.body) {
			snprintf(err, errlen, "out of memory");
		} else {
			*body = s.body;
			s.body = NULL;
			rc = AGENTCTL_OK;
		}
	} else {
		rc = failure(c, &s, redacted, err, errlen);
	}
	free(s.body);
out:
	free(url);
	free(form);
	hg_influx_scrub(err, c->password);
	hg_influx_scrub(err, c->token);
	return rc;
}
