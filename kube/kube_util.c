/* File, base64 and time helpers for the Kubernetes client. */
#include "kube_util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *hg_kube_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void hg_kube_free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int hg_kube_b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	/* glibc's b64_pton (libresolv) skips whitespace, checks padding and returns the length. */
	size_t cap = strlen(in) / 4 * 3 + 3;
	unsigned char *buf = malloc(cap + 1);
	if (!buf)
		return -1;
	int r = b64_pton(in, buf, cap);
	if (r < 0) {
		free(buf);
		return -1;
	}
	buf[r] = '\0';
	*out = buf;
	*outlen = (size_t)r;
	return 0;
}

int hg_kube_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* Never more than max at first either: a bound under 4096 (the
	 * namespace file's 256) was not enforced. */
	size_t cap = max < 4096 ? max : 4096, n = 0;
	char *buf = malloc(cap + 1);
	bool oom = !buf;
	/* buf is non-NULL inside the loop: running out of memory leaves it. */
	while (!oom) {
		if (n == cap) {
			if (cap >= max)
				break;
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				oom = true;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	const char *why = oom ? "out of memory"
		: ferror(f) ? "read error"
		: n == cap && cap >= max && fgetc(f) != EOF ? "larger than allowed" : NULL;
	fclose(f);
	if (why) {
		snprintf(err, errlen, "cannot read %s: %s", path, why);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

void hg_kube_free_secret(char *p, size_t len)
{
	if (p)
		explicit_bzero(p, len);
	free(p);
}

int hg_kube_parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		/* Exactly "HH:MM": sscanf alone also takes "+1:2", and skipping
		 * six bytes then ran past the string's end. */
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -1;
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = timegm(&tm) - off;
	return 0;
}

char *hg_kube_resolve_path(const char *dir, const char *path)
{
	if (!path)
		return NULL;
	if (path[0] == '/' || !dir || !*dir)
		return strdup(path);
	size_t n = strlen(dir) + strlen(path) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, path);
	return p;
}
