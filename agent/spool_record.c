/* On-disk formats of the disk spool: record headers, payload checks and
 * the acknowledged-position marker (see spool_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "spool_internal.h"

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Reads up to n bytes; fewer only at end of file. */
ssize_t hg_spool_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

void hg_spool_hdr_encode(unsigned char out[SPOOL_HDR], uint32_t len, uint32_t nlines, uint32_t crc)
{
	put32(out, SPOOL_MAGIC);
	put32(out + 4, len);
	put32(out + 8, nlines);
	put32(out + 12, crc);
}

int hg_spool_hdr_read(int fd, uint64_t off, uint64_t size, struct spool_rec *r)
{
	unsigned char h[SPOOL_HDR];
	memset(r, 0, sizeof *r);
	if (off >= size)
		return REC_TORN;
	size_t want = size - off < SPOOL_HDR ? (size_t)(size - off) : SPOOL_HDR;
	ssize_t n = hg_spool_pread_full(fd, h, want, off);
	if (n < 0)
		return -1;
	if ((size_t)n < SPOOL_HDR) {
		/* A header cut short by a crash: its line count may be unwritten. */
		return n >= 4 && get32(h) != SPOOL_MAGIC ? REC_GARBAGE : REC_TORN;
	}
	if (get32(h) != SPOOL_MAGIC)
		return REC_GARBAGE;
	r->len = get32(h + 4);
	r->nlines = get32(h + 8);
	r->crc = get32(h + 12);
	/* Every line ends in '\n', so a record has at least as many bytes as
	 * lines; a header breaking that is corrupt, not torn. */
	if (r->len > SPOOL_MAX_RECORD || r->nlines > r->len)
		return REC_GARBAGE;
	r->nlines_known = 1;
	if (size - off - SPOOL_HDR < r->len)
		return REC_TORN;
	return REC_OK;
}

int hg_spool_rec_verify(int fd, uint64_t off, const struct spool_rec *r, unsigned char *scratch, size_t scratchlen)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	uint64_t pos = off + SPOOL_HDR;
	size_t left = r->len;
	while (left > 0) {
		size_t n = left < scratchlen ? left : scratchlen;
		ssize_t got = hg_spool_pread_full(fd, scratch, n, pos);
		if (got < 0)
			return -1;
		if ((size_t)got < n)
			return 0;
		crc = crc32(crc, scratch, (uInt)n);
		pos += n;
		left -= n;
	}
	return (uint32_t)crc == r->crc;
}

void hg_spool_ack_encode(unsigned char out[SPOOL_ACK_SIZE], uint64_t seq, uint64_t off)
{
	put32(out, SPOOL_ACK_MAGIC);
	put64(out + 4, seq);
	put64(out + 12, off);
	put32(out + 20, (uint32_t)crc32(0L, out, 20));
}

/* The markers ("ack", "held"): 24 bytes { magic, two u64, CRC32 }. */
static int marker_read(int dirfd, const char *name, uint32_t magic, uint64_t *x, uint64_t *y)
{
	unsigned char b[SPOOL_ACK_SIZE + 1];
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n = hg_spool_pread_full(fd, b, sizeof b, 0);
	close(fd);
	if (n != SPOOL_ACK_SIZE || get32(b) != magic || get32(b + 20) != (uint32_t)crc32(0L, b, 20))
		return -1;
	*x = get64(b + 4);
	*y = get64(b + 12);
	return 0;
}

int hg_spool_ack_read(int dirfd, uint64_t *seq, uint64_t *off)
{
	return marker_read(dirfd, SPOOL_ACK_NAME, SPOOL_ACK_MAGIC, seq, off);
}

int hg_spool_held_read(int dirfd, uint64_t *lines, uint64_t *bytes)
{
	return marker_read(dirfd, SPOOL_HELD_NAME, SPOOL_HELD_MAGIC, lines, bytes);
}

static int marker_write(int dirfd, const char *name, const char *tmp, const unsigned char b[SPOOL_ACK_SIZE], int sync,
			char *err, size_t errlen)
{
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	ssize_t w;
	do
		w = write(fd, b, SPOOL_ACK_SIZE);
	while (w < 0 && errno == EINTR);
	/* 24 bytes to a regular file are written whole or not at all. */
	if (w != (ssize_t)SPOOL_ACK_SIZE || (sync && fdatasync(fd) < 0)) {
		int e = w < 0 || w == (ssize_t)SPOOL_ACK_SIZE ? errno : ENOSPC;
		close(fd);
		errno = e;
		goto fail;
	}
	if (close(fd) < 0)
		goto fail;
	/* rename() replaces the marker atomically: a crash leaves the old
	 * position or the new one, never a mix. */
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	if (sync && fsync(dirfd) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "spool %s marker: %s", name, strerror(errno));
	return -1;
}

int hg_spool_ack_write(int dirfd, uint64_t seq, uint64_t off, int sync, char *err, size_t errlen)
{
	unsigned char b[SPOOL_ACK_SIZE];
	hg_spool_ack_encode(b, seq, off);
	return marker_write(dirfd, SPOOL_ACK_NAME, SPOOL_ACK_TMP, b, sync, err, errlen);
}

int hg_spool_held_write(int dirfd, uint64_t lines, uint64_t bytes, int sync, char *err, size_t errlen)
{
	unsigned char b[SPOOL_ACK_SIZE];
	put32(b, SPOOL_HELD_MAGIC);
	put64(b + 4, lines);
	put64(b + 12, bytes);
	put32(b + 20, (uint32_t)crc32(0L, b, 20));
	return marker_write(dirfd, SPOOL_HELD_NAME, SPOOL_HELD_TMP, b, sync, err, errlen);
}

void hg_spool_seg_name(char out[24], uint64_t seq)
{
	snprintf(out, 24, "%016llu.seg", (unsigned long long)seq);
}

int hg_spool_seg_parse(const char *name, uint64_t *seq)
{
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + 16, ".seg") != 0)
		return 0;
	*seq = v;
	return 1;
}
