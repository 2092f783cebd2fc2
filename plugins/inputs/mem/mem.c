/* mem: system memory from /proc/meminfo with Telegraf's schema and
 * gopsutil's derivations (cached includes SReclaimable, used = total -
 * available). See README.md. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct mem_config {
	bool collect_extended;
};

enum {
	K_MEMTOTAL, K_MEMFREE, K_MEMAVAILABLE, K_BUFFERS, K_CACHED, K_ACTIVE, K_INACTIVE, K_ACTIVE_ANON,
	K_INACTIVE_ANON, K_ACTIVE_FILE, K_INACTIVE_FILE, K_UNEVICTABLE, K_WRITEBACK, K_WRITEBACKTMP, K_DIRTY,
	K_SHMEM, K_SLAB, K_SRECLAIMABLE, K_SUNRECLAIM, K_PAGETABLES, K_SWAPCACHED, K_COMMITLIMIT, K_COMMITTED_AS,
	K_HIGHTOTAL, K_HIGHFREE, K_LOWTOTAL, K_LOWFREE, K_SWAPTOTAL, K_SWAPFREE, K_MAPPED, K_VMALLOCTOTAL,
	K_VMALLOCUSED, K_VMALLOCCHUNK, K_HUGEPAGES_TOTAL, K_HUGEPAGES_FREE, K_HUGEPAGESIZE, K_PERCPU, K_N
};

static const char *const keys[K_N] = {
	[K_MEMTOTAL] = "MemTotal", [K_MEMFREE] = "MemFree", [K_MEMAVAILABLE] = "MemAvailable",
	[K_BUFFERS] = "Buffers", [K_CACHED] = "Cached", [K_ACTIVE] = "Active", [K_INACTIVE] = "Inactive",
	[K_ACTIVE_ANON] = "Active(anon)", [K_INACTIVE_ANON] = "Inactive(anon)", [K_ACTIVE_FILE] = "Active(file)",
	[K_INACTIVE_FILE] = "Inactive(file)", [K_UNEVICTABLE] = "Unevictable", [K_WRITEBACK] = "Writeback",
	[K_WRITEBACKTMP] = "WritebackTmp", [K_DIRTY] = "Dirty", [K_SHMEM] = "Shmem", [K_SLAB] = "Slab",
	[K_SRECLAIMABLE] = "SReclaimable", [K_SUNRECLAIM] = "SUnreclaim", [K_PAGETABLES] = "PageTables",
	[K_SWAPCACHED] = "SwapCached", [K_COMMITLIMIT] = "CommitLimit", [K_COMMITTED_AS] = "Committed_AS",
	[K_HIGHTOTAL] = "HighTotal", [K_HIGHFREE] = "HighFree", [K_LOWTOTAL] = "LowTotal", [K_LOWFREE] = "LowFree",
	[K_SWAPTOTAL] = "SwapTotal", [K_SWAPFREE] = "SwapFree", [K_MAPPED] = "Mapped",
	[K_VMALLOCTOTAL] = "VmallocTotal", [K_VMALLOCUSED] = "VmallocUsed", [K_VMALLOCCHUNK] = "VmallocChunk",
	[K_HUGEPAGES_TOTAL] = "HugePages_Total", [K_HUGEPAGES_FREE] = "HugePages_Free",
	[K_HUGEPAGESIZE] = "Hugepagesize", [K_PERCPU] = "Percpu",
};

/* Derived values that are not a single meminfo key. */
enum { D_AVAILABLE = K_N, D_CACHED, D_USED, D_N };

/* Fields in Telegraf's (sorted) order; ext marks collect_extended ones. */
static const struct {
	const char *field;
	int src;
	bool ext;
} out_fields[] = {
	{ "active", K_ACTIVE, false },
	{ "active_anon", K_ACTIVE_ANON, true },
	{ "active_file", K_ACTIVE_FILE, true },
	{ "available", D_AVAILABLE, false },
	{ "available_percent", -1, false },
	{ "buffered", K_BUFFERS, false },
	{ "cached", D_CACHED, false },
	{ "commit_limit", K_COMMITLIMIT, false },
	{ "committed_as", K_COMMITTED_AS, false },
	{ "dirty", K_DIRTY, false },
	{ "free", K_MEMFREE, false },
	{ "high_free", K_HIGHFREE, false },
	{ "high_total", K_HIGHTOTAL, false },
	{ "huge_page_size", K_HUGEPAGESIZE, false },
	{ "huge_pages_free", K_HUGEPAGES_FREE, false },
	{ "huge_pages_total", K_HUGEPAGES_TOTAL, false },
	{ "inactive", K_INACTIVE, false },
	{ "inactive_anon", K_INACTIVE_ANON, true },
	{ "inactive_file", K_INACTIVE_FILE, true },
	{ "low_free", K_LOWFREE, false },
	{ "low_total", K_LOWTOTAL, false },
	{ "mapped", K_MAPPED, false },
	{ "page_tables", K_PAGETABLES, false },
	{ "percpu", K_PERCPU, true },
	{ "shared", K_SHMEM, false },
	{ "slab", K_SLAB, false },
	{ "sreclaimable", K_SRECLAIMABLE, false },
	{ "sunreclaim", K_SUNRECLAIM, false },
	{ "swap_cached", K_SWAPCACHED, false },
	{ "swap_free", K_SWAPFREE, false },
	{ "swap_total", K_SWAPTOTAL, false },
	{ "total", K_MEMTOTAL, false },
	{ "unevictable", K_UNEVICTABLE, true },
	{ "used", D_USED, false },
	{ "used_percent", -2, false },
	{ "vmalloc_chunk", K_VMALLOCCHUNK, false },
	{ "vmalloc_total", K_VMALLOCTOTAL, false },
	{ "vmalloc_used", K_VMALLOCUSED, false },
	{ "write_back", K_WRITEBACK, false },
	{ "write_back_tmp", K_WRITEBACKTMP, false },
};

