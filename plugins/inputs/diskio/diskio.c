/* diskio: block device counters from /proc/diskstats with Telegraf's
 * schema (see README.md), io_await/io_svctm/io_util from the deltas to the
 * previous gather, tags from udev's database. */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct diskio_config {
	struct strlist devices;
	struct strlist device_tags;
	bool skip_serial_number;
};

/* Devices remembered for the deltas; more are gathered without them. */
#define DISKIO_MAX_DEVICES 512

struct dev_last {
	char name[40];
	uint64_t gen; /* gather that last saw it; 0 = free */
	uint64_t reads, writes, read_time, write_time, io_time;
};

struct diskio_state {
	struct strlist devices, tags; /* owned copies */
	bool serial;
	struct hostfs_buf buf;  /* diskstats */
	struct hostfs_buf udev; /* one device's udev record */
	struct hostfs_buf wwid;
	struct dev_last *last;  /* DISKIO_MAX_DEVICES entries */
	uint64_t gen;
	int64_t last_time_ns;
	char serial_text[256];
};

static struct dev_last *find_last(struct diskio_state *s, const char *name)
{
	struct dev_last *free_slot = NULL;
	for (size_t i = 0; i < DISKIO_MAX_DEVICES; i++) {
		struct dev_last *d = &s->last[i];
		if (d->gen && d->gen + 1 >= s->gen && strcmp(d->name, name) == 0)
			return d;
		/* entries not seen in the previous gather are free again, as
		 * Telegraf keeps only the previous gather's counters */
		if (!free_slot && (d->gen == 0 || d->gen + 1 < s->gen))
			free_slot = d;
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof *free_slot);
		snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
	}
	return free_slot;
}

/* udev's record of the device: "E:KEY=value" properties, "S:link" links. */
static bool read_udev(struct diskio_state *s, unsigned long major, unsigned long minor)
{
	char rel[64];
	snprintf(rel, sizeof rel, "udev/data/b%lu:%lu", major, minor);
	return hg_hostfs_read_at(&s->udev, HOSTFS_RUN, rel) >= 0;
}

/* The value of property key in the udev record, NUL-terminated in place. */
static const char *udev_prop(struct diskio_state *s, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *pos = s->udev.p, *line;
	size_t ll;
	while ((line = hg_hostfs_next_line(&pos, &ll)))
		if (ll > kl + 2 && line[0] == 'E' && line[1] == ':' && memcmp(line + 2, key, kl) == 0 &&
		    line[kl + 2] == '=') {
			*len = ll - kl - 3;
			return line + kl + 3;
		}
	return NULL;
}

static bool glob_match(const struct diskio_state *s, const char *name, size_t len)
{
	char tmp[256];
	if (len >= sizeof tmp)
		return false;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	for (size_t i = 0; i < s->devices.n; i++)
		if (fnmatch(s->devices.v[i], tmp, 0) == 0)
			return true;
	return false;
}

/* Telegraf also selects a device by its udev links (by-id, by-uuid ...). */
static bool link_match(const struct diskio_state *s)
{
	const char *pos = s->udev.p, *line;
	size_t ll;
	while ((line = hg_hostfs_next_line(&pos, &ll)))
		if (ll > 2 && line[0] == 'S' && line[1] == ':' && glob_match(s, line + 2, ll - 2))
			return true;
	return false;
}

static void emit_device(struct diskio_state *s, struct acc *acc, const char *name, unsigned long major,
			unsigned long minor, const uint64_t *v, int64_t t)
{
	bool udev = (s->serial || s->tags.n || s->devices.n) && read_udev(s, major, minor);
	if (!udev)
		s->udev.p[0] = '\0';
	if (s->devices.n && !glob_match(s, name, strlen(name)) && !link_match(s))
		return;
	struct metric *m = hg_acc_metric(acc, "diskio");
	hg_metric_tag(m, "name", name);
	for (size_t i = 0; i < s->tags.n; i++) {
		size_t len;
		const char *val = udev_prop(s, s->tags.v[i], &len);
		if (val)
			hg_metric_tag_sv(m, sv_c(s->tags.v[i]), (struct sv){ val, len });
	}
	if (s->serial) {
		size_t len = 0, w = 0;
		const char *val = udev_prop(s, "ID_SERIAL", &len);
		for (size_t i = 0; val && i < len && w + 1 < sizeof s->serial_text; i++)
			if (val[i] != '\r')
				s->serial_text[w++] = val[i];
		while (w && (s->serial_text[w - 1] == ' ' || s->serial_text[w - 1] == '\t'))
			w--;
		size_t b = 0;
		while (b < w && (s->serial_text[b] == ' ' || s->serial_text[b] == '\t'))
			b++;
		s->serial_text[w] = '\0';
		hg_metric_tag(m, "serial", b < w ? s->serial_text + b : "unknown");
	}
	char rel[128];
	snprintf(rel, sizeof rel, "block/%s/wwid", name);
	if (hg_hostfs_read_at(&s->wwid, HOSTFS_SYS, rel) > 0) {
		size_t n = s->wwid.len;
		while (n && (s->wwid.p[n - 1] == '\n' || s->wwid.p[n - 1] == ' '))
			n--;
		s->wwid.p[n] = '\0';
		if (n)
			hg_metric_tag(m, "wwid", s->wwid.p);
	}

	uint64_t reads = v[0], merged_reads = v[1], sect_r = v[2], read_time = v[3], writes = v[4],
		 merged_writes = v[5], sect_w = v[6], write_time = v[7], inprog = v[8], io_time = v[9], wio = v[10];
	struct dev_last *d = find_last(s, name);
	bool have_delta = false, have_count = false;
	double await = 0, svctm = 0, util = 0;
	if (d && d->gen + 1 == s->gen && s->last_time_ns) {
		bool wrap = reads < d->reads || writes < d->writes || read_time < d->read_time ||
			    write_time < d->write_time || io_time < d->io_time;
		if (!wrap) {
			/* Telegraf's expressions and order, for the same doubles */
			double drw = (double)(reads - d->reads) + (double)(writes - d->writes);
			double drwt = (double)(read_time - d->read_time) + (double)(write_time - d->write_time);
			double dio = (double)(io_time - d->io_time);
			if (drw > 0) {
				await = drwt / drw;
				svctm = dio / drw;
				have_count = true;
			}
			double itv = (double)((t - s->last_time_ns) / 1000000); /* Duration.Milliseconds() truncates */
			if (itv > 0) {
				util = 100 * dio / itv;
				have_delta = true;
			}
		}
	}
	if (d) {
		d->gen = s->gen;
		d->reads = reads, d->writes = writes, d->read_time = read_time;
		d->write_time = write_time, d->io_time = io_time;
	}
	if (have_count)
		hg_metric_float(m, "io_await", await);
	if (have_count)
		hg_metric_float(m, "io_svctm", svctm);
	hg_metric_uint(m, "io_time", io_time);
	if (have_delta)
		hg_metric_float(m, "io_util", util);
	hg_metric_uint(m, "iops_in_progress", inprog);
	hg_metric_uint(m, "merged_reads", merged_reads);
	hg_metric_uint(m, "merged_writes", merged_writes);
	hg_metric_uint(m, "read_bytes", sect_r * 512);
	hg_metric_uint(m, "read_time", read_time);
	hg_metric_uint(m, "reads", reads);
	hg_metric_uint(m, "weighted_io_time", wio);
	hg_metric_uint(m, "write_bytes", sect_w * 512);
	hg_metric_uint(m, "write_time", write_time);
	hg_metric_uint(m, "writes", writes);
	hg_acc_emit(acc, m, t);
}

