/* hostfs paths: HOST_* roots, and network files of the node (init's
 * namespace, HOST_PROC/1/net) rather than the pod's (HOST_PROC/net, a link
 * to self/net) when HOST_PROC is the host's /proc. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "hostfs.h"

static void test_paths(void)
{
	char root[] = "/tmp/hg-hostfs.XXXXXX", d[300], p[400];
	CHECK(mkdtemp(root) != NULL);
	snprintf(d, sizeof d, "%s/net", root);
	mkdir(d, 0755);

	unsetenv("HOST_PROC");
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, "net/dev") > 0);
	CHECK_STR(p, "/proc/net/dev");
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, "/stat") > 0);
	CHECK_STR(p, "/proc/stat");

	/* A HOST_PROC without 1/net (a fixture tree) keeps net/. */
	setenv("HOST_PROC", root, 1);
	char want[400];
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, "net/dev") > 0);
	snprintf(want, sizeof want, "%s/net/dev", root);
	CHECK_STR(p, want);

	/* The host's /proc: net files come from init's namespace. */
	snprintf(d, sizeof d, "%s/1", root);
	mkdir(d, 0755);
	snprintf(d, sizeof d, "%s/1/net", root);
	mkdir(d, 0755);
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, "net/dev") > 0);
	snprintf(want, sizeof want, "%s/1/net/dev", root);
	CHECK_STR(p, want);
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, "stat") > 0);
	snprintf(want, sizeof want, "%s/stat", root);
	CHECK_STR(p, want); /* only net/ moves */
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_SYS, "net/x") > 0);
	CHECK(strncmp(p, "/sys/", 5) == 0);

	/* Too long a path is refused, not cut. */
	char longrel[600];
	memset(longrel, 'a', sizeof longrel - 1);
	longrel[sizeof longrel - 1] = '\0';
	CHECK(hg_hostfs_path(p, sizeof p, HOSTFS_PROC, longrel) < 0);

	rmdir(d);
	snprintf(d, sizeof d, "%s/1", root);
	rmdir(d);
	snprintf(d, sizeof d, "%s/net", root);
	rmdir(d);
	rmdir(root);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_paths),
	};
	return CHECK_RUN(argc, argv, cases);
}
