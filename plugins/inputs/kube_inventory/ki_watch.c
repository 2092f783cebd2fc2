/* Each watched object is read with the LIST reader (ki_stream.c) as a list
 * of one, {"items":[OBJECT]}, into the same ki_obj as list mode, so both
 * modes pick the same values out of the same JSON. */
#include "ki_watch.h"

#include <stdio.h>
#include <string.h>

#include "acc.h"
#include "log.h"

static uint64_t now_ms(const struct ki_rw *rw)
{
	(void)rw;
	return uv_hrtime() / 1000000;
}

static void item_begin(void *arg)
{
	struct ki_rw *rw = arg;
	hg_ki_obj_reset(&rw->obj);
}

static void item_value(void *arg, const char *path, enum ks_type t, const char *v, size_t n, int idx)
{
	struct ki_rw *rw = arg;
	hg_ki_obj_value(&rw->obj, path, t, v, n, idx);
}

/* Reads one object's JSON into rw->obj; false (with rw->err) when it is not one. */
static bool read_object(struct ki_rw *rw, const char *json, size_t len)
{
	struct ks_handler hd = { item_begin, item_value, NULL, rw };
	struct ks p;
	char err[200] = "";
	if (hg_ks_init(&p, &hd) != 0) {
		snprintf(rw->err, sizeof rw->err, "out of memory");
		return false;
	}
	static const char head[] = "{\"items\":[", tail[] = "]}";
	bool ok = hg_ks_feed(&p, head, sizeof head - 1, err, sizeof err) == 0 && hg_ks_feed(&p, json, len, err, sizeof err) == 0 &&
		  hg_ks_feed(&p, tail, sizeof tail - 1, err, sizeof err) == 0 && hg_ks_finish(&p, err, sizeof err) == 0;
	hg_ks_free(&p);
	if (!ok)
		snprintf(rw->err, sizeof rw->err, "%s", err);
	return ok;
}

static void gap_begins(struct ki_rw *rw, const char *why)
{
	if (rw->stale_since)
		return;
	rw->stale_since = now_ms(rw);
	snprintf(rw->stale_why, sizeof rw->stale_why, "%s", why);
	log_warn(rw->label, "watch %s: %s; the cache keeps the last state it had until the watch is back", rw->resource,
		 why);
}

static void gap_ends(struct ki_rw *rw, const char *how)
{
	if (!rw->stale_since)
		return;
	uint64_t ms = now_ms(rw) - rw->stale_since;
	log_info(rw->label, "watch %s: back after a gap of %llu ms (%s); %s", rw->resource, (unsigned long long)ms,
		 rw->stale_why, how);
	rw->gaps++;
	rw->gaps_unreported++;
	rw->gap_ms_unreported += ms;
	snprintf(rw->gap_last, sizeof rw->gap_last, "%.255s; %.120s", rw->stale_why, how);
	rw->stale_since = 0;
}

static void on_event(void *arg, const struct kube_event *ev)
{
	struct ki_rw *rw = arg;
	if (ev->from_list) {
		if (read_object(rw, ev->object, ev->object_len) && hg_ki_cache_put(&rw->pending, &rw->obj) != 0)
			snprintf(rw->err, sizeof rw->err, "%s/%s: too large to cache (skipped)", ev->namespace, ev->name);
		return;
	}
	if (!rw->listing)
		gap_ends(rw, "the watch resumed from its resourceVersion, nothing was missed");
	if (ev->type == KUBE_EV_BOOKMARK)
		return;
	rw->events++;
	if (ev->type == KUBE_EV_DELETED) {
		hg_ki_cache_remove(&rw->cache, ev->namespace, ev->name);
		return;
	}
	if (read_object(rw, ev->object, ev->object_len) && hg_ki_cache_put(&rw->cache, &rw->obj) != 0) {
		/* The old state would be wrong from now on: better absent. */
		hg_ki_cache_remove(&rw->cache, ev->namespace, ev->name);
		snprintf(rw->err, sizeof rw->err, "%s/%s: too large to cache (skipped)", ev->namespace, ev->name);
	}
}

