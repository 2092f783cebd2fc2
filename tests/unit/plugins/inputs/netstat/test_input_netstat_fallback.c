/* netstat input: with netlink refused by the kernel, `method: auto` counts
 * from /proc/net (the same numbers as `method: proc`), warns once and
 * records no gather error, while `method: netlink` is a gather error with
 * no line. A forked child installs a seccomp filter that makes
 * socket(AF_NETLINK, ...) fail with EPERM, as a container's seccomp
 * profile can; the parent stays unfiltered. In a private network namespace
 * when the kernel allows it, so the exact counts of the sockets the child
 * opens are known; else in the machine's, retrying until both reads agree.
 * Exits 77 (a ctest skip) when the kernel refuses the filter. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "acc.h"
#include "check.h"
#include "seccomp_refuse.h"
#include "input_check.h"
#include "netns_sockets.h"
#include "log.h"

extern const struct input_plugin hg_input_netstat;

#define SKIP SECCOMP_SKIP

/* The "Seccomp:" mode of /proc/self/status (0 none, 2 filter), -1 if absent. */
static int seccomp_mode(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char l[256];
	int mode = -1;
	while (f && fgets(l, sizeof l, f))
		if (!strncmp(l, "Seccomp:", 8))
			mode = atoi(l + 8);
	if (f)
		fclose(f);
	return mode;
}

struct want {
	int listen, established, udp;
};

/* Two listeners, two connections through the first (established on both
 * ends: settled when connect() and accept() return), two bound UDP
 * sockets. The fds stay open until the child ends. */
static void open_sockets(int family, struct want *w)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ls = loopback_listener(family, &ss, &len);
	if (ls < 0) {
		CHECK(family == AF_INET6); /* only IPv6 may be missing */
		return;
	}
	CHECK(loopback_listener(family, &(struct sockaddr_storage){ 0 }, &(socklen_t){ 0 }) >= 0);
	w->listen += 2;
	for (int i = 0; i < 2; i++) {
		int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(c >= 0);
		CHECK_INT(connect(c, (struct sockaddr *)&ss, len), 0);
		CHECK(accept(ls, NULL, NULL) >= 0);
	}
	w->established += 4;
	for (int i = 0; i < 2; i++) {
		struct sockaddr_storage bs;
		socklen_t bl = loopback_addr(family, &bs);
		int u = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(u >= 0 && bind(u, (struct sockaddr *)&bs, bl) == 0);
	}
	w->udp += 2;
}

/* One gather of st into out ("" when there is no netstat line); returns
 * the gather's errors. */
static const char *gather(void *st, struct acc *acc, char *out, size_t cap)
{
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_netstat.gather(st, acc), GATHER_DONE);
	const char *text = hg_acc_capture_text(acc);
	CHECK(lp_count(text, "netstat") <= 1);
	out[0] = '\0';
	lp_find(text, "netstat", 0, out, cap);
	return hg_acc_capture_errors(acc);
}

static void *start(const char *method)
{
	struct { char *method; } *cfg = config_new(&hg_input_netstat);
	cfg->method = (char *)method;
	void *st = plugin_start(&hg_input_netstat, cfg);
	free(cfg);
	return st;
}

