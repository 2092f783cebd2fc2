/* Libraries the agent loads on first use (dlopen) instead of at start: see curl_lazy.c and
 * snappy_lazy.c for why. One struct per library; the loader logs a failure once. */
#ifndef HG_LAZY_LIB_H
#define HG_LAZY_LIB_H
#include <stdbool.h>

enum lazy_state { LAZY_UNTRIED, LAZY_OPENING, LAZY_LOADED, LAZY_FAILED };

struct lazy_lib {
	const char *soname; /* e.g. "libcurl.so.4" */
	const char *what;   /* for the log: what needs it */
	enum lazy_state state;
	void *handle;
};

/* dlopen()s the library: 0, or -1 (logged, state LAZY_FAILED). Only from LAZY_UNTRIED. */
int hg_lazy_lib_open(struct lazy_lib *lib);
/* One symbol of an opened library; a missing one is logged and fails the library. */
void *hg_lazy_lib_sym(struct lazy_lib *lib, const char *name);
/* After the symbols: true when every one was found (state LAZY_LOADED). */
bool hg_lazy_lib_ready(struct lazy_lib *lib);

#endif
