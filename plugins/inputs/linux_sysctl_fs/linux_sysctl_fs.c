/* linux_sysctl_fs: counters of /proc/sys/fs with Telegraf's field names
 * (see README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct linux_sysctl_fs_config {
	char unused; /* no options, as in Telegraf */
};

struct linux_sysctl_fs_state {
	struct hostfs_buf buf;
};

/* Files and the field names of their tab-separated columns, in Telegraf's
 * order; NULL skips a column (file-nr's middle one is always 0). */
static const struct {
	const char *file;
	int ncols;
	const char *names[4];
} files[] = {
	{ "aio-nr", 1, { "aio-nr" } },
	{ "aio-max-nr", 1, { "aio-max-nr" } },
	{ "dquot-nr", 1, { "dquot-nr" } },
	{ "dquot-max", 1, { "dquot-max" } },
	{ "super-nr", 1, { "super-nr" } },
	{ "super-max", 1, { "super-max" } },
	{ "inode-state", 3, { "inode-nr", "inode-free-nr", "inode-preshrink-nr" } },
	{ "dentry-state", 4, { "dentry-nr", "dentry-unused-nr", "dentry-age-limit", "dentry-want-pages" } },
	{ "file-nr", 3, { "file-nr", NULL, "file-max" } },
};
#define NFILES (sizeof files / sizeof files[0])

/* An unsigned decimal filling exactly [p, end) (Telegraf: ParseUint). */
static bool parse_u64_span(const char *p, const char *end, uint64_t *out)
{
	if (p == end)
		return false;
	uint64_t v = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Parses one file's columns into vals; returns how many names got values,
 * or -1 when a named column is not a number. */
static int parse_columns(char *text, size_t len, int ncols, const char *const *names, uint64_t *vals, bool *have)
{
	while (len && text[len - 1] == '\n') /* Telegraf trims trailing newlines only */
		len--;
	const char *p = text, *end = text + len;
	int got = 0;
	for (int i = 0; i < ncols && p <= end; i++) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *ce = tab ? tab : end;
		if (names[i]) {
			if (!parse_u64_span(p, ce, &vals[i]))
				return -1;
			have[i] = true;
			got++;
		}
		if (!tab)
			break;
		p = tab + 1;
	}
	return got;
}

static int linux_sysctl_fs_gather(void *state, struct acc *acc)
{
	struct linux_sysctl_fs_state *s = state;
	/* values live until the emit: one slot per possible column */
	uint64_t vals[NFILES][4];
	bool have[NFILES][4];
	memset(have, 0, sizeof have);
	for (size_t f = 0; f < NFILES; f++) {
		char rel[64];
		snprintf(rel, sizeof rel, "sys/fs/%s", files[f].file);
		ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, rel);
		if (n == -ENOENT)
			continue; /* not on this kernel (super-*, dquot-* without quota) */
		if (n < 0) {
			hg_acc_error(acc, "reading %s/%s: %s", hg_hostfs_root(HOSTFS_PROC), rel, strerror((int)-n));
			continue;
		}
		if (parse_columns(s->buf.p, s->buf.len, files[f].ncols, files[f].names, vals[f], have[f]) < 0) {
			memset(have[f], 0, sizeof have[f]);
			hg_acc_error(acc, "%s/%s: malformed content", hg_hostfs_root(HOSTFS_PROC), rel);
		}
	}
	struct metric *m = hg_acc_metric(acc, "linux_sysctl_fs");
	for (size_t f = 0; f < NFILES; f++)
		for (int i = 0; i < 4; i++)
			if (have[f][i])
				hg_metric_uint(m, files[f].names[i], vals[f][i]);
	if (m->nfields)
		hg_acc_emit(acc, m, hg_acc_gather_time(acc));
	return GATHER_DONE;
}

static int linux_sysctl_fs_init(void **state, const void *config, const struct plugin_env *env, char *err,
				size_t errlen)
{
	(void)config, (void)env;
	struct linux_sysctl_fs_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 256) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void linux_sysctl_fs_free(void *state)
{
	struct linux_sysctl_fs_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

static const struct opt_desc linux_sysctl_fs_options[] = { OPT_END };

const struct input_plugin hg_input_linux_sysctl_fs = {
	.name = "linux_sysctl_fs",
	.summary = "Provides Linux sysctl fs metrics",
	.config_size = sizeof(struct linux_sysctl_fs_config),
	.options = linux_sysctl_fs_options,
	.init = linux_sysctl_fs_init,
	.gather = linux_sysctl_fs_gather,
	.free = linux_sysctl_fs_free,
};
