/* Small helpers private to the Kubernetes client. */
#ifndef HG_KUBE_UTIL_H
#define HG_KUBE_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Decodes base64 (whitespace ignored) into a malloc'd buffer; -1 if invalid. */
int kube_b64_decode(const char *in, unsigned char **out, size_t *outlen);
/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd buffer. */
int kube_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen);
/* Creates *dir (0700, under $TMPDIR or /tmp) if NULL, then writes data to
 * dir/name with mode 0600; *path gets the malloc'd file name. */
int kube_write_private(char **dir, const char *name, const void *data, size_t len, char **path, char *err,
		       size_t errlen);
/* Removes the files in a directory made by kube_write_private, then it. */
void kube_remove_private(const char *dir);
/* Parses an RFC 3339 time ("2024-04-11T20:59:56Z", fractions, offsets). */
int kube_parse_time(const char *s, time_t *out);
/* "dir/path" when path is relative and dir is given, else a copy of path. */
char *kube_resolve_path(const char *dir, const char *path);
char *kube_strdup(const char *s); /* NULL-safe */
void kube_free_strv(char **v);

#endif
