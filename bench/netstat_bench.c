/* netstat gather cost with many sockets: opens N loopback TCP connections
 * itself (2N established sockets + a listener per process), then times the
 * netstat input's gather with each method asked for (netlink: a sock_diag
 * dump; proc: reads /proc/net/tcp{,6}, udp{,6}) and, for comparison,
 * a walk over every /proc/<pid>/fd with readlink() as gopsutil does before
 * it reads the same tables. CPU time of the process (user + system, which
 * includes the kernel formatting the tables). Not a test: see RESULTS.md.
 * Usage: bench_netstat [connections] [rounds] [both|netlink|proc|auto]
 * (HOST_PROC is not looked at: run it unset, as on a host install).
 *
 * A process holds 2 fds per connection, so its fd limit (RLIMIT_NOFILE,
 * raised to the hard limit) caps what it can hold. When N fits, this
 * process holds them all, as before. Otherwise they are spread evenly over
 * the fewest processes that can hold them: this one and forked children,
 * each with its own listener on 127.0.0.1 (its own port, so the ephemeral
 * port range 32768-60999 is used once per listener, not once for all).
 * Only this process gathers and is timed; the children open their
 * connections, report on a pipe and then sleep. They are SIGKILLed and
 * reaped whenever this process ends (return, exit on an error, SIGINT,
 * SIGTERM, SIGHUP), and die by PR_SET_PDEATHSIG or on the EOF of a pipe
 * this process holds if it is killed otherwise. A child that cannot open
 * its connections, or that has not reported within READY_TIMEOUT_S, makes
 * the bench say so and exit 1.
 * Every connection the bench opens has SO_LINGER 0 on both ends: at exit
 * the kernel resets them instead of leaving 2N sockets in TIME_WAIT for
 * the next run to count. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "acc.h"
#include "plugin.h"

extern const struct input_plugin hg_input_netstat;

#define FD_RESERVE 64 /* fds besides the connections: stdio, netlink, the fd walk's dirs */
#define MAX_CHILDREN 256
#define READY_TIMEOUT_S 120

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

/* A listener on 127.0.0.1 (a port of its own) and n connections to it,
 * both ends kept open. 0, or -1 with the reason in err. */
