/* interrupts: per-CPU counts of /proc/interrupts and /proc/softirqs with
 * Telegraf's schema (see README.md): measurements interrupts and
 * soft_interrupts, one line per IRQ with CPU<n> and total fields, or with
 * cpu_as_tag one line per IRQ and CPU with a count field. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "hostfs.h"
#include "plugin.h"

struct interrupts_config {
	bool cpu_as_tag;
};

/* "CPU" or "cpu", a size_t's 20 digits at most, NUL: no CPU index can be cut
 * short, whatever the compiler assumes about its range. */
#define CPU_NAME_SIZE 24

struct interrupts_state {
	bool cpu_as_tag;
	struct hostfs_buf buf;
	/* Per-CPU field keys ("CPU7") and tag values ("cpu7"), and one line's
	 * counts: grown when a file shows more CPUs than before, so a gather
	 * allocates nothing once the machine's CPU count is known. */
	size_t ncpu_cap;
	char (*field_key)[CPU_NAME_SIZE];
	char (*tag_value)[CPU_NAME_SIZE];
	int64_t *counts;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* The next blank-separated token of [*p, end): false at the end. */
static bool next_token(char **p, char *end, char **tok, size_t *len)
{
	char *s = *p;
	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return false;
	char *e = s;
	while (e < end && !is_blank(*e))
		e++;
	*tok = s;
	*len = (size_t)(e - s);
	*p = e;
	return true;
}

/* A whole token as a signed decimal int64 (Go's strconv.ParseInt(s, 10, 64),
 * which Telegraf uses for the counts and to tell numbered IRQs apart). */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
	bool neg = false;
	size_t i = 0;
	if (len && (s[0] == '+' || s[0] == '-'))
		neg = s[0] == '-', i = 1;
	if (i == len)
		return false;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Joins the tokens of [p, end) with single spaces, in place from p (never
 * longer than the original span), as Go's strings.Join(fields, " "). */
static struct sv join_rest(char *p, char *end)
{
	char *start = NULL, *w = NULL, *tok;
	size_t len;
	while (next_token(&p, end, &tok, &len)) {
		if (!start) {
			start = w = tok;
		} else {
			*w++ = ' ';
			memmove(w, tok, len); /* w <= tok: blanks separated them */
		}
		w += len;
	}
	return start ? (struct sv){ start, (size_t)(w - start) } : (struct sv){ "", 0 };
}

static int grow_cpus(struct interrupts_state *s, size_t n)
{
	if (n <= s->ncpu_cap)
		return 0;
	size_t cap = s->ncpu_cap ? s->ncpu_cap : 8;
	while (cap < n)
		cap *= 2;
	char (*fk)[CPU_NAME_SIZE] = realloc(s->field_key, cap * sizeof *fk);
	if (!fk)
		return -ENOMEM;
	s->field_key = fk;
	char (*tv)[CPU_NAME_SIZE] = realloc(s->tag_value, cap * sizeof *tv);
	if (!tv)
		return -ENOMEM;
	s->tag_value = tv;
	int64_t *c = realloc(s->counts, cap * sizeof *c);
	if (!c)
		return -ENOMEM;
	s->counts = c;
	for (size_t i = s->ncpu_cap; i < cap; i++) {
		snprintf(s->field_key[i], sizeof s->field_key[i], "CPU%zu", i);
		snprintf(s->tag_value[i], sizeof s->tag_value[i], "cpu%zu", i);
	}
	s->ncpu_cap = cap;
	return 0;
}

static void emit_irq(struct interrupts_state *s, struct acc *acc, const char *measurement, struct sv id,
		     struct sv type, struct sv device, size_t ncounts, int64_t t)
{
	static const struct sv k_irq = { "irq", 3 }, k_type = { "type", 4 }, k_device = { "device", 6 };
	if (s->cpu_as_tag) {
		for (size_t i = 0; i < ncounts; i++) {
			struct metric *m = hg_acc_metric(acc, measurement);
			hg_metric_tag(m, "cpu", s->tag_value[i]);
			hg_metric_tag_sv(m, k_irq, id);
			hg_metric_tag_sv(m, k_type, type);
			hg_metric_tag_sv(m, k_device, device);
			hg_metric_int(m, "count", s->counts[i]);
			hg_acc_emit(acc, m, t);
		}
		return;
	}
	struct metric *m = hg_acc_metric(acc, measurement);
	hg_metric_tag_sv(m, k_irq, id);
	hg_metric_tag_sv(m, k_type, type);
	hg_metric_tag_sv(m, k_device, device);
	/* Go's int64 sum wraps; so does this one (unsigned, then back). */
	uint64_t total = 0;
	for (size_t i = 0; i < ncounts; i++) {
		hg_metric_int(m, s->field_key[i], s->counts[i]);
		total += (uint64_t)s->counts[i];
	}
	hg_metric_int(m, "total", (int64_t)total);
	hg_acc_emit(acc, m, t);
}

/* One file: a header of CPU columns, then "ID: count... [type [device]]"
 * lines, parsed as Telegraf does (README.md, "Parsing"). */
static void gather_file(struct interrupts_state *s, struct acc *acc, const char *measurement, const char *rel,
			int64_t t)
{
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, rel);
	if (n < 0) {
		hg_acc_error(acc, "could not open file: %s/%s: %s", hg_hostfs_root(HOSTFS_PROC), rel, strerror((int)-n));
		return;
	}
	char *p = s->buf.p, *end = s->buf.p + n;
	char *nl = memchr(p, '\n', (size_t)(end - p));
	char *line_end = nl ? nl : end;
	if (p == end)
		return; /* an empty file has no IRQs (Telegraf: no error either) */
	char *tok;
	size_t len, ncpu = 0;
	char *q = p;
	bool first_ok = next_token(&q, line_end, &tok, &len) && len == 4 && memcmp(tok, "CPU0", 4) == 0;
	if (!first_ok) {
		hg_acc_error(acc, "parsing %s/%s: expected first line to start with CPU0", hg_hostfs_root(HOSTFS_PROC), rel);
		return;
	}
	ncpu = 1;
	while (next_token(&q, line_end, &tok, &len))
		ncpu++;
	if (grow_cpus(s, ncpu) < 0) {
		hg_acc_error(acc, "parsing %s/%s: out of memory for %zu CPUs", hg_hostfs_root(HOSTFS_PROC), rel, ncpu);
		return;
	}
	for (p = nl ? nl + 1 : end; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line_end = nl ? nl : end;
		q = p;
		/* Lines whose first token does not end in ':' are no IRQ (Telegraf
		 * skips them, as it does blank lines here). */
		if (!next_token(&q, line_end, &tok, &len) || tok[len - 1] != ':')
			continue;
		struct sv id = { tok, len };
		while (id.len && id.p[id.len - 1] == ':')
			id.len--;
		size_t nc = 0;
		bool bad = false;
		char *vtok;
		size_t vlen;
		char *after = q;
		while (nc < ncpu && next_token(&after, line_end, &vtok, &vlen)) {
			if (!parse_i64(vtok, vlen, &s->counts[nc])) {
				bad = true; /* a count that is no number drops the line, as in Telegraf */
				break;
			}
			nc++;
		}
		if (bad)
			continue;
		int64_t num;
		struct sv type = { "", 0 }, device = { "", 0 };
		if (nc == ncpu) {
			char *r = after;
			if (parse_i64(id.p, id.len, &num) && next_token(&r, line_end, &vtok, &vlen)) {
				/* numbered IRQ: controller type, then the device (names joined by one space) */
				type = (struct sv){ vtok, vlen };
				device = join_rest(r, line_end);
			} else {
				type = join_rest(after, line_end);
			}
		}
		emit_irq(s, acc, measurement, id, type, device, nc, t);
	}
}

