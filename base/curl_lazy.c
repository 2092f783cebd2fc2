/* libcurl, loaded when the first curl function is called rather than when the agent starts.
 *
 * Why: Debian's libcurl pulls in some forty libraries (OpenSSL, GnuTLS, Kerberos, LDAP, SSH,
 * RTMP, libstdc++ ...). Mapping and relocating them costs about 1 MiB of private memory and
 * 8-10 MiB of resident library pages before main() runs, which is most of the agent's
 * footprint. An agent that writes to a file and gathers node metrics never needs HTTP, so it
 * should not pay for it. Every curl_* function the project calls is defined here with libcurl's
 * own prototype; the first call dlopen()s libcurl and forwards. Code using curl is unchanged.
 *
 * If libcurl cannot be loaded, the error is logged once, handle constructors return NULL and
 * the others return their "failed" values, so HTTP plugins fail with a clear error and the rest
 * of the agent keeps going. */
#define CURL_DISABLE_TYPECHECK 1 /* curl.h's type-checking macros would rename the definitions below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lazy_lib.h"
#include "log.h"

#ifndef HG_CURL_SONAME
#error "HG_CURL_SONAME: the soname to load, set by CMakeLists.txt (one place)"
#endif

/* The functions used, each with a pointer of its exact type. */
#define CURL_FUNCS(X)                                                                                          \
	X(CURLcode, curl_global_init, (long))                                                    \
	X(void, curl_global_cleanup, (void))                                                     \
	X(CURL *, curl_easy_init, (void))                                                        \
	X(void, curl_easy_cleanup, (CURL *))                                                     \
	X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...))                                 \
	X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...))                                  \
	X(CURLcode, curl_easy_perform, (CURL *))                                                 \
	X(const char *, curl_easy_strerror, (CURLcode))                                          \
	X(char *, curl_easy_escape, (CURL *, const char *, int))                                 \
	X(void, curl_free, (void *))                                                             \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *, const char *))           \
	X(void, curl_slist_free_all, (struct curl_slist *))                                      \
	X(time_t, curl_getdate, (const char *, const time_t *))                                  \
	X(CURLU *, curl_url, (void))                                                             \
	X(void, curl_url_cleanup, (CURLU *))                                                     \
	X(CURLUcode, curl_url_set, (CURLU *, CURLUPart, const char *, unsigned int))             \
	X(CURLUcode, curl_url_get, (CURLU *, CURLUPart, char **, unsigned int))                  \
	X(CURLM *, curl_multi_init, (void))                                                      \
	X(CURLMcode, curl_multi_cleanup, (CURLM *))                                              \
	X(CURLMcode, curl_multi_setopt, (CURLM *, CURLMoption, ...))                             \
	X(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *))                                   \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *))                                \
	X(CURLMcode, curl_multi_socket_action, (CURLM *, curl_socket_t, int, int *))             \
	X(CURLMcode, curl_multi_assign, (CURLM *, curl_socket_t, void *))                        \
	X(CURLMsg *, curl_multi_info_read, (CURLM *, int *))                                     \
	X(const char *, curl_multi_strerror, (CURLMcode))

#define X_FIELD(ret, name, args) ret(*name) args;
static struct {
	CURL_FUNCS(X_FIELD)
} fn;
#undef X_FIELD

static struct lazy_lib lib = { .soname = HG_CURL_SONAME, .what = "HTTP (libcurl)" };

static bool loaded(void)
{
	if (lib.state == LAZY_UNTRIED && hg_lazy_lib_open(&lib) == 0) {
		/* POSIX's way to store dlsym()'s object pointer into a function pointer. */
#define X_LOAD(ret, name, args) *(void **)(&fn.name) = hg_lazy_lib_sym(&lib, #name);
		CURL_FUNCS(X_LOAD)
#undef X_LOAD
		if (hg_lazy_lib_ready(&lib))
			fn.curl_global_init(CURL_GLOBAL_DEFAULT); /* held for the process; callers' inits nest */
	}
	return lib.state == LAZY_LOADED;
}

