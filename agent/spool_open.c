/* Opening a spool directory: lock it, read the acknowledged position,
 * check every unacknowledged record, cut torn or corrupt tails, and bring
 * the spool within max_size. A crash at any point of a spool's life
 * leaves files this can recover. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "spool.h"
#include "spool_internal.h"

#define DEFAULT_MAX_SIZE (1ULL << 30)
#define MIN_SEGMENT (64ULL << 10)

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char *p = strdup(dir);
	if (!p) {
		hg_spool_seterr(err, errlen, "spool %s: out of memory", dir);
		return -1;
	}
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			hg_spool_seterr(err, errlen, "spool %s: mkdir %s: %s", dir, p, strerror(errno));
			free(p);
			return -1;
		}
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The sorted sequences of the segment files in the directory. */
static int list_segments(struct spool *s, uint64_t **out, size_t *n, char *err, size_t errlen)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		hg_spool_seterr(err, errlen, "spool %s: %s", s->dir, strerror(errno));
		return -1;
	}
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq;
		if (!hg_spool_seg_parse(e->d_name, &seq))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				free(v);
				closedir(d);
				hg_spool_seterr(err, errlen, "spool %s: out of memory", s->dir);
				return -1;
			}
			v = nv;
			cap = nc;
		}
		v[cnt++] = seq;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof *v, cmp_u64);
	*out = v;
	*n = cnt;
	return 0;
}

/* Checks the records of one segment from start on. Bad-CRC records with a
 * plausible length are skipped (their lines counted as dropped); a torn or
 * garbled stretch ends the segment, and everything after the last good
 * record is cut off so that appends continue from a clean end. */
static int scan_segment(struct spool *s, struct spool_seg *g, uint64_t start, uint64_t *rstart, char *err, size_t errlen)
{
	char name[24];
	hg_spool_seg_name(name, g->seq);
	int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		hg_spool_seterr(err, errlen, "spool %s: %s: %s", s->dir, name, fd < 0 || errno ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	uint64_t size = (uint64_t)st.st_size;
	/* The marker is trusted (it has its own CRC and is written only at
	 * record boundaries) except past the end of the file. */
	uint64_t off = start > size ? size : start;
	uint64_t valid_end = off, dropped = 0;
	uint32_t bad_tail = 0;
	int garbled = 0;
	*rstart = off;
	while (off < size) {
		struct spool_rec r;
		int rs = hg_spool_hdr_read(fd, off, size, &r);
		int ok = rs == REC_OK ? hg_spool_rec_verify(fd, off, &r, s->scratch, sizeof s->scratch) : 0;
		if (rs < 0 || ok < 0) {
			hg_spool_seterr(err, errlen, "spool %s: read %s: %s", s->dir, name, strerror(errno));
			close(fd);
			return -1;
		}
		if (rs != REC_OK) {
			dropped += r.nlines_known ? r.nlines : 0;
			garbled = !r.nlines_known;
			break;
		}
		off += SPOOL_HDR + (uint64_t)r.len;
		if (ok) {
			g->lines += r.nlines;
			g->bytes += r.len;
			valid_end = off;
			bad_tail = 0;
		} else {
			dropped += r.nlines;
			g->bad++;
			bad_tail++;
		}
	}
	if (valid_end < size) {
		log_warn("spool", "%s: %s: %llu bytes after offset %llu are torn or corrupt and were cut off, "
				  "%llu lines dropped%s",
			 s->dir, name, (unsigned long long)(size - valid_end), (unsigned long long)valid_end,
			 (unsigned long long)dropped, garbled ? " (plus a record whose line count was unreadable)" : "");
		if (ftruncate(fd, (off_t)valid_end) < 0 || fsync(fd) < 0) {
			hg_spool_seterr(err, errlen, "spool %s: truncate %s: %s", s->dir, name, strerror(errno));
			close(fd);
			return -1;
		}
		size = valid_end;
		g->bad -= bad_tail;
	} else if (dropped) {
		log_warn("spool", "%s: %s: %u corrupt records skipped, %llu lines dropped", s->dir, name, g->bad,
			 (unsigned long long)dropped);
	}
	close(fd);
	g->size = size;
	s->dropped += dropped;
	return 0;
}

static int load(struct spool *s, char *err, size_t errlen)
{
	uint64_t ackseq = 0, ackoff = 0;
	int have_ack = hg_spool_ack_read(s->dirfd, &ackseq, &ackoff) == 0 && ackseq <= SPOOL_SEQ_MAX;
	/* Without a marker everything is replayed: a duplicate beats a loss. */
	uint64_t *seqs;
	size_t n;
	if (list_segments(s, &seqs, &n, err, errlen) < 0)
		return -1;
	/* Non-last segments hold at least seg_size bytes, so this many is
	 * enough at run time; the array grows only for what an earlier
	 * configuration left behind. */
	uint64_t bound = s->max_size / s->seg_size + 2;
	size_t want = n + 2;
	if (bound > want)
		want = bound > 256 ? 256 : (size_t)bound;
	s->segs = calloc(want, sizeof *s->segs);
	if (!s->segs) {
		free(seqs);
		hg_spool_seterr(err, errlen, "spool %s: out of memory", s->dir);
		return -1;
	}
	s->capseg = want;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char name[24];
		hg_spool_seg_name(name, seqs[i]);
		if (have_ack && seqs[i] < ackseq) {
			/* Acknowledged; a crash came between the marker and the unlink. */
			if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
				log_warn("spool", "%s: cannot remove %s: %s", s->dir, name, strerror(errno));
			continue;
		}
		struct spool_seg *g = &s->segs[s->nseg];
		*g = (struct spool_seg){ .seq = seqs[i] };
		uint64_t start = have_ack && seqs[i] == ackseq ? ackoff : 0, rstart;
		rc = scan_segment(s, g, start, &rstart, err, errlen);
		if (rc == 0) {
			if (s->nseg == 0)
				s->roff = rstart;
			s->disk += g->size;
			s->pend_lines += g->lines;
			s->pend_bytes += g->bytes;
			s->nseg++;
		}
	}
	uint64_t last = n ? seqs[n - 1] : 0;
	free(seqs);
	if (rc < 0)
		return -1;
	s->next_seq = (have_ack && ackseq > last ? ackseq : last) + 1;
	/* A smaller max_size than the spool was written with. */
	while (s->nseg > 0 && s->disk > s->max_size)
		hg_spool_drop_first(s);
	hg_spool_advance(s);
	/* A marker past the end of its segment (the segment lost a tail it
	 * had acknowledged) would hide what is appended there next. */
	if (have_ack && s->nseg > 0 && s->segs[0].seq == ackseq && s->roff != ackoff &&
	    hg_spool_ack_write(s->dirfd, ackseq, s->roff, s->fsync_ns == 0, err, errlen) < 0)
		return -1;
	s->dir_dirty = 0;
	if (s->fsync_ns == 0)
		fsync(s->dirfd);
	return 0;
}

