/* List+watch driver: LIST pages, then WATCH from the list's resourceVersion;
 * a watch that ends is resumed from the last resourceVersion seen, 410 Gone
 * means the history is compacted: list again. Errors back off 1 s .. 30 s. */
#include "kube_watch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_watch_parse.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct kube_watch {
	struct kube_client *c;
	struct kube_watch_opts o;
	char *path, *labels, *fields;
	char rv[64];
	char cont[1024];
	struct kwp parser;
	bool in_flight, listing, stopped, relist, parse_failed;
	bool in_done; /* on_done runs: a stop from a callback leaves the freeing to it */
	char parse_err[256];
	unsigned lists;
	uint64_t backoff_ms;
	uv_timer_t timer;
	bool timer_closed;
};

static void next(struct kube_watch *w);

static void report(struct kube_watch *w, const char *msg)
{
	if (w->o.on_error && !w->stopped)
		w->o.on_error(w->o.arg, msg);
}

static void emit(void *arg, struct kwp *p, bool from_list)
{
	struct kube_watch *w = arg;
	if (w->stopped)
		return;
	struct kube_event ev = { .from_list = from_list, .name = p->name, .namespace = p->ns,
				 .resource_version = p->rv };
	hg_kwp_object(p, &ev.object, &ev.object_len);
	if (!from_list) {
		if (strcmp(p->type, "ERROR") == 0) {
			/* 410: our resourceVersion is older than the server keeps. */
			if (p->code == 410)
				w->relist = true;
			else
				report(w, "the watch ended with an error event");
			return;
		}
		if (strcmp(p->type, "ADDED") == 0)
			ev.type = KUBE_EV_ADDED;
		else if (strcmp(p->type, "MODIFIED") == 0)
			ev.type = KUBE_EV_MODIFIED;
		else if (strcmp(p->type, "DELETED") == 0)
			ev.type = KUBE_EV_DELETED;
		else if (strcmp(p->type, "BOOKMARK") == 0)
			ev.type = KUBE_EV_BOOKMARK;
		else
			return;
		if (p->rv[0])
			snprintf(w->rv, sizeof(w->rv), "%s", p->rv);
	}
	w->o.on_event(w->o.arg, &ev);
}

static bool on_data(void *arg, const char *p, size_t n)
{
	struct kube_watch *w = arg;
	if (w->stopped || w->relist)
		return false;
	if (hg_kwp_feed(&w->parser, p, n, w->parse_err, sizeof(w->parse_err)) != 0) {
		w->parse_failed = true;
		return false;
	}
	return !w->stopped && !w->relist;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct kube_watch *w = h->data;
	free(w);
}

static void destroy(struct kube_watch *w)
{
	hg_kwp_free(&w->parser);
	free(w->path);
	free(w->labels);
	free(w->fields);
	uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_timer(uv_timer_t *t)
{
	next(t->data);
}

static void retry_later(struct kube_watch *w)
{
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	uv_timer_start(&w->timer, on_timer, w->backoff_ms, 0);
}

static void done(struct kube_watch *w, const struct kube_response *r);

/* A callback (on_synced, on_error) may stop the watch, and with it the
 * program: the watch is freed here, once the callbacks are over. */
static void on_done(void *arg, const struct kube_response *r)
{
	struct kube_watch *w = arg;
	w->in_flight = false;
	w->in_done = true;
	done(w, r);
	w->in_done = false;
	if (w->stopped && !w->in_flight)
		destroy(w);
}

static void done(struct kube_watch *w, const struct kube_response *r)
{
	if (w->stopped)
		return;
	char err[256];
	bool ok = r->status >= 200 && r->status < 300 && !w->parse_failed;
	if (ok && r->broken_off && w->listing)
		ok = false; /* reported below as the transport error, not as the JSON it left unfinished */
	else if (ok && r->broken_off && !w->relist)
		report(w, r->message); /* then resumed from the last resourceVersion: nothing lost */
	else if (ok && !w->relist && hg_kwp_finish(&w->parser, err, sizeof(err)) != 0 && w->listing) {
		report(w, err);
		ok = false;
	}
	if (w->parse_failed)
		report(w, w->parse_err);
	else if (!ok && r->status == 410)
		w->relist = true; /* an expired continue token or resourceVersion */
	else if (!ok)
		report(w, r->message);
	if (w->relist) {
		w->rv[0] = w->cont[0] = '\0';
		w->relist = false;
		w->listing = true;
		next(w);
		return;
	}
	if (!ok) {
		retry_later(w);
		return;
	}
	if (w->listing) {
		snprintf(w->cont, sizeof(w->cont), "%s", w->parser.cont);
		if (!w->cont[0]) {
			snprintf(w->rv, sizeof(w->rv), "%s", w->parser.list_rv);
			w->listing = false;
			if (w->o.on_synced)
				w->o.on_synced(w->o.arg);
			if (w->stopped)
				return;
		}
	}
	w->backoff_ms = 0;
	next(w);
}

static void add(char *buf, size_t len, const char *k, const char *v)
{
	if (!v || !*v)
		return;
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "&%s=%s", k, v);
}

