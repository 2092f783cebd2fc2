/* Disk spool for one output: batches of line protocol appended to segment
 * files as records (length, line count, CRC32 from zlib), read back oldest
 * first and acknowledged once written. Survives kill -9 and restart (a torn
 * tail is skipped), bounded by max_size (the oldest segments go first and
 * their lines are counted as dropped). Keyed by a directory per output name
 * or alias, so editing the config keeps the spool. Synchronous file I/O:
 * local disk, like /proc reads. */
#ifndef HG_SPOOL_H
#define HG_SPOOL_H
#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_opts {
	const char *dir;          /* created if missing (0700) */
	uint64_t max_size;        /* bytes on disk, all segments; 0 = 1 GiB */
	uint64_t segment_size;    /* a segment is closed past this size; 0 = max_size/16, at least 64 KiB */
	int64_t fsync_interval_ns; /* 0: fsync after every append and ack; else hg_spool_sync() is called by a timer */
};

int hg_spool_open(struct spool **out, const struct spool_opts *o, char *err, size_t errlen);
void hg_spool_close(struct spool *s);
/* Appends one record (whole lines, each ending in '\n'). May drop the
 * oldest segments to stay within max_size. 0, or -1 with err. */
int hg_spool_append(struct spool *s, const char *data, size_t len, uint32_t nlines, char *err, size_t errlen);
/* Reads the oldest unacknowledged record into *buf (grown with realloc as
 * needed; *cap is its size). 1: a record, 0: nothing pending, -1: error. */
int hg_spool_peek(struct spool *s, char **buf, size_t *cap, size_t *len, uint32_t *nlines, char *err, size_t errlen);
/* Acknowledges the record hg_spool_peek returned last: it will not be read
 * again, also after a restart. */
int hg_spool_ack(struct spool *s, char *err, size_t errlen);
int hg_spool_sync(struct spool *s);
uint64_t hg_spool_pending_lines(const struct spool *s);
uint64_t hg_spool_pending_bytes(const struct spool *s);
uint64_t hg_spool_dropped_lines(const struct spool *s); /* max_size overflow and torn/corrupt records */

#endif
