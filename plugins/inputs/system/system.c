/* system: load averages, CPU counts, logged-in users and uptime, with
 * Telegraf's schema (see README.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct system_config {
	char unused; /* no options, like Telegraf's default configuration */
};

struct system_state {
	struct hostfs_buf buf;  /* small files */
	struct hostfs_buf utmp; /* the utmp file (384 bytes a record) */
	char *dents;            /* getdents64 buffer: no DIR allocation per gather */
	size_t dents_cap;
	char (*sib)[64];        /* distinct sibling lists seen this gather */
	size_t nsib, sib_cap;
	char uptime_text[64];
};

static ssize_t read_rel(struct system_state *s, struct hostfs_buf *b, enum hostfs_root r, const char *rel)
{
	(void)s;
	return hg_hostfs_read_at(b, r, rel);
}

static int read_loadavg(struct system_state *s, double load[3])
{
	ssize_t n = read_rel(s, &s->buf, HOSTFS_PROC, "loadavg");
	if (n < 0)
		return (int)n;
	const char *p = s->buf.p;
	for (int i = 0; i < 3; i++) {
		char *end;
		errno = 0;
		load[i] = strtod(p, &end);
		if (end == p || errno || (*end != ' ' && *end != '\n' && *end != '\0'))
			return -EINVAL;
		p = end;
	}
	return 0;
}

/* Logical CPUs as gopsutil counts them: "processor" entries of cpuinfo,
 * else the cpuN lines of /proc/stat. */
