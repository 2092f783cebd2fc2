#include "lazy_lib.h"

#include <dlfcn.h>

#include "log.h"
#include "rss_trim.h"

int hg_lazy_lib_open(struct lazy_lib *lib)
{
	if (lib->state != LAZY_UNTRIED)
		return lib->state == LAZY_FAILED ? -1 : 0;
	/* RTLD_LOCAL: its symbols must not interpose on the forwarding functions of the same name. */
	lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib->handle) {
		const char *why = dlerror();
		log_error(NULL, "%s is unavailable: cannot load %s: %s", lib->what, lib->soname, why ? why : "?");
		lib->state = LAZY_FAILED;
		return -1;
	}
	lib->state = LAZY_OPENING;
	return 0;
}

void *hg_lazy_lib_sym(struct lazy_lib *lib, const char *name)
{
	if (lib->state != LAZY_OPENING)
		return NULL;
	void *p = dlsym(lib->handle, name);
	if (!p) {
		log_error(NULL, "%s is unavailable: %s has no %s", lib->what, lib->soname, name);
		lib->state = LAZY_FAILED;
	}
	return p;
}

bool hg_lazy_lib_ready(struct lazy_lib *lib)
{
	if (lib->state != LAZY_OPENING)
		return false;
	lib->state = LAZY_LOADED;
	log_debug(NULL, "loaded %s for %s", lib->soname, lib->what);
	/* The new library's pages came in with fault-around; keep only those it will use. */
	hg_rss_trim_after_load();
	return true;
}
