/* kernel: /proc/stat totals and entropy, plus pressure stall information
 * with collect: [psi], with Telegraf's schema (see README.md). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct kernel_config {
	struct strlist collect;
};

struct kernel_state {
	bool psi;
	struct hostfs_buf buf;
};

/* The value after "key " at the start of a line: 1 found, 0 absent, -1 bad.
 * Telegraf parses these as int64. */
static int stat_value(const char *text, const char *key, int nth, int64_t *out)
{
	size_t kl = strlen(key);
	const char *pos = text, *line;
	size_t len;
	while ((line = hg_hostfs_next_line(&pos, &len))) {
		if (len <= kl || memcmp(line, key, kl) != 0 || line[kl] != ' ')
			continue;
		const char *p = line + kl;
		uint64_t v = 0;
		for (int i = 0; i <= nth; i++)
			if (hg_hostfs_parse_u64(&p, &v) < 0)
				return -1;
		if (v > INT64_MAX)
			return -1;
		*out = (int64_t)v;
		return 1;
	}
	return 0;
}

static void gather_kernel(struct kernel_state *s, struct acc *acc, int64_t t)
{
	int64_t entropy = 0;
	bool have_entropy = false;
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "sys/kernel/random/entropy_avail");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/sys/kernel/random/entropy_avail: %s", hg_hostfs_root(HOSTFS_PROC),
			  strerror((int)-n));
	} else {
		const char *p = s->buf.p;
		uint64_t v;
		if (hg_hostfs_parse_u64(&p, &v) < 0 || v > INT64_MAX)
			hg_acc_error(acc, "malformed %s/sys/kernel/random/entropy_avail", hg_hostfs_root(HOSTFS_PROC));
		else
			entropy = (int64_t)v, have_entropy = true;
	}

	n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "stat");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/stat: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return;
	}
	static const struct {
		const char *key, *field;
		int nth;
	} rows[] = {
		{ "btime", "boot_time", 0 },       { "ctxt", "context_switches", 0 },
		{ "page", "disk_pages_in", 0 },    { "page", "disk_pages_out", 1 },
		{ "intr", "interrupts", 0 },       { "processes", "processes_forked", 0 },
	};
	struct metric *m = hg_acc_metric(acc, "kernel");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t v;
		int r = stat_value(s->buf.p, rows[i].key, rows[i].nth, &v);
		if (r == 1)
			hg_metric_int(m, rows[i].field, v);
		else if (r < 0)
			hg_acc_error(acc, "malformed \"%s\" line in %s/stat", rows[i].key, hg_hostfs_root(HOSTFS_PROC));
		if (i == 3 && have_entropy) /* keep fields in name order */
			hg_metric_int(m, "entropy_avail", entropy);
	}
	if (m->nfields)
		hg_acc_emit(acc, m, t);
}

/* One "some|full avg10=F avg60=F avg300=F total=U" line. */
struct psi_line {
	double avg[3];
	uint64_t total;
};

static int parse_psi(const char *text, const char *type, struct psi_line *out)
{
	size_t tl = strlen(type);
	const char *pos = text, *line;
	size_t len;
	while ((line = hg_hostfs_next_line(&pos, &len))) {
		if (len <= tl || memcmp(line, type, tl) != 0 || line[tl] != ' ')
			continue;
		static const char *const keys[] = { " avg10=", " avg60=", " avg300=", " total=" };
		const char *p = line + tl;
		for (int i = 0; i < 4; i++) {
			size_t kl = strlen(keys[i]);
			if (strncmp(p, keys[i], kl) != 0)
				return -1;
			p += kl;
			if (i < 3) {
				char *end;
				errno = 0;
				out->avg[i] = strtod(p, &end);
				if (end == p || errno || (*end != ' '))
					return -1;
				p = end;
			} else if (hg_hostfs_parse_u64(&p, &out->total) < 0) {
				return -1;
			}
		}
		return 1;
	}
	return 0;
}

static void gather_psi(struct kernel_state *s, struct acc *acc, int64_t t)
{
	static const char *const resources[] = { "cpu", "memory", "io" };
	static const char *const types[] = { "some", "full" };
	for (int r = 0; r < 3; r++) {
		char rel[32];
		snprintf(rel, sizeof rel, "pressure/%s", resources[r]);
		ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, rel);
		if (n < 0) {
			hg_acc_error(acc, "failed to read %s pressure: %s/%s: %s", resources[r], hg_hostfs_root(HOSTFS_PROC), rel,
				  strerror((int)-n));
			continue;
		}
		for (int k = 0; k < 2; k++) {
			/* resource=cpu,type=full is left out, as Telegraf does */
			if (r == 0 && k == 1)
				continue;
			struct psi_line pl;
			int rc = parse_psi(s->buf.p, types[k], &pl);
			if (rc != 1) {
				hg_acc_error(acc, "%s %s line in %s/%s", rc < 0 ? "malformed" : "no", types[k],
					  hg_hostfs_root(HOSTFS_PROC), rel);
				continue;
			}
			struct metric *m = hg_acc_metric(acc, "pressure");
			hg_metric_tag(m, "resource", resources[r]);
			hg_metric_tag(m, "type", types[k]);
			hg_metric_uint(m, "total", pl.total);
			hg_acc_emit(acc, m, t);
			m = hg_acc_metric(acc, "pressure");
			hg_metric_tag(m, "resource", resources[r]);
			hg_metric_tag(m, "type", types[k]);
			hg_metric_float(m, "avg10", pl.avg[0]);
			hg_metric_float(m, "avg300", pl.avg[2]);
			hg_metric_float(m, "avg60", pl.avg[1]);
			hg_acc_emit(acc, m, t);
		}
	}
}

static int kernel_gather(void *state, struct acc *acc)
{
	struct kernel_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	gather_kernel(s, acc, t);
	if (s->psi)
		gather_psi(s, acc, t);
	return GATHER_DONE;
}

static int kernel_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct kernel_config *c = config;
	bool psi = false;
	/* The loader refuses other values at the value (kernel_collect); this
	 * guards a config built without it (tests). */
	for (size_t i = 0; i < c->collect.n; i++) {
		if (strcmp(c->collect.v[i], "psi") == 0) {
			psi = true;
		} else if (strcmp(c->collect.v[i], "ksm") == 0) {
			snprintf(err, errlen, "collect: \"ksm\" is not supported by this agent (only \"psi\")");
			return -EINVAL;
		} else {
			snprintf(err, errlen, "collect: unknown value \"%s\" (valid: \"psi\")", c->collect.v[i]);
			return -EINVAL;
		}
	}
	struct kernel_state *s = calloc(1, sizeof *s);
	if (!s || hg_hostfs_buf_init(&s->buf, 16384) < 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->psi = psi;
	*state = s;
	return 0;
}

static void kernel_free(void *state)
{
	struct kernel_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

/* Telegraf's other one, ksm, is not implemented (README). */
static const char *const kernel_collect[] = { "psi", NULL };

static const struct opt_desc kernel_options[] = {
	{ .name = "collect", .type = OPT_STRLIST, .offset = offsetof(struct kernel_config, collect), .def = "[]",
	  .help = "additional gather options: \"psi\" (pressure stall information)", .choices = kernel_collect },
	OPT_END,
};

const struct input_plugin hg_input_kernel = {
	.name = "kernel",
	.summary = "Plugin to collect various Linux kernel statistics",
	.config_size = sizeof(struct kernel_config),
	.options = kernel_options,
	.init = kernel_init,
	.gather = kernel_gather,
	.free = kernel_free,
};
