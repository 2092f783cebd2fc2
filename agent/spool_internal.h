/* Disk spool internals shared by spool.c (the queue) and spool_record.c
 * (the on-disk formats), and by the fuzz target that forges marker files.
 *
 * Segment file NNNNNNNNNNNNNNNN.seg (16-digit sequence): records, each a
 * 16-byte little-endian header { magic "HGSR", payload length, line count,
 * CRC32 (zlib) of the payload } followed by the payload.
 * Marker file "ack": 24 bytes { magic "HGSA", segment sequence u64, offset
 * u64, CRC32 of the first 20 bytes }: every record before that offset of
 * that segment, and every segment with a lower sequence, is acknowledged.
 * A marker naming a segment that no longer exists means its successors are
 * read from their start.
 * Marker file "held": 24 bytes { magic "HGSH", lines u64, payload bytes
 * u64, CRC32 of the first 20 bytes }: max_size removed the segment of the
 * record being written, which then exists only in the writer's memory; the
 * marker is removed once that record is written or given up. Found at open,
 * the agent stopped (kill -9) before either: its lines are counted as
 * dropped. */
#ifndef HG_SPOOL_INTERNAL_H
#define HG_SPOOL_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_HDR 16
#define SPOOL_MAGIC 0x52534748u /* "HGSR" as little-endian bytes */
#define SPOOL_ACK_MAGIC 0x41534748u /* "HGSA" */
#define SPOOL_ACK_SIZE 24
/* No legitimate batch comes near this; it bounds what peek allocates
 * when a corrupt header claims a huge length. */
#define SPOOL_MAX_RECORD (64u << 20)
#define SPOOL_ACK_NAME "ack"
#define SPOOL_ACK_TMP "ack.tmp"
#define SPOOL_HELD_MAGIC 0x48534748u /* "HGSH" */
#define SPOOL_HELD_NAME "held"
#define SPOOL_HELD_TMP "held.tmp"

struct spool_rec {
	uint32_t len, nlines, crc;
	int nlines_known; /* the header was readable (for counting drops) */
};

enum spool_rec_state {
	REC_OK,      /* header plausible and the payload lies within the file */
	REC_TORN,    /* header or payload cut short by the end of the file */
	REC_GARBAGE, /* bad magic or implausible header: nothing after it can be trusted */
};

void hg_spool_hdr_encode(unsigned char out[SPOOL_HDR], uint32_t len, uint32_t nlines, uint32_t crc);
/* Classifies the record at off of a file of size bytes; -1 on I/O error. */
int hg_spool_hdr_read(int fd, uint64_t off, uint64_t size, struct spool_rec *r);
/* 1 when the payload's CRC matches, 0 when not, -1 on I/O error; reads
 * through scratch, so memory does not depend on the record size. */
int hg_spool_rec_verify(int fd, uint64_t off, const struct spool_rec *r, unsigned char *scratch, size_t scratchlen);

void hg_spool_ack_encode(unsigned char out[SPOOL_ACK_SIZE], uint64_t seq, uint64_t off);
/* 0 and the position, or -1 when the marker is missing or invalid. */
int hg_spool_ack_read(int dirfd, uint64_t *seq, uint64_t *off);
/* Temp file + rename; with sync the file and the directory are fsynced. */
int hg_spool_ack_write(int dirfd, uint64_t seq, uint64_t off, int sync, char *err, size_t errlen);
/* The "held" marker: 0 and its counts, or -1 when missing or invalid. */
int hg_spool_held_read(int dirfd, uint64_t *lines, uint64_t *bytes);
int hg_spool_held_write(int dirfd, uint64_t lines, uint64_t bytes, int sync, char *err, size_t errlen);

/* Sequences stay within 16 digits so that names sort as numbers. */
#define SPOOL_SEQ_MAX 9999999999999999ULL
void hg_spool_seg_name(char out[24], uint64_t seq);
/* 1 and the sequence when name is a segment file name. */
int hg_spool_seg_parse(const char *name, uint64_t *seq);

ssize_t hg_spool_pread_full(int fd, void *buf, size_t n, uint64_t off);

/* The queue's state, shared by spool.c and the recovery in hg_spool_open.c. */
struct spool_seg {
	uint64_t seq;
	uint64_t size;  /* bytes in the file */
	uint64_t lines; /* lines of valid records not yet acknowledged */
	uint64_t bytes; /* their payload bytes */
	uint32_t bad;   /* corrupt records ahead of the reader, already counted as dropped at open */
};

struct spool {
	char *dir; /* for messages */
	int dirfd; /* holds the flock that keeps a second spool off this directory */
	uint64_t max_size, seg_size;
	int64_t fsync_ns;
	struct spool_seg *segs; /* oldest first; the reader is in segs[0], appends go to the last */
	size_t nseg, capseg;
	uint64_t next_seq;
	uint64_t roff; /* read position in segs[0] */
	int wfd;       /* the last segment, O_APPEND; -1 until needed */
	int rfd;       /* segs[0] for reading, when rseq matches */
	uint64_t rseq;
	int peeked, peek_lost;
	uint64_t peek_seq, peek_off, peek_end;
	uint32_t peek_lines, peek_len;
	/* The record handed out when max_size removed its segment: the caller
	 * holds it in memory and writes it, so it stays pending, not dropped,
	 * until acknowledged. */
	uint64_t lost_lines, lost_bytes;
	uint64_t pend_lines, pend_bytes, disk, dropped;
	int data_dirty, ack_dirty, dir_dirty; /* what hg_spool_sync still owes the disk */
	unsigned char scratch[64 << 10]; /* CRC checks at open read through this */
};

void hg_spool_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void hg_spool_drop_first(struct spool *s);
void hg_spool_advance(struct spool *s);

#endif
