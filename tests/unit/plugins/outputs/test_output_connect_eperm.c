/* An output whose connect() fails with EPERM says why: under the packaged
 * systemd unit (IPAddressDeny=any, IPAddressAllow=localhost) a remote
 * InfluxDB is refused by the cgroup's address filter, and connect()
 * returns EPERM, which curl alone reports as "Couldn't connect to server".
 * The agent, run with --once in a child whose seccomp filter makes every
 * connect() fail with EPERM (as the unit's filter does for that address),
 * must log for each InfluxDB output an error that names EPERM and
 * IPAddressDeny=, and none of the outputs' secrets.
 *
 * `systemd-run --user -p IPAddressDeny=any` would be the unit's own filter,
 * but needs a user bus and the BPF cgroup controller, which test machines
 * and containers lack; seccomp's SECCOMP_RET_ERRNO gives connect() the
 * same errno. Exits 77 (a ctest skip) when the kernel refuses the filter. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "seccomp_refuse.h"

#define SKIP SECCOMP_SKIP
#define SECRET_PW "sekrit-eperm-password"
#define SECRET_TOKEN "sekrit-eperm-token"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	n = fread(b, 1, cap, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* The first line of text that holds every one of needles (NULL-terminated),
 * copied into out; false when none does. */
static bool line_with(const char *text, const char *const *needles, char *out, size_t cap)
{
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		snprintf(out, cap, "%.*s", (int)len, l);
		bool all = true;
		for (size_t i = 0; needles[i] && all; i++)
			all = strstr(out, needles[i]) != NULL;
		if (all)
			return true;
		l = end ? end + 1 : NULL;
	}
	out[0] = '\0';
	return false;
}

static void test_eperm_named(void)
{
	char dir[] = "/tmp/hg-eperm.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char conf[300], out[300], errp[300];
	snprintf(conf, sizeof conf, "%s/agent.yaml", dir);
	snprintf(out, sizeof out, "%s/stdout", dir);
	snprintf(errp, sizeof errp, "%s/stderr", dir);
	/* 192.0.2.10 (TEST-NET-1): no packet leaves, the filter refuses first. */
	FILE *f = fopen(conf, "w");
	fprintf(f, "agent: {hostname: eperm-host}\n"
		   "inputs: [{mem: {}}]\n"
		   "outputs:\n"
		   "  - influxdb: {urls: [\"http://192.0.2.10:8086\"], username: eperm-user, password: \"" SECRET_PW "\","
		   " timeout: 5s}\n"
		   "  - influxdb_v2: {urls: [\"http://192.0.2.10:8086\"], token: \"" SECRET_TOKEN "\", organization: o,"
		   " bucket: b, timeout: 5s}\n");
	fclose(f);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(100);
		int rc = seccomp_refuse(__NR_connect, -1);
		if (rc != 0) {
			fprintf(stderr, "seccomp filter refused: %s\n", strerror(-rc));
			_exit(SKIP);
		}
		alarm(120); /* a hang ends the agent (and fails the test), not the run */
		execl(HG_AGENT_PATH, "agent", "--config", conf, "--once", (char *)NULL);
		_exit(101);
	}
	int st = 0;
	CHECK_INT(waitpid(pid, &st, 0), pid);
	char *text = slurp(errp), *stdout_text = slurp(out);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP) {
		fprintf(stderr, "skipped: %s", text);
		free(text);
		free(stdout_text);
		exit(SKIP); /* the kernel refused the filter: nothing was tested */
	}
	/* --once: the writes failed, exit 1 (not a crash, not a timeout) */
	CHECK(WIFEXITED(st));
	CHECK_INT(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 1);

	char line[1024];
	static const char *const v1[] = { "[outputs.influxdb] ", "http://192.0.2.10:8086",
					  "connect to 192.0.2.10 port 8086: Operation not permitted (EPERM: ", "IPAddressDeny=", NULL };
	static const char *const v2[] = { "[outputs.influxdb_v2] ", "http://192.0.2.10:8086",
					  "connect to 192.0.2.10 port 8086: Operation not permitted (EPERM: ", "IPAddressDeny=", NULL };
	CHECK(line_with(text, v1, line, sizeof line));
	CHECK(line_with(text, v2, line, sizeof line));
	CHECK(strstr(text, "sekrit") == NULL);
	CHECK(strstr(stdout_text, "sekrit") == NULL);
	if (check_failures)
		fprintf(stderr, "agent's stderr:\n%s\n", text);

	free(text);
	free(stdout_text);
	unlink(conf);
	unlink(out);
	unlink(errp);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_eperm_named),
	};
	return CHECK_RUN(argc, argv, cases);
}
