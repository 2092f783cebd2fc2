/* netstat gather cost with many sockets: opens N loopback TCP connections
 * itself (2N established sockets + a listener), then times the netstat
 * input's gather with each method asked for (netlink: a sock_diag dump;
 * proc: reads /proc/net/tcp{,6}, udp{,6}) and, for comparison,
 * a walk over every /proc/<pid>/fd with readlink() as gopsutil does before
 * it reads the same tables. CPU time of the process (user + system, which
 * includes the kernel formatting the tables). Not a test: see RESULTS.md.
 * Usage: bench_netstat [connections] [rounds] [both|netlink|proc|auto]
 * (HOST_PROC is not looked at: run it unset, as on a host install). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "acc.h"
#include "plugin.h"

extern const struct input_plugin input_netstat;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What gopsutil does first: every fd of every process, readlink'ed. */
static long walk_fds(void)
{
	long sockets = 0;
	DIR *proc = opendir("/proc");
	if (!proc)
		return -1;
	struct dirent *d;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		char dir[300];
		snprintf(dir, sizeof dir, "/proc/%s/fd", d->d_name);
		DIR *fds = opendir(dir);
		if (!fds)
			continue;
		struct dirent *f;
		while ((f = readdir(fds))) {
			char p[600], target[128];
			snprintf(p, sizeof p, "%s/%s", dir, f->d_name);
			ssize_t n = readlink(p, target, sizeof target - 1);
			if (n > 8 && memcmp(target, "socket:[", 8) == 0)
				sockets++;
		}
		closedir(fds);
	}
	closedir(proc);
	return sockets;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 9900, rounds = argc > 2 ? atoi(argv[2]) : 20;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)(2 * n + 64) > rl.rlim_cur) {
		n = (int)(rl.rlim_cur - 64) / 2;
		fprintf(stderr, "fd limit %llu: %d connections\n", (unsigned long long)rl.rlim_cur, n);
	}
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("listener");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0 || accept(ls, NULL, NULL) < 0) {
			fprintf(stderr, "connection %d: %s\n", i, strerror(errno));
			return 1;
		}
	}

	printf("connections opened: %d\n", n);
	const char *which = argc > 3 ? argv[3] : "both";
	const char *both[] = { "netlink", "proc" };
	const char *const *methods = strcmp(which, "both") ? &which : both;
	int nmethods = strcmp(which, "both") ? 1 : 2;
	struct acc *acc = acc_capture_new();
	for (int m = 0; m < nmethods; m++) {
		/* the config struct's only member is the method string */
		struct {
			const char *method;
		} cfg = { methods[m] };
		void *st = NULL;
		char err[256];
		struct plugin_env env = { .instance_name = "inputs.netstat" };
		if (input_netstat.init(&st, &cfg, &env, err, sizeof err) != 0) {
			fprintf(stderr, "init: %s\n", err);
			return 1;
		}
		acc_capture_clear(acc);
		input_netstat.gather(st, acc);
		printf("%s first line: %s%s", methods[m], acc_capture_text(acc), acc_capture_errors(acc));
		double t0 = cpu_now();
		for (int r = 0; r < rounds; r++) {
			acc_capture_clear(acc);
			input_netstat.gather(st, acc);
		}
		double ours = (cpu_now() - t0) / rounds;
		printf("netstat gather, method %s: %.3f ms CPU per gather (%d rounds)\n", methods[m], ours * 1e3,
		       rounds);
		input_netstat.free(st);
	}

	long sockets = 0;
	double t0 = cpu_now();
	for (int r = 0; r < rounds; r++)
		sockets = walk_fds();
	double walk = (cpu_now() - t0) / rounds;

	printf("/proc/*/fd walk alone (gopsutil's first step): %.3f ms CPU per walk, %ld socket fds\n", walk * 1e3,
	       sockets);
	acc_capture_free(acc);
	return 0;
}
