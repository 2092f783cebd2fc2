/* Watch mode of one resource: kube/kube_watch.c (the list+watch machinery
 * deploy_events and the pod watch use: paged LIST, WATCH from its
 * resourceVersion with bookmarks, resume, 410 relists) feeding a ki_cache.
 * A (re)list fills a second cache that replaces the first only when the
 * list is complete, so a gather during a relist emits the last complete
 * state: every series once, none missing. Watch events change the cache in
 * place. A gap (the watch failing, its history expiring) is logged when it
 * starts and ends, and told to the next gather (hg_acc_error, counted in
 * internal_gather.errors). */
#ifndef HG_KI_WATCH_H
#define HG_KI_WATCH_H
#include <stdbool.h>
#include <stdint.h>

#include "ki_cache.h"
#include "ki_obj.h"
#include "ki_stream.h"
#include "kube_client.h"
#include "kube_watch.h"

struct acc;

struct ki_rw {
	enum ki_kind kind;
	const char *label, *resource; /* log label, "pods" */
	struct kube_watch *w;
	struct ki_cache cache, pending;
	struct ki_obj obj; /* the object being read */
	bool synced;       /* cache holds one complete list */
	bool listing;      /* a (re)list is in progress */
	bool oom_reported;
	/* A gap: since when (uv_now ms, 0 = none) and why. */
	uint64_t stale_since;
	char stale_why[256];
	/* Gaps that ended since the last gather: how many, how long in all, the last reason. */
	unsigned gaps_unreported;
	uint64_t gap_ms_unreported;
	char gap_last[384];
	unsigned gaps;              /* in all (tests) */
	unsigned long events;       /* watch events applied */
	char err[256];              /* an object that could not be read, for the next gather */
	char list_err[256];         /* why the first list has not completed ("" = no error) */
	void (*on_synced)(void *arg);
	void *arg;
};

struct ki_rw_opts {
	enum ki_kind kind;
	const char *label, *resource, *path, *field_selector;
	unsigned page_size, timeout_seconds;
	void (*on_synced)(void *arg); /* after every complete (re)list */
	void *arg;
};

int hg_ki_rw_start(struct ki_rw *rw, struct kube_client *c, const struct ki_rw_opts *o, char *err, size_t errlen);
/* Stops the watch and frees the caches (a follower keeps nothing). */
void hg_ki_rw_stop(struct ki_rw *rw);
bool hg_ki_rw_running(const struct ki_rw *rw);
/* Emits every cached object into acc (scratch: a reused ki_obj); reports
 * gaps and unreadable objects as errors. Returns the objects emitted. */
size_t hg_ki_rw_emit(struct ki_rw *rw, struct acc *acc, const struct ki_filter *sel, struct ki_obj *scratch);

#endif
