/* netstat: TCP connections by state and UDP sockets with Telegraf's schema
 * (see README.md), counted from a netlink sock_diag dump when the agent is
 * in the node's network namespace, else from /proc/net/{tcp,tcp6,udp,udp6}
 * in one streaming pass each: no walk over /proc/<pid>/fd, nothing
 * allocated per gather. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "acc.h"
#include "hex.h"
#include "hostfs.h"
#include "log.h"
#include "plugin.h"
#include "sock_diag.h"

struct netstat_config {
	char *method; /* auto, netlink or proc */
};

enum netstat_method { METHOD_AUTO, METHOD_NETLINK, METHOD_PROC };

/* Files can be many MiB with 100k sockets: read them in chunks of this
 * size, carrying a partial line over, instead of whole. */
#define NETSTAT_CHUNK (64 * 1024)

struct netstat_state {
	char *buf; /* proc: the read chunk; netlink: the receive buffer */
	enum netstat_method method;
	struct sock_diag diag;
	bool netlink_failed; /* auto: netlink failed once, /proc from then on */
	char label[96];
};

/* Kernel TCP states 1..11 (include/net/tcp_states.h), index 0 = other. */
enum { TCP_STATES = 12 };
static const char *const tcp_field[TCP_STATES] = {
	"tcp_none",      "tcp_established", "tcp_syn_sent",  "tcp_syn_recv", "tcp_fin_wait1", "tcp_fin_wait2",
	"tcp_time_wait", "tcp_close",       "tcp_close_wait", "tcp_last_ack", "tcp_listen",    "tcp_closing",
};

/* The 4th whitespace-separated token of a socket line ("st"): its value,
 * -2 for the header line, -1 when malformed. */
static int line_state(const char *p, const char *end)
{
	for (int tok = 0; tok < 4; tok++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return -1;
		if (tok == 3)
			break;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
	}
	if (end - p >= 2 && p[0] == 's' && p[1] == 't')
		return -2;
	if (end - p < 2 || (end - p > 2 && p[2] != ' ' && p[2] != '\t'))
		return -1;
	int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

struct tally {
	int64_t tcp[TCP_STATES];
	int64_t udp;
	unsigned bad;
};

/* Streams one file; counts its lines into t. 0, or -errno. */
static int count_file(struct netstat_state *s, const char *rel, bool tcp, struct tally *t)
{
	char path[4096];
	int n = hg_hostfs_path(path, sizeof path, HOSTFS_PROC, rel);
	if (n < 0)
		return n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t have = 0;
	bool eof = false;
	int rc = 0;
	while (!eof) {
		ssize_t r;
		do
			r = read(fd, s->buf + have, NETSTAT_CHUNK - have);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			rc = -errno;
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		char *p = s->buf, *end = s->buf + have;
		for (;;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				if (!eof)
					break;
				if (p == end)
					break;
				nl = end; /* last line without a newline */
			}
			int st = line_state(p, nl);
			if (st == -1)
				t->bad++;
			else if (st >= 0 && tcp)
				t->tcp[st > 0 && st < TCP_STATES ? st : 0]++;
			else if (st >= 0)
				t->udp++;
			p = nl == end ? end : nl + 1;
		}
		have = (size_t)(end - p);
		if (have == NETSTAT_CHUNK) { /* a line longer than the buffer */
			t->bad++;
			have = 0;
		} else if (have) {
			memmove(s->buf, p, have);
		}
	}
	close(fd);
	return rc;
}

/* Every state /proc/net/tcp can show, 1..TCP_NEW_SYN_RECV (12): not the
 * bits above, as TCP_BOUND_INACTIVE (13, Linux 6.9+) asks the kernel for
 * bound sockets that are neither listening nor connected, which the files
 * do not list. */
#define DIAG_STATES 0x1ffeu

/* The four dumps, as the four files. 0, or -errno of the first failure. */
static int gather_netlink(struct netstat_state *s, struct tally *t)
{
	static const struct {
		int family, protocol;
	} dumps[] = { { AF_INET, IPPROTO_TCP }, { AF_INET6, IPPROTO_TCP }, { AF_INET, IPPROTO_UDP },
		      { AF_INET6, IPPROTO_UDP } };
	int64_t udp[TCP_STATES];
	memset(udp, 0, sizeof udp);
	for (size_t i = 0; i < sizeof dumps / sizeof dumps[0]; i++) {
		bool tcp = dumps[i].protocol == IPPROTO_TCP;
		int rc = hg_sock_diag_count(&s->diag, s->buf, NETSTAT_CHUNK, dumps[i].family, dumps[i].protocol,
					 DIAG_STATES, tcp ? t->tcp : udp, TCP_STATES);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < TCP_STATES; i++)
		t->udp += udp[i];
	return 0;
}

