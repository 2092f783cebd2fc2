/* conntrack: netfilter connection-tracking table size and limit from the
 * files of the configured dirs, and with collect: [all, percpu] the counters
 * of $HOST_PROC/net/stat/nf_conntrack, with Telegraf's schema (README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct conntrack_config {
	struct strlist collect;
	struct strlist dirs;
	struct strlist files;
};

/* The 17 columns of /proc/net/stat/nf_conntrack, read by position as gopsutil
 * does (newer kernels name columns 2 and 8 clashres and chainlength; the
 * fields keep the old names), and their fields in name order. */
#define NCOLS 17
static const char *const col_field[NCOLS] = {
	"entries", "searched",    "found",     "new",        "invalid",    "ignore",       "delete",        "delete_list",
	"insert",  "insert_failed", "drop",    "early_drop", "icmp_error", "expect_new", "expect_create", "expect_delete",
	"search_restart",
};
/* The columns in field-name order (Telegraf's README example lists them so). */
static const int sorted_cols[NCOLS] = { 6, 7, 10, 11, 0, 14, 15, 13, 2, 12, 5, 8, 9, 4, 3, 16, 1 };

/* Telegraf's defaults, used when dirs or files is unset or empty. */
static const char *const default_dirs[] = { "/proc/sys/net/ipv4/netfilter", "/proc/sys/net/netfilter" };
static const char *const default_files[] = { "ip_conntrack_count", "ip_conntrack_max", "nf_conntrack_count",
					      "nf_conntrack_max" };

/* One configured file under one dir, resolved at init. */
struct ct_file {
	char *path;      /* dir/file */
	const char *key; /* "ip_" + the part after the file name's first '_' */
};

struct conntrack_state {
	size_t ncollect;
	bool *collect_percpu;    /* per collect entry, in config order (Telegraf repeats duplicates) */
	size_t nfiles;
	struct ct_file *files;
	char **keys;             /* distinct field keys, owned */
	size_t nkeys;
	double *values;          /* per key, this gather */
	bool *have;
	struct hostfs_buf buf;
};

/* Reads the configured files; each found one sets its key's value (a later
 * dir wins, as Telegraf's map assignment does). */
