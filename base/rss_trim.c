/* hg_rss_trim: keep in the resident set only the library and program pages the agent uses.
 *
 * Why: when a process touches one page of a file mapping, the kernel's fault-around maps up to
 * 16 neighbouring pages that are already in the page cache. For a small daemon linked against
 * a long library chain (libcurl brings libcrypto, gnutls, krb5 ...) that inflates the resident
 * set to several MiB of code it never runs. hg_rss_trim() drops the pages of every clean, read-only,
 * private file mapping from this process with MADV_DONTNEED. Pages the agent runs fault back
 * in from the page cache (with their fault-around neighbours); the start-up code, the
 * configuration parser and the libraries' unused parts stay out of the resident set and, being
 * unmapped, are the first file pages the kernel may reclaim on a node under memory pressure.
 * The mappings are also marked MADV_RANDOM, so that a page read back from disk after such a
 * reclaim comes alone rather than with a read-ahead window charged to the agent's cgroup.
 *
 * Safety: MADV_DONTNEED on a private file mapping throws away copy-on-write changes, so only
 * mappings that cannot hold any are touched: not writable, and with "Anonymous: 0 kB" in
 * /proc/self/smaps (no page was ever copied, e.g. by text relocations or a debugger's
 * breakpoint). Writable data, RELRO pages, the heap and stacks are left alone. */
#include "rss_trim.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

enum { MAX_RANGES = 1024 };

static bool enabled;

struct range {
	unsigned long start, end;
};

/* One smaps header line: "start-end perms offset dev inode   path". True when the mapping is a
 * private, non-writable mapping of a file. */
static bool parse_header(const char *line, struct range *r, bool *candidate)
{
	unsigned long start, end, inode;
	char perms[8];
	int path_at = 0;
	if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %lu %n", &start, &end, perms, &inode, &path_at) < 4)
		return false;
	r->start = start;
	r->end = end;
	*candidate = inode != 0 && path_at > 0 && line[path_at] == '/' && strlen(perms) == 4 && perms[1] != 'w' &&
		     perms[3] == 'p';
	return true;
}

/* Resident KiB from /proc/self/statm (its second field, in pages), or 0. */
static unsigned long resident_kib(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (unsigned long)(sysconf(_SC_PAGESIZE) / 1024);
}

size_t hg_rss_trim(void)
{
	unsigned long before_kib = resident_kib();
	FILE *f = fopen("/proc/self/smaps", "re");
	if (!f)
		return 0;
	/* On the heap, so that the bytes live only during the call. */
	struct range *ranges = malloc(MAX_RANGES * sizeof *ranges);
	if (!ranges) {
		fclose(f);
		return 0;
	}
	size_t n = 0;
	struct range cur = { 0, 0 };
	bool candidate = false;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		struct range r;
		bool c;
		if (parse_header(line, &r, &c)) {
			cur = r;
			candidate = c;
			continue;
		}
		unsigned long anon_kb;
		if (candidate && sscanf(line, "Anonymous: %lu kB", &anon_kb) == 1) {
			if (anon_kb == 0 && n < MAX_RANGES)
				ranges[n++] = cur;
			candidate = false;
		}
	}
	free(line);
	fclose(f);
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		void *at = (void *)ranges[i].start;
		size_t len = ranges[i].end - ranges[i].start;
		if (madvise(at, len, MADV_RANDOM) == 0 && madvise(at, len, MADV_DONTNEED) == 0)
			bytes += len;
	}
	free(ranges);
	/* The heap: give back what configuration parsing and start-up freed. */
	malloc_trim(0);
	log_debug(NULL, "rss_trim: %zu file mappings (%zu KiB of address space) left to fault in on use; resident %lu KiB -> %lu KiB",
		  n, bytes / 1024, before_kib, resident_kib());
	return n;
}

void hg_rss_trim_enable(void)
{
	enabled = true;
}

void hg_rss_trim_after_load(void)
{
	if (enabled)
		hg_rss_trim();
}
