/* libsnappy, loaded on first use: it is a C++ library and brings libstdc++ (whose start-up
 * alone allocates a 72 KiB emergency pool), while only the prometheus_remote_write and
 * opentelemetry outputs compress with it. Same scheme as curl_lazy.c: snappy-c's functions
 * are defined here and forward to the library loaded on the first call. */
#include <snappy-c.h>
#include <stdbool.h>

#include "lazy_lib.h"

#ifndef HG_SNAPPY_SONAME
#error "HG_SNAPPY_SONAME: the soname to load, set by CMakeLists.txt (one place)"
#endif

static struct {
	snappy_status (*compress)(const char *, size_t, char *, size_t *);
	snappy_status (*uncompress)(const char *, size_t, char *, size_t *);
	size_t (*max_compressed_length)(size_t);
	snappy_status (*uncompressed_length)(const char *, size_t, size_t *);
} fn;

static struct lazy_lib lib = { .soname = HG_SNAPPY_SONAME, .what = "snappy compression (libsnappy)" };

static bool loaded(void)
{
	if (lib.state == LAZY_UNTRIED && hg_lazy_lib_open(&lib) == 0) {
		*(void **)(&fn.compress) = hg_lazy_lib_sym(&lib, "snappy_compress");
		*(void **)(&fn.uncompress) = hg_lazy_lib_sym(&lib, "snappy_uncompress");
		*(void **)(&fn.max_compressed_length) = hg_lazy_lib_sym(&lib, "snappy_max_compressed_length");
		*(void **)(&fn.uncompressed_length) = hg_lazy_lib_sym(&lib, "snappy_uncompressed_length");
		hg_lazy_lib_ready(&lib);
	}
	return lib.state == LAZY_LOADED;
}

snappy_status snappy_compress(const char *input, size_t input_length, char *compressed, size_t *compressed_length)
{
	return loaded() ? fn.compress(input, input_length, compressed, compressed_length) : SNAPPY_INVALID_INPUT;
}

snappy_status snappy_uncompress(const char *compressed, size_t compressed_length, char *uncompressed,
				size_t *uncompressed_length)
{
	return loaded() ? fn.uncompress(compressed, compressed_length, uncompressed, uncompressed_length)
			: SNAPPY_INVALID_INPUT;
}

/* Without the library nothing will be compressed; 0 makes the caller's buffer check fail. */
size_t snappy_max_compressed_length(size_t source_length)
{
	return loaded() ? fn.max_compressed_length(source_length) : 0;
}

snappy_status snappy_uncompressed_length(const char *compressed, size_t compressed_length, size_t *result)
{
	return loaded() ? fn.uncompressed_length(compressed, compressed_length, result) : SNAPPY_INVALID_INPUT;
}
