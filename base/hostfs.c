/* Host filesystem roots and whole-file reads for the node inputs. */
#include "hostfs.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *env, *def;
} roots[] = {
	[HOSTFS_PROC] = { "HOST_PROC", "/proc" },
	[HOSTFS_SYS] = { "HOST_SYS", "/sys" },
	[HOSTFS_ETC] = { "HOST_ETC", "/etc" },
	[HOSTFS_VAR] = { "HOST_VAR", "/var" },
	[HOSTFS_RUN] = { "HOST_RUN", "/run" },
	[HOSTFS_MOUNT_PREFIX] = { "HOST_MOUNT_PREFIX", "" },
};

const char *hg_hostfs_root(enum hostfs_root r)
{
	const char *v = getenv(roots[r].env);
	return v && *v ? v : roots[r].def;
}

/* In a container, HOST_PROC is the host's /proc, but its net/ is a link
 * to self/net: the network namespace of the reading process, the pod's.
 * The node's is init's, HOST_PROC/1/net, which any user may read; a
 * HOST_PROC without it (a fixture tree) keeps net/. */
static bool use_init_net(const char *root, size_t rl, const char *rel)
{
	const char *env = getenv(roots[HOSTFS_PROC].env);
	if (!env || !*env || strncmp(rel, "net/", 4) != 0)
		return false;
	char dir[PATH_MAX];
	int n = snprintf(dir, sizeof dir, "%.*s/1/net", (int)rl, root);
	return n > 0 && (size_t)n < sizeof dir && access(dir, X_OK) == 0;
}

int hg_hostfs_path(char *out, size_t cap, enum hostfs_root r, const char *rel)
{
	const char *root = hg_hostfs_root(r);
	size_t rl = strlen(root);
	/* "/proc/" + "stat" and "/proc" + "/stat" both give one slash. */
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	while (*rel == '/')
		rel++;
	const char *init = r == HOSTFS_PROC && use_init_net(root, rl, rel) ? "1/" : "";
	int n = snprintf(out, cap, "%.*s/%s%s", (int)rl, root, init, rel);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return n;
}

int hg_hostfs_buf_init(struct hostfs_buf *b, size_t cap)
{
	if (cap < 64)
		cap = 64;
	b->p = malloc(cap);
	b->cap = b->p ? cap : 0;
	b->len = 0;
	if (!b->p)
		return -ENOMEM;
	b->p[0] = '\0';
	return 0;
}

void hg_hostfs_buf_free(struct hostfs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = b->len = 0;
}

ssize_t hg_hostfs_read(struct hostfs_buf *b, const char *path)
{
	return hg_hostfs_read_dirfd(b, AT_FDCWD, path);
}

ssize_t hg_hostfs_read_dirfd(struct hostfs_buf *b, int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	for (;;) {
		if (!b->p || b->cap < 2) {
			close(fd);
			return -EINVAL;
		}
		do
			n = pread(fd, b->p, b->cap - 1, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			n = -errno;
			break;
		}
		if ((size_t)n < b->cap - 1)
			break;
		/* Possibly more: grow and read the file again from offset 0. */
		if (b->cap >= HOSTFS_READ_MAX) {
			n = -EFBIG;
			break;
		}
		size_t cap = b->cap * 2 > HOSTFS_READ_MAX ? HOSTFS_READ_MAX : b->cap * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			n = -ENOMEM;
			break;
		}
		b->p = p;
		b->cap = cap;
	}
	close(fd);
	if (n < 0) {
		b->len = 0;
		b->p[0] = '\0';
		return n;
	}
	b->len = (size_t)n;
	b->p[n] = '\0';
	return n;
}

ssize_t hg_hostfs_read_at(struct hostfs_buf *b, enum hostfs_root r, const char *rel)
{
	char path[4096];
	int n = hg_hostfs_path(path, sizeof path, r, rel);
	if (n < 0)
		return n;
	return hg_hostfs_read(b, path);
}

const char *hg_hostfs_next_line(const char **pos, size_t *len)
{
	const char *s = *pos;
	if (!s || !*s)
		return NULL;
	const char *nl = strchr(s, '\n');
	*len = nl ? (size_t)(nl - s) : strlen(s);
	*pos = nl ? nl + 1 : s + *len;
	return s;
}

int hg_hostfs_parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		s++;
	}
	/* "12ab" is not a number followed by junk we silently ignore. */
	if (*s && *s != ' ' && *s != '\t' && *s != '\n')
		return -1;
	*out = v;
	*p = s;
	return 0;
}
