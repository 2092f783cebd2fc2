/* One write request: parse, emit, answer (httpd has decompressed it). Every buffer here is
 * allocated once per listener and bounded by max_body / max_line, so a
 * request costs no allocation per line. */
#include "listener_write.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lp.h"

/* Marks "no timestamp in the line": the parser's default time. A multiple
 * of every precision (ns to h), so the parser's truncation keeps it exact;
 * it lies in the year 1684, where no real point does. */
#define NO_TS (-9000000000000000000LL)
#define MAX_LISTED 20      /* bad lines named in the answer */
#define LISTED_LINE_MAX 256 /* bytes of each bad line quoted */
#define ERRTEXT_MAX (MAX_LISTED * (LISTED_LINE_MAX + 200))

struct lw {
	struct lw_opts o;
	struct metric m;
	char *scratch;   /* unescaped tokens of one line */
	char *line;      /* a line with the receive time appended */
	size_t line_cap;
	struct lw_stats st;
};

struct lw *hg_lw_new(const struct lw_opts *o)
{
	struct lw *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o = *o;
	w->line_cap = o->max_line + 32;
	w->scratch = malloc(o->max_line + 1);
	w->line = malloc(w->line_cap);
	if (!w->scratch || !w->line) {
		hg_lw_free(w);
		return NULL;
	}
	return w;
}

void hg_lw_free(struct lw *w)
{
	if (!w)
		return;
	free(w->scratch);
	free(w->line);
	hg_metric_release(&w->m);
	free(w);
}

const struct lw_stats *hg_lw_stats(const struct lw *w) { return &w->st; }

void hg_lw_json_escape(struct httpd_resp *r, const char *s, size_t len)
{
	char buf[256];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (n + 6 >= sizeof buf) {
			hg_httpd_resp_append(r, buf, n);
			n = 0;
		}
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(buf + n, 7, "\\u%04x", c);
		} else {
			buf[n++] = c >= 0x80 ? '?' : (char)c;
		}
	}
	hg_httpd_resp_append(r, buf, n);
}

static int64_t precision_of(enum lw_api api, const char *p, bool *ok)
{
	static const struct {
		const char *name;
		int64_t ns;
		bool v1, v2;
	} tab[] = {
		{ "", 1, true, true },		      { "n", 1, true, false },
		{ "ns", 1, true, true },	      { "u", 1000, true, false },
		{ "us", 1000, true, true },	      { "ms", 1000000, true, true },
		{ "s", 1000000000, true, true },      { "m", 60000000000LL, true, false },
		{ "h", 3600000000000LL, true, false },
	};
	*ok = true;
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(p, tab[i].name) == 0 && (api == LW_V1 ? tab[i].v1 : tab[i].v2))
			return tab[i].ns;
	/* InfluxDB 1.x takes an unknown precision as ns; 2.x refuses it. */
	*ok = api == LW_V1;
	return 1;
}

static void answer_error(struct httpd_resp *resp, enum lw_api api, int status, const char *code, const char *msg,
			 size_t msglen)
{
	hg_httpd_resp_status(resp, status);
	hg_httpd_resp_type(resp, "application/json");
	if (api == LW_V1) {
		hg_httpd_resp_printf(resp, "{\"error\":\"");
	} else {
		hg_httpd_resp_printf(resp, "{\"code\":\"%s\",\"message\":\"", code);
	}
	hg_lw_json_escape(resp, msg, msglen);
	hg_httpd_resp_printf(resp, "\"}");
}

static int64_t floor_to(int64_t t, int64_t unit)
{
	int64_t q = t / unit;
	if (t % unit < 0)
		q--;
	return q * unit;
}

/* Emits one parsed line; raw_ok says whether its bytes may go out as they
 * are (timestamp in ns in the text, no tag added). */
