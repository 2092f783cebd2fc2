/* The harness of the disk spool tests (test_spool_*.c): a temp directory per
 * case, its segment files (count, size, path), records that name their
 * number so order and content can be checked (append, peek-and-check, ack),
 * a spool of one segment with its record offsets, a flipped byte, and the
 * two fsync policies. Test-only; every function is static. Include after check.h. */
#ifndef HG_SPOOL_HARNESS_H
#define HG_SPOOL_HARNESS_H
#define SP_FN static __attribute__((unused))

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "spool.h"
#include "spool_internal.h"

/* The two fsync policies: every append synced (0), and once a second. */
#define FSYNC_EACH 0
#define FSYNC_1S 1000000000

static char err[256];
static char *rbuf;
static size_t rcap;

SP_FN void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

SP_FN void mktemp_dir(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/test_spool.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Number of segment files and their total size. */
SP_FN int seg_files(const char *dir, uint64_t *total)
{
	DIR *d = opendir(dir);
	int n = 0;
	*total = 0;
	if (!d)
		return -1;
	struct dirent *e;
	uint64_t seq;
	char p[512];
	while ((e = readdir(d)) != NULL) {
		if (!hg_spool_seg_parse(e->d_name, &seq))
			continue;
		struct stat st;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0)
			*total += (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	return n;
}

SP_FN void seg_path(char *out, size_t n, const char *dir, uint64_t seq)
{
	char name[24];
	hg_spool_seg_name(name, seq);
	snprintf(out, n, "%s/%s", dir, name);
}

/* Record i: nlines lines that name i, so order and content can be checked. */
SP_FN size_t make_rec(char *buf, size_t cap, int i, uint32_t nlines)
{
	size_t len = 0;
	for (uint32_t l = 0; l < nlines; l++)
		len += (size_t)snprintf(buf + len, cap - len, "spool,rec=%d line=%ui,pad=\"xxxxxxxxxxxxxxxx\"\n", i, l);
	return len;
}

SP_FN struct spool *open_spool(const char *dir, uint64_t max, uint64_t segsz, int64_t fsync_ns)
{
	struct spool_opts o = { .dir = dir, .max_size = max, .segment_size = segsz, .fsync_interval_ns = fsync_ns };
	struct spool *s = NULL;
	err[0] = 0;
	if (hg_spool_open(&s, &o, err, sizeof err) != 0) {
		fprintf(stderr, "spool_open %s: %s\n", dir, err);
		return NULL;
	}
	return s;
}

SP_FN int append_rec(struct spool *s, int i, uint32_t nlines)
{
	char b[8192];
	size_t len = make_rec(b, sizeof b, i, nlines);
	int rc = hg_spool_append(s, b, len, nlines, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "append %d: %s\n", i, err);
	return rc;
}

/* Peeks and checks that the next record is record i; acks it when asked. */
SP_FN int expect_rec(struct spool *s, int i, uint32_t nlines, int ack)
{
	char b[8192];
	size_t want = make_rec(b, sizeof b, i, nlines), len = 0;
	uint32_t nl = 0;
	int rc = hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err);
	if (rc != 1) {
		fprintf(stderr, "peek for record %d: rc %d %s\n", i, rc, rc < 0 ? err : "");
		return -1;
	}
	if (len != want || nl != nlines || memcmp(rbuf, b, len) != 0) {
		fprintf(stderr, "peek for record %d got %.*s", i, (int)(len < 60 ? len : 60), rbuf);
		return -1;
	}
	if (ack && hg_spool_ack(s, err, sizeof err) != 0) {
		fprintf(stderr, "ack %d: %s\n", i, err);
		return -1;
	}
	return 0;
}

SP_FN uint64_t rec_bytes(int i, uint32_t nlines)
{
	char b[8192];
	return make_rec(b, sizeof b, i, nlines);
}

/* One segment of n records of nlines each; returns the record offsets. */
SP_FN struct spool *fill_one(const char *dir, int n, uint32_t nlines, uint64_t *offs)
{
	struct spool *s = open_spool(dir, 1 << 20, 1 << 20, 0);
	if (!s)
		return NULL;
	uint64_t off = 0;
	for (int i = 0; i < n; i++) {
		offs[i] = off;
		append_rec(s, i, nlines);
		off += SPOOL_HDR + rec_bytes(i, nlines);
	}
	offs[n] = off;
	return s;
}

SP_FN void flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c = 0;
	if (fd < 0 || pread(fd, &c, 1, (off_t)off) != 1)
		fprintf(stderr, "flip_byte %s\n", path);
	c ^= 0x55;
	if (pwrite(fd, &c, 1, (off_t)off) != 1)
		fprintf(stderr, "flip_byte %s\n", path);
	close(fd);
}

SP_FN int spool_setup(void)
{
	hg_log_open(NULL, false, true);
	return 0;
}

SP_FN void spool_teardown(void)
{
	free(rbuf);
}

#endif
