/* processes input: state counts over a fixture /proc tree. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_processes;

static char line[8192];
static const char *root;

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_processes);
	void *st = plugin_start(&hg_input_processes, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_processes.gather(st, acc), GATHER_DONE);
	hg_input_processes.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "1/stat", "proc/node_exporter/proc__1__stat");        /* S, 1 thread */
	tree_link(root, "26231/stat", "proc/procfs/proc__26231__stat");       /* R, 1 thread */
	tree_link(root, "77/stat", "proc/derived/pid_stat_zombie");           /* Z, 3 threads */
	tree_link(root, "meminfo", "proc/node_exporter/proc__meminfo");       /* not a pid */
	tree_text(root, "self/stat", "9 (x) R 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 5 0\n"); /* not a pid */
	tree_text(root, "2/stat", "2 (kworker/0:0H) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 -20 1 0 5\n");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "processes"), 1);
	CHECK(lp_find(t, "processes", 0, line, sizeof line));
	CHECK_STR(line, "processes blocked=0i,dead=0i,idle=1i,paging=0i,running=1i,sleeping=1i,stopped=0i,"
			"total=4i,total_threads=6i,unknown=0i,zombies=1i");

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/processes/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 11);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* every other state letter, parked, and an unknown one (total only) */
	tree_text(root, "3/stat", "3 (a) D 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "4/stat", "4 (a) X 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "5/stat", "5 (a) t 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "6/stat", "6 (a) T 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "7/stat", "7 (a) W 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "8/stat", "8 (a) P 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "9/stat", "9 (a) P 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "10/stat", "10 (a) K 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0\n");
	tree_text(root, "11/stat", "no parenthesis here\n"); /* skipped silently */
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "processes", 0, line, sizeof line));
	CHECK_STR(line, "processes blocked=1i,dead=1i,idle=1i,paging=1i,parked=2i,running=1i,sleeping=1i,"
			"stopped=2i,total=12i,total_threads=14i,unknown=0i,zombies=1i");
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/processes/README.md", "parked");
	schema_from_lp(&got2, t);
	CHECK_INT(schema_diff(&readme2, &got2), 0);

	/* malformed: a truncated stat and a bad thread count are errors; the
	 * bad-thread process is still counted by state, as Telegraf does */
	for (int i = 3; i <= 11; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "%d/stat", i);
		tree_unlink(root, rel);
	}
	tree_link(root, "500/stat", "proc/derived/pid_stat_truncated");
	tree_text(root, "501/stat", "501 (a) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 x1 0\n");
	tree_text(root, "502/stat", ""); /* no ")": skipped silently */
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "2 malformed") != NULL);
	CHECK(lp_find(t, "processes", 0, line, sizeof line));
	CHECK_STR(line, "processes blocked=0i,dead=0i,idle=1i,paging=0i,running=1i,sleeping=2i,stopped=0i,"
			"total=5i,total_threads=6i,unknown=0i,zombies=1i");

	/* no /proc at all: an error, no metric */
	setenv("HOST_PROC", "/nonexistent-hg", 1);
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "/nonexistent-hg") != NULL);
	CHECK_INT(lp_count(t, "processes"), 0);

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