static void emit_line(struct lw *w, struct acc *acc, const struct lp_parser *p, bool raw_ok, int64_t precision,
		      int64_t now)
{
	const char *line = p->line_start;
	size_t len = p->line_len;
	while (len && line[len - 1] == ' ')
		len--;
	bool has_ts = w->m.time_ns != NO_TS;
	if (!has_ts)
		w->m.time_ns = floor_to(now, precision);
	if (!raw_ok || (has_ts && precision != 1) || memchr(line, '\n', len)) {
		hg_acc_emit_line(acc, &w->m, NULL, 0);
		return;
	}
	if (!has_ts) {
		int n = snprintf(w->line + len, w->line_cap - len, " %lld", (long long)w->m.time_ns);
		if (n <= 0 || (size_t)n >= w->line_cap - len) {
			hg_acc_emit_line(acc, &w->m, NULL, 0);
			return;
		}
		memcpy(w->line, line, len);
		line = w->line;
		len += (size_t)n;
	}
	hg_acc_emit_line(acc, &w->m, line, len);
}

/* One request in progress: where its parse is and what it found so far,
 * kept between the loop turns it is parsed in. */
struct lw_task {
	struct lp_parser p;
	enum lw_api api;
	int64_t precision, now;
	const char *tag1, *tag2;
	char db[256], rp[256];
	uint64_t ok, bad;
	char errtext[ERRTEXT_MAX];
	size_t errlen;
	char first_err[200]; /* for the X-Influxdb-Error header */
};

void hg_lw_task_free(void *task) { free(task); }