static void next(struct kube_watch *w)
{
	if (w->stopped)
		return;
	char path[4096], num[32], err[512];
	snprintf(path, sizeof(path), "%s?", w->path);
	if (w->listing) {
		if (!w->cont[0]) {
			w->lists++;
			if (w->o.on_list_start)
				w->o.on_list_start(w->o.arg);
			if (w->stopped)
				return;
		}
		snprintf(num, sizeof(num), "%u", w->o.page_size ? w->o.page_size : 500);
		add(path, sizeof(path), "limit", num);
		char *esc = w->cont[0] ? curl_easy_escape(NULL, w->cont, 0) : NULL;
		add(path, sizeof(path), "continue", esc);
		curl_free(esc);
	} else {
		add(path, sizeof(path), "watch", "1");
		add(path, sizeof(path), "resourceVersion", w->rv);
		add(path, sizeof(path), "allowWatchBookmarks", "true");
		snprintf(num, sizeof(num), "%u", w->o.timeout_seconds ? w->o.timeout_seconds : 300);
		add(path, sizeof(path), "timeoutSeconds", num);
	}
	add(path, sizeof(path), "labelSelector", w->labels);
	add(path, sizeof(path), "fieldSelector", w->fields);
	hg_kwp_free(&w->parser);
	if (hg_kwp_init(&w->parser, w->listing, w->o.max_object ? w->o.max_object : (4u << 20), emit, w) != 0) {
		report(w, "out of memory");
		retry_later(w);
		return;
	}
	w->parse_failed = false;
	struct kube_request rq = { .method = "GET", .path = path, .what = w->listing ? "list" : "watch",
				   .timeout_ms = w->listing ? 0 : -1, .on_data = on_data };
	/* The client-side bound on a watch is the server's timeoutSeconds plus slack. */
	if (!w->listing)
		rq.timeout_ms = ((int64_t)(w->o.timeout_seconds ? w->o.timeout_seconds : 300) + 30) * 1000;
	if (hg_kube_send(w->c, &rq, on_done, w, err, sizeof(err)) != 0) {
		report(w, err);
		retry_later(w);
		return;
	}
	w->in_flight = true;
}

struct kube_watch *hg_kube_watch_start(struct kube_client *c, const struct kube_watch_opts *o, char *err, size_t errlen)
{
	if (!o->path || !o->on_event) {
		snprintf(err, errlen, "watch needs a path and an event callback");
		return NULL;
	}
	struct kube_watch *w = calloc(1, sizeof(*w));
	w->c = c;
	w->o = *o;
	w->path = strdup(o->path);
	w->labels = o->label_selector ? curl_easy_escape(NULL, o->label_selector, 0) : NULL;
	w->fields = o->field_selector ? curl_easy_escape(NULL, o->field_selector, 0) : NULL;
	/* curl_easy_escape memory is released with free() by destroy(); make it ours. */
	if (w->labels) {
		char *s = strdup(w->labels);
		curl_free(w->labels);
		w->labels = s;
	}
	if (w->fields) {
		char *s = strdup(w->fields);
		curl_free(w->fields);
		w->fields = s;
	}
	uv_timer_init(hg_kube_client_loop(c), &w->timer);
	w->timer.data = w;
	w->listing = true;
	next(w);
	return w;
}

void hg_kube_watch_stop(struct kube_watch *w)
{
	if (!w)
		return;
	w->stopped = true;
	uv_timer_stop(&w->timer);
	if (!w->in_flight && !w->in_done)
		destroy(w);
}

const char *hg_kube_watch_resource_version(const struct kube_watch *w)
{
	return w->rv;
}

unsigned hg_kube_watch_lists(const struct kube_watch *w)
{
	return w->lists;
}
