/* libFuzzer target for the interrupts and conntrack inputs' /proc parsers.
 * The first byte picks the file the rest becomes (bits 0-1: interrupts,
 * softirqs, net/stat/nf_conntrack, sys/net/netfilter/nf_conntrack_count);
 * it is written under a private HOST_PROC and the input gathers it.
 * Checks: the interrupts input gives, with cpu_as_tag, one line per CPU<n>
 * field it gives without (the two shapes carry the same counts); conntrack
 * gives a cpu=all line exactly when it gives cpu<n> lines, and never both
 * the table-size field and a parse error for the count file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acc.h"
#include "plugin.h"

extern const struct input_plugin hg_input_interrupts, hg_input_conntrack;

static char root[64], dir_nf[128];

/* The temp tree goes when the fuzzer exits. */
static void remove_tree(void)
{
	static const char *const paths[] = { "interrupts", "softirqs", "net/stat/nf_conntrack",
					     "sys/net/netfilter/nf_conntrack_count", "sys/net/netfilter",
					     "sys/net", "sys", "net/stat", "net", "" };
	char p[256];
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", root, paths[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
}

static void write_file(const char *rel, const uint8_t *d, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || (n && write(fd, d, n) != (ssize_t)n))
		abort();
	close(fd);
}

static const struct opt_desc *opt(const struct input_plugin *p, const char *name)
{
	for (const struct opt_desc *o = p->options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	abort();
}

static const char *gather(const struct input_plugin *p, void *cfg, struct acc *acc)
{
	void *st = NULL;
	char err[256];
	struct plugin_env env = { .instance_name = p->name };
	if (p->init(&st, cfg, &env, err, sizeof err) != 0)
		abort();
	hg_acc_capture_clear(acc);
	if (p->gather(st, acc) != GATHER_DONE)
		abort();
	p->free(st);
	return hg_acc_capture_text(acc);
}

static size_t count_lines(const char *t, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);
	for (const char *l = t; *l;) {
		if (!strncmp(l, prefix, pl))
			n++;
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		l = nl + 1;
	}
	return n;
}

/* Fields named CPU<digits> in the field sets of the lines of t. */
static size_t count_cpu_fields(const char *t)
{
	size_t n = 0;
	for (const char *l = t; *l;) {
		const char *p = l;
		while (*p && *p != '\n' && *p != ' ')
			p += (*p == '\\' && p[1] && p[1] != '\n') ? 2 : 1;
		while (*p == ' ' || *p == ',') {
			p++;
			if (!strncmp(p, "CPU", 3) && p[3] >= '0' && p[3] <= '9') {
				const char *q = p + 3;
				while (*q >= '0' && *q <= '9')
					q++;
				n += *q == '=';
			}
			while (*p && *p != '\n' && *p != ',' && *p != ' ')
				p++;
		}
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		l = nl + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc *acc;
	static char *items_all_percpu[] = { "all", "percpu" };
	static char *dirs[] = { dir_nf };
	if (!acc) {
		snprintf(root, sizeof root, "/tmp/hg-fuzz-proc.XXXXXX");
		if (!mkdtemp(root))
			abort();
		char p[160];
		snprintf(p, sizeof p, "%s/net", root), mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/net/stat", root), mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/sys", root), mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/sys/net", root), mkdir(p, 0755);
		snprintf(dir_nf, sizeof dir_nf, "%s/sys/net/netfilter", root);
		mkdir(dir_nf, 0755);
		setenv("HOST_PROC", root, 1);
		atexit(remove_tree);
		acc = hg_acc_capture_new();
	}
	if (size < 1)
		return 0;
	int which = data[0] & 3;
	static const char *const rel[] = { "interrupts", "softirqs", "net/stat/nf_conntrack",
					   "sys/net/netfilter/nf_conntrack_count" };
	write_file(rel[which], data + 1, size - 1);

	if (which <= 1) {
		/* /proc text has no NUL; one would end the captured text early */
		if (memchr(data + 1, 0, size - 1))
			return 0;
		const char *other = which == 0 ? "softirqs" : "interrupts";
		char path[256];
		snprintf(path, sizeof path, "%s/%s", root, other);
		unlink(path);
		char cfg[64] = { 0 };
		if (hg_input_interrupts.config_size > sizeof cfg)
			abort();
		size_t off = opt(&hg_input_interrupts, "cpu_as_tag")->offset;
		*(bool *)(cfg + off) = false;
		size_t fields = count_cpu_fields(gather(&hg_input_interrupts, cfg, acc));
		*(bool *)(cfg + off) = true;
		const char *t = gather(&hg_input_interrupts, cfg, acc);
		const char *m = which == 0 ? "interrupts," : "soft_interrupts,";
		/* past METRIC_MAX_FIELDS CPUs the one-line shape is cut (counted as
		 * an overflow): compare below that */
		size_t ncpu = 0;
		for (size_t i = 1; i < size && data[i] != '\n'; i++)
			ncpu += data[i] != ' ' && data[i] != '\t' && (i == 1 || data[i - 1] == ' ' || data[i - 1] == '\t');
		if (ncpu < 1000 && count_lines(t, m) != fields)
			abort();
		return 0;
	}

	char cfg[128] = { 0 };
	if (hg_input_conntrack.config_size > sizeof cfg)
		abort();
	struct strlist *collect = (struct strlist *)(cfg + opt(&hg_input_conntrack, "collect")->offset);
	struct strlist *dl = (struct strlist *)(cfg + opt(&hg_input_conntrack, "dirs")->offset);
	collect->n = 2, collect->v = items_all_percpu;
	dl->n = 1, dl->v = dirs;
	const char *t = gather(&hg_input_conntrack, cfg, acc);
	size_t all = count_lines(t, "conntrack,cpu=all "), percpu = count_lines(t, "conntrack,cpu=cpu");
	if (all != (percpu ? 1u : 0u))
		abort();
	/* the count file: never both its field and a parse error */
	if (which == 3 && count_lines(t, "conntrack ip_conntrack_count=") == 1 &&
	    strstr(hg_acc_capture_errors(acc), "failed to parse metric") != NULL)
		abort();
	return 0;
}