static void gather_files(struct conntrack_state *s, struct acc *acc)
{
	for (size_t k = 0; k < s->nkeys; k++)
		s->have[k] = false;
	for (size_t i = 0; i < s->nfiles; i++) {
		ssize_t n = hg_hostfs_read(&s->buf, s->files[i].path);
		if (n == -ENOENT || n == -ENOTDIR)
			continue; /* a superset of names is configured: missing ones are normal */
		if (n < 0) {
			hg_acc_error(acc, "failed to read file \"%s\": %s", s->files[i].path, strerror((int)-n));
			continue;
		}
		/* one number between blanks, as Go's ParseFloat(TrimSpace(s)); the
		 * length, not the NUL, ends the content (a NUL inside is no number) */
		char *p = s->buf.p, *end, *stop = s->buf.p + n;
		errno = 0;
		double v = strtod(p, &end);
		while (end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
			end++;
		if (end == p || end != stop || errno == ERANGE) {
			hg_acc_error(acc, "failed to parse metric, expected number in \"%s\"", s->files[i].path);
			continue;
		}
		for (size_t k = 0; k < s->nkeys; k++)
			if (strcmp(s->keys[k], s->files[i].key) == 0)
				s->values[k] = v, s->have[k] = true;
	}
}

/* A hex column as gopsutil's HexToUint32: not hex gives 0, beyond 32 bits
 * the largest uint32. */
static uint32_t hex_u32(const char *p, size_t len)
{
	uint64_t v = 0;
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return 0;
		v = v * 16 + d;
		if (v > UINT32_MAX) {
			/* Go's ParseUint reports a range error only after the whole
			 * string is valid; a later non-hex digit still gives 0. */
			for (size_t j = i + 1; j < len; j++) {
				char e = p[j];
				if (!((e >= '0' && e <= '9') || (e >= 'a' && e <= 'f') || (e >= 'A' && e <= 'F')))
					return 0;
			}
			return UINT32_MAX;
		}
	}
	return (uint32_t)v;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Splits a line into exactly NCOLS columns: false for any other count. */
static bool split_row(const char *p, const char *end, const char *tok[NCOLS], size_t len[NCOLS])
{
	int n = 0;
	while (p < end) {
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		const char *e = p;
		while (e < end && !is_blank(*e))
			e++;
		if (n == NCOLS)
			return false;
		tok[n] = p, len[n] = (size_t)(e - p), n++;
		p = e;
	}
	return n == NCOLS;
}

static void emit_stats(struct acc *acc, const char *cpu, const uint32_t *v, int64_t t)
{
	struct metric *m = hg_acc_metric(acc, "conntrack");
	hg_metric_tag(m, "cpu", cpu);
	for (int i = 0; i < NCOLS; i++)
		hg_metric_uint(m, col_field[sorted_cols[i]], v[sorted_cols[i]]);
	hg_acc_emit(acc, m, t);
}

/* One collect entry: the per-CPU rows (percpu), or their sum (all), wrapped
 * at 32 bits as gopsutil's uint32 sum is. */
static void gather_stats(struct conntrack_state *s, struct acc *acc, bool percpu, int64_t t)
{
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "net/stat/nf_conntrack");
	if (n < 0) {
		hg_acc_error(acc, "failed to retrieve conntrack statistics: %s/net/stat/nf_conntrack: %s",
			  hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		hg_acc_error(acc, "conntrack input failed to collect stats");
		return;
	}
	uint32_t sum[NCOLS] = { 0 };
	size_t rows = 0;
	const char *pos = s->buf.p, *line;
	size_t len;
	while ((line = hg_hostfs_next_line(&pos, &len))) {
		const char *tok[NCOLS];
		size_t tl[NCOLS];
		if (!split_row(line, line + len, tok, tl))
			continue;
		if (tl[0] == 7 && memcmp(tok[0], "entries", 7) == 0)
			continue; /* the header */
		uint32_t v[NCOLS];
		for (int i = 0; i < NCOLS; i++) {
			v[i] = hex_u32(tok[i], tl[i]);
			sum[i] += v[i];
		}
		if (percpu) {
			char cpu[24];
			snprintf(cpu, sizeof cpu, "cpu%zu", rows);
			emit_stats(acc, cpu, v, t);
		}
		rows++;
	}
	if (rows == 0)
		hg_acc_error(acc, "conntrack input failed to collect stats");
	else if (!percpu)
		emit_stats(acc, "all", sum, t);
}

static int conntrack_gather(void *state, struct acc *acc)
{
	struct conntrack_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	gather_files(s, acc);
	for (size_t i = 0; i < s->ncollect; i++)
		gather_stats(s, acc, s->collect_percpu[i], t);
	struct metric *m = hg_acc_metric(acc, "conntrack");
	for (size_t k = 0; k < s->nkeys; k++)
		if (s->have[k])
			hg_metric_float(m, s->keys[k], s->values[k]);
	if (m->nfields == 0) {
		hg_acc_error(acc, "conntrack input failed to collect metrics, make sure that the kernel module is loaded");
		return GATHER_DONE;
	}
	hg_acc_emit(acc, m, t);
	return GATHER_DONE;
}

static void conntrack_free(void *state)
{
	struct conntrack_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i].path);
	for (size_t k = 0; k < s->nkeys; k++)
		free(s->keys[k]);
	free(s->files);
	free(s->keys);
	free(s->values);
	free(s->have);
	free(s->collect_percpu);
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

/* Resolves dirs x files into paths and field keys. Telegraf's dirs are
 * plain paths (not under HOST_PROC): so are these. */
