/* mem input: real and derived /proc/meminfo files give Telegraf's fields and
 * gopsutil's derived values; the emitted schema equals the README's. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_mem;

static char line[8192], v[128];
static const char *root;

#define CHECK_FIELD(key, want)                                  \
	do {                                                    \
		CHECK(lp_field(line, key, v, sizeof v));        \
		CHECK_STR(v, want);                             \
	} while (0)

static const char *gather(bool extended, const char *fixture, struct acc *acc)
{
	void *cfg = config_new(&hg_input_mem);
	config_bool(&hg_input_mem, cfg, "collect_extended", extended);
	void *st = plugin_start(&hg_input_mem, cfg);
	tree_link(root, "meminfo", fixture);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_mem.gather(st, acc), GATHER_DONE);
	hg_input_mem.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	struct acc *acc = hg_acc_capture_new();

	/* procfs' meminfo has no MemAvailable: available = cached + free */
	const char *t = gather(false, "proc/procfs/proc__meminfo", acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "mem"), 1);
	CHECK(lp_find(t, "mem", 0, line, sizeof line));
	CHECK_FIELD("total", "16042172416u");
	CHECK_FIELD("free", "450891776u");
	CHECK_FIELD("cached", "14075662336u");
	CHECK_FIELD("available", "14526554112u");
	CHECK_FIELD("used", "1515618304u");
	CHECK_FIELD("buffered", "1044611072u");
	CHECK_FIELD("sreclaimable", "1779838976u");
	CHECK_FIELD("sunreclaim", "70799360u");
	CHECK_FIELD("huge_page_size", "2097152u");
	CHECK_FIELD("huge_pages_total", "0u");
	CHECK_FIELD("vmalloc_total", "35184372087808u");
	CHECK_FIELD("shared", "1339392u");
	CHECK_FIELD("high_total", "0u"); /* absent key reports 0 */
	CHECK(lp_float(line, "used_percent") == 9.447712346542081);
	CHECK(lp_float(line, "available_percent") == 90.55228765345792);
	CHECK(!lp_field(line, "percpu", v, sizeof v));

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/mem/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 34);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* MemAvailable present: used = total - available */
	t = gather(true, "proc/derived/meminfo_available", acc);
	CHECK(lp_find(t, "mem", 0, line, sizeof line));
	CHECK_FIELD("available", "13568012288u");
	CHECK_FIELD("used", "2474160128u");
	CHECK_FIELD("percpu", "26804224u");
	CHECK_FIELD("active_file", "6649876480u");
	CHECK_FIELD("inactive_anon", "274432u");
	CHECK_FIELD("unevictable", "0u");
	CHECK(lp_float(line, "used_percent") == 15.422849623111793);
	CHECK(lp_float(line, "available_percent") == 84.57715037688821);
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/mem/README.md", "collect_extended");
	schema_from_lp(&got2, t);
	CHECK_INT(readme2.n, 40);
	CHECK_INT(schema_diff(&readme2, &got2), 0);

	/* node_exporter's older meminfo (no Percpu): extended still all there */
	t = gather(true, "proc/node_exporter/proc__meminfo", acc);
	CHECK(lp_find(t, "mem", 0, line, sizeof line));
	CHECK_FIELD("total", "3831959552u");
	CHECK_FIELD("percpu", "0u");
	CHECK_FIELD("swap_total", "4294963200u");

	/* bad Buffers value and a file cut mid-key: errors, the line still comes */
	t = gather(false, "proc/derived/meminfo_malformed", acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "Buffers") != NULL);
	CHECK(lp_find(t, "mem", 0, line, sizeof line));
	CHECK_FIELD("buffered", "0u");
	CHECK_FIELD("total", "16042172416u");
	CHECK_FIELD("committed_as", "0u");

	/* no MemTotal / no file: an error and no line */
	setenv("HOST_PROC", "/nonexistent-hg", 1);
	t = gather(false, "proc/procfs/proc__meminfo", acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "/nonexistent-hg/meminfo") != NULL);
	CHECK_STR(t, "");
	setenv("HOST_PROC", root, 1);
	t = gather(false, "proc/node_exporter/proc__stat", acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "no MemTotal") != NULL);
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
