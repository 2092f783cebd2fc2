/* disk: file-system usage of the host's mounts with Telegraf's schema (see
 * README.md). Mounts come from the host's mountinfo; statvfs() runs on
 * HOST_MOUNT_PREFIX + mount point; the path tag is the host's path. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct disk_config {
	struct strlist mount_points;
	struct strlist ignore_fs;
	struct strlist ignore_mount_opts;
};

/* Mounts kept per gather; beyond this the rest is reported and skipped. */
#define DISK_MAX_MOUNTS 4096

struct mount {
	char *mountpoint, *opts, *fstype, *source; /* views into buf, unescaped in place */
};

struct disk_state {
	struct strlist mount_points, ignore_fs, ignore_opts; /* owned copies */
	struct hostfs_buf buf;   /* mountinfo */
	struct hostfs_buf small; /* sysfs dm/name */
	struct mount *mounts;    /* DISK_MAX_MOUNTS entries */
	char label[128];
	char path[4096], device[4096];
};

static bool in_list(const struct strlist *l, const char *s, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && memcmp(l->v[i], s, len) == 0)
			return true;
	return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Splits the next token off *p (space-separated), NUL-terminating it. */
static char *token(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	char *e = s;
	while (*e && *e != ' ')
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

/* "id parent maj:min root mountpoint opts [optional...] - fstype source super" */
static bool parse_line(char *line, struct mount *m)
{
	char *p = line, *t[6];
	for (int i = 0; i < 6; i++)
		if (!(t[i] = token(&p)))
			return false;
	char *sep;
	while ((sep = token(&p)) && strcmp(sep, "-") != 0)
		;
	if (!sep || !(m->fstype = token(&p)) || !(m->source = token(&p)))
		return false;
	m->mountpoint = t[4];
	m->opts = t[5];
	unescape(m->mountpoint);
	unescape(m->source);
	return m->mountpoint[0] == '/';
}

/* The next of the comma-separated options at *at (its length in *len),
 * NULL after the last. */
static const char *next_opt(const char **at, size_t *len)
{
	const char *o = *at, *c = strchr(o, ',');
	if (!*o)
		return NULL;
	*len = c ? (size_t)(c - o) : strlen(o);
	*at = o + *len + (c ? 1 : 0);
	return o;
}

static bool has_opt(const char *opts, const char *one)
{
	size_t len, n = strlen(one);
	for (const char *o; (o = next_opt(&opts, &len));)
		if (len == n && memcmp(o, one, n) == 0)
			return true;
	return false;
}

static bool has_listed_opt(const char *opts, const struct strlist *l)
{
	size_t len;
	for (const char *o; (o = next_opt(&opts, &len));)
		if (in_list(l, o, len))
			return true;
	return false;
}

/* "/" + path without the prefix, cleaned of duplicate and trailing '/'. */
static void host_path(char *out, size_t cap, const char *mp, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (pl && strncmp(mp, prefix, pl) == 0)
		mp += pl;
	size_t w = 0;
	out[w++] = '/';
	for (const char *r = mp; *r && w + 1 < cap; r++)
		if (*r != '/' || (w && out[w - 1] != '/'))
			out[w++] = *r;
	while (w > 1 && out[w - 1] == '/')
		w--;
	out[w] = '\0';
}

/* gopsutil's disk.Label: the device-mapper name from sysfs, if any. */
static const char *dm_label(struct disk_state *s, const char *dev)
{
	char rel[512];
	if (snprintf(rel, sizeof rel, "block/%s/dm/name", dev) >= (int)sizeof rel)
		return NULL;
	if (hg_hostfs_read_at(&s->small, HOSTFS_SYS, rel) <= 0)
		return NULL;
	size_t n = strcspn(s->small.p, "\n");
	if (n == 0 || n >= sizeof s->label)
		return NULL;
	memcpy(s->label, s->small.p, n);
	s->label[n] = '\0';
	return s->label;
}

static void emit_one(struct disk_state *s, struct acc *acc, const struct mount *m, const struct statvfs *st,
		     int64_t t)
{
	uint64_t bs = st->f_bsize;
	/* gopsutil's arithmetic */
	uint64_t total = (uint64_t)st->f_blocks * bs, free_ = (uint64_t)st->f_bavail * bs;
	uint64_t used = ((uint64_t)st->f_blocks - (uint64_t)st->f_bfree) * bs;
	uint64_t itotal = st->f_files, ifree = st->f_ffree, iused = itotal - ifree;
	if (total == 0)
		return; /* pseudo file systems, as Telegraf */
	/* device: the source with every "/dev/" removed (Telegraf's ReplaceAll) */
	size_t w = 0;
	for (const char *r = m->source; *r && w + 1 < sizeof s->device;) {
		if (strncmp(r, "/dev/", 5) == 0) {
			r += 5;
			continue;
		}
		s->device[w++] = *r++;
	}
	s->device[w] = '\0';
	const char *label = dm_label(s, s->device);
	struct metric *m2 = hg_acc_metric(acc, "disk");
	hg_metric_tag(m2, "device", s->device);
	hg_metric_tag(m2, "fstype", m->fstype);
	if (label)
		hg_metric_tag(m2, "label", label);
	hg_metric_tag(m2, "mode", has_opt(m->opts, "ro") ? "ro" : "rw");
	hg_metric_tag(m2, "path", s->path);
	hg_metric_uint(m2, "free", free_);
	hg_metric_uint(m2, "inodes_free", ifree);
	hg_metric_uint(m2, "inodes_total", itotal);
	hg_metric_uint(m2, "inodes_used", iused);
	hg_metric_float(m2, "inodes_used_percent",
		     iused + ifree > 0 ? (double)iused / ((double)iused + (double)ifree) * 100 : 0);
	hg_metric_uint(m2, "total", total);
	hg_metric_uint(m2, "used", used);
	hg_metric_float(m2, "used_percent", used + free_ > 0 ? (double)used / ((double)used + (double)free_) * 100 : 0);
	hg_acc_emit(acc, m2, t);
}

static int disk_gather(void *state, struct acc *acc)
{
	struct disk_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	/* the host's view: init's mount table, then our own (gopsutil's order) */
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "1/mountinfo");
	if (n < 0)
		n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "self/mountinfo");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/1/mountinfo: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	size_t nm = 0;
	unsigned bad = 0, dropped = 0;
	for (char *p = s->buf.p; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *line = p;
		p = nl ? nl + 1 : p + strlen(p);
		if (!*line)
			continue;
		if (nm == DISK_MAX_MOUNTS) {
			dropped++;
			continue;
		}
		if (parse_line(line, &s->mounts[nm]))
			nm++;
		else
			bad++;
	}
	if (bad)
		hg_acc_error(acc, "%s/1/mountinfo: %u malformed line(s)", hg_hostfs_root(HOSTFS_PROC), bad);
	if (dropped)
		hg_acc_error(acc, "more than %d mounts: %u not gathered", DISK_MAX_MOUNTS, dropped);

	const char *prefix = hg_hostfs_root(HOSTFS_MOUNT_PREFIX);
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < nm; i++) {
		const struct mount *m = &s->mounts[i];
		if (s->ignore_opts.n && has_listed_opt(m->opts, &s->ignore_opts))
			continue;
		if (s->mount_points.n && !in_list(&s->mount_points, m->mountpoint, strlen(m->mountpoint)))
			continue;
		/* autofs only announces a mount; statfs on it would trigger it */
		if (strcmp(m->fstype, "autofs") == 0 || in_list(&s->ignore_fs, m->fstype, strlen(m->fstype)))
			continue;
		const char *mp = m->mountpoint;
		if (pl && strncmp(mp, prefix, pl) != 0) {
			if (snprintf(s->path, sizeof s->path, "%s%s", prefix, mp) >= (int)sizeof s->path)
				continue;
			/* the container's own mount of that path wins, as in Telegraf */
			bool conflict = false;
			for (size_t j = 0; j < nm && !conflict; j++)
				conflict = strcmp(s->mounts[j].mountpoint, s->path) == 0;
			if (conflict)
				continue;
			mp = s->path;
		}
		struct statvfs st;
		if (statvfs(mp, &st) < 0)
			continue; /* gone, or not visible from here: skipped as Telegraf */
		host_path(s->path, sizeof s->path, m->mountpoint, prefix);
		emit_one(s, acc, m, &st, t);
	}
	return GATHER_DONE;
}

