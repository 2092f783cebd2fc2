/* processes: process counts by state from /proc/<pid>/stat, with Telegraf's
 * schema (see README.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct processes_config {
	char unused; /* no options, as in Telegraf */
};

enum { ST_BLOCKED, ST_DEAD, ST_IDLE, ST_PAGING, ST_PARKED, ST_RUNNING, ST_SLEEPING, ST_STOPPED, ST_ZOMBIES, ST_N };

struct processes_state {
	struct hostfs_buf buf;
	char *dents; /* getdents64 buffer: no DIR allocation per gather */
	size_t dents_cap;
};

struct counts {
	int64_t st[ST_N];
	int64_t total, threads, unknown;
	unsigned bad;        /* malformed stat files this gather */
	char first_bad[32];  /* the pid of the first, for the error text */
};

static int state_index(char c)
{
	switch (c) {
	case 'R': return ST_RUNNING;
	case 'S': return ST_SLEEPING;
	case 'D': return ST_BLOCKED;
	case 'Z': return ST_ZOMBIES;
	case 'X': return ST_DEAD;
	case 'T': case 't': return ST_STOPPED;
	case 'W': return ST_PAGING;
	case 'I': return ST_IDLE;
	case 'P': return ST_PARKED;
	default: return -1;
	}
}

static void mark_bad(struct counts *c, const char *pid)
{
	if (c->bad++ == 0)
		snprintf(c->first_bad, sizeof c->first_bad, "%.31s", pid);
}

/* One "<pid> (<comm>) <state> <ppid> ..." line. The comm may hold spaces
 * and parentheses, so the fields start after the last ')'. */
static void count_one(struct counts *c, const char *text, const char *pid)
{
	const char *rp = strrchr(text, ')');
	if (!rp)
		return; /* Telegraf skips these silently */
	const char *p = rp + 1;
	const char *field[18];
	int n = 0;
	while (n < 18) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		field[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	/* Telegraf fails on fewer than 3 fields and would index past the end
	 * below 18; here the file is reported and left out. */
	if (n < 18) {
		mark_bad(c, pid);
		return;
	}
	int si = state_index(field[0][0]);
	if (si >= 0)
		c->st[si]++;
	c->total++;
	const char *t = field[17];
	uint64_t threads;
	if (hg_hostfs_parse_u64(&t, &threads) < 0 || threads > INT32_MAX) {
		mark_bad(c, pid);
		return;
	}
	c->threads += (int64_t)threads;
}

static int processes_gather(void *state, struct acc *acc)
{
	struct processes_state *s = state;
	const char *root = hg_hostfs_root(HOSTFS_PROC);
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		hg_acc_error(acc, "opening %s: %s", root, strerror(errno));
		return GATHER_DONE;
	}
	struct counts c;
	memset(&c, 0, sizeof c);
	ssize_t n;
	int read_err = 0;
	while ((n = getdents64(dfd, s->dents, s->dents_cap)) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(s->dents + off);
			off += d->d_reclen;
			/* Telegraf globs "[0-9]*" directories */
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			char rel[300];
			snprintf(rel, sizeof rel, "%s/stat", d->d_name);
			ssize_t r = hg_hostfs_read_dirfd(&s->buf, dfd, rel);
			if (r < 0) {
				/* the process exited between readdir and read */
				if (r != -ENOENT && r != -ESRCH && !read_err)
					read_err = (int)-r;
				continue;
			}
			count_one(&c, s->buf.p, d->d_name);
		}
	}
	if (n < 0)
		hg_acc_error(acc, "reading directory %s: %s", root, strerror(errno));
	close(dfd);
	if (read_err)
		hg_acc_error(acc, "reading %s/<pid>/stat: %s", root, strerror(read_err));
	if (c.bad)
		hg_acc_error(acc, "%u malformed %s/<pid>/stat file(s), first %s", c.bad, root, c.first_bad);

	struct metric *m = hg_acc_metric(acc, "processes");
	hg_metric_int(m, "blocked", c.st[ST_BLOCKED]);
	hg_metric_int(m, "dead", c.st[ST_DEAD]);
	hg_metric_int(m, "idle", c.st[ST_IDLE]);
	hg_metric_int(m, "paging", c.st[ST_PAGING]);
	if (c.st[ST_PARKED])
		hg_metric_int(m, "parked", c.st[ST_PARKED]);
	hg_metric_int(m, "running", c.st[ST_RUNNING]);
	hg_metric_int(m, "sleeping", c.st[ST_SLEEPING]);
	hg_metric_int(m, "stopped", c.st[ST_STOPPED]);
	hg_metric_int(m, "total", c.total);
	hg_metric_int(m, "total_threads", c.threads);
	hg_metric_int(m, "unknown", c.unknown);
	hg_metric_int(m, "zombies", c.st[ST_ZOMBIES]);
	hg_acc_emit(acc, m, hg_acc_gather_time(acc));
	return GATHER_DONE;
}

static int processes_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)config, (void)env;
	struct processes_state *s = calloc(1, sizeof *s);
	if (s) {
		s->dents_cap = 32768;
		s->dents = malloc(s->dents_cap);
	}
	if (!s || !s->dents || hg_hostfs_buf_init(&s->buf, 1024) < 0) {
		if (s)
			free(s->dents);
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void processes_free(void *state)
{
	struct processes_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s->dents);
	free(s);
}

static const struct opt_desc processes_options[] = { OPT_END };

const struct input_plugin hg_input_processes = {
	.name = "processes",
	.summary = "Get the number of processes and group them by status",
	.config_size = sizeof(struct processes_config),
	.options = processes_options,
	.init = processes_init,
	.gather = processes_gather,
	.free = processes_free,
};