/* The /proc files: 0 when at least one could be read, else -1. */
static int gather_proc(struct netstat_state *s, struct acc *acc, struct tally *t)
{
	static const struct {
		const char *rel;
		bool tcp;
	} files[] = { { "net/tcp", true }, { "net/tcp6", true }, { "net/udp", false }, { "net/udp6", false } };
	int ok = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		int rc = count_file(s, files[i].rel, files[i].tcp, t);
		if (rc == 0)
			ok++;
		else if (rc != -ENOENT) /* no IPv6: no tcp6/udp6, as Telegraf */
			hg_acc_error(acc, "reading %s/%s: %s", hg_hostfs_root(HOSTFS_PROC), files[i].rel, strerror(-rc));
	}
	if (t->bad)
		hg_acc_error(acc, "%s/net/{tcp,udp}*: %u malformed line(s)", hg_hostfs_root(HOSTFS_PROC), t->bad);
	if (!ok) {
		hg_acc_error(acc, "no readable socket table under %s/net", hg_hostfs_root(HOSTFS_PROC));
		return -1;
	}
	return 0;
}

/* auto: netlink sees the agent's own network namespace. With HOST_PROC
 * set the agent runs in a pod whose namespace is not the node's (unless
 * hostNetwork), and hostfs reads the node's tables from HOST_PROC/1/net. */
static bool use_netlink(const struct netstat_state *s)
{
	if (s->method != METHOD_AUTO)
		return s->method == METHOD_NETLINK;
	const char *hp = getenv("HOST_PROC");
	return !s->netlink_failed && !(hp && *hp);
}

static int netstat_gather(void *state, struct acc *acc)
{
	struct netstat_state *s = state;
	struct tally t;
	memset(&t, 0, sizeof t);
	bool counted = false;
	if (use_netlink(s)) {
		int rc = gather_netlink(s, &t);
		if (rc == 0) {
			counted = true;
		} else if (s->method == METHOD_NETLINK) {
			hg_acc_error(acc, "netlink sock_diag dump: %s", strerror(-rc));
			return GATHER_DONE;
		} else {
			/* e.g. a seccomp profile or a kernel without inet_diag /
			 * udp_diag: it will not get better, and mixing sources
			 * between gathers would make the counts jump. */
			log_warn(s->label, "netlink sock_diag dump failed (%s): counting from %s/net from now on",
				 strerror(-rc), hg_hostfs_root(HOSTFS_PROC));
			s->netlink_failed = true;
			memset(&t, 0, sizeof t);
		}
	}
	if (!counted && gather_proc(s, acc, &t) < 0)
		return GATHER_DONE;
	/* field names in byte order, as Telegraf's serializer sorts them */
	static const int order[] = { 7, 8, 11, 1, 4, 5, 9, 10, 0, 3, 2, 6 };
	struct metric *m = hg_acc_metric(acc, "netstat");
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		hg_metric_int(m, tcp_field[order[i]], t.tcp[order[i]]);
	hg_metric_int(m, "udp_socket", t.udp);
	hg_acc_emit(acc, m, hg_acc_gather_time(acc));
	return GATHER_DONE;
}

static int netstat_init(void **state, const void *config, const struct plugin_env *env, char *err, size_t errlen)
{
	const struct netstat_config *c = config;
	enum netstat_method method;
	/* The loader refuses other methods at the value (netstat_methods);
	 * this guards a config built without it (bench/netstat_bench.c). */
	if (!c->method || !strcmp(c->method, "auto"))
		method = METHOD_AUTO;
	else if (!strcmp(c->method, "netlink"))
		method = METHOD_NETLINK;
	else if (!strcmp(c->method, "proc"))
		method = METHOD_PROC;
	else {
		snprintf(err, errlen, "method: \"%s\" is not auto, netlink or proc", c->method);
		return -EINVAL;
	}
	struct netstat_state *s = calloc(1, sizeof *s);
	if (s)
		s->buf = malloc(NETSTAT_CHUNK);
	if (!s || !s->buf) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->method = method;
	hg_sock_diag_init(&s->diag);
	snprintf(s->label, sizeof s->label, "%s", env && env->instance_name ? env->instance_name : "inputs.netstat");
	*state = s;
	return 0;
}

static void netstat_free(void *state)
{
	struct netstat_state *s = state;
	if (!s)
		return;
	hg_sock_diag_close(&s->diag);
	free(s->buf);
	free(s);
}

static const char *const netstat_methods[] = { "auto", "netlink", "proc", NULL };

static const struct opt_desc netstat_options[] = {
	{ .name = "method", .type = OPT_STRING, .offset = offsetof(struct netstat_config, method), .def = "auto",
	  .help = "auto (netlink sock_diag unless HOST_PROC is set, then /proc), netlink or proc",
	  .choices = netstat_methods },
	OPT_END,
};

const struct input_plugin hg_input_netstat = {
	.name = "netstat",
	.summary = "Read TCP metrics such as established, time wait and sockets counts",
	.config_size = sizeof(struct netstat_config),
	.options = netstat_options,
	.init = netstat_init,
	.gather = netstat_gather,
	.free = netstat_free,
};
