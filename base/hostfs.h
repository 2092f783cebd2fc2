/* Host filesystem access for the node inputs. In a container the host's
 * /proc, /sys ... are mounted elsewhere and named by the same environment
 * variables Telegraf (gopsutil) reads: HOST_PROC, HOST_SYS, HOST_ETC,
 * HOST_VAR, HOST_RUN, HOST_MOUNT_PREFIX. Small files are read whole with a
 * single read() into a buffer the caller keeps between gathers. */
#ifndef HG_HOSTFS_H
#define HG_HOSTFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hostfs_root {
	HOSTFS_PROC,         /* HOST_PROC, default /proc */
	HOSTFS_SYS,          /* HOST_SYS, default /sys */
	HOSTFS_ETC,          /* HOST_ETC, default /etc */
	HOSTFS_VAR,          /* HOST_VAR, default /var */
	HOSTFS_RUN,          /* HOST_RUN, default /run */
	HOSTFS_MOUNT_PREFIX, /* HOST_MOUNT_PREFIX, default "" */
};

/* The root directory (environment value if set and non-empty, else the
 * default). Read at each call so tests can repoint it between gathers. */
const char *hg_hostfs_root(enum hostfs_root r);

/* Writes "<root>/<rel>" into out. Returns its length, or -ENAMETOOLONG. */
int hg_hostfs_path(char *out, size_t cap, enum hostfs_root r, const char *rel);

/* Largest file hg_hostfs_read() will hold (a /proc/stat with thousands of
 * interrupt counters is ~150 KiB). */
#define HOSTFS_READ_MAX (4u << 20)

/* A reused read buffer: p is NUL-terminated after each successful read. */
struct hostfs_buf {
	char *p;
	size_t cap;
	size_t len;
};

/* Allocates the initial capacity (at init, not per gather). 0 or -ENOMEM. */
int hg_hostfs_buf_init(struct hostfs_buf *b, size_t cap);
void hg_hostfs_buf_free(struct hostfs_buf *b);

/* Reads the whole file at path with one read(). If the content fills the
 * buffer, the buffer is doubled (up to HOSTFS_READ_MAX) and the file is
 * read again from the start: procfs generates a file per read, so two
 * partial reads could mix two snapshots. Returns the length, or -errno
 * (-EFBIG past HOSTFS_READ_MAX). */
ssize_t hg_hostfs_read(struct hostfs_buf *b, const char *path);

/* hg_hostfs_read() of path relative to the directory dirfd (or AT_FDCWD). */
ssize_t hg_hostfs_read_dirfd(struct hostfs_buf *b, int dirfd, const char *path);

/* hg_hostfs_path() + hg_hostfs_read(). */
ssize_t hg_hostfs_read_at(struct hostfs_buf *b, enum hostfs_root r, const char *rel);

/* Parsing helpers over NUL-terminated text. */

/* Returns the next line starting at *pos (without '\n'), sets *len, and
 * advances *pos past it; NULL at the end. */
const char *hg_hostfs_next_line(const char **pos, size_t *len);

/* Parses an unsigned decimal at *p (leading blanks skipped), advancing *p
 * past it. 0, or -1 when no digits, overflow, or the number is followed by
 * something other than a blank, newline or the end. */
int hg_hostfs_parse_u64(const char **p, uint64_t *out);

#endif
