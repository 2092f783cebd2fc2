/* hg_rss_trim(): clean read-only file mappings leave the resident set and read back the file's
 * bytes; a read-only mapping holding copy-on-write changes, and a writable one, keep them. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "rss_trim.h"

enum { PAGES = 64 };

/* "Rss:" of the mapping that starts at addr, in KiB, or -1. */
static long mapping_rss_kib(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	bool in = false;
	long rss = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long start, end;
		/* A mapping's header starts "start-end "; its fields are "Name: value". */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start == (unsigned long)addr;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	fclose(f);
	return rss;
}

static char *make_file(char *path, size_t len)
{
	int fd = mkstemp(path);
	char *want = malloc(len);
	for (size_t i = 0; i < len; i++)
		want[i] = (char)(i * 7 + i / 4096);
	CHECK(fd >= 0 && write(fd, want, len) == (ssize_t)len);
	close(fd);
	return want;
}

static void *map_file(const char *path, size_t len, int prot)
{
	int fd = open(path, O_RDONLY);
	void *p = mmap(NULL, len, prot, MAP_PRIVATE, fd, 0);
	close(fd);
	CHECK(p != MAP_FAILED);
	return p;
}

static void test_trim(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)PAGES * (size_t)page;
	char path[] = "/tmp/hg-rss-trim.XXXXXX";
	char *want = make_file(path, len);

	/* A clean read-only mapping, every page touched. */
	volatile char *clean = map_file(path, len, PROT_READ);
	unsigned sum = 0;
	for (size_t i = 0; i < len; i += (size_t)page)
		sum += (unsigned char)clean[i];
	(void)sum;
	CHECK_INT(mapping_rss_kib((const void *)clean), (long)len / 1024);

	/* A read-only mapping whose first page was changed (copy-on-write) before it became
	 * read-only, as text relocations or a debugger's breakpoint do. */
	char *cow = map_file(path, len, PROT_READ | PROT_WRITE);
	memcpy(cow, "changed", 8);
	CHECK(mprotect(cow, len, PROT_READ) == 0);
	/* A writable private mapping with a change. */
	char *rw = map_file(path, len, PROT_READ | PROT_WRITE);
	memcpy(rw + page, "written", 8);

	size_t n = hg_rss_trim();
	CHECK(n >= 1);
	/* Gone from the resident set, and the same bytes when read again. */
	CHECK_INT(mapping_rss_kib((const void *)clean), 0);
	CHECK(memcmp((const void *)clean, want, len) == 0);
	/* The changed pages were not thrown away. */
	CHECK(memcmp(cow, "changed", 8) == 0);
	CHECK(memcmp(cow + 8, want + 8, len - 8) == 0);
	CHECK(memcmp(rw + page, "written", 8) == 0);
	/* Code this program runs (its own, libc's) faults back in: calling it still works. */
	char buf[32];
	snprintf(buf, sizeof buf, "%d-%s", 42, "ok");
	CHECK_STR(buf, "42-ok");
	/* hg_rss_trim_after_load does nothing until the agent enables it. */
	hg_rss_trim_after_load();

	munmap((void *)clean, len);
	munmap(cow, len);
	munmap(rw, len);
	unlink(path);
	free(want);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_trim),
	};
	return CHECK_RUN(argc, argv, cases);
}