static int resolve_files(struct conntrack_state *s, const struct conntrack_config *c)
{
	const char *const *dirs = (const char *const *)c->dirs.v, *const *files = (const char *const *)c->files.v;
	size_t ndirs = c->dirs.n, nfiles = c->files.n;
	if (!ndirs)
		dirs = default_dirs, ndirs = sizeof default_dirs / sizeof default_dirs[0];
	if (!nfiles)
		files = default_files, nfiles = sizeof default_files / sizeof default_files[0];
	s->files = calloc(ndirs * nfiles, sizeof *s->files);
	s->keys = calloc(nfiles, sizeof *s->keys);
	s->values = calloc(nfiles, sizeof *s->values);
	s->have = calloc(nfiles, sizeof *s->have);
	if (!s->files || !s->keys || !s->values || !s->have)
		return -ENOMEM;
	/* keys[0 .. nkeys) are set; s->nkeys follows for conntrack_free. */
	size_t nkeys = 0;
	for (size_t d = 0; d < ndirs; d++) {
		for (size_t f = 0; f < nfiles; f++) {
			const char *name = files[f], *us = strchr(name, '_');
			if (!us)
				continue; /* no prefix to replace: Telegraf skips it */
			char key[256];
			if (snprintf(key, sizeof key, "ip_%s", us + 1) >= (int)sizeof key)
				return -ENAMETOOLONG;
			size_t k = 0;
			while (k < nkeys && strcmp(s->keys[k], key) != 0)
				k++;
			if (k == nkeys) {
				if (!(s->keys[k] = strdup(key)))
					return -ENOMEM;
				s->nkeys = ++nkeys;
			}
			const char *dir = dirs[d];
			size_t dl = strlen(dir);
			while (dl > 1 && dir[dl - 1] == '/')
				dl--;
			char *path;
			if (asprintf(&path, "%.*s/%s", (int)dl, dir, name) < 0)
				return -ENOMEM;
			s->files[s->nfiles].path = path;
			s->files[s->nfiles].key = s->keys[k];
			s->nfiles++;
		}
	}
	return 0;
}

static int conntrack_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct conntrack_config *c = config;
	/* The loader refuses other values at the value (conntrack_collect);
	 * this guards a config built without it (tests, fuzz/). */
	for (size_t i = 0; i < c->collect.n; i++) {
		if (strcmp(c->collect.v[i], "all") != 0 && strcmp(c->collect.v[i], "percpu") != 0) {
			snprintf(err, errlen, "collect: unknown choice \"%s\" (valid: \"all\", \"percpu\")", c->collect.v[i]);
			return -EINVAL;
		}
	}
	struct conntrack_state *s = calloc(1, sizeof *s);
	int rc = -ENOMEM;
	if (!s)
		goto fail;
	s->collect_percpu = calloc(c->collect.n ? c->collect.n : 1, sizeof *s->collect_percpu);
	if (!s->collect_percpu || hg_hostfs_buf_init(&s->buf, 4096) < 0)
		goto fail;
	s->ncollect = c->collect.n;
	for (size_t i = 0; i < c->collect.n; i++)
		s->collect_percpu[i] = strcmp(c->collect.v[i], "percpu") == 0;
	if ((rc = resolve_files(s, c)) < 0)
		goto fail;
	*state = s;
	return 0;
fail:
	conntrack_free(s);
	snprintf(err, errlen, "%s", rc == -ENAMETOOLONG ? "files: a file name is too long" : "out of memory");
	return rc;
}

static const char *const conntrack_collect[] = { "all", "percpu", NULL };

static const struct opt_desc conntrack_options[] = {
	{ .name = "collect", .type = OPT_STRLIST, .offset = offsetof(struct conntrack_config, collect), .def = "[]",
	  .help = "counters of $HOST_PROC/net/stat/nf_conntrack: \"all\" (summed, cpu=all), \"percpu\" (cpu=cpu<n>)",
	  .choices = conntrack_collect },
	{ "dirs", OPT_STRLIST, offsetof(struct conntrack_config, dirs),
	  "[/proc/sys/net/ipv4/netfilter, /proc/sys/net/netfilter]",
	  "directories searched for the files; missing ones are ignored" },
	{ "files", OPT_STRLIST, offsetof(struct conntrack_config, files),
	  "[ip_conntrack_count, ip_conntrack_max, nf_conntrack_count, nf_conntrack_max]",
	  "file names looked for in dirs (field ip_<name after the first _>); missing ones are ignored" },
	OPT_END,
};

const struct input_plugin hg_input_conntrack = {
	.name = "conntrack",
	.summary = "Collects conntrack stats from the configured directories and files.",
	.config_size = sizeof(struct conntrack_config),
	.options = conntrack_options,
	.init = conntrack_init,
	.gather = conntrack_gather,
	.free = conntrack_free,
};
