/* Disk spool: a queue of records in numbered segment files. Appends go to
 * the last segment, reads and acknowledgements advance through the first;
 * only per-segment counters live in memory, so memory does not grow with
 * what is spooled. Formats are in spool_internal.h, recovery at open in
 * hg_spool_open.c. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#include "spool.h"
#include "log.h"
#include "spool_internal.h"

void hg_spool_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Removes the oldest segment from disk; whatever it still held unread is
 * counted as dropped. */
void hg_spool_drop_first(struct spool *s)
{
	struct spool_seg *g = &s->segs[0];
	char name[24];
	uint64_t keep = 0, keep_bytes = 0;
	if (s->peeked && s->peek_seq == g->seq) {
		/* The record handed out is gone: its ack must not move the read
		 * position into the next segment. */
		s->peeked = 0;
		s->peek_lost = 1;
		keep = s->peek_lines < g->lines ? s->peek_lines : g->lines;
		keep_bytes = s->peek_len < g->bytes ? s->peek_len : g->bytes;
		s->lost_lines = keep;
		s->lost_bytes = keep_bytes;
		/* Before the segment goes: a kill -9 before this record is
		 * written would lose it with no trace; the marker gets it counted
		 * at the next open. */
		char err[128];
		if (hg_spool_held_write(s->dirfd, keep, keep_bytes, s->fsync_ns == 0, err, sizeof err) < 0)
			log_warn("spool", "%s: %s; a kill -9 before the batch in flight is written would lose it uncounted",
				 s->dir, err);
		else if (s->fsync_ns != 0)
			s->dir_dirty = 1;
	}
	s->dropped += g->lines - keep;
	s->pend_lines -= g->lines - keep;
	s->pend_bytes -= g->bytes - keep_bytes;
	s->disk -= g->size;
	if (s->rfd >= 0 && s->rseq == g->seq)
		close_fd(&s->rfd);
	if (s->nseg == 1)
		close_fd(&s->wfd);
	hg_spool_seg_name(name, g->seq);
	if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
		log_warn("spool", "%s: cannot remove %s: %s", s->dir, name, strerror(errno));
	memmove(s->segs, s->segs + 1, (s->nseg - 1) * sizeof *s->segs);
	s->nseg--;
	s->roff = 0;
	s->dir_dirty = 1;
}

/* Deletes leading segments that have been read to their end, keeping the
 * last one, which appends still go to. */
void hg_spool_advance(struct spool *s)
{
	while (s->nseg > 1 && s->roff >= s->segs[0].size)
		hg_spool_drop_first(s);
}

static int sync_fd(int fd)
{
	return fdatasync(fd);
}

static int new_segment(struct spool *s, char *err, size_t errlen)
{
	char name[24];
	/* hg_spool_open allocated segs with room for two at least. */
	assert(s->segs && s->capseg >= 2 && s->nseg <= s->capseg);
	if (s->next_seq > SPOOL_SEQ_MAX) {
		hg_spool_seterr(err, errlen, "spool %s: segment sequence exhausted", s->dir);
		return -1;
	}
	if (s->nseg == s->capseg) {
		size_t ncap = s->capseg * 2;
		struct spool_seg *n = realloc(s->segs, ncap * sizeof *n);
		if (!n) {
			hg_spool_seterr(err, errlen, "spool %s: out of memory", s->dir);
			return -1;
		}
		s->segs = n;
		s->capseg = ncap;
	}
	hg_spool_seg_name(name, s->next_seq);
	int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		hg_spool_seterr(err, errlen, "spool %s: create %s: %s", s->dir, name, strerror(errno));
		return -1;
	}
	/* The timer only syncs the current segment: the one being closed
	 * gets its sync now. */
	if (s->wfd >= 0 && s->data_dirty && sync_fd(s->wfd) == 0)
		s->data_dirty = 0;
	close_fd(&s->wfd);
	s->wfd = fd;
	s->segs[s->nseg++] = (struct spool_seg){ .seq = s->next_seq++ };
	if (s->nseg == 1)
		s->roff = 0;
	if (s->fsync_ns == 0)
		fsync(s->dirfd);
	else
		s->dir_dirty = 1;
	hg_spool_advance(s);
	return 0;
}