static int diskio_gather(void *state, struct acc *acc)
{
	struct diskio_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "diskstats");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/diskstats: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	s->gen++;
	unsigned bad = 0;
	for (char *p = s->buf.p; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *line = p;
		p = nl ? nl + 1 : p + strlen(p);
		const char *q = line;
		uint64_t major, minor, v[11];
		while (*q == ' ')
			q++;
		if (!*q)
			continue;
		if (hg_hostfs_parse_u64(&q, &major) < 0 || hg_hostfs_parse_u64(&q, &minor) < 0) {
			bad++;
			continue;
		}
		while (*q == ' ')
			q++;
		char *name = (char *)q;
		while (*q && *q != ' ')
			q++;
		if (q == name || !*q) {
			bad++;
			continue;
		}
		*(char *)q++ = '\0';
		int k = 0;
		while (k < 11 && hg_hostfs_parse_u64(&q, &v[k]) == 0)
			k++;
		if (k < 11) { /* gopsutil needs 14 columns */
			bad++;
			continue;
		}
		emit_device(s, acc, name, (unsigned long)major, (unsigned long)minor, v, t);
	}
	s->last_time_ns = t;
	if (bad)
		hg_acc_error(acc, "%s/diskstats: %u malformed line(s)", hg_hostfs_root(HOSTFS_PROC), bad);
	return GATHER_DONE;
}

static void diskio_free(void *state);

static int diskio_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct diskio_config *c = config;
	struct diskio_state *s = calloc(1, sizeof *s);
	if (!s || hg_strlist_copy(&s->devices, &c->devices) < 0 || hg_strlist_copy(&s->tags, &c->device_tags) < 0 ||
	    hg_hostfs_buf_init(&s->buf, 8192) < 0 || hg_hostfs_buf_init(&s->udev, 4096) < 0 ||
	    hg_hostfs_buf_init(&s->wwid, 128) < 0 || !(s->last = calloc(DISKIO_MAX_DEVICES, sizeof *s->last))) {
		diskio_free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->serial = !c->skip_serial_number;
	*state = s;
	return 0;
}

static void diskio_free(void *state)
{
	struct diskio_state *s = state;
	if (!s)
		return;
	hg_strlist_free(&s->devices);
	hg_strlist_free(&s->tags);
	hg_hostfs_buf_free(&s->buf);
	hg_hostfs_buf_free(&s->udev);
	hg_hostfs_buf_free(&s->wwid);
	free(s->last);
	free(s);
}

static const struct opt_desc diskio_options[] = {
	{ "devices", OPT_STRLIST, offsetof(struct diskio_config, devices), "[]",
	  "devices to gather, globs allowed, matched against the name and udev links; empty: all" },
	{ "device_tags", OPT_STRLIST, offsetof(struct diskio_config, device_tags), "[]",
	  "udev properties to add as tags (e.g. ID_FS_TYPE); needs $HOST_RUN/udev/data" },
	{ "skip_serial_number", OPT_BOOL, offsetof(struct diskio_config, skip_serial_number), "true",
	  "do not add the serial tag (udev ID_SERIAL)" },
	OPT_END,
};

const struct input_plugin hg_input_diskio = {
	.name = "diskio",
	.summary = "Read metrics about disk IO by device",
	.config_size = sizeof(struct diskio_config),
	.options = diskio_options,
	.init = diskio_init,
	.gather = diskio_gather,
	.free = diskio_free,
	.needs_baseline = true,
};