static void on_list_start(void *arg)
{
	struct ki_rw *rw = arg;
	hg_ki_cache_clear(&rw->pending);
	rw->listing = true;
	if (rw->synced)
		gap_begins(rw, "the watch's history expired (410 Gone): listing again");
}

static void on_synced(void *arg)
{
	struct ki_rw *rw = arg;
	hg_ki_cache_clear(&rw->cache);
	rw->cache = rw->pending;
	hg_ki_cache_init(&rw->pending);
	rw->listing = false;
	bool first = !rw->synced;
	rw->synced = true;
	gap_ends(rw, "resynced from a new list");
	if (first)
		log_info(rw->label, "watch %s: listed %zu, watching for changes", rw->resource, rw->cache.n);
	if (rw->on_synced)
		rw->on_synced(rw->arg);
}

static void on_error(void *arg, const char *msg)
{
	struct ki_rw *rw = arg;
	if (rw->synced)
		gap_begins(rw, msg);
	else {
		log_warn(rw->label, "list %s: %s (trying again)", rw->resource, msg);
		snprintf(rw->list_err, sizeof rw->list_err, "%s", msg);
	}
}

int hg_ki_rw_start(struct ki_rw *rw, struct kube_client *c, const struct ki_rw_opts *o, char *err, size_t errlen)
{
	memset(rw, 0, sizeof *rw);
	rw->kind = o->kind;
	rw->label = o->label;
	rw->resource = o->resource;
	rw->on_synced = o->on_synced;
	rw->arg = o->arg;
	hg_ki_obj_init(&rw->obj, o->kind);
	hg_ki_cache_init(&rw->cache);
	hg_ki_cache_init(&rw->pending);
	struct kube_watch_opts wo = {
		.path = o->path,
		.field_selector = o->field_selector,
		.on_event = on_event,
		.on_synced = on_synced,
		.on_list_start = on_list_start,
		.on_error = on_error,
		.arg = rw,
		.timeout_seconds = o->timeout_seconds,
		.page_size = o->page_size,
	};
	rw->w = hg_kube_watch_start(c, &wo, err, errlen);
	if (!rw->w) {
		hg_ki_obj_free(&rw->obj);
		return -1;
	}
	return 0;
}

void hg_ki_rw_stop(struct ki_rw *rw)
{
	if (!rw->w)
		return;
	hg_kube_watch_stop(rw->w);
	rw->w = NULL;
	hg_ki_cache_clear(&rw->cache);
	hg_ki_cache_clear(&rw->pending);
	hg_ki_obj_free(&rw->obj);
	rw->synced = rw->listing = false;
	rw->stale_since = 0;
}

bool hg_ki_rw_running(const struct ki_rw *rw)
{
	return rw->w != NULL;
}

size_t hg_ki_rw_emit(struct ki_rw *rw, struct acc *acc, const struct ki_filter *sel, struct ki_obj *scratch)
{
	if (rw->gaps_unreported) {
		hg_acc_error(acc, "watch %s: %u gap(s) since the last gather, %llu ms in all (last: %s)", rw->resource,
			  rw->gaps_unreported, (unsigned long long)rw->gap_ms_unreported, rw->gap_last);
		rw->gaps_unreported = 0;
		rw->gap_ms_unreported = 0;
	}
	if (rw->stale_since)
		hg_acc_error(acc, "watch %s: not current for %llu ms (%s): these are the values from before", rw->resource,
			  (unsigned long long)(now_ms(rw) - rw->stale_since), rw->stale_why);
	if (rw->err[0]) {
		hg_acc_error(acc, "watch %s: %s", rw->resource, rw->err);
		rw->err[0] = '\0';
	}
	scratch->kind = rw->kind;
	size_t n = 0;
	for (size_t i = 0; i < rw->cache.cap; i++) {
		if (!hg_ki_cache_get(&rw->cache, i, scratch))
			continue;
		n++;
		if (!hg_ki_obj_emit(scratch, acc, sel) && !rw->oom_reported) {
			rw->oom_reported = true;
			hg_acc_error(acc, "watch %s: out of memory emitting an object", rw->resource);
		}
	}
	return n;
}
