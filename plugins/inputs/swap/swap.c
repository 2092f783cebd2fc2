/* swap: swap space and swap traffic with Telegraf's schema (see README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct swap_config {
	char unused; /* no options, as in Telegraf */
};

struct swap_state {
	struct hostfs_buf buf;
};

/* Finds "key<sep>value" lines; 1 found, 0 absent, -1 malformed value. */
static int find_u64(const char *text, const char *key, char sep, uint64_t *out)
{
	size_t kl = strlen(key);
	const char *pos = text, *line;
	size_t len;
	while ((line = hg_hostfs_next_line(&pos, &len))) {
		if (len <= kl || memcmp(line, key, kl) != 0 || line[kl] != sep)
			continue;
		const char *p = line + kl + 1;
		return hg_hostfs_parse_u64(&p, out) == 0 ? 1 : -1;
	}
	return 0;
}

static int swap_gather(void *state, struct acc *acc)
{
	struct swap_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "meminfo");
	uint64_t total = 0, free_ = 0;
	if (n < 0) {
		hg_acc_error(acc, "reading %s/meminfo: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
	} else if (find_u64(s->buf.p, "SwapTotal", ':', &total) != 1 || find_u64(s->buf.p, "SwapFree", ':', &free_) != 1 ||
		   total > UINT64_MAX / 1024 || free_ > total) {
		hg_acc_error(acc, "%s/meminfo: no valid SwapTotal/SwapFree", hg_hostfs_root(HOSTFS_PROC));
	} else {
		total *= 1024;
		free_ *= 1024;
		struct metric *m = hg_acc_metric(acc, "swap");
		hg_metric_uint(m, "free", free_);
		hg_metric_uint(m, "total", total);
		hg_metric_uint(m, "used", total - free_);
		/* gopsutil's expression and order, for the same double */
		hg_metric_float(m, "used_percent", total ? (double)(total - free_) / (double)total * 100.0 : 0);
		hg_acc_emit(acc, m, t);
	}

	n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "vmstat");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/vmstat: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	uint64_t in = 0, out = 0;
	int ri = find_u64(s->buf.p, "pswpin", ' ', &in), ro = find_u64(s->buf.p, "pswpout", ' ', &out);
	if (ri < 0 || ro < 0) {
		hg_acc_error(acc, "%s/vmstat: malformed pswpin/pswpout", hg_hostfs_root(HOSTFS_PROC));
		return GATHER_DONE;
	}
	/* gopsutil counts 4 KiB per page whatever the page size; so do we. */
	struct metric *m = hg_acc_metric(acc, "swap");
	hg_metric_uint(m, "in", in * 4096);
	hg_metric_uint(m, "out", out * 4096);
	hg_acc_emit(acc, m, t);
	return GATHER_DONE;
}

static int swap_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)config, (void)env;
	struct swap_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 8192) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void swap_free(void *state)
{
	struct swap_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

static const struct opt_desc swap_options[] = { OPT_END };

const struct input_plugin hg_input_swap = {
	.name = "swap",
	.summary = "Read metrics about swap memory usage",
	.config_size = sizeof(struct swap_config),
	.options = swap_options,
	.init = swap_init,
	.gather = swap_gather,
	.free = swap_free,
};