/* Occurrences of needle in the file at path (read whole, up to 64 KiB). */
static int count_in_file(const char *path, const char *needle, char *text, size_t cap)
{
	text[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(text, 1, cap - 1, f);
	fclose(f);
	text[n] = '\0';
	int count = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		count++;
	return count;
}

static int child(void)
{
	alarm(20); /* a hang is a failure, not a stuck ctest */
	bool alone = netns_isolate(true);
	printf("private network namespace: %s\n", alone ? "yes" : "no (counts include other sockets)");
	struct want w = { 0 };
	open_sockets(AF_INET, &w);
	open_sockets(AF_INET6, &w);

	int rc = seccomp_refuse(__NR_socket, AF_NETLINK);
	if (rc < 0) {
		printf("SKIP: no seccomp filter refusing netlink could be installed (%s%s): "
		       "the netlink fallback is not tested\n",
		       strerror(-rc), rc == -ENOSYS ? ", or none written for this architecture" : "");
		return SKIP;
	}
	/* the filter is there and does what it should, nothing more */
	CHECK_INT(seccomp_mode(), 2);
	errno = 0;
	CHECK_INT(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), -1);
	CHECK_INT(errno, EPERM);
	int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(probe >= 0);
	close(probe);

	char logpath[] = "/tmp/hg-netstat-fallback.XXXXXX";
	int lfd = mkstemp(logpath);
	CHECK(lfd >= 0);
	close(lfd);
	CHECK_INT(hg_log_open(logpath, false, false), 0);
	struct acc *acc = hg_acc_capture_new();
	char nl[1024], au[1024], pr[1024], logtext[65536];
	const char *warning = "W! [netstat] netlink sock_diag dump failed (Operation not permitted): "
			      "counting from /proc/net from now on";

	/* method: netlink is a gather error, no line, at every gather, and
	 * logs nothing itself (the agent logs gather errors) */
	void *netlink = start("netlink");
	for (int i = 0; i < 2; i++) {
		CHECK_STR(gather(netlink, acc, nl, sizeof nl), "netlink sock_diag dump: Operation not permitted\n");
		CHECK_STR(hg_acc_capture_text(acc), "");
	}
	hg_input_netstat.free(netlink);
	CHECK_INT(count_in_file(logpath, "\n", logtext, sizeof logtext), 0);

	/* method: auto counts from the files, as method: proc does at the same
	 * moment. Other sockets may change between the two reads when not
	 * alone: retry until they agree. */
	void *autom = start("auto"), *proc = start("proc");
	char want_line[1024];
	snprintf(want_line, sizeof want_line,
		 "netstat tcp_close=0i,tcp_close_wait=0i,tcp_closing=0i,tcp_established=%di,"
		 "tcp_fin_wait1=0i,tcp_fin_wait2=0i,tcp_last_ack=0i,tcp_listen=%di,tcp_none=0i,"
		 "tcp_syn_recv=0i,tcp_syn_sent=0i,tcp_time_wait=0i,udp_socket=%di",
		 w.established, w.listen, w.udp);
	/* the gather whose dump fails still has its line, from the files */
	CHECK_STR(gather(autom, acc, au, sizeof au), "");
	CHECK(lp_int_field(au, "tcp_listen") >= w.listen);
	if (alone)
		CHECK_STR(au, want_line);
	int gathers = 1, tries = 0;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	do {
		if (tries && strcmp(au, pr) != 0)
			nanosleep(&pause, NULL);
		CHECK_STR(gather(autom, acc, au, sizeof au), ""); /* the fallback is no gather error */
		gathers++;
		CHECK_STR(gather(proc, acc, pr, sizeof pr), "");
	} while ((strcmp(au, pr) != 0 || gathers < 3) && ++tries < 40);
	printf("auto: %s\nproc: %s\n(%d auto gathers)\n", au, pr, gathers);
	CHECK_STR(au, pr);
	if (alone) {
		CHECK_STR(au, want_line);
	} else {
		CHECK(lp_int_field(au, "tcp_listen") >= w.listen);
		CHECK(lp_int_field(au, "tcp_established") >= w.established);
		CHECK(lp_int_field(au, "udp_socket") >= w.udp);
	}
	CHECK(w.listen >= 2 && w.established >= 4 && w.udp >= 2);

	/* one warning for all those gathers, and nothing else logged */
	CHECK_INT(count_in_file(logpath, warning, logtext, sizeof logtext), 1);
	CHECK_INT(count_in_file(logpath, "\n", logtext, sizeof logtext), 1);
	printf("log: %s", logtext);

	hg_input_netstat.free(autom);
	hg_input_netstat.free(proc);
	hg_acc_capture_free(acc);
	hg_log_close();
	unlink(logpath);
	return check_failures ? 1 : 0;
}

static void test_fallback(void)
{
	unsetenv("HOST_PROC"); /* proc and the fallback read /proc/net: the namespace netlink would see */
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		exit(child());
	int status = 0;
	CHECK_INT(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP)
		exit(SKIP); /* the kernel refused the filter: nothing was tested */
	if (!WIFEXITED(status))
		fprintf(stderr, "child ended by signal %d\n", WTERMSIG(status));
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);

	/* the filter stayed in the child */
	CHECK_INT(seccomp_mode(), 0);
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_fallback),
	};
	return CHECK_RUN(argc, argv, cases);
}
