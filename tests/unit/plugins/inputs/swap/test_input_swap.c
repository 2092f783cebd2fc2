/* swap input: gauges from meminfo, counters from vmstat, over fixtures. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_swap;

static char line[8192];
static const char *root;

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_swap);
	void *st = plugin_start(&hg_input_swap, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_swap.gather(st, acc), GATHER_DONE);
	hg_input_swap.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "meminfo", "proc/node_exporter/proc__meminfo");
	tree_link(root, "vmstat", "proc/node_exporter/proc__vmstat");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "swap"), 2);
	CHECK(lp_find(t, "swap", 0, line, sizeof line));
	CHECK_STR(line, "swap free=3231088640u,total=4294963200u,used=1063874560u,used_percent=24.7702834799609");
	CHECK(lp_float(line, "used_percent") == 24.7702834799609);
	CHECK(lp_find(t, "swap", 1, line, sizeof line));
	CHECK_STR(line, "swap in=6045696u,out=143544320u");

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/swap/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 6);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* no swap configured: used_percent 0, not NaN */
	tree_link(root, "meminfo", "proc/procfs/proc__meminfo");
	t = gather(acc);
	CHECK(lp_find(t, "swap", 0, line, sizeof line));
	CHECK_STR(line, "swap free=0u,total=0u,used=0u,used_percent=0");

	/* meminfo without swap keys: error, the counters still come */
	tree_link(root, "meminfo", "proc/node_exporter/proc__stat");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "SwapTotal") != NULL);
	CHECK_INT(lp_count(t, "swap"), 1);
	CHECK(lp_find(t, "swap", 0, line, sizeof line));
	CHECK_STR(line, "swap in=6045696u,out=143544320u");

	/* no vmstat: error, the gauges still come */
	tree_link(root, "meminfo", "proc/node_exporter/proc__meminfo");
	tree_unlink(root, "vmstat");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "vmstat") != NULL);
	CHECK_INT(lp_count(t, "swap"), 1);
	CHECK(lp_find(t, "swap", 0, line, sizeof line));
	CHECK(lp_float(line, "used_percent") == 24.7702834799609);

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
