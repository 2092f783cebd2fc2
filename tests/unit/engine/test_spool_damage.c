/* Disk spool damage and limits: torn files (a table of cuts), corrupt
 * records and segments, max_size drop-oldest, deletion of acknowledged
 * segments and a missing, corrupt or overshooting ack marker. Each case
 * works in its own temp directory. Order, restarts and kill -9 are in
 * test_spool_durability.c. */
#include <zlib.h>
#include "check.h"
#include "spool_harness.h"

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
	uint64_t offs[4] = { 0 }; /* fill_one fills them; -O3 cannot see it does on every path */
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

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_torn),
		CHECK_CASE(test_corrupt_middle),
		CHECK_CASE(test_max_size),
		CHECK_CASE(test_marker),
	};
	return CHECK_RUN_WITH(argc, argv, cases, spool_setup, spool_teardown);
}