static int open_connections(int n, char *err, size_t errlen)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		snprintf(err, errlen, "listener: %s", strerror(errno));
		return -1;
	}
	const struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s = -1;
		if (c < 0 || setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) < 0 ||
		    connect(c, (struct sockaddr *)&a, sizeof a) < 0 || (s = accept(ls, NULL, NULL)) < 0 ||
		    setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) < 0) {
			snprintf(err, errlen, "connection %d to 127.0.0.1:%u: %s", i, (unsigned)ntohs(a.sin_port),
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---- children holding the connections beyond this process's fd limit ---- */

static pid_t children[MAX_CHILDREN];
static int child_conns[MAX_CHILDREN];
static int report_rd[MAX_CHILDREN]; /* this process's end of each child's report pipe */
static volatile sig_atomic_t nchildren;

/* SIGKILL every child, then reap them. Async-signal-safe: also run by the
 * signal handler, and by exit() through atexit. */
static void kill_children(void)
{
	int saved = errno;
	for (int i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
	for (int i = 0; i < nchildren; i++) {
		if (children[i] <= 0)
			continue;
		while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
			;
		children[i] = 0;
	}
	errno = saved;
}

static void on_signal(int sig)
{
	kill_children();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct child_report {
	int ok;
	char msg[240]; /* with ok, under PIPE_BUF: one atomic write */
};

/* The child: open n connections, report, then hold them until killed or
 * until hold_fd reads EOF (the parent is gone). Never returns. */
static void child_main(pid_t parent, int n, int report_fd, int hold_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* the parent died before prctl */
		_exit(1);
	struct child_report rep;
	memset(&rep, 0, sizeof rep);
	rep.ok = open_connections(n, rep.msg, sizeof rep.msg) == 0;
	if (write(report_fd, &rep, sizeof rep) != (ssize_t)sizeof rep || !rep.ok)
		_exit(1);
	char c;
	while (read(hold_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Forks one child per entry of conns (conns[k] connections each). 0, or
 * -1 after printing why (exit() then kills the ones already started). */
static int start_children(int nkids, const int *conns)
{
	int hold[2];
	if (pipe(hold) < 0) {
		perror("pipe");
		return -1;
	}
	pid_t self = getpid();
	sigset_t all, old;
	sigfillset(&all);
	for (int k = 0; k < nkids; k++) {
		int rep[2];
		if (pipe(rep) < 0) {
			perror("pipe");
			return -1;
		}
		fflush(NULL); /* the child must not inherit unwritten stdio buffers */
		sigprocmask(SIG_BLOCK, &all, &old); /* no handler between fork and recording the pid */
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			for (int j = 0; j < k; j++)
				close(report_rd[j]);
			close(rep[0]);
			close(hold[1]);
			child_main(self, conns[k], rep[1], hold[0]);
		}
		if (pid > 0) {
			children[nchildren] = pid;
			child_conns[nchildren] = conns[k];
			nchildren++;
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(rep[1]);
		if (pid < 0) {
			close(rep[0]);
			perror("fork");
			return -1;
		}
		report_rd[k] = rep[0];
	}
	close(hold[0]); /* hold[1] stays open, never written, until this process ends */
	return 0;
}

/* Waits until every child has reported its connections open. 0, or -1
 * after printing which child failed and why. */
static int wait_children(void)
{
	int left = nchildren;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0) {
		struct pollfd pfd[MAX_CHILDREN];
		int idx[MAX_CHILDREN], np = 0;
		for (int k = 0; k < nchildren; k++)
			if (report_rd[k] >= 0) {
				pfd[np] = (struct pollfd){ .fd = report_rd[k], .events = POLLIN };
				idx[np++] = k;
			}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited_ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		long timeout_ms = READY_TIMEOUT_S * 1000L - waited_ms;
		int r = timeout_ms > 0 ? poll(pfd, (nfds_t)np, (int)timeout_ms) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("poll");
			return -1;
		}
		if (r == 0) {
			for (int i = 0; i < np; i++)
				fprintf(stderr, "child %d (pid %d, %d connections): not ready after %d s\n", idx[i],
					(int)children[idx[i]], child_conns[idx[i]], READY_TIMEOUT_S);
			return -1;
		}
		for (int i = 0; i < np; i++) {
			if (!pfd[i].revents)
				continue;
			int k = idx[i];
			struct child_report rep;
			ssize_t got;
			do
				got = read(report_rd[k], &rep, sizeof rep);
			while (got < 0 && errno == EINTR);
			if (got != (ssize_t)sizeof rep) {
				/* EOF: the child is exiting (its fds close before it
				 * can be waited for); give it a second to be reaped */
				pid_t pid = children[k], w = 0;
				int st = 0;
				for (int tries = 0; tries < 100 && (w = waitpid(pid, &st, WNOHANG)) == 0; tries++)
					nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
				char how[64] = "no exit status yet";
				if (w == pid) {
					children[k] = 0; /* reaped: not to be killed again */
					if (WIFSIGNALED(st))
						snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(st));
					else
						snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(st));
				}
				fprintf(stderr, "child %d (pid %d, %d connections): ended before reporting (%s)\n", k,
					(int)pid, child_conns[k], how);
				return -1;
			}
			rep.msg[sizeof rep.msg - 1] = '\0';
			if (!rep.ok) {
				fprintf(stderr, "child %d (pid %d) could not open its %d connections: %s\n", k,
					(int)children[k], child_conns[k], rep.msg);
				return -1;
			}
			close(report_rd[k]);
			report_rd[k] = -1;
			left--;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 9900, rounds = argc > 2 ? atoi(argv[2]) : 20;
	if (n < 0 || rounds < 1) {
		fprintf(stderr, "usage: bench_netstat [connections] [rounds] [both|netlink|proc|auto]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* each result as it comes, also into a file or tee */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl); /* what it is now, if that failed */
	long long lim = rl.rlim_cur > (rlim_t)INT_MAX ? INT_MAX : (long long)rl.rlim_cur;
	long long per_max = (lim - FD_RESERVE) / 2; /* connections one process can hold */
	if (per_max < 1) {
		fprintf(stderr, "fd limit %llu: too low\n", (unsigned long long)rl.rlim_cur);
		return 1;
	}
	int own = n; /* this process's share */
	if (n > per_max) {
		/* the fewest processes, shares as even as possible; this one
		 * also holds a pipe per child */
		long long procs = (n + per_max - 1) / per_max, per;
		for (;; procs++) {
			if (procs - 1 > MAX_CHILDREN) {
				fprintf(stderr, "fd limit %llu: %d connections need more than %d child processes\n",
					(unsigned long long)rl.rlim_cur, n, MAX_CHILDREN);
				return 1;
			}
			per = (n + procs - 1) / procs;
			own = (int)(n - (procs - 1) * per);
			if (own >= 0 && 2LL * own + FD_RESERVE + procs <= lim)
				break;
		}
		fprintf(stderr, "fd limit %llu: %d connections in %lld processes (this one %d, %lld forked with %lld each)\n",
			(unsigned long long)rl.rlim_cur, n, procs, own, procs - 1, per);
		struct sigaction sa = { .sa_handler = on_signal };
		sigfillset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		atexit(kill_children);
		int conns[MAX_CHILDREN];
		for (int k = 0; k < procs - 1; k++)
			conns[k] = (int)per;
		if (start_children((int)(procs - 1), conns) < 0)
			return 1;
	}
	/* this process's share, while the children open theirs */
	char err[256];
	if (open_connections(own, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (nchildren && wait_children() < 0)
		return 1;

	printf("connections opened: %d\n", n);
	const char *which = argc > 3 ? argv[3] : "both";
	const char *both[] = { "netlink", "proc" };
	const char *const *methods = strcmp(which, "both") ? &which : both;
	int nmethods = strcmp(which, "both") ? 1 : 2;
	struct acc *acc = hg_acc_capture_new();
	for (int m = 0; m < nmethods; m++) {
		/* the config struct's only member is the method string */
		struct {
			const char *method;
		} cfg = { methods[m] };
		void *st = NULL;
		struct plugin_env env = { .instance_name = "inputs.netstat" };
		if (hg_input_netstat.init(&st, &cfg, &env, err, sizeof err) != 0) {
			fprintf(stderr, "init: %s\n", err);
			return 1;
		}
		hg_acc_capture_clear(acc);
		hg_input_netstat.gather(st, acc);
		printf("%s first line: %s%s", methods[m], hg_acc_capture_text(acc), hg_acc_capture_errors(acc));
		double t0 = cpu_now();
		for (int r = 0; r < rounds; r++) {
			hg_acc_capture_clear(acc);
			hg_input_netstat.gather(st, acc);
		}
		double ours = (cpu_now() - t0) / rounds;
		printf("netstat gather, method %s: %.3f ms CPU per gather (%d rounds)\n", methods[m], ours * 1e3,
		       rounds);
		hg_input_netstat.free(st);
	}

	long sockets = 0;
	double t0 = cpu_now();
	for (int r = 0; r < rounds; r++)
		sockets = walk_fds();
	double walk = (cpu_now() - t0) / rounds;

	printf("/proc/*/fd walk alone (gopsutil's first step): %.3f ms CPU per walk, %ld socket fds\n", walk * 1e3,
	       sockets);
	hg_acc_capture_free(acc);
	return 0;
}
