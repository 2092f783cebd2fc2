/* netstat input: the netlink sock_diag counts equal the /proc/net ones for
 * sockets the test opens itself on the loopback (listening, established,
 * close_wait, fin_wait2, time_wait, bound-only TCP; bound and connected
 * UDP; IPv4 and IPv6). In a private network namespace when the kernel
 * allows it, so nothing else's sockets are counted and the exact numbers
 * are known; else in the machine's, retrying until both reads agree. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"
#include "netns_sockets.h"

extern const struct input_plugin hg_input_netstat;

static char line[8192];

static void gather_line(const char *method, struct acc *acc, char *out, size_t cap)
{
	struct { char *method; } *cfg = config_new(&hg_input_netstat);
	cfg->method = (char *)method;
	void *st = plugin_start(&hg_input_netstat, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_netstat.gather(st, acc), GATHER_DONE);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	out[0] = '\0';
	CHECK(lp_find(hg_acc_capture_text(acc), "netstat", 0, out, cap));
	hg_input_netstat.free(st);
	free(cfg);
}

/* A connected pair through the listener: *c client side, return server side. */
static int connect_pair(int ls, int family, const struct sockaddr_storage *ss, socklen_t len, int *c)
{
	*c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(*c >= 0);
	CHECK_INT(connect(*c, (const struct sockaddr *)ss, len), 0);
	int s = accept(ls, NULL, NULL);
	CHECK(s >= 0);
	return s;
}

struct want {
	int listen, established, close_wait, fin_wait2, time_wait, udp;
};

/* Opens the sockets of one family, adds what it made to w. Fds stay open
 * until the process ends. */
static void open_sockets(int family, struct want *w)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ls = loopback_listener(family, &ss, &len);
	if (ls < 0) {
		CHECK(family == AF_INET6); /* only IPv6 may be missing */
		return;
	}
	w->listen++;
	int second = loopback_listener(family, &(struct sockaddr_storage){ 0 }, &(socklen_t){ 0 });
	CHECK(second >= 0);
	w->listen++;
	int c;
	for (int i = 0; i < 3; i++) /* established both ways */
		connect_pair(ls, family, &ss, len, &c);
	w->established += 6;
	for (int i = 0; i < 2; i++) { /* client half-closes: fin_wait2 / close_wait */
		connect_pair(ls, family, &ss, len, &c);
		CHECK_INT(shutdown(c, SHUT_WR), 0);
	}
	w->fin_wait2 += 2;
	w->close_wait += 2;
	for (int i = 0; i < 2; i++) { /* client closes first, then the server: time_wait */
		int s = connect_pair(ls, family, &ss, len, &c);
		close(c);
		char b;
		CHECK_INT((int)read(s, &b, 1), 0); /* the client's FIN */
		close(s);
	}
	w->time_wait += 2;
	/* bound only: in neither /proc/net/tcp nor the dump's states */
	struct sockaddr_storage bs;
	socklen_t bl = loopback_addr(family, &bs);
	int b = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(b >= 0 && bind(b, (struct sockaddr *)&bs, bl) == 0);
	for (int i = 0; i < 3; i++) { /* udp: bound; the last one connected */
		bl = loopback_addr(family, &bs);
		int u = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(u >= 0 && bind(u, (struct sockaddr *)&bs, bl) == 0);
		if (i == 2)
			CHECK_INT(connect(u, (struct sockaddr *)&ss, len), 0);
	}
	w->udp += 3;
}

static void test_netlink(void)
{
	unsetenv("HOST_PROC"); /* proc reads /proc/net: the same namespace as netlink */
	bool alone = netns_isolate(false);
	printf("private network namespace: %s\n", alone ? "yes" : "no (counts include other sockets)");
	struct want w = { 0 };
	open_sockets(AF_INET, &w);
	open_sockets(AF_INET6, &w);
	struct acc *acc = hg_acc_capture_new();

	/* Other processes' sockets may change between the two reads, and the
	 * kernel moves the closed sockets from fin_wait1 to fin_wait2 when the
	 * peer's ACK is processed, a moment later on a busy machine: retry
	 * until both methods agree (and, alone, show the settled states). */
	char nl[1024], pr[1024], want_line[1024];
	snprintf(want_line, sizeof want_line,
		 "netstat tcp_close=0i,tcp_close_wait=%di,tcp_closing=0i,tcp_established=%di,"
		 "tcp_fin_wait1=0i,tcp_fin_wait2=%di,tcp_last_ack=0i,tcp_listen=%di,tcp_none=0i,"
		 "tcp_syn_recv=0i,tcp_syn_sent=0i,tcp_time_wait=%di,udp_socket=%di",
		 w.close_wait, w.established, w.fin_wait2, w.listen, w.time_wait, w.udp);
	int tries = 0;
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	do {
		if (tries)
			nanosleep(&pause, NULL);
		gather_line("netlink", acc, nl, sizeof nl);
		gather_line("proc", acc, pr, sizeof pr);
	} while ((strcmp(nl, pr) != 0 || (alone && strcmp(nl, want_line) != 0)) && ++tries < 40);
	printf("netlink: %s\nproc:    %s\n", nl, pr);
	CHECK_STR(nl, pr);
	if (alone) {
		CHECK_STR(nl, want_line);
	} else {
		CHECK(lp_int_field(nl, "tcp_listen") >= w.listen);
		CHECK(lp_int_field(nl, "tcp_established") >= w.established);
		CHECK(lp_int_field(nl, "tcp_close_wait") >= w.close_wait);
		CHECK(lp_int_field(nl, "tcp_fin_wait2") >= w.fin_wait2);
		CHECK(lp_int_field(nl, "tcp_time_wait") >= w.time_wait);
		CHECK(lp_int_field(nl, "udp_socket") >= w.udp);
	}
	CHECK(w.listen >= 2 && w.udp >= 3);

	/* auto without HOST_PROC is netlink: same counts */
	gather_line(NULL, acc, line, sizeof line);
	if (alone)
		CHECK_STR(line, nl);

	/* with HOST_PROC, auto reads the files there; netlink still the dump */
	const char *root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "net/tcp", "proc/procfs/proc__net__tcp"); /* 3 listen */
	tree_link(root, "net/udp", "proc/procfs/proc__net__udp"); /* 3 sockets */
	gather_line("auto", acc, line, sizeof line);
	CHECK_INT((int)lp_int_field(line, "tcp_listen"), 3);
	CHECK_INT((int)lp_int_field(line, "udp_socket"), 3);
	CHECK_INT((int)lp_int_field(line, "tcp_established"), 0);
	gather_line("netlink", acc, line, sizeof line);
	if (alone)
		CHECK_STR(line, nl);
	else
		CHECK(lp_int_field(line, "tcp_established") >= w.established);

	/* an unknown method is a config error */
	struct { char *method; } *cfg = config_new(&hg_input_netstat);
	cfg->method = "ss";
	void *st = NULL;
	char err[256] = "";
	struct plugin_env env = { .instance_name = "inputs.netstat" };
	CHECK(hg_input_netstat.init(&st, cfg, &env, err, sizeof err) < 0);
	CHECK(strstr(err, "\"ss\"") != NULL);
	free(cfg);

	hg_acc_capture_free(acc);
	tree_free(root);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_netlink),
	};
	return CHECK_RUN(argc, argv, cases);
}
