/* kernel_vmstat input: every vmstat key as an int field, over fixtures. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_kernel_vmstat;

static char line[16384], v[64];
static const char *root;

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_kernel_vmstat);
	void *st = plugin_start(&hg_input_kernel_vmstat, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_kernel_vmstat.gather(st, acc), GATHER_DONE);
	hg_input_kernel_vmstat.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static int nfields(const char *l)
{
	int n = 1;
	for (const char *p = strchr(l, ' '); p && *p; p++)
		n += *p == ',';
	return n;
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "vmstat", "proc/node_exporter/proc__vmstat");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "kernel_vmstat"), 1);
	CHECK(lp_find(t, "kernel_vmstat", 0, line, sizeof line));
	CHECK_INT(nfields(line), 120);
	static const char head[] = "kernel_vmstat nr_free_pages=977769i,nr_alloc_batch=4158i,nr_inactive_anon=125031i,";
	CHECK(strncmp(line, head, sizeof head - 1) == 0);
	CHECK(lp_field(line, "pgfault", v, sizeof v));
	CHECK_STR(v, "2320168809i");
	CHECK(lp_field(line, "numa_hit", v, sizeof v));
	CHECK_STR(v, "2601972389i");

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/kernel_vmstat/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 120);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* negative and int64 limits; beyond int64 is an error */
	tree_text(root, "vmstat", "a -5\nb 9223372036854775807\nc -9223372036854775808\nd 9223372036854775808\n");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "\"d\"") != NULL);
	CHECK(lp_find(t, "kernel_vmstat", 0, line, sizeof line));
	CHECK_STR(line, "kernel_vmstat a=-5i,b=9223372036854775807i,c=-9223372036854775808i");

	/* truncated after a key: an error, the keys before it are kept */
	tree_link(root, "vmstat", "proc/derived/vmstat_truncated");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "\"pgscan_direct\"") != NULL);
	CHECK(lp_find(t, "kernel_vmstat", 0, line, sizeof line));
	CHECK_INT(nfields(line), 71);
	CHECK(lp_field(line, "pgscan_kswapd_movable", v, sizeof v));
	CHECK_STR(v, "0i");

	/* a non-numeric value: that key is left out with an error */
	tree_link(root, "vmstat", "proc/derived/vmstat_malformed");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "\"pgfault\"") != NULL);
	CHECK(lp_find(t, "kernel_vmstat", 0, line, sizeof line));
	CHECK_INT(nfields(line), 119);
	CHECK(!lp_field(line, "pgfault", v, sizeof v));

	/* empty and missing files */
	tree_text(root, "vmstat", "");
	t = gather(acc);
	CHECK_STR(t, "");
	tree_unlink(root, "vmstat");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "vmstat") != NULL);
	CHECK_STR(t, "");

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