static int count_logical(struct system_state *s, int64_t *out)
{
	int64_t n = 0;
	const char *pos, *line;
	size_t len;
	if (read_rel(s, &s->buf, HOSTFS_PROC, "cpuinfo") >= 0) {
		pos = s->buf.p;
		while ((line = hg_hostfs_next_line(&pos, &len))) {
			if (len < 9 || strncasecmp(line, "processor", 9) != 0)
				continue;
			const char *c = memchr(line, ':', len);
			if (!c)
				continue;
			const char *p = c + 1;
			uint64_t v;
			if (hg_hostfs_parse_u64(&p, &v) == 0)
				n++;
		}
	}
	if (n == 0) {
		ssize_t r = read_rel(s, &s->buf, HOSTFS_PROC, "stat");
		if (r < 0)
			return (int)r;
		pos = s->buf.p;
		while ((line = hg_hostfs_next_line(&pos, &len)))
			if (len >= 4 && memcmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9')
				n++;
	}
	*out = n;
	return 0;
}

static int sib_add(struct system_state *s, const char *text, size_t len)
{
	if (len >= sizeof s->sib[0])
		len = sizeof s->sib[0] - 1;
	for (size_t i = 0; i < s->nsib; i++)
		if (strlen(s->sib[i]) == len && memcmp(s->sib[i], text, len) == 0)
			return 0;
	if (s->nsib == s->sib_cap) {
		size_t cap = s->sib_cap ? s->sib_cap * 2 : 64;
		char(*n)[64] = realloc(s->sib, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		s->sib = n;
		s->sib_cap = cap;
	}
	memcpy(s->sib[s->nsib], text, len);
	s->sib[s->nsib++][len] = '\0';
	return 0;
}

/* Distinct <list> contents over HOST_SYS/devices/system/cpu/cpuN/topology/. */
static int64_t count_sibling_lists(struct system_state *s, const char *list)
{
	char dir[4096];
	if (hg_hostfs_path(dir, sizeof dir, HOSTFS_SYS, "devices/system/cpu") < 0)
		return 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	s->nsib = 0;
	ssize_t n;
	while ((n = getdents64(fd, s->dents, s->dents_cap)) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(s->dents + off);
			off += d->d_reclen;
			if (strncmp(d->d_name, "cpu", 3) != 0 || d->d_name[3] < '0' || d->d_name[3] > '9')
				continue;
			char rel[320];
			snprintf(rel, sizeof rel, "%s/topology/%s", d->d_name, list);
			if (hg_hostfs_read_dirfd(&s->buf, fd, rel) <= 0)
				continue;
			/* gopsutil keeps only files of exactly one line */
			char *nl = strchr(s->buf.p, '\n');
			if (nl && nl[1] != '\0')
				continue;
			size_t len = nl ? (size_t)(nl - s->buf.p) : s->buf.len;
			if (sib_add(s, s->buf.p, len) < 0)
				break;
		}
	}
	close(fd);
	return (int64_t)s->nsib;
}

/* Physical cores as gopsutil counts them: distinct core_cpus_list (then
 * thread_siblings_list) of sysfs, else the sum of "cpu cores" over the
 * distinct "physical id"s of cpuinfo. */
static int count_physical(struct system_state *s, int64_t *out)
{
	int64_t n = count_sibling_lists(s, "core_cpus_list");
	if (n == 0)
		n = count_sibling_lists(s, "thread_siblings_list");
	if (n > 0) {
		*out = n;
		return 0;
	}
	ssize_t r = read_rel(s, &s->buf, HOSTFS_PROC, "cpuinfo");
	if (r < 0)
		return (int)r;
	/* physical id -> cpu cores; ids are small, a package is seen many times */
	enum { MAXPKG = 256 };
	int64_t cores[MAXPKG];
	for (int i = 0; i < MAXPKG; i++)
		cores[i] = -1;
	int64_t id = -1, cc = -1;
	const char *pos = s->buf.p, *line;
	size_t len;
	for (;;) {
		line = hg_hostfs_next_line(&pos, &len);
		size_t k = 0;
		while (line && k < len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (!line || k == len) { /* end of a processor section */
			if (id >= 0 && id < MAXPKG && cc >= 0)
				cores[id] = cc;
			id = cc = -1;
			if (!line)
				break;
			continue;
		}
		const char *c = memchr(line, ':', len);
		if (!c)
			continue;
		size_t kl = (size_t)(c - line);
		while (kl > 0 && (line[kl - 1] == ' ' || line[kl - 1] == '\t'))
			kl--;
		const char *p = c + 1;
		uint64_t v;
		if (kl == 11 && strncasecmp(line, "physical id", 11) == 0 && hg_hostfs_parse_u64(&p, &v) == 0)
			id = (int64_t)v;
		else if (kl == 9 && strncasecmp(line, "cpu cores", 9) == 0 && hg_hostfs_parse_u64(&p, &v) == 0)
			cc = (int64_t)v;
	}
	n = 0;
	for (int i = 0; i < MAXPKG; i++)
		if (cores[i] > 0)
			n += cores[i];
	*out = n;
	return 0;
}

/* USER_PROCESS records of utmp and how many distinct user names they have.
 * gopsutil reads $HOST_VAR/run/utmp; $HOST_RUN/utmp is tried next because
 * /var/run is usually an absolute symlink to /run, which does not resolve
 * to the host's /run inside a container. */
static int read_users(struct system_state *s, int64_t *users, int64_t *unique)
{
	ssize_t n = hg_hostfs_read_at(&s->utmp, HOSTFS_VAR, "run/utmp");
	if (n < 0)
		n = hg_hostfs_read_at(&s->utmp, HOSTFS_RUN, "utmp");
	if (n < 0)
		return (int)n;
	size_t count = s->utmp.len / sizeof(struct utmp);
	int64_t u = 0, uq = 0;
	for (size_t i = 0; i < count; i++) {
		struct utmp a;
		memcpy(&a, s->utmp.p + i * sizeof a, sizeof a);
		if (a.ut_type != USER_PROCESS)
			continue;
		u++;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			struct utmp b;
			memcpy(&b, s->utmp.p + j * sizeof b, sizeof b);
			seen = b.ut_type == USER_PROCESS && strncmp(a.ut_user, b.ut_user, sizeof a.ut_user) == 0;
		}
		if (!seen)
			uq++;
	}
	*users = u;
	*unique = uq;
	return 0;
}

static int read_uptime(struct system_state *s, uint64_t *out)
{
	ssize_t n = read_rel(s, &s->buf, HOSTFS_PROC, "uptime");
	if (n < 0)
		return (int)n;
	const char *p = s->buf.p;
	while (*p == ' ')
		p++;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (v > UINT64_MAX / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p != '.' && *p != ' ' && *p != '\n' && *p != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Telegraf's uptime_format: "[D day[s], ]%2d:%02d". */
static void format_uptime(char *out, size_t cap, uint64_t up)
{
	uint64_t days = up / 86400, hours = up / 3600 % 24, minutes = up / 60 % 60;
	if (days)
		snprintf(out, cap, "%llu day%s, %2llu:%02llu", (unsigned long long)days, days > 1 ? "s" : "",
			 (unsigned long long)hours, (unsigned long long)minutes);
	else
		snprintf(out, cap, "%2llu:%02llu", (unsigned long long)hours, (unsigned long long)minutes);
}

static int system_gather(void *state, struct acc *acc)
{
	struct system_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	double load[3];
	int64_t logical = 0, physical = 0, users = 0, unique = 0;
	int rl = read_loadavg(s, load);
	if (rl < 0)
		hg_acc_error(acc, "reading load averages from %s/loadavg: %s", hg_hostfs_root(HOSTFS_PROC), strerror(-rl));
	int rc = count_logical(s, &logical);
	if (rc == 0)
		rc = count_physical(s, &physical);
	if (rc < 0)
		hg_acc_error(acc, "reading CPU counts: %s", strerror(-rc));
	int ru = read_users(s, &users, &unique); /* unreadable utmp: fields left out, as Telegraf */

	struct metric *m = hg_acc_metric(acc, "system");
	if (rl == 0) {
		hg_metric_float(m, "load1", load[0]);
		hg_metric_float(m, "load15", load[2]);
		hg_metric_float(m, "load5", load[1]);
	}
	if (rc == 0) {
		hg_metric_int(m, "n_cpus", logical);
		hg_metric_int(m, "n_physical_cpus", physical);
	}
	if (ru == 0) {
		hg_metric_int(m, "n_unique_users", unique);
		hg_metric_int(m, "n_users", users);
	}
	if (m->nfields)
		hg_acc_emit(acc, m, t);

	uint64_t up = 0;
	int rt = read_uptime(s, &up);
	if (rt < 0) {
		hg_acc_error(acc, "reading uptime from %s/uptime: %s", hg_hostfs_root(HOSTFS_PROC), strerror(-rt));
		return GATHER_DONE;
	}
	m = hg_acc_metric(acc, "system");
	hg_metric_uint(m, "uptime", up);
	hg_acc_emit(acc, m, t);
	format_uptime(s->uptime_text, sizeof s->uptime_text, up);
	m = hg_acc_metric(acc, "system");
	hg_metric_string(m, "uptime_format", s->uptime_text);
	hg_acc_emit(acc, m, t);
	return GATHER_DONE;
}

static int system_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)config, (void)env;
	struct system_state *s = calloc(1, sizeof *s);
	if (s) {
		s->dents_cap = 8192;
		s->dents = malloc(s->dents_cap);
	}
	if (!s || !s->dents || hg_hostfs_buf_init(&s->buf, 16384) < 0 ||
	    hg_hostfs_buf_init(&s->utmp, 16 * sizeof(struct utmp)) < 0) {
		if (s) {
			free(s->dents);
			hg_hostfs_buf_free(&s->buf);
		}
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void system_free(void *state)
{
	struct system_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	hg_hostfs_buf_free(&s->utmp);
	free(s->dents);
	free(s->sib);
	free(s);
}

static const struct opt_desc system_options[] = { OPT_END };

const struct input_plugin hg_input_system = {
	.name = "system",
	.summary = "Read metrics about system load & uptime",
	.config_size = sizeof(struct system_config),
	.options = system_options,
	.init = system_init,
	.gather = system_gather,
	.free = system_free,
};
