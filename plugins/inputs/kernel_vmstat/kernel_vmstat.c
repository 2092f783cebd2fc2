/* kernel_vmstat: every /proc/vmstat counter as an integer field, with
 * Telegraf's schema (see README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct kernel_vmstat_config {
	char unused; /* no options, as in Telegraf */
};

struct kernel_vmstat_state {
	struct hostfs_buf buf;
};

/* A signed decimal token of length len (Telegraf parses with ParseInt). */
static bool parse_i64(const char *p, size_t len, int64_t *out)
{
	bool neg = len > 0 && (*p == '-' || *p == '+');
	size_t i = len > 0 && (*p == '-' || *p == '+') ? 1 : 0;
	if (i == len)
		return false;
	neg = neg && *p == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static const char *next_token(const char **pos, size_t *len)
{
	const char *p = *pos;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p)
		return NULL;
	const char *s = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	*len = (size_t)(p - s);
	*pos = p;
	return s;
}

static int kernel_vmstat_gather(void *state, struct acc *acc)
{
	struct kernel_vmstat_state *s = state;
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "vmstat");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/vmstat: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	struct metric *m = hg_acc_metric(acc, "kernel_vmstat");
	const char *pos = s->buf.p, *key, *val;
	size_t kl, vl;
	unsigned bad = 0;
	/* The file is "name value" pairs; Telegraf reads it as one stream of
	 * whitespace-separated tokens, so do we. */
	while ((key = next_token(&pos, &kl))) {
		val = next_token(&pos, &vl);
		int64_t v;
		if (!val || !parse_i64(val, vl, &v)) {
			if (bad++ == 0)
				hg_acc_error(acc, "%s/vmstat: no integer value for \"%.*s\"", hg_hostfs_root(HOSTFS_PROC), (int)kl,
					  key);
			if (!val)
				break;
			continue;
		}
		struct metric_field f = { .key = { key, kl }, .type = FIELD_INT, .v.i = v };
		hg_metric_field_sv(m, &f);
	}
	if (m->nfields)
		hg_acc_emit(acc, m, hg_acc_gather_time(acc));
	return GATHER_DONE;
}

static int kernel_vmstat_init(void **state, const void *config, const struct plugin_env *env, char *err,
			      size_t errlen)
{
	(void)config, (void)env;
	struct kernel_vmstat_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 8192) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void kernel_vmstat_free(void *state)
{
	struct kernel_vmstat_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

static const struct opt_desc kernel_vmstat_options[] = { OPT_END };

const struct input_plugin hg_input_kernel_vmstat = {
	.name = "kernel_vmstat",
	.summary = "Get kernel statistics from /proc/vmstat",
	.config_size = sizeof(struct kernel_vmstat_config),
	.options = kernel_vmstat_options,
	.init = kernel_vmstat_init,
	.gather = kernel_vmstat_gather,
	.free = kernel_vmstat_free,
};