static void disk_free(void *state);

static int disk_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct disk_config *c = config;
	struct disk_state *s = calloc(1, sizeof *s);
	if (!s || hg_strlist_copy(&s->mount_points, &c->mount_points) < 0 || hg_strlist_copy(&s->ignore_fs, &c->ignore_fs) < 0 ||
	    hg_strlist_copy(&s->ignore_opts, &c->ignore_mount_opts) < 0 || hg_hostfs_buf_init(&s->buf, 16384) < 0 ||
	    hg_hostfs_buf_init(&s->small, 128) < 0 || !(s->mounts = calloc(DISK_MAX_MOUNTS, sizeof *s->mounts))) {
		disk_free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void disk_free(void *state)
{
	struct disk_state *s = state;
	if (!s)
		return;
	hg_strlist_free(&s->mount_points);
	hg_strlist_free(&s->ignore_fs);
	hg_strlist_free(&s->ignore_opts);
	hg_hostfs_buf_free(&s->buf);
	hg_hostfs_buf_free(&s->small);
	free(s->mounts);
	free(s);
}

static const struct opt_desc disk_options[] = {
	{ "mount_points", OPT_STRLIST, offsetof(struct disk_config, mount_points), "[]",
	  "only these mount points (exact host paths); empty: all" },
	{ "ignore_fs", OPT_STRLIST, offsetof(struct disk_config, ignore_fs),
	  "[tmpfs, devtmpfs, devfs, iso9660, overlay, aufs, squashfs]", "file-system types to skip" },
	{ "ignore_mount_opts", OPT_STRLIST, offsetof(struct disk_config, ignore_mount_opts), "[]",
	  "skip mounts having any of these mount options" },
	OPT_END,
};

const struct input_plugin hg_input_disk = {
	.name = "disk",
	.summary = "Read metrics about disk usage by mount point",
	.config_size = sizeof(struct disk_config),
	.options = disk_options,
	.init = disk_init,
	.gather = disk_gather,
	.free = disk_free,
};
