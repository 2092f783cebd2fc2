/* Private: incremental parser of LIST bodies and WATCH streams (yajl
 * callbacks), delivering one object at a time as compact JSON. */
#ifndef HG_KUBE_WATCH_PARSE_H
#define HG_KUBE_WATCH_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "kube_watch.h"

#define KWP_KEYS 6

struct kwp {
	yajl_handle h;
	yajl_gen g;
	bool list;                 /* LIST body (else WATCH stream of events) */
	int depth;
	char keys[KWP_KEYS][64];   /* last key seen per depth (shallow levels only) */
	bool capturing;
	int base;                  /* depth of the captured object's map */
	size_t max_object;
	char type[16];
	char name[256], ns[128], rv[64];
	long code;                 /* Status code of an ERROR event */
	char list_rv[64], cont[1024];
	bool too_big;
	void (*emit)(void *arg, struct kwp *p, bool from_list);
	void *arg;
};

int hg_kwp_init(struct kwp *p, bool list, size_t max_object, void (*emit)(void *, struct kwp *, bool), void *arg);
/* Feeds bytes; -1 with err on a parse error or an object over the bound. */
int hg_kwp_feed(struct kwp *p, const char *buf, size_t n, char *err, size_t errlen);
/* End of the body: -1 when it stopped mid-value. */
int hg_kwp_finish(struct kwp *p, char *err, size_t errlen);
void hg_kwp_free(struct kwp *p);
/* The captured object during emit. */
void hg_kwp_object(struct kwp *p, const char **json, size_t *len);

#endif