struct mem_state {
	struct mem_config cfg;
	struct hostfs_buf buf;
};

static int key_index(const char *k, size_t n)
{
	for (int i = 0; i < K_N; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return i;
	return -1;
}

/* Parses meminfo into v (bytes; HugePages_* are page counts). Lines we do
 * not know are ignored; a known key with a bad value is an error and stays
 * absent. */
static void parse_meminfo(const char *text, uint64_t *v, bool *have, struct acc *acc)
{
	const char *pos = text, *line;
	size_t len;
	while ((line = hg_hostfs_next_line(&pos, &len))) {
		const char *colon = memchr(line, ':', len);
		if (!colon)
			continue;
		int k = key_index(line, (size_t)(colon - line));
		if (k < 0)
			continue;
		const char *p = colon + 1;
		uint64_t x;
		if (hg_hostfs_parse_u64(&p, &x) < 0) {
			hg_acc_error(acc, "meminfo: bad value for %s", keys[k]);
			continue;
		}
		while (*p == ' ')
			p++;
		if (p[0] == 'k' && p[1] == 'B') {
			if (x > UINT64_MAX / 1024) {
				hg_acc_error(acc, "meminfo: value of %s out of range", keys[k]);
				continue;
			}
			x *= 1024;
		}
		v[k] = x;
		have[k] = true;
	}
}

static int mem_gather(void *state, struct acc *acc)
{
	struct mem_state *s = state;
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "meminfo");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/meminfo: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	uint64_t v[D_N] = { 0 };
	bool have[K_N] = { false };
	parse_meminfo(s->buf.p, v, have, acc);
	if (!have[K_MEMTOTAL] || v[K_MEMTOTAL] == 0) {
		hg_acc_error(acc, "%s/meminfo has no MemTotal", hg_hostfs_root(HOSTFS_PROC));
		return GATHER_DONE;
	}
	v[D_CACHED] = v[K_CACHED] + v[K_SRECLAIMABLE];
	/* Kernels before 3.14 have no MemAvailable: gopsutil's last fallback. */
	v[D_AVAILABLE] = have[K_MEMAVAILABLE] ? v[K_MEMAVAILABLE] : v[D_CACHED] + v[K_MEMFREE];
	v[D_USED] = v[K_MEMTOTAL] > v[D_AVAILABLE] ? v[K_MEMTOTAL] - v[D_AVAILABLE] : 0;
	double total = (double)v[K_MEMTOTAL];

	struct metric *m = hg_acc_metric(acc, "mem");
	for (size_t i = 0; i < sizeof out_fields / sizeof out_fields[0]; i++) {
		if (out_fields[i].ext && !s->cfg.collect_extended)
			continue;
		if (out_fields[i].src == -1)
			hg_metric_float(m, out_fields[i].field, 100 * (double)v[D_AVAILABLE] / total);
		else if (out_fields[i].src == -2)
			hg_metric_float(m, out_fields[i].field, 100 * (double)v[D_USED] / total);
		else
			hg_metric_uint(m, out_fields[i].field, v[out_fields[i].src]);
	}
	hg_acc_emit(acc, m, 0);
	return GATHER_DONE;
}

static int mem_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	struct mem_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 8192) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = *(const struct mem_config *)config;
	*state = s;
	return 0;
}

static void mem_free(void *state)
{
	struct mem_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

static const struct opt_desc mem_options[] = {
	{ "collect_extended", OPT_BOOL, offsetof(struct mem_config, collect_extended), "false",
	  "also report active/inactive anon and file, unevictable and percpu" },
	OPT_END,
};

const struct input_plugin hg_input_mem = {
	.name = "mem",
	.summary = "Read metrics about memory usage",
	.config_size = sizeof(struct mem_config),
	.options = mem_options,
	.init = mem_init,
	.gather = mem_gather,
	.free = mem_free,
};