static int interrupts_gather(void *state, struct acc *acc)
{
	struct interrupts_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	gather_file(s, acc, "interrupts", "interrupts", t);
	gather_file(s, acc, "soft_interrupts", "softirqs", t);
	return GATHER_DONE;
}

static void interrupts_free(void *state)
{
	struct interrupts_state *s = state;
	if (!s)
		return;
	hg_hostfs_buf_free(&s->buf);
	free(s->field_key);
	free(s->tag_value);
	free(s->counts);
	free(s);
}

static int interrupts_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct interrupts_config *c = config;
	struct interrupts_state *s = calloc(1, sizeof *s);
	/* 16 KiB holds a small machine's /proc/interrupts; hg_hostfs_read doubles it for big ones. */
	if (!s || hg_hostfs_buf_init(&s->buf, 16384) < 0 || grow_cpus(s, 8) < 0) {
		interrupts_free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cpu_as_tag = c->cpu_as_tag;
	*state = s;
	return 0;
}

static const struct opt_desc interrupts_options[] = {
	{ "cpu_as_tag", OPT_BOOL, offsetof(struct interrupts_config, cpu_as_tag), "false",
	  "one line per IRQ and CPU (tag cpu, field count) instead of CPU<n> fields and total" },
	OPT_END,
};

const struct input_plugin hg_input_interrupts = {
	.name = "interrupts",
	.summary = "This plugin gathers interrupts data from /proc/interrupts and /proc/softirqs.",
	.config_size = sizeof(struct interrupts_config),
	.options = interrupts_options,
	.init = interrupts_init,
	.gather = interrupts_gather,
	.free = interrupts_free,
};
