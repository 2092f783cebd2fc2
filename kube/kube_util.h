/* Small helpers private to the Kubernetes client. */
#ifndef HG_KUBE_UTIL_H
#define HG_KUBE_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Decodes base64 (whitespace ignored) into a malloc'd buffer; -1 if invalid. */
int hg_kube_b64_decode(const char *in, unsigned char **out, size_t *outlen);
/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd buffer. */
int hg_kube_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen);
/* Zeroes len bytes of p (a private key, a token), then frees it. Credentials
 * are kept in memory only, never in files of our own (see kubeconfig.h). */
void hg_kube_free_secret(char *p, size_t len);
/* Parses an RFC 3339 time ("2024-04-11T20:59:56Z", fractions, offsets). */
int hg_kube_parse_time(const char *s, time_t *out);
/* "dir/path" when path is relative and dir is given, else a copy of path. */
char *hg_kube_resolve_path(const char *dir, const char *path);
char *hg_kube_strdup(const char *s); /* NULL-safe */
void hg_kube_free_strv(char **v);

#endif
