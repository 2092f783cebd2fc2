/* libFuzzer target for spool recovery: the input becomes segment files
 * (and optionally a valid ack marker) in a temp directory; the spool is
 * opened and drained. It must not crash, must deliver exactly the lines it
 * counted as pending at open, allocate no more for a record than the files
 * hold, and leave a directory that takes appends and reads them back after
 * a reopen.
 *
 * Input: byte 0 flags (1: write a marker, 2: split into two segments,
 * 4: fsync every operation, 8: small max_size, 16: a "held" marker of
 * byte 4 lines, which the open counts as dropped and removes), bytes 1-4
 * marker sequence and offset and the split point; the rest is segment
 * data. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "spool.h"
#include "spool_internal.h"

#define ASSERT(c)                                                                        \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                         \
		}                                                                        \
	} while (0)

static char dir[64];

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	ASSERT(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT(fd >= 0);
	ASSERT(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static int dirfd_of_dir(void)
{
	static int fd = -1;
	if (fd < 0)
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT(fd >= 0);
	return fd;
}

static void write_seg(uint64_t seq, const uint8_t *p, size_t n)
{
	char name[24];
	hg_spool_seg_name(name, seq);
	write_file(name, p, n);
}

static void remove_dir(void)
{
	clean_dir();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		hg_log_open(NULL, false, true);
		/* tmpfs when there is one: fsync there costs nothing. */
		snprintf(dir, sizeof dir, "%s/fuzz_spool.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		ASSERT(mkdtemp(dir));
		atexit(remove_dir);
	}
	if (size < 5)
		return 0;
	uint8_t flags = data[0];
	uint64_t first = 1 + (data[1] >> 6);
	const uint8_t *seg = data + 5;
	size_t n = size - 5;
	clean_dir();
	if (flags & 1) {
		unsigned char m[SPOOL_ACK_SIZE];
		hg_spool_ack_encode(m, 1 + (data[1] & 3), (uint64_t)data[2] | (uint64_t)data[3] << 8);
		write_file(SPOOL_ACK_NAME, m, sizeof m);
	}
	if (flags & 16)
		ASSERT(hg_spool_held_write(dirfd_of_dir(), data[4], 0, 0, NULL, 0) == 0);
	if (flags & 2) {
		size_t cut = n ? (size_t)data[4] * 37 % (n + 1) : 0;
		write_seg(first, seg, cut);
		write_seg(first + 1, seg + cut, n - cut);
	} else {
		write_seg(first, seg, n);
	}

	struct spool_opts o = {
		.dir = dir,
		.max_size = flags & 8 ? 2048 : 1 << 20,
		.segment_size = 1024,
		.fsync_interval_ns = flags & 4 ? 0 : 1000000000,
	};
	struct spool *s;
	char err[256], *buf = NULL;
	size_t cap = 0, len;
	uint32_t nl;
	ASSERT(hg_spool_open(&s, &o, err, sizeof err) == 0);
	uint64_t pending = hg_spool_pending_lines(s), delivered = 0, dropped0 = hg_spool_dropped_lines(s);
	size_t records = 0;
	int rc;
	while ((rc = hg_spool_peek(s, &buf, &cap, &len, &nl, err, sizeof err)) == 1) {
		ASSERT(len <= n && cap <= (n ? n : 1) && nl <= len);
		ASSERT(hg_spool_ack(s, err, sizeof err) == 0);
		delivered += nl;
		ASSERT(++records <= n / SPOOL_HDR);
	}
	ASSERT(rc == 0);
	ASSERT(delivered == pending);
	ASSERT(!(flags & 16) || dropped0 >= data[4]);
	char held[128];
	snprintf(held, sizeof held, "%s/%s", dir, SPOOL_HELD_NAME);
	ASSERT(access(held, F_OK) != 0);
	ASSERT(hg_spool_dropped_lines(s) == dropped0);
	ASSERT(hg_spool_pending_lines(s) == 0 && hg_spool_pending_bytes(s) == 0);

	static const char rec[] = "m,t=a v=1i 1\nm,t=b v=2i 2\n";
	ASSERT(hg_spool_append(s, rec, sizeof rec - 1, 2, err, sizeof err) == 0);
	hg_spool_close(s);
	ASSERT(hg_spool_open(&s, &o, err, sizeof err) == 0);
	ASSERT(hg_spool_dropped_lines(s) == 0 && hg_spool_pending_lines(s) == 2);
	ASSERT(hg_spool_peek(s, &buf, &cap, &len, &nl, err, sizeof err) == 1);
	ASSERT(len == sizeof rec - 1 && nl == 2 && memcmp(buf, rec, len) == 0);
	ASSERT(hg_spool_ack(s, err, sizeof err) == 0);
	ASSERT(hg_spool_peek(s, &buf, &cap, &len, &nl, err, sizeof err) == 0);
	hg_spool_close(s);
	free(buf);
	return 0;
}
