/* nstat: the kernel's SNMP counters (/proc/net/netstat, snmp, snmp6) with
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

struct nstat_config {
	char *proc_net_netstat;
	char *proc_net_snmp;
	char *proc_net_snmp6;
	bool dump_zeros;
};

#define NSTAT_MAX_COLS 512

struct nstat_state {
	char *path[3]; /* configured paths, NULL: $HOST_PROC/net/<file> */
	bool dump_zeros;
	struct hostfs_buf buf;
	char *keys; /* "PrefixName" field keys of the current file */
	size_t keys_cap;
	char *hdr[NSTAT_MAX_COLS], *val[NSTAT_MAX_COLS]; /* token views of a line pair */
	size_t hl[NSTAT_MAX_COLS], vl[NSTAT_MAX_COLS];
};

static const char *const file_rel[3] = { "net/netstat", "net/snmp", "net/snmp6" };
static const char *const file_tag[3] = { "netstat", "snmp", "snmp6" };

/* Splits the line at *pos into whitespace-separated tokens. */
static int tokens(char **pos, char **tok, size_t *tl, int max)
{
	char *p = *pos;
	char *nl = strchr(p, '\n');
	char *end = nl ? nl : p + strlen(p);
	*pos = nl ? nl + 1 : end;
	int n = 0;
	while (n < max) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		tok[n] = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		tl[n] = (size_t)(p - tok[n]);
		n++;
	}
	return n;
}