static int write_all(int fd, const unsigned char *hdr, const char *data, size_t len)
{
	size_t total = SPOOL_HDR + len, done = 0;
	while (done < total) {
		struct iovec iov[2];
		int n = 0;
		if (done < SPOOL_HDR)
			iov[n++] = (struct iovec){ (void *)(hdr + done), SPOOL_HDR - done };
		size_t d = done > SPOOL_HDR ? done - SPOOL_HDR : 0;
		if (d < len)
			iov[n++] = (struct iovec){ (void *)(data + d), len - d };
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

int hg_spool_append(struct spool *s, const char *data, size_t len, uint32_t nlines, char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	uint64_t need = SPOOL_HDR + (uint64_t)len;
	if (len > SPOOL_MAX_RECORD || need > s->max_size) {
		hg_spool_seterr(err, errlen, "spool %s: record of %zu bytes exceeds %s", s->dir, len,
			     len > SPOOL_MAX_RECORD ? "the record size limit" : "max_size");
		return -1;
	}
	if (nlines > len) {
		hg_spool_seterr(err, errlen, "spool %s: %u lines in %zu bytes", s->dir, nlines, len);
		return -1;
	}
	/* Drop-oldest, documented: a full spool keeps the newest data. */
	while (s->nseg > 0 && s->disk + need > s->max_size)
		hg_spool_drop_first(s);
	struct spool_seg *last = s->nseg ? &s->segs[s->nseg - 1] : NULL;
	if (!last || last->size >= s->seg_size) {
		if (new_segment(s, err, errlen) < 0)
			return -1;
	} else if (s->wfd < 0) {
		char name[24];
		hg_spool_seg_name(name, last->seq);
		s->wfd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (s->wfd < 0) {
			hg_spool_seterr(err, errlen, "spool %s: open %s: %s", s->dir, name, strerror(errno));
			return -1;
		}
	}
	last = &s->segs[s->nseg - 1];
	unsigned char hdr[SPOOL_HDR];
	errno = 0;
	hg_spool_hdr_encode(hdr, (uint32_t)len, nlines, (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)data, (uInt)len));
	if (write_all(s->wfd, hdr, data, len) < 0 || (s->fsync_ns == 0 && sync_fd(s->wfd) < 0)) {
		int e = errno ? errno : ENOSPC;
		/* No half record stays behind for the next append to follow. */
		if (ftruncate(s->wfd, (off_t)last->size) < 0)
			log_warn("spool", "%s: cannot cut a failed append: %s", s->dir, strerror(errno));
		hg_spool_seterr(err, errlen, "spool %s: append: %s", s->dir, strerror(e));
		return -1;
	}
	last->size += need;
	last->lines += nlines;
	last->bytes += len;
	s->disk += need;
	s->pend_lines += nlines;
	s->pend_bytes += len;
	if (s->fsync_ns != 0)
		s->data_dirty = 1;
	return 0;
}

static int read_fd(struct spool *s, char *err, size_t errlen)
{
	if (s->rfd >= 0 && s->rseq == s->segs[0].seq)
		return s->rfd;
	close_fd(&s->rfd);
	char name[24];
	hg_spool_seg_name(name, s->segs[0].seq);
	s->rfd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->rfd < 0) {
		hg_spool_seterr(err, errlen, "spool %s: open %s: %s", s->dir, name, strerror(errno));
		return -1;
	}
	s->rseq = s->segs[0].seq;
	return s->rfd;
}

/* A record found bad only now (the disk changed under us) was counted as
 * pending: it moves to dropped. */
static void lose(struct spool *s, struct spool_seg *g, uint64_t lines, uint64_t bytes)
{
	if (lines > g->lines)
		lines = g->lines;
	if (bytes > g->bytes)
		bytes = g->bytes;
	g->lines -= lines;
	g->bytes -= bytes;
	s->pend_lines -= lines;
	s->pend_bytes -= bytes;
	s->dropped += lines;
}

/* Settles a record peeked before max_size removed it: written (acked) or
 * given up by peeking again, when it is dropped. */
static void settle_lost(struct spool *s, int written)
{
	if (!written)
		s->dropped += s->lost_lines;
	s->pend_lines -= s->lost_lines;
	s->pend_bytes -= s->lost_bytes;
	s->lost_lines = s->lost_bytes = 0;
	s->peek_lost = 0;
	if (unlinkat(s->dirfd, SPOOL_HELD_NAME, 0) < 0 && errno != ENOENT)
		log_warn("spool", "%s: cannot remove %s: %s", s->dir, SPOOL_HELD_NAME, strerror(errno));
	else if (s->fsync_ns == 0)
		fsync(s->dirfd); /* else a crash could bring it back, counting a written batch as dropped */
	else
		s->dir_dirty = 1;
}

