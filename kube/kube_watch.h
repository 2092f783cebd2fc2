/* List+watch of one collection, parsed as it streams (memory stays flat
 * however many objects): a LIST (paged), then WATCH from its
 * resourceVersion with bookmarks; resumes from the last resourceVersion when
 * a watch ends, lists again after 410 Gone, backs off on errors. A watch
 * whose body breaks off (cut, reset) is reported through on_error and
 * resumed; the event it was in the middle of comes again. */
#ifndef HG_KUBE_WATCH_H
#define HG_KUBE_WATCH_H
#include <stdbool.h>
#include <stddef.h>

#include "kube_client.h"

enum kube_event_type { KUBE_EV_ADDED, KUBE_EV_MODIFIED, KUBE_EV_DELETED, KUBE_EV_BOOKMARK };

struct kube_event {
	enum kube_event_type type;
	bool from_list;              /* an item of a (re)list rather than a watch event */
	const char *object;          /* the object's JSON (compact); valid during the callback */
	size_t object_len;
	const char *name, *namespace, *resource_version; /* from its metadata ("" when absent) */
};

struct kube_watch_opts {
	const char *path;            /* collection path: "/api/v1/pods", "/apis/apps/v1/namespaces/x/deployments" */
	const char *label_selector, *field_selector; /* or NULL */
	void (*on_event)(void *arg, const struct kube_event *ev);
	void (*on_synced)(void *arg);             /* after every complete (re)list; optional */
	/* A (re)list starts from its first page (optional): items of an earlier
	 * list that never completed (a 410 mid-list) are not part of this one. */
	void (*on_list_start)(void *arg);
	void (*on_error)(void *arg, const char *msg); /* optional; the watch retries by itself */
	void *arg;
	unsigned timeout_seconds;    /* per watch request; 0 = 300 */
	size_t max_object;           /* largest object accepted; 0 = 4 MiB */
	unsigned page_size;          /* LIST limit; 0 = 500 */
};

struct kube_watch;

struct kube_watch *hg_kube_watch_start(struct kube_client *c, const struct kube_watch_opts *o, char *err, size_t errlen);
/* Stops and frees the watch. A request in flight is abandoned at its next
 * chunk (bookmarks keep that short) or when its httpc client is freed; no
 * callback runs after this returns. */
void hg_kube_watch_stop(struct kube_watch *w);
const char *hg_kube_watch_resource_version(const struct kube_watch *w);
unsigned hg_kube_watch_lists(const struct kube_watch *w); /* LIST rounds started (1 + re-lists) */

#endif
