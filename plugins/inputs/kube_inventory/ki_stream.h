/* Streaming reader of one LIST page (a k8s "...List" body) through yajl
 * callbacks: hands each item's values to a handler as they arrive, with
 * their path inside the item ("spec.containers[].resources.requests.cpu"),
 * and keeps the page's metadata.continue. Nothing of the list is kept:
 * memory is the parser's and the path, however long the list. */
#ifndef HG_KI_STREAM_H
#define HG_KI_STREAM_H
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_parse.h>

enum ks_type { KS_STRING, KS_NUMBER, KS_BOOL, KS_NULL, KS_MAP };

struct ks_handler {
	void (*item_begin)(void *arg);
	/* v[0..n) is the raw text (numbers as written, bools "true"/"false");
	 * KS_MAP: a map starts at path (v empty). idx: the element index of the
	 * outermost array inside the item (containers[], conditions[]), -1 if none. */
	void (*value)(void *arg, const char *path, enum ks_type t, const char *v, size_t n, int idx);
	void (*item_end)(void *arg);
	void *arg;
};

#define KS_DEPTH 48
#define KS_PATH 768

struct ks {
	yajl_handle h;
	struct ks_handler hd;
	int depth;
	struct {
		bool arr;
		int idx;
		unsigned short pre, base;
	} fr[KS_DEPTH];
	char path[KS_PATH];
	size_t len;
	int skip;        /* depth below which paths overflowed: values there are ignored */
	char cont[1024]; /* metadata.continue of the page */
	bool too_deep;
};

int hg_ks_init(struct ks *p, const struct ks_handler *hd);
int hg_ks_feed(struct ks *p, const char *buf, size_t n, char *err, size_t errlen);
int hg_ks_finish(struct ks *p, char *err, size_t errlen);
void hg_ks_free(struct ks *p);

#endif