/* nbad: bad lines of this request so far, this one included. */
static void errtext_add(struct lw_task *t, uint64_t nbad, const char *line, size_t linelen, const char *msg)
{
	if (nbad > MAX_LISTED)
		return;
	size_t shown = linelen > LISTED_LINE_MAX ? LISTED_LINE_MAX : linelen;
	int n = snprintf(t->errtext + t->errlen, sizeof t->errtext - t->errlen, "%sunable to parse '%.*s%s': %s",
			 t->errlen ? "\n" : "", (int)shown, line, shown < linelen ? "..." : "", msg);
	if (n > 0)
		t->errlen += (size_t)n < sizeof t->errtext - t->errlen ? (size_t)n : sizeof t->errtext - t->errlen - 1;
	if (!t->first_err[0]) {
		/* Cut on purpose: a header line, not the whole story. */
		if (snprintf(t->first_err, sizeof t->first_err, "unable to parse '%.*s': %s",
			     (int)(shown > 80 ? 80 : shown), line, msg) < 0)
			t->first_err[0] = 0;
		for (char *c = t->first_err; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = ' ';
	}
}

/* Checks the request and sets up its parse: NULL with resp filled when it
 * is answered at once (bad precision, a body httpd could not decode, out
 * of memory). */
static struct lw_task *task_start(struct lw *w, enum lw_api api, const struct httpd_req *req,
				  struct httpd_resp *resp, int64_t now)
{
	char prec[16] = "";
	w->st.writes++;
	w->st.bytes_received += req->body.len;

	hg_httpd_query_param(req->query, "precision", prec, sizeof prec);
	bool prec_ok;
	int64_t precision = precision_of(api, prec, &prec_ok);
	if (!prec_ok) {
		static const char m[] = "invalid precision; valid precision units are ns, us, ms, and s";
		answer_error(resp, api, 400, "invalid", m, sizeof m - 1);
		return NULL;
	}
	/* httpd decompressed a gzip body already (inflate_gzip), in slices and
	 * within max_body_size; only its verdict is left to word. */
	if (req->body_error == 413) {
		static const char m[] = "http: request body too large";
		w->st.too_large++;
		answer_error(resp, api, 413, "request too large", m, sizeof m - 1);
		return NULL;
	}
	if (req->body_error) {
		static const char m[] = "gzip: invalid or truncated body";
		answer_error(resp, api, 400, "invalid", m, sizeof m - 1);
		return NULL;
	}
	struct lw_task *t = calloc(1, sizeof *t);
	if (!t) {
		hg_httpd_resp_status(resp, 503);
		hg_httpd_resp_header(resp, "Retry-After", "1");
		hg_httpd_resp_printf(resp, "out of memory\n");
		return NULL;
	}
	t->api = api;
	t->precision = precision;
	t->now = now;
	if (api == LW_V1) {
		if (w->o.database_tag && *w->o.database_tag && hg_httpd_query_param(req->query, "db", t->db, sizeof t->db) &&
		    *t->db)
			t->tag1 = w->o.database_tag;
		if (w->o.retention_policy_tag && *w->o.retention_policy_tag &&
		    hg_httpd_query_param(req->query, "rp", t->rp, sizeof t->rp) && *t->rp)
			t->tag2 = w->o.retention_policy_tag;
	} else if (w->o.bucket_tag && *w->o.bucket_tag &&
		   hg_httpd_query_param(req->query, "bucket", t->db, sizeof t->db) && *t->db) {
		t->tag1 = w->o.bucket_tag;
	}
	hg_lp_parser_init(&t->p, req->body.p, req->body.len, precision, NO_TS, w->scratch, w->o.max_line + 1);
	return t;
}

/* Parses and emits lines until slice bytes of the body are done (a line
 * is never cut: the next slice starts at the next line); false at the
 * end of the body. */
static bool parse_slice(struct lw *w, struct acc *acc, struct lw_task *t, size_t slice)
{
	struct lp_parser *p = &t->p;
	const char *stop = (size_t)(p->end - p->pos) > slice ? p->pos + slice : p->end;
	char err[200];
	/* The parser's scratch is the listener's, shared by requests: it only
	 * holds the line being parsed, and a slice ends between lines. */
	p->scratch = w->scratch;
	while (p->pos < stop) {
		int r = hg_lp_parse_next(p, &w->m, err, sizeof err);
		if (r == 0)
			return false;
		if (r > 0 && p->line_len > w->o.max_line) {
			snprintf(err, sizeof err, "at line %u: line longer than max_line_size (%zu bytes)", p->line,
				 w->o.max_line);
			r = -1;
		}
		if (r < 0) {
			t->bad++;
			w->st.lines_bad++;
			errtext_add(t, t->bad, p->line_start, p->line_len, err);
			continue;
		}
		if (t->tag1)
			hg_metric_tag(&w->m, t->tag1, t->db);
		if (t->tag2)
			hg_metric_tag(&w->m, t->tag2, t->rp);
		emit_line(w, acc, p, !t->tag1 && !t->tag2 && !p->tags_sorted, t->precision, t->now);
		t->ok++;
		w->st.lines_ok++;
	}
	return p->pos < p->end;
}

/* The answer to a request whose lines are all parsed. */
static void answer_parsed(struct lw_task *t, struct httpd_resp *resp)
{
	enum lw_api api = t->api;
	if (!t->bad) {
		hg_httpd_resp_status(resp, 204);
		return;
	}
	hg_httpd_resp_header(resp, "X-Influxdb-Error", t->first_err);
	if (t->bad > MAX_LISTED) {
		int n = snprintf(t->errtext + t->errlen, sizeof t->errtext - t->errlen, "\n(and %llu more)",
				 (unsigned long long)(t->bad - MAX_LISTED));
		if (n > 0 && (size_t)n < sizeof t->errtext - t->errlen)
			t->errlen += (size_t)n;
	}
	if (!t->ok) {
		answer_error(resp, api, 400, "invalid", t->errtext, t->errlen);
		return;
	}
	/* InfluxDB 1.x words it this way; "partial write" tells a client the
	 * other lines were kept, dropped= how many were not. */
	char msg[ERRTEXT_MAX + 64];
	int n = snprintf(msg, sizeof msg, "partial write: %.*s dropped=%llu", (int)t->errlen, t->errtext,
			 (unsigned long long)t->bad);
	answer_error(resp, api, 400, "invalid", msg, n > 0 ? ((size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) : 0);
}

bool hg_lw_handle_slice(struct lw *w, struct acc *acc, enum lw_api api, const struct httpd_req *req,
			struct httpd_resp *resp, int64_t now, void **task, size_t slice)
{
	struct lw_task *t = *task;
	if (!t && !(t = *task = task_start(w, api, req, resp, now)))
		return false;
	if (parse_slice(w, acc, t, slice ? slice : SIZE_MAX))
		return true;
	/* The request's delivery ends (a disk buffer stages what it got). */
	hg_acc_service_done(acc);
	answer_parsed(t, resp);
	free(t);
	*task = NULL;
	return false;
}

void hg_lw_handle(struct lw *w, struct acc *acc, enum lw_api api, const struct httpd_req *req, struct httpd_resp *resp,
		  int64_t now)
{
	void *task = NULL;
	hg_lw_handle_slice(w, acc, api, req, resp, now, &task, 0);
}