CURLcode curl_global_init(long flags)
{
	return loaded() ? fn.curl_global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (lib.state == LAZY_LOADED)
		fn.curl_global_cleanup();
}

CURL *curl_easy_init(void)
{
	return loaded() ? fn.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (h && loaded())
		fn.curl_easy_cleanup(h);
}

/* Options are variadic; their number says the argument's type (curl.h's CURLOPTTYPE_*):
 * long, object pointer, function pointer, curl_off_t, blob pointer. Read it with that type and
 * pass it on as that type. */
typedef void (*any_fn)(void);

#define FORWARD_OPTION(call, handle, option, ap)                                                               \
	do {                                                                                                   \
		if ((option) < CURLOPTTYPE_OBJECTPOINT) {                                                      \
			long v_ = va_arg(ap, long);                                                            \
			rc = call(handle, option, v_);                                                         \
		} else if ((option) < CURLOPTTYPE_FUNCTIONPOINT) {                                             \
			void *v_ = va_arg(ap, void *);                                                         \
			rc = call(handle, option, v_);                                                         \
		} else if ((option) < CURLOPTTYPE_OFF_T) {                                                     \
			any_fn v_ = va_arg(ap, any_fn);                                                        \
			rc = call(handle, option, v_);                                                         \
		} else if ((option) < CURLOPTTYPE_BLOB) {                                                      \
			curl_off_t v_ = va_arg(ap, curl_off_t);                                                \
			rc = call(handle, option, v_);                                                         \
		} else {                                                                                       \
			void *v_ = va_arg(ap, void *);                                                         \
			rc = call(handle, option, v_);                                                         \
		}                                                                                              \
	} while (0)

CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	CURLcode rc;
	va_list ap;
	va_start(ap, option);
	FORWARD_OPTION(fn.curl_easy_setopt, h, option, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption option, ...)
{
	if (!loaded())
		return CURLM_INTERNAL_ERROR;
	CURLMcode rc;
	va_list ap;
	va_start(ap, option);
	FORWARD_OPTION(fn.curl_multi_setopt, m, option, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	void *out = va_arg(ap, void *);
	va_end(ap);
	return fn.curl_easy_getinfo(h, info, out);
}

CURLcode curl_easy_perform(CURL *h)
{
	return loaded() ? fn.curl_easy_perform(h) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded() ? fn.curl_easy_strerror(code) : "libcurl could not be loaded";
}

char *curl_easy_escape(CURL *h, const char *s, int len)
{
	return loaded() ? fn.curl_easy_escape(h, s, len) : NULL;
}

void curl_free(void *p)
{
	if (p && loaded())
		fn.curl_free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return loaded() ? fn.curl_slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && loaded())
		fn.curl_slist_free_all(list);
}

time_t curl_getdate(const char *s, const time_t *unused)
{
	return loaded() ? fn.curl_getdate(s, unused) : (time_t)-1;
}

CURLU *curl_url(void)
{
	return loaded() ? fn.curl_url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	if (u && loaded())
		fn.curl_url_cleanup(u);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart part, const char *content, unsigned int flags)
{
	return loaded() ? fn.curl_url_set(u, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU *u, CURLUPart part, char **out, unsigned int flags)
{
	return loaded() ? fn.curl_url_get(u, part, out, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLM *curl_multi_init(void)
{
	return loaded() ? fn.curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return m && loaded() ? fn.curl_multi_cleanup(m) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
	return loaded() ? fn.curl_multi_add_handle(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return loaded() ? fn.curl_multi_remove_handle(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev_bitmask, int *running)
{
	return loaded() ? fn.curl_multi_socket_action(m, s, ev_bitmask, running) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_assign(CURLM *m, curl_socket_t s, void *p)
{
	return loaded() ? fn.curl_multi_assign(m, s, p) : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	if (!loaded()) {
		*left = 0;
		return NULL;
	}
	return fn.curl_multi_info_read(m, left);
}

const char *curl_multi_strerror(CURLMcode code)
{
	return loaded() ? fn.curl_multi_strerror(code) : "libcurl could not be loaded";
}
