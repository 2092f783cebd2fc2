/* Disk spool: order across segments, restart at the acknowledged point,
 * kill -9 (a child that SIGKILLs itself without closing), torn and corrupt files,
 * max_size drop-oldest, deletion of acknowledged segments, both fsync
 * policies. Each case works in its own temp directory. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "log.h"
#include "spool.h"
#include "spool_internal.h"

static char err[256];
static char *rbuf;
static size_t rcap;

static void rm_rf(const char *dir)
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

static void mktemp_dir(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/test_spool.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Number of segment files and their total size. */
static int seg_files(const char *dir, uint64_t *total)
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

static void seg_path(char *out, size_t n, const char *dir, uint64_t seq)
{
	char name[24];
	hg_spool_seg_name(name, seq);
	snprintf(out, n, "%s/%s", dir, name);
}

/* Record i: nlines lines that name i, so order and content can be checked. */
static size_t make_rec(char *buf, size_t cap, int i, uint32_t nlines)
{
	size_t len = 0;
	for (uint32_t l = 0; l < nlines; l++)
		len += (size_t)snprintf(buf + len, cap - len, "spool,rec=%d line=%ui,pad=\"xxxxxxxxxxxxxxxx\"\n", i, l);
	return len;
}

static struct spool *open_spool(const char *dir, uint64_t max, uint64_t segsz, int64_t fsync_ns)
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

static int append_rec(struct spool *s, int i, uint32_t nlines)
{
	char b[8192];
	size_t len = make_rec(b, sizeof b, i, nlines);
	int rc = hg_spool_append(s, b, len, nlines, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "append %d: %s\n", i, err);
	return rc;
}

/* Peeks and checks that the next record is record i; acks it when asked. */
static int expect_rec(struct spool *s, int i, uint32_t nlines, int ack)
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

static uint64_t rec_bytes(int i, uint32_t nlines)
{
	char b[8192];
	return make_rec(b, sizeof b, i, nlines);
}

