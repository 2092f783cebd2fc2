/* net: per-interface traffic counters from /proc/net/dev with Telegraf's
 * schema (see README.md). */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acc.h"
#include "log.h"
#include "hostfs.h"
#include "plugin.h"

struct net_config {
	struct strlist interfaces;
	bool ignore_protocol_stats;
};

struct net_state {
	struct strlist interfaces; /* owned copy of the globs */
	struct hostfs_buf buf;     /* /proc/net/dev */
	struct hostfs_buf small;   /* sysfs flags and speed */
};

#define IFF_UP_BIT 0x1
#define IFF_LOOPBACK_BIT 0x8

static bool selected(const struct net_state *s, const char *name)
{
	for (size_t i = 0; i < s->interfaces.n; i++)
		if (fnmatch(s->interfaces.v[i], name, 0) == 0)
			return true;
	return false;
}

/* HOST_SYS/class/net/<name>/<attr> as a number; false if unreadable. */
static bool sys_attr(struct net_state *s, const char *name, const char *attr, int base, long long *out)
{
	char rel[128];
	if (snprintf(rel, sizeof rel, "class/net/%s/%s", name, attr) >= (int)sizeof rel)
		return false;
	if (hg_hostfs_read_at(&s->small, HOSTFS_SYS, rel) <= 0)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s->small.p, &end, base);
	if (end == s->small.p || errno || (*end && *end != '\n'))
		return false;
	*out = v;
	return true;
}

/* With no interfaces configured Telegraf takes the interfaces that are up
 * and not loopback, and skips those whose flags it cannot read. */
static bool default_pick(struct net_state *s, const char *name)
{
	long long flags;
	if (!sys_attr(s, name, "flags", 16, &flags))
		return false;
	return (flags & IFF_UP_BIT) && !(flags & IFF_LOOPBACK_BIT);
}

static int net_gather(void *state, struct acc *acc)
{
	struct net_state *s = state;
	int64_t t = hg_acc_gather_time(acc);
	ssize_t n = hg_hostfs_read_at(&s->buf, HOSTFS_PROC, "net/dev");
	if (n < 0) {
		hg_acc_error(acc, "reading %s/net/dev: %s", hg_hostfs_root(HOSTFS_PROC), strerror((int)-n));
		return GATHER_DONE;
	}
	char *pos = s->buf.p;
	unsigned bad = 0;
	for (int lineno = 0; pos && *pos; lineno++) {
		char *line = pos, *nl = strchr(pos, '\n');
		if (nl)
			*nl = '\0';
		pos = nl ? nl + 1 : NULL;
		if (lineno < 2) /* two header lines */
			continue;
		char *colon = strrchr(line, ':');
		if (!colon) {
			bad++;
			continue;
		}
		*colon = '\0';
		char *name = line;
		while (*name == ' ')
			name++;
		uint64_t v[16];
		const char *p = colon + 1;
		int k = 0;
		while (k < 16 && hg_hostfs_parse_u64(&p, &v[k]) == 0)
			k++;
		if (k < 16 || !*name) {
			bad++;
			continue;
		}
		if (s->interfaces.n ? !selected(s, name) : !default_pick(s, name))
			continue;
		long long speed;
		if (!sys_attr(s, name, "speed", 10, &speed))
			speed = -1; /* as Telegraf: unsupported or down */
		struct metric *m = hg_acc_metric(acc, "net");
		hg_metric_tag(m, "interface", name);
		hg_metric_uint(m, "bytes_recv", v[0]);
		hg_metric_uint(m, "bytes_sent", v[8]);
		hg_metric_uint(m, "drop_in", v[3]);
		hg_metric_uint(m, "drop_out", v[11]);
		hg_metric_uint(m, "err_in", v[2]);
		hg_metric_uint(m, "err_out", v[10]);
		hg_metric_uint(m, "packets_recv", v[1]);
		hg_metric_uint(m, "packets_sent", v[9]);
		hg_metric_int(m, "speed", (int64_t)speed);
		hg_acc_emit(acc, m, t);
	}
	if (bad)
		hg_acc_error(acc, "%s/net/dev: %u malformed line(s)", hg_hostfs_root(HOSTFS_PROC), bad);
	return GATHER_DONE;
}

static void net_free(void *state);

static int net_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct net_config *c = config;
	/* Telegraf then adds a net,interface=all line of /proc/net/snmp counters; a user who asked
	 * for it must learn where they are here rather than find the panel empty. */
	if (!c->ignore_protocol_stats)
		log_warn(env && env->instance_name ? env->instance_name : "inputs.net",
			 "ignore_protocol_stats = false has no effect: the interface=all protocol line is not "
			 "emitted; the same /proc/net/snmp counters come from the nstat input, "
			 "measurement nstat,name=snmp (tcp_activeopens is TcpActiveOpens, udp_indatagrams is "
			 "UdpInDatagrams)");
	struct net_state *s = calloc(1, sizeof *s);
	if (!s)
		goto oom;
	if (c->interfaces.n) {
		s->interfaces.v = calloc(c->interfaces.n, sizeof(char *));
		if (!s->interfaces.v)
			goto oom;
		for (size_t i = 0; i < c->interfaces.n; i++, s->interfaces.n++)
			if (!(s->interfaces.v[i] = strdup(c->interfaces.v[i])))
				goto oom;
	}
	if (hg_hostfs_buf_init(&s->buf, 4096) < 0 || hg_hostfs_buf_init(&s->small, 64) < 0)
		goto oom;
	*state = s;
	return 0;
oom:
	net_free(s);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static void net_free(void *state)
{
	struct net_state *s = state;
	if (!s)
		return;
	hg_strlist_free(&s->interfaces);
	hg_hostfs_buf_free(&s->buf);
	hg_hostfs_buf_free(&s->small);
	free(s);
}

static const struct opt_desc net_options[] = {
	{ "interfaces", OPT_STRLIST, offsetof(struct net_config, interfaces), "[]",
	  "interfaces to gather, globs allowed (default: every up, non-loopback interface)" },
	{ "ignore_protocol_stats", OPT_BOOL, offsetof(struct net_config, ignore_protocol_stats), "true",
	  "accepted for Telegraf configs; protocol counters are the nstat input's" },
	OPT_END,
};

const struct input_plugin hg_input_net = {
	.name = "net",
	.summary = "Gather metrics about network interfaces",
	.config_size = sizeof(struct net_config),
	.options = net_options,
	.init = net_init,
	.gather = net_gather,
	.free = net_free,
};