/* A signed decimal token (Telegraf: ParseInt; TcpMaxConn is -1). */
static bool parse_i64(const char *p, size_t len, int64_t *out)
{
	size_t i = len && (*p == '-' || *p == '+');
	bool neg = i && *p == '-';
	if (i == len)
		return false;
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

static bool is_zero(const char *p, size_t len)
{
	return len == 1 && *p == '0';
}

/* "Prefix: name name ..." followed by "Prefix: value value ...". */
static unsigned parse_pairs(struct nstat_state *s, struct metric *m)
{
	char **hdr = s->hdr, **val = s->val;
	size_t *hl = s->hl, *vl = s->vl;
	unsigned bad = 0;
	size_t kpos = 0;
	char *pos = s->buf.p;
	while (*pos) {
		int nh = tokens(&pos, hdr, hl, NSTAT_MAX_COLS);
		if (nh == 0)
			continue;
		int nv = *pos ? tokens(&pos, val, vl, NSTAT_MAX_COLS) : 0;
		size_t pl = hl[0];
		if (pl < 2 || hdr[0][pl - 1] != ':' || nv != nh || vl[0] != pl || memcmp(hdr[0], val[0], pl) != 0) {
			bad++;
			continue;
		}
		pl--; /* without the ':' */
		for (int j = 1; j < nh; j++) {
			int64_t v;
			if (!parse_i64(val[j], vl[j], &v)) {
				bad++;
				continue;
			}
			if (!s->dump_zeros && is_zero(val[j], vl[j]))
				continue;
			/* keys_cap >= 2 * file size, so this always fits */
			char *k = s->keys + kpos;
			memcpy(k, hdr[0], pl);
			memcpy(k + pl, hdr[j], hl[j]);
			kpos += pl + hl[j];
			struct metric_field f = { .key = { k, pl + hl[j] }, .type = FIELD_INT, .v.i = v };
			hg_metric_field_sv(m, &f);
		}
	}
	return bad;
}

/* "name value" per line. */
static unsigned parse_lines(struct nstat_state *s, struct metric *m)
{
	unsigned bad = 0;
	char *pos = s->buf.p;
	while (*pos) {
		char *tok[3];
		size_t tl[3];
		int n = tokens(&pos, tok, tl, 3);
		if (n == 0)
			continue;
		int64_t v;
		if (n != 2 || !parse_i64(tok[1], tl[1], &v)) {
			bad++;
			continue;
		}
		if (!s->dump_zeros && is_zero(tok[1], tl[1]))
			continue;
		struct metric_field f = { .key = { tok[0], tl[0] }, .type = FIELD_INT, .v.i = v };
		hg_metric_field_sv(m, &f);
	}
	return bad;
}

static int nstat_gather(void *state, struct acc *acc)
{
	struct nstat_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	for (int i = 0; i < 3; i++) {
		char path[4096];
		if (s->path[i])
			snprintf(path, sizeof path, "%s", s->path[i]);
		else if (hg_hostfs_path(path, sizeof path, HOSTFS_PROC, file_rel[i]) < 0)
			continue;
		ssize_t n = hg_hostfs_read(&s->buf, path);
		if (n == -ENOENT && i == 2)
			continue; /* no IPv6: no snmp6, not an error (as Telegraf) */
		if (n < 0) {
			hg_acc_error(acc, "reading %s: %s", path, strerror((int)-n));
			continue;
		}
		if (i < 2 && s->keys_cap < 2 * s->buf.len + 1) {
			/* the kernel grew the file: once, not per gather */
			char *k = realloc(s->keys, 2 * s->buf.len + 1);
			if (!k) {
				hg_acc_error(acc, "%s: out of memory", path);
				continue;
			}
			s->keys = k;
			s->keys_cap = 2 * s->buf.len + 1;
		}
		struct metric *m = hg_acc_metric(acc, "nstat");
		hg_metric_tag(m, "name", file_tag[i]);
		unsigned bad = i < 2 ? parse_pairs(s, m) : parse_lines(s, m);
		if (bad)
			hg_acc_error(acc, "%s: %u malformed line(s) or value(s)", path, bad);
		if (m->nfields)
			hg_acc_emit(acc, m, t);
	}
	return GATHER_DONE;
}

static void nstat_free(void *state);

static int nstat_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	(void)env;
	const struct nstat_config *c = config;
	struct nstat_state *s = calloc(1, sizeof *s);
	if (!s)
		goto oom;
	const char *cp[3] = { c->proc_net_netstat, c->proc_net_snmp, c->proc_net_snmp6 };
	for (int i = 0; i < 3; i++)
		if (cp[i] && *cp[i] && !(s->path[i] = strdup(cp[i])))
			goto oom;
	s->dump_zeros = c->dump_zeros;
	s->keys_cap = 16384;
	s->keys = malloc(s->keys_cap);
	if (!s->keys || hg_hostfs_buf_init(&s->buf, 8192) < 0)
		goto oom;
	*state = s;
	return 0;
oom:
	nstat_free(s);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static void nstat_free(void *state)
{
	struct nstat_state *s = state;
	if (!s)
		return;
	for (int i = 0; i < 3; i++)
		free(s->path[i]);
	free(s->keys);
	hg_hostfs_buf_free(&s->buf);
	free(s);
}

static const struct opt_desc nstat_options[] = {
	{ "proc_net_netstat", OPT_STRING, offsetof(struct nstat_config, proc_net_netstat), NULL,
	  "path of the netstat file (default $HOST_PROC/net/netstat)" },
	{ "proc_net_snmp", OPT_STRING, offsetof(struct nstat_config, proc_net_snmp), NULL,
	  "path of the snmp file (default $HOST_PROC/net/snmp)" },
	{ "proc_net_snmp6", OPT_STRING, offsetof(struct nstat_config, proc_net_snmp6), NULL,
	  "path of the snmp6 file (default $HOST_PROC/net/snmp6)" },
	{ "dump_zeros", OPT_BOOL, offsetof(struct nstat_config, dump_zeros), "false",
	  "also emit counters whose value is 0" },
	OPT_END,
};

const struct input_plugin hg_input_nstat = {
	.name = "nstat",
	.summary = "Collect kernel snmp counters and network interface statistics",
	.config_size = sizeof(struct nstat_config),
	.options = nstat_options,
	.init = nstat_init,
	.gather = nstat_gather,
	.free = nstat_free,
};
