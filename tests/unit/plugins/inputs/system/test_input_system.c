/* system input: load, CPU counts, utmp users and uptime from fixture trees;
 * the emitted schema equals the README's. */
#include <stdlib.h>
#include <utmp.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_system;

static char line[8192], v[128];
static const char *root;
static char path[512];

static const char *sub(const char *rel)
{
	snprintf(path, sizeof path, "%s/%s", root, rel);
	return path;
}

static void add_utmp(struct utmp *u, int *n, short type, const char *user)
{
	memset(&u[*n], 0, sizeof u[0]);
	u[*n].ut_type = type;
	strncpy(u[*n].ut_user, user, sizeof u[0].ut_user);
	(*n)++;
}

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_system);
	void *st = plugin_start(&hg_input_system, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_system.gather(st, acc), GATHER_DONE);
	hg_input_system.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", sub("proc"), 1);
	setenv("HOST_SYS", sub("sys"), 1);
	setenv("HOST_VAR", sub("var"), 1);
	setenv("HOST_RUN", sub("run"), 1);
	tree_link(root, "proc/loadavg", "proc/node_exporter/proc__loadavg");
	tree_link(root, "proc/cpuinfo", "proc/procfs/proc__cpuinfo");
	tree_link(root, "proc/stat", "proc/node_exporter/proc__stat");
	tree_text(root, "proc/uptime", "1249632.35 4936524.13\n"); /* Telegraf README's uptime */
	struct utmp u[8];
	int n = 0;
	add_utmp(u, &n, BOOT_TIME, "reboot");
	add_utmp(u, &n, USER_PROCESS, "alice");
	add_utmp(u, &n, LOGIN_PROCESS, "LOGIN");
	add_utmp(u, &n, USER_PROCESS, "bob");
	add_utmp(u, &n, DEAD_PROCESS, "carol");
	add_utmp(u, &n, USER_PROCESS, "alice");
	tree_write(root, "var/run/utmp", u, (size_t)n * sizeof u[0]);
	/* 4 logical CPUs in 2 cores; cpufreq/cpuidle are not CPUs */
	tree_text(root, "sys/devices/system/cpu/cpu0/topology/core_cpus_list", "0,2\n");
	tree_text(root, "sys/devices/system/cpu/cpu1/topology/core_cpus_list", "1,3\n");
	tree_text(root, "sys/devices/system/cpu/cpu2/topology/core_cpus_list", "0,2\n");
	tree_text(root, "sys/devices/system/cpu/cpu3/topology/core_cpus_list", "1,3\n");
	tree_text(root, "sys/devices/system/cpu/cpufreq/topology/core_cpus_list", "9\n");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "system"), 3);
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(lp_float(line, "load1") == 0.21);
	CHECK(lp_float(line, "load5") == 0.37);
	CHECK(lp_float(line, "load15") == 0.39);
	CHECK(lp_field(line, "n_cpus", v, sizeof v));
	CHECK_STR(v, "8i"); /* processor entries of cpuinfo */
	CHECK(lp_field(line, "n_physical_cpus", v, sizeof v));
	CHECK_STR(v, "2i"); /* distinct core_cpus_list */
	CHECK(lp_field(line, "n_users", v, sizeof v));
	CHECK_STR(v, "3i");
	CHECK(lp_field(line, "n_unique_users", v, sizeof v));
	CHECK_STR(v, "2i");
	CHECK(lp_find(t, "system", 1, line, sizeof line));
	CHECK_STR(line, "system uptime=1249632u");
	CHECK(lp_find(t, "system", 2, line, sizeof line));
	CHECK_STR(line, "system uptime_format=\"14 days, 11:07\"");

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/system/README.md", "utmp"), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 9);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* no sysfs topology: cpuinfo's physical id / cpu cores (1 package x 4) */
	setenv("HOST_SYS", sub("nosys"), 1);
	t = gather(acc);
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(lp_field(line, "n_physical_cpus", v, sizeof v));
	CHECK_STR(v, "4i");

	/* cpuinfo without processor entries: the cpuN lines of stat */
	tree_text(root, "proc/cpuinfo", "physical id\t: 0\ncpu cores\t: 2\n\n");
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(lp_field(line, "n_cpus", v, sizeof v));
	CHECK_STR(v, "8i");
	CHECK(lp_field(line, "n_physical_cpus", v, sizeof v));
	CHECK_STR(v, "2i");

	/* no cpuinfo and no topology: the physical count fails, so both CPU
	 * fields are left out with an error (Telegraf does the same) */
	tree_unlink(root, "proc/cpuinfo");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "CPU counts") != NULL);
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(!lp_field(line, "n_cpus", v, sizeof v));
	CHECK(lp_float(line, "load1") == 0.21);
	tree_link(root, "proc/cpuinfo", "proc/procfs/proc__cpuinfo");
	setenv("HOST_SYS", sub("sys"), 1);

	/* utmp only under HOST_RUN: still found */
	tree_unlink(root, "var/run/utmp");
	tree_write(root, "run/utmp", u, 2 * sizeof u[0]);
	t = gather(acc);
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(lp_field(line, "n_users", v, sizeof v));
	CHECK_STR(v, "1i");

	/* no utmp anywhere: user fields left out, no error */
	tree_unlink(root, "run/utmp");
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(!lp_field(line, "n_users", v, sizeof v));
	CHECK(!lp_field(line, "n_unique_users", v, sizeof v));
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/system/README.md", "");
	schema_from_lp(&got2, t);
	CHECK_INT(readme2.n, 7);
	CHECK_INT(schema_diff(&readme2, &got2), 0);

	/* uptime formats below a day and of exactly one day */
	tree_text(root, "proc/uptime", "3725.99 1.00\n");
	t = gather(acc);
	CHECK(lp_find(t, "system", 2, line, sizeof line));
	CHECK_STR(line, "system uptime_format=\" 1:02\"");
	tree_text(root, "proc/uptime", "86700\n");
	t = gather(acc);
	CHECK(lp_find(t, "system", 2, line, sizeof line));
	CHECK_STR(line, "system uptime_format=\"1 day,  0:05\"");

	/* malformed loadavg and a missing uptime: errors, the rest still comes */
	tree_text(root, "proc/loadavg", "0.21 abc 0.39 1/2 3\n");
	tree_unlink(root, "proc/uptime");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "loadavg") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "uptime") != NULL);
	CHECK_INT(lp_count(t, "system"), 1);
	CHECK(lp_find(t, "system", 0, line, sizeof line));
	CHECK(!lp_field(line, "load1", v, sizeof v));
	CHECK(lp_field(line, "n_cpus", v, sizeof v));

	hg_acc_capture_free(acc);
	tree_free(root);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_gather),
	};
	return CHECK_RUN(argc, argv, cases);
}
