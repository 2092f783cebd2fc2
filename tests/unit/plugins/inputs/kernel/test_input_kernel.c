/* kernel input: /proc/stat totals, entropy and PSI over fixtures; the
 * emitted schema equals the README's. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_kernel;

static char line[8192], v[64];
static const char *root;

static const char *gather(struct acc *acc, bool psi)
{
	void *cfg = config_new(&hg_input_kernel);
	char *items[] = { "psi", NULL }, *none[] = { NULL };
	config_list(&hg_input_kernel, cfg, "collect", psi ? items : none);
	void *st = plugin_start(&hg_input_kernel, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_kernel.gather(st, acc), GATHER_DONE);
	hg_input_kernel.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void init_fails(char **items, const char *want)
{
	void *cfg = config_new(&hg_input_kernel);
	config_list(&hg_input_kernel, cfg, "collect", items);
	void *st = NULL;
	char err[256] = "";
	struct plugin_env env = { 0 };
	CHECK(hg_input_kernel.init(&st, cfg, &env, err, sizeof err) < 0);
	CHECK(strstr(err, want) != NULL);
	CHECK(st == NULL);
	free(cfg);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "stat", "proc/node_exporter/proc__stat");
	tree_text(root, "sys/kernel/random/entropy_avail", "256\n");
	tree_link(root, "pressure/cpu", "proc/node_exporter/proc__pressure__cpu");
	tree_link(root, "pressure/memory", "proc/node_exporter/proc__pressure__memory");
	tree_link(root, "pressure/io", "proc/node_exporter/proc__pressure__io");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "kernel", 0, line, sizeof line));
	CHECK_STR(line, "kernel boot_time=1418183276i,context_switches=38014093i,entropy_avail=256i,"
			"interrupts=8885917i,processes_forked=26442i");
	CHECK_INT(lp_count(t, "pressure,resource=cpu,type=some"), 0);
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/kernel/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 5);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* psi: 5 resource/type pairs (no cpu/full), a counter and a gauge each */
	t = gather(acc, true);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "pressure,resource=cpu,type=full"), 0);
	CHECK_INT(lp_count(t, "pressure,resource=cpu,type=some"), 2);
	CHECK_INT(lp_count(t, "pressure,resource=memory,type=full"), 2);
	CHECK(lp_find(t, "pressure,resource=cpu,type=some", 0, line, sizeof line));
	CHECK_STR(line, "pressure,resource=cpu,type=some total=14036781u");
	CHECK(lp_find(t, "pressure,resource=io,type=full", 0, line, sizeof line));
	CHECK_STR(line, "pressure,resource=io,type=full total=159229614u");
	CHECK(lp_find(t, "pressure,resource=io,type=full", 1, line, sizeof line));
	CHECK(lp_float(line, "avg10") == 0.18);
	CHECK(lp_float(line, "avg60") == 0.34);
	CHECK(lp_float(line, "avg300") == 0.10);
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/kernel/README.md", "psi");
	schema_from_lp(&got2, t);
	CHECK_INT(readme2.n, 9);
	CHECK_INT(schema_diff(&readme2, &got2), 0);

	/* an old-kernel stat with a page line; entropy missing: error, rest kept */
	tree_text(root, "stat", "cpu  1 2 3 4 5 6 7 0 0 0\nintr 77 1 2\nctxt 5\nbtime 9\npage 5741 1808\nprocesses 3\n");
	tree_unlink(root, "sys/kernel/random/entropy_avail");
	t = gather(acc, false);
	CHECK(strstr(hg_acc_capture_errors(acc), "entropy_avail") != NULL);
	CHECK(lp_find(t, "kernel", 0, line, sizeof line));
	CHECK_STR(line, "kernel boot_time=9i,context_switches=5i,disk_pages_in=5741i,disk_pages_out=1808i,"
			"interrupts=77i,processes_forked=3i");

	/* malformed and truncated stat, malformed PSI line, missing PSI file */
	tree_text(root, "sys/kernel/random/entropy_avail", "12x\n");
	tree_text(root, "stat", "intr -5 1\nctxt 18446744073709551615\nbtime 9\nproces");
	tree_text(root, "pressure/memory", "some avg10=0.00 avg60=zz avg300=0.00 total=0\n");
	tree_unlink(root, "pressure/io");
	t = gather(acc, true);
	const char *e = hg_acc_capture_errors(acc);
	CHECK(strstr(e, "\"intr\"") != NULL);
	CHECK(strstr(e, "\"ctxt\"") != NULL);
	CHECK(strstr(e, "entropy_avail") != NULL);
	CHECK(strstr(e, "malformed some line") != NULL);
	CHECK(strstr(e, "io pressure") != NULL);
	CHECK(lp_find(t, "kernel", 0, line, sizeof line));
	CHECK_STR(line, "kernel boot_time=9i");
	CHECK_INT(lp_count(t, "pressure,resource=cpu,type=some"), 2);
	CHECK_INT(lp_count(t, "pressure,resource=memory,type=some"), 0);
	CHECK(!lp_field(line, "processes_forked", v, sizeof v));

	char *ksm[] = { "ksm", NULL }, *bad[] = { "psi", "nope", NULL };
	init_fails(ksm, "ksm");
	init_fails(bad, "nope");

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