static void test_order(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	struct spool *s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	size_t len = 0;
	uint32_t nl = 0;
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(hg_spool_ack(s, err, sizeof err), -1);
	uint64_t bytes = 0;
	for (int i = 0; i < 50; i++) {
		CHECK_INT(append_rec(s, i, 3), 0);
		bytes += rec_bytes(i, 3);
	}
	CHECK_INT(hg_spool_pending_lines(s), 150);
	CHECK_INT(hg_spool_pending_bytes(s), bytes);
	uint64_t disk;
	int nseg = seg_files(dir, &disk);
	CHECK(nseg >= 5); /* ~170-byte records, 1 KiB segments */
	CHECK_INT(disk, bytes + 50 * SPOOL_HDR);
	/* Peeking twice without an ack gives the same record. */
	CHECK_INT(expect_rec(s, 0, 3, 0), 0);
	CHECK_INT(expect_rec(s, 0, 3, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 147);
	CHECK_INT(hg_spool_pending_bytes(s), bytes - rec_bytes(0, 3));
	for (int i = 1; i < 30; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	/* Segments read to their end are gone from disk. */
	int nseg2 = seg_files(dir, &disk);
	CHECK(nseg2 < nseg && nseg2 >= 2);
	for (int i = 30; i < 50; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	CHECK_INT(hg_spool_pending_bytes(s), 0);
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(seg_files(dir, &disk), 1); /* the one appends go to */
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	CHECK_INT(hg_spool_sync(s), 0);
	/* Appends after draining are read next. */
	CHECK_INT(append_rec(s, 50, 1), 0);
	CHECK_INT(expect_rec(s, 50, 1, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

static void test_restart(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	struct spool *s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 20; i++)
		CHECK_INT(append_rec(s, i, 2), 0);
	for (int i = 0; i < 7; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	CHECK_INT(expect_rec(s, 7, 2, 0), 0); /* peeked, not acked: must come back */
	hg_spool_close(s);

	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 26);
	uint64_t bytes = 0;
	for (int i = 7; i < 20; i++)
		bytes += rec_bytes(i, 2);
	CHECK_INT(hg_spool_pending_bytes(s), bytes);
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	for (int i = 7; i < 12; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	for (int i = 20; i < 25; i++)
		CHECK_INT(append_rec(s, i, 2), 0);
	hg_spool_close(s);

	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 26);
	for (int i = 12; i < 25; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	hg_spool_close(s);

	/* Drained and restarted: nothing comes back, and new segments sort
	 * after the acknowledged one. */
	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	size_t len;
	uint32_t nl;
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(append_rec(s, 99, 1), 0);
	hg_spool_close(s);
	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(expect_rec(s, 99, 1, 1), 0);
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* kill -9: a child appends and acknowledges, then SIGKILLs itself without
 * closing or syncing; the parent reopens and finds everything. */
static void test_kill(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct spool *s = open_spool(dir, 1 << 20, 2048, fsync_ns);
		if (!s)
			_exit(2);
		for (int i = 0; i < 40; i++)
			if (append_rec(s, i, 4) != 0)
				_exit(3);
		for (int i = 0; i < 9; i++)
			if (expect_rec(s, i, 4, 1) != 0)
				_exit(4);
		if (expect_rec(s, 9, 4, 0) != 0)
			_exit(5);
		raise(SIGKILL);
		_exit(6);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct spool *s = open_spool(dir, 1 << 20, 2048, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 31 * 4);
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	for (int i = 9; i < 40; i++)
		CHECK_INT(expect_rec(s, i, 4, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* kill -9 while the record being written exists only in memory (max_size
 * removed its segment): the next open counts its lines as dropped, once;
 * written and acknowledged instead, nothing is counted. */
static void test_kill_held(int64_t fsync_ns, int write_it)
{
	char dir[64], held[128];
	mktemp_dir(dir, sizeof dir);
	snprintf(held, sizeof held, "%s/held", dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct spool *s = open_spool(dir, 4096, 1024, fsync_ns);
		if (!s)
			_exit(2);
		int i = 0;
		for (; i < 10; i++)
			if (append_rec(s, i, 3) != 0)
				_exit(3);
		if (expect_rec(s, 0, 3, 0) != 0) /* record 0 handed to the writer */
			_exit(4);
		uint64_t d0 = hg_spool_dropped_lines(s);
		while (hg_spool_dropped_lines(s) == d0 && i < 1000) /* until max_size takes its segment */
			if (append_rec(s, i++, 3) != 0)
				_exit(5);
		if (access(held, F_OK) != 0)
			_exit(6); /* the marker is there before the agent can die */
		if (write_it) {
			if (hg_spool_ack(s, err, sizeof err) != 0 || access(held, F_OK) == 0)
				_exit(7); /* written: the marker goes */
		}
		if (fsync_ns)
			hg_spool_sync(s);
		raise(SIGKILL);
		_exit(8);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (!WIFSIGNALED(status))
		fprintf(stderr, "child exit %d\n", WEXITSTATUS(status));
	struct spool *s = open_spool(dir, 4096, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), write_it ? 0 : 3);
	CHECK(access(held, F_OK) != 0);
	hg_spool_close(s);
	s = open_spool(dir, 4096, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), 0); /* counted once */
	hg_spool_close(s);
	rm_rf(dir);
}

/* Files copied from under a live spool (never closed) open as a spool with
 * everything; a second spool on the live directory is refused. */
static void test_copy_live(void)
{
	char dir[64], dir2[64], cmd[256];
	mktemp_dir(dir, sizeof dir);
	mktemp_dir(dir2, sizeof dir2);
	struct spool *s = open_spool(dir, 1 << 20, 1024, 1000000000);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 30; i++)
		CHECK_INT(append_rec(s, i, 1), 0);
	CHECK_INT(expect_rec(s, 0, 1, 1), 0);
	CHECK_INT(expect_rec(s, 1, 1, 1), 0);
	struct spool_opts o = { .dir = dir };
	struct spool *s2 = NULL;
	CHECK_INT(hg_spool_open(&s2, &o, err, sizeof err), -1);
	CHECK(strstr(err, "in use") != NULL);
	snprintf(cmd, sizeof cmd, "cp %s/* %s/", dir, dir2);
	CHECK_INT(system(cmd), 0);
	s2 = open_spool(dir2, 1 << 20, 1024, 1000000000);
	CHECK(s2 != NULL);
	if (s2) {
		CHECK_INT(hg_spool_pending_lines(s2), 28);
		for (int i = 2; i < 30; i++)
			CHECK_INT(expect_rec(s2, i, 1, 1), 0);
		hg_spool_close(s2);
	}
	hg_spool_close(s);
	rm_rf(dir);
	rm_rf(dir2);
}

/* One segment of n records of nlines each; returns the record offsets. */
static struct spool *fill_one(const char *dir, int n, uint32_t nlines, uint64_t *offs)
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

/* A file cut short by a crash, where the last record was being written:
 * inside its payload (its line count is readable: counted as dropped) or
 * inside its header (no line count to count). Either way the nine records
 * before stay, the file is cut back to them, and an append goes after them. */
static const struct {
	const char *where;
	int rec;       /* the cut is this record's offset ... */
	int64_t delta; /* ... plus this */
	uint64_t dropped;
} cuts[] = {
	{ "inside the last payload", 10, -5, 3 },
	{ "inside the last header", 9, 7, 0 },
};

static void test_torn(void)
{
	char dir[64], path[256];
	uint64_t offs[11], disk;
	struct spool *s;
	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		int before = check_failures;
		mktemp_dir(dir, sizeof dir);
		s = fill_one(dir, 10, 3, offs);
		CHECK(s != NULL);
		hg_spool_close(s);
		seg_path(path, sizeof path, dir, 1);
		CHECK_INT(truncate(path, (off_t)(offs[cuts[k].rec] + cuts[k].delta)), 0);
		s = open_spool(dir, 1 << 20, 1 << 20, 0);
		CHECK(s != NULL);
		if (!s)
			return;
		CHECK_INT(hg_spool_dropped_lines(s), cuts[k].dropped);
		CHECK_INT(hg_spool_pending_lines(s), 27);
		seg_files(dir, &disk);
		CHECK_INT(disk, offs[9]);
		CHECK_INT(append_rec(s, 10, 3), 0);
		for (int i = 0; i < 9; i++)
			CHECK_INT(expect_rec(s, i, 3, 1), 0);
		CHECK_INT(expect_rec(s, 10, 3, 1), 0);
		CHECK_INT(hg_spool_dropped_lines(s), cuts[k].dropped);
		hg_spool_close(s);
		rm_rf(dir);
		CHECK_ROW(before, cuts[k].where);
	}

	/* Garbage after the last record (bad magic): cut, later appends fine. */
	mktemp_dir(dir, sizeof dir);
	s = fill_one(dir, 4, 2, offs);
	hg_spool_close(s);
	seg_path(path, sizeof path, dir, 1);
	FILE *f = fopen(path, "a");
	CHECK(f != NULL);
	if (f) {
		fputs("garbage that is not a record header at all", f);
		fclose(f);
	}
	s = open_spool(dir, 1 << 20, 1 << 20, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	CHECK_INT(hg_spool_pending_lines(s), 8);
	CHECK_INT(append_rec(s, 4, 2), 0);
	for (int i = 0; i < 5; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

static void flip_byte(const char *path, uint64_t off)
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

static void test_corrupt_middle(void)
{
	char dir[64], path[256];
	uint64_t offs[7];
	/* A bad CRC in the middle: that record alone is skipped, counted once. */
	mktemp_dir(dir, sizeof dir);
	struct spool *s = fill_one(dir, 6, 5, offs);
	CHECK(s != NULL);
	hg_spool_close(s);
	seg_path(path, sizeof path, dir, 1);
	flip_byte(path, offs[2] + SPOOL_HDR + 10);
	s = open_spool(dir, 1 << 20, 1 << 20, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), 5);
	CHECK_INT(hg_spool_pending_lines(s), 25);
	CHECK_INT(expect_rec(s, 0, 5, 1), 0);
	CHECK_INT(expect_rec(s, 1, 5, 1), 0);
	CHECK_INT(expect_rec(s, 3, 5, 1), 0);
	CHECK_INT(expect_rec(s, 4, 5, 1), 0);
	CHECK_INT(expect_rec(s, 5, 5, 1), 0);
	CHECK_INT(hg_spool_dropped_lines(s), 5);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	hg_spool_close(s);
	rm_rf(dir);

	/* A bad CRC found only at read time (the file changed after open):
	 * moved from pending to dropped then. */
	mktemp_dir(dir, sizeof dir);
	s = fill_one(dir, 3, 2, offs);
	CHECK(s != NULL);
	if (!s)
		return;
	seg_path(path, sizeof path, dir, 1);
	flip_byte(path, offs[1] + SPOOL_HDR + 3);
	CHECK_INT(expect_rec(s, 0, 2, 1), 0);
	CHECK_INT(expect_rec(s, 2, 2, 1), 0);
	CHECK_INT(hg_spool_dropped_lines(s), 2);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	CHECK_INT(hg_spool_pending_bytes(s), 0);
	hg_spool_close(s);
	rm_rf(dir);

	/* Bad magic in the first of three segments: the rest of that segment
	 * goes, the later segments stay. */
	mktemp_dir(dir, sizeof dir);
	s = open_spool(dir, 1 << 20, 300, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 12; i++)
		CHECK_INT(append_rec(s, i, 2), 0);
	hg_spool_close(s);
	uint64_t disk;
	CHECK(seg_files(dir, &disk) >= 3);
	/* ~110-byte records: segment 1 holds the first three (closed past 300 bytes). */
	uint64_t r0 = SPOOL_HDR + rec_bytes(0, 2);
	seg_path(path, sizeof path, dir, 1);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	int in_first = 0;
	for (uint64_t o = 0; o < (uint64_t)st.st_size; o += SPOOL_HDR + rec_bytes(in_first, 2))
		in_first++;
	flip_byte(path, r0); /* magic of record 1 */
	s = open_spool(dir, 1 << 20, 300, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), 0); /* unreadable counts */
	CHECK_INT(hg_spool_pending_lines(s), 2 * (12 - (in_first - 1)));
	CHECK_INT(expect_rec(s, 0, 2, 1), 0);
	for (int i = in_first; i < 12; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

static void test_max_size(void)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	const uint64_t max = 4096;
	struct spool *s = open_spool(dir, max, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	uint64_t disk, bytes;
	int over = 0;
	for (int i = 0; i < 100; i++) {
		CHECK_INT(append_rec(s, i, 2), 0);
		seg_files(dir, &disk);
		over += disk > max;
	}
	CHECK_INT(over, 0);
	uint64_t pend = hg_spool_pending_lines(s), dropped = hg_spool_dropped_lines(s);
	CHECK_INT(pend + dropped, 200);
	CHECK(dropped > 0 && pend > 0);
	/* What is left is the newest records, in order. */
	int first = 100 - (int)(pend / 2);
	bytes = 0;
	for (int i = first; i < 100; i++)
		bytes += rec_bytes(i, 2);
	CHECK_INT(hg_spool_pending_bytes(s), bytes);

	/* A record larger than max_size is refused and changes nothing. */
	char *big = malloc(5000);
	memset(big, 'x', 5000);
	big[4999] = '\n';
	CHECK_INT(hg_spool_append(s, big, 5000, 1, err, sizeof err), -1);
	CHECK(strstr(err, "max_size") != NULL);
	free(big);
	CHECK_INT(hg_spool_pending_lines(s), pend);

	/* The peeked record's segment dropped before its ack: the caller holds
	 * the record, so it stays pending (not dropped) until the ack, which
	 * then counts it written; the next peek gives the oldest record still
	 * there. */
	CHECK_INT(expect_rec(s, first, 2, 0), 0);
	int i = 100;
	uint64_t d0 = hg_spool_dropped_lines(s);
	while (hg_spool_dropped_lines(s) == d0 && i < 1000)
		CHECK_INT(append_rec(s, i++, 2), 0);
	CHECK(i < 1000);
	CHECK_INT(hg_spool_pending_lines(s) + hg_spool_dropped_lines(s), 2 * (uint64_t)i);
	CHECK_INT(hg_spool_ack(s, err, sizeof err), 0);
	pend = hg_spool_pending_lines(s);
	CHECK_INT(pend + hg_spool_dropped_lines(s) + 2, 2 * (uint64_t)i);
	for (int j = i - (int)(pend / 2); j < i; j++)
		CHECK_INT(expect_rec(s, j, 2, 1), 0);
	hg_spool_close(s);

	/* Reopened with a smaller max_size: trimmed to fit, oldest first. */
	s = open_spool(dir, max, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int j = 0; j < 20; j++)
		CHECK_INT(append_rec(s, 1000 + j, 2), 0);
	hg_spool_close(s);
	s = open_spool(dir, 1200, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	seg_files(dir, &disk);
	CHECK(disk <= 1200);
	pend = hg_spool_pending_lines(s);
	CHECK(pend > 0 && hg_spool_dropped_lines(s) > 0);
	for (int j = 20 - (int)(pend / 2); j < 20; j++)
		CHECK_INT(expect_rec(s, 1000 + j, 2, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* Marker trouble: a missing or corrupt marker replays everything (a
 * duplicate beats a loss); a segment older than the marker is deleted. */
static void test_marker(void)
{
	char dir[64], path[256];
	mktemp_dir(dir, sizeof dir);
	struct spool *s = open_spool(dir, 1 << 20, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 20; i++)
		CHECK_INT(append_rec(s, i, 3), 0);
	for (int i = 0; i < 15; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	hg_spool_close(s);
	/* Segment 1 was fully acknowledged and deleted; put one back as if the
	 * unlink had not happened before a crash. */
	seg_path(path, sizeof path, dir, 1);
	CHECK(access(path, F_OK) != 0);
	unsigned char hdr[SPOOL_HDR];
	const char *line = "stale x=1i\n";
	hg_spool_hdr_encode(hdr, (uint32_t)strlen(line), 1, (uint32_t)crc32(0L, (const Bytef *)line, (uInt)strlen(line)));
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(hdr, 1, sizeof hdr, f);
		fputs(line, f);
		fclose(f);
	}
	s = open_spool(dir, 1 << 20, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(hg_spool_pending_lines(s), 15);
	CHECK_INT(expect_rec(s, 15, 3, 0), 0);
	hg_spool_close(s);

	/* Corrupt marker: replay from the oldest segment on disk. */
	char apath[256];
	snprintf(apath, sizeof apath, "%s/ack", dir);
	flip_byte(apath, 10);
	s = open_spool(dir, 1 << 20, 1024, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	uint64_t pend = hg_spool_pending_lines(s);
	CHECK(pend >= 15);
	for (int i = 20 - (int)pend / 3; i < 20; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	hg_spool_close(s);

	/* A marker past the end of its segment (the segment lost an
	 * acknowledged tail) is pulled back to the end, so that what is
	 * appended there next is not taken as acknowledged. */
	rm_rf(dir);
	mktemp_dir(dir, sizeof dir);
	uint64_t offs[4];
	s = fill_one(dir, 3, 2, offs);
	CHECK(s != NULL);
	hg_spool_close(s);
	unsigned char m[SPOOL_ACK_SIZE];
	hg_spool_ack_encode(m, 1, offs[3] + 500);
	snprintf(apath, sizeof apath, "%s/ack", dir);
	f = fopen(apath, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(m, 1, sizeof m, f);
		fclose(f);
	}
	s = open_spool(dir, 1 << 20, 1 << 20, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 0);
	CHECK_INT(append_rec(s, 3, 2), 0);
	hg_spool_close(s);
	s = open_spool(dir, 1 << 20, 1 << 20, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 2);
	CHECK_INT(expect_rec(s, 3, 2, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* The cases that hold under either fsync policy, each under both: every
 * append synced (0), and once a second. */
#define FSYNC_EACH 0
#define FSYNC_1S 1000000000

static void test_order_fsync_each(void)
{
	test_order(FSYNC_EACH);
}
static void test_order_fsync_1s(void)
{
	test_order(FSYNC_1S);
}
static void test_restart_fsync_each(void)
{
	test_restart(FSYNC_EACH);
}
static void test_restart_fsync_1s(void)
{
	test_restart(FSYNC_1S);
}
static void test_kill_fsync_each(void)
{
	test_kill(FSYNC_EACH);
}
static void test_kill_fsync_1s(void)
{
	test_kill(FSYNC_1S);
}

/* A record held in memory when killed: lost and counted (not written, either
 * policy) or written and acknowledged (nothing counted). */
static const struct {
	int64_t fsync_ns;
	int write_it;
} kill_held[] = {
	{ FSYNC_EACH, 0 },
	{ FSYNC_1S, 0 },
	{ FSYNC_EACH, 1 },
};

static void test_kill_held_all(void)
{
	for (size_t i = 0; i < sizeof kill_held / sizeof kill_held[0]; i++)
		test_kill_held(kill_held[i].fsync_ns, kill_held[i].write_it);
}

static int suite_setup(void)
{
	hg_log_open(NULL, false, true);
	return 0;
}

static void suite_teardown(void)
{
	free(rbuf);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_order_fsync_each),
		CHECK_CASE(test_order_fsync_1s),
		CHECK_CASE(test_restart_fsync_each),
		CHECK_CASE(test_restart_fsync_1s),
		CHECK_CASE(test_kill_fsync_each),
		CHECK_CASE(test_kill_fsync_1s),
		CHECK_CASE(test_kill_held_all),
		CHECK_CASE(test_copy_live),
		CHECK_CASE(test_torn),
		CHECK_CASE(test_corrupt_middle),
		CHECK_CASE(test_max_size),
		CHECK_CASE(test_marker),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