/* A "held" marker: the agent stopped while the record being written was
 * only in its memory (max_size had removed its segment) and before it was
 * written; those lines are gone, and counted as dropped. */
static void count_held(struct spool *s)
{
	uint64_t lines = 0, bytes = 0;
	if (hg_spool_held_read(s->dirfd, &lines, &bytes) == 0) {
		log_warn("spool", "%s: %llu lines of a batch in flight, whose segment max_size had removed, were lost when the "
				  "agent stopped before writing them; counted as dropped",
			 s->dir, (unsigned long long)lines);
		s->dropped += lines;
	}
	if (unlinkat(s->dirfd, SPOOL_HELD_NAME, 0) == 0)
		fsync(s->dirfd);
}

int hg_spool_open(struct spool **out, const struct spool_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	if (!o->dir || !*o->dir) {
		hg_spool_seterr(err, errlen, "spool: no directory");
		return -1;
	}
	struct spool *s = calloc(1, sizeof *s);
	if (!s || !(s->dir = strdup(o->dir))) {
		free(s);
		hg_spool_seterr(err, errlen, "spool %s: out of memory", o->dir);
		return -1;
	}
	s->dirfd = s->wfd = s->rfd = -1;
	s->max_size = o->max_size ? o->max_size : DEFAULT_MAX_SIZE;
	s->seg_size = o->segment_size;
	if (!s->seg_size)
		s->seg_size = s->max_size / 16 > MIN_SEGMENT ? s->max_size / 16 : MIN_SEGMENT;
	s->fsync_ns = o->fsync_interval_ns;
	if (mkdir_p(o->dir, err, errlen) < 0)
		goto fail;
	s->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		hg_spool_seterr(err, errlen, "spool %s: %s", o->dir, strerror(errno));
		goto fail;
	}
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		hg_spool_seterr(err, errlen, "spool %s: %s", o->dir,
			     errno == EWOULDBLOCK ? "in use by another spool (another agent process?)" : strerror(errno));
		goto fail;
	}
	unlinkat(s->dirfd, SPOOL_ACK_TMP, 0);
	unlinkat(s->dirfd, SPOOL_HELD_TMP, 0);
	if (load(s, err, errlen) < 0)
		goto fail;
	count_held(s);
	*out = s;
	return 0;
fail:
	hg_spool_close(s);
	return -1;
}