int hg_spool_peek(struct spool *s, char **buf, size_t *cap, size_t *len, uint32_t *nlines, char *err, size_t errlen)
{
	s->peeked = 0;
	if (s->peek_lost)
		settle_lost(s, 0);
	for (;;) {
		if (s->nseg == 0)
			return 0;
		struct spool_seg *g = &s->segs[0];
		if (s->roff >= g->size) {
			if (s->nseg == 1)
				return 0;
			hg_spool_advance(s);
			continue;
		}
		int fd = read_fd(s, err, errlen);
		if (fd < 0)
			return -1;
		struct spool_rec r;
		int st = hg_spool_hdr_read(fd, s->roff, g->size, &r);
		if (st < 0) {
			hg_spool_seterr(err, errlen, "spool %s: read: %s", s->dir, strerror(errno));
			return -1;
		}
		if (st == REC_OK) {
			size_t want = r.len ? r.len : 1;
			if (*cap < want || !*buf) {
				char *n = realloc(*buf, want);
				if (!n) {
					hg_spool_seterr(err, errlen, "spool %s: out of memory for a %u-byte record", s->dir, r.len);
					return -1;
				}
				*buf = n;
				*cap = want;
			}
			ssize_t got = hg_spool_pread_full(fd, *buf, r.len, s->roff + SPOOL_HDR);
			if (got < 0) {
				hg_spool_seterr(err, errlen, "spool %s: read: %s", s->dir, strerror(errno));
				return -1;
			}
			if ((size_t)got == r.len) {
				uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)*buf, (uInt)r.len);
				if ((uint32_t)crc == r.crc) {
					s->peeked = 1;
					s->peek_seq = g->seq;
					s->peek_off = s->roff;
					s->peek_end = s->roff + SPOOL_HDR + r.len;
					s->peek_lines = r.nlines;
					s->peek_len = r.len;
					*len = r.len;
					*nlines = r.nlines;
					return 1;
				}
				/* Skipped by its plausible length; if the open scan found
				 * it, it was counted as dropped then. */
				s->roff += SPOOL_HDR + (uint64_t)r.len;
				if (g->bad > 0)
					g->bad--;
				else
					lose(s, g, r.nlines, r.len);
				continue;
			}
		}
		/* Unreadable from here to the end of the segment: only possible
		 * if the file changed after open, which recovered it. */
		log_warn("spool", "%s: segment %llu unreadable from offset %llu, %llu lines lost", s->dir,
			 (unsigned long long)g->seq, (unsigned long long)s->roff, (unsigned long long)g->lines);
		lose(s, g, g->lines, g->bytes);
		g->bad = 0;
		s->roff = g->size;
	}
}

int hg_spool_ack(struct spool *s, char *err, size_t errlen)
{
	if (!s->peeked) {
		if (s->peek_lost) {
			/* Its segment went for max_size, but the caller wrote it. */
			settle_lost(s, 1);
			return 0;
		}
		hg_spool_seterr(err, errlen, "spool %s: nothing peeked to acknowledge", s->dir);
		return -1;
	}
	s->peeked = 0;
	struct spool_seg *g = &s->segs[0];
	s->roff = s->peek_end;
	uint64_t l = s->peek_lines < g->lines ? s->peek_lines : g->lines;
	uint64_t b = s->peek_len < g->bytes ? s->peek_len : g->bytes;
	g->lines -= l;
	g->bytes -= b;
	s->pend_lines -= l;
	s->pend_bytes -= b;
	/* The marker goes first: a crash between it and the unlink below
	 * leaves a segment that the next open sees as acknowledged. */
	int rc = hg_spool_ack_write(s->dirfd, g->seq, s->roff, s->fsync_ns == 0, err, errlen);
	if (s->fsync_ns != 0)
		s->ack_dirty = 1;
	hg_spool_advance(s);
	return rc;
}

int hg_spool_sync(struct spool *s)
{
	int rc = 0;
	if (s->data_dirty && s->wfd >= 0 && sync_fd(s->wfd) < 0)
		rc = -1;
	s->data_dirty = 0;
	if (s->ack_dirty) {
		int fd = openat(s->dirfd, SPOOL_ACK_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			if (sync_fd(fd) < 0)
				rc = -1;
			close(fd);
		}
		s->ack_dirty = 0;
		s->dir_dirty = 1;
	}
	if (s->dir_dirty && fsync(s->dirfd) < 0)
		rc = -1;
	s->dir_dirty = 0;
	return rc;
}

void hg_spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->fsync_ns != 0)
		hg_spool_sync(s);
	close_fd(&s->wfd);
	close_fd(&s->rfd);
	close_fd(&s->dirfd); /* also releases the directory lock */
	free(s->segs);
	free(s->dir);
	free(s);
}

uint64_t hg_spool_pending_lines(const struct spool *s)
{
	return s->pend_lines;
}

uint64_t hg_spool_pending_bytes(const struct spool *s)
{
	return s->pend_bytes;
}

uint64_t hg_spool_dropped_lines(const struct spool *s)
{
	return s->dropped;
}
