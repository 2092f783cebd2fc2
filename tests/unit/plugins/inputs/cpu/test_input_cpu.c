/* cpu input: two gathers over real and derived /proc/stat files give
 * Telegraf's usage values exactly; the emitted schema equals the README's. */
#include <math.h>
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_cpu;

static char line[8192];

#define CHECK_F(l, key, want)                                                                                  \
	do {                                                                                                   \
		double got_ = lp_float(l, key);                                                                \
		if (!(got_ == (want))) {                                                                       \
			fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g\n", __FILE__, __LINE__, key, got_, \
				(double)(want));                                                               \
			check_failures++;                                                                      \
		}                                                                                              \
	} while (0)

static const char *root;

static void use_stat(const char *fixture)
{
	tree_link(root, "stat", fixture);
}

static void check_cpu0_usage(const char *text)
{
	CHECK(lp_find(text, "cpu,cpu=cpu0", 0, line, sizeof line));
	CHECK_F(line, "usage_user", 7.0);
	CHECK_F(line, "usage_system", 5.0);
	CHECK_F(line, "usage_idle", 80.0);
	CHECK_F(line, "usage_nice", 0.0);
	CHECK_F(line, "usage_iowait", 1.9999999999999971);
	CHECK_F(line, "usage_irq", 1.0);
	CHECK_F(line, "usage_softirq", 1.9999999999999574);
	CHECK_F(line, "usage_steal", 0.0);
	CHECK_F(line, "usage_guest", 3.0);
	CHECK_F(line, "usage_guest_nice", 0.0);
}

static void test_defaults_two_gathers(void)
{
	void *cfg = config_new(&hg_input_cpu);
	void *st = plugin_start(&hg_input_cpu, cfg);
	struct acc *acc = hg_acc_capture_new();

	use_stat("proc/node_exporter/proc__stat");
	CHECK_INT(hg_input_cpu.gather(st, acc), GATHER_DONE);
	CHECK_STR(hg_acc_capture_text(acc), ""); /* no usage on the first gather */
	CHECK_STR(hg_acc_capture_errors(acc), "");

	use_stat("proc/derived/stat_plus_ticks");
	hg_input_cpu.gather(st, acc);
	const char *t = hg_acc_capture_text(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "cpu,cpu=cpu2"), 0); /* no ticks passed on cpu2 */
	CHECK_INT(lp_count(t, "cpu,cpu=cpu0"), 1);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu-total"), 1);
	int lines = 0;
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 8); /* cpu0,1,3..7 and cpu-total */
	check_cpu0_usage(t);
	CHECK(strstr(t, "usage_active") == NULL);
	CHECK(strstr(t, "time_") == NULL);

	CHECK(lp_find(t, "cpu,cpu=cpu1", 0, line, sizeof line));
	CHECK_F(line, "usage_user", 1.9337016574589192);
	CHECK_F(line, "usage_system", 3.038674033149618);
	CHECK_F(line, "usage_idle", 91.98895027626696);
	CHECK_F(line, "usage_nice", 0.5524861878454593);
	CHECK_F(line, "usage_iowait", 0.2762430939227238);
	CHECK_F(line, "usage_softirq", 0.5524861878454583);
	CHECK_F(line, "usage_steal", 1.3812154696136483);
	CHECK_F(line, "usage_guest_nice", 0.2762430939227296);

	CHECK(lp_find(t, "cpu,cpu=cpu3", 0, line, sizeof line));
	CHECK_F(line, "usage_user", 30.0); /* guest time taken out of user */
	CHECK_F(line, "usage_nice", 3.9999999999999987);
	CHECK_F(line, "usage_system", 11.999999999999886);

	CHECK(lp_find(t, "cpu,cpu=cpu-total", 0, line, sizeof line));
	CHECK_F(line, "usage_user", 19.03003446577626);
	CHECK_F(line, "usage_system", 10.167405219101122);
	CHECK_F(line, "usage_idle", 64.84490398819459);
	CHECK_F(line, "usage_nice", 0.7631708517969574);
	CHECK_F(line, "usage_iowait", 0.5416051206300967);
	CHECK_F(line, "usage_irq", 0.24618414574095432);
	CHECK_F(line, "usage_softirq", 0.5662235352042047);
	CHECK_F(line, "usage_steal", 0.12309207287047716);
	CHECK_F(line, "usage_guest", 3.200393894632406);
	CHECK_F(line, "usage_guest_nice", 0.5169867060560039);
	/* the total line comes after the per-CPU lines */
	CHECK(strstr(t, "cpu=cpu-total") > strstr(t, "cpu=cpu7"));

	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/cpu/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 10);
	CHECK_INT(schema_diff(&readme, &got), 0);

	hg_acc_capture_free(acc);
	hg_input_cpu.free(st);
	free(cfg);
}

static void test_all_fields(void)
{
	void *cfg = config_new(&hg_input_cpu);
	config_bool(&hg_input_cpu, cfg, "collect_cpu_time", true);
	config_bool(&hg_input_cpu, cfg, "report_active", true);
	void *st = plugin_start(&hg_input_cpu, cfg);
	struct acc *acc = hg_acc_capture_new();

	use_stat("proc/node_exporter/proc__stat");
	hg_input_cpu.gather(st, acc);
	const char *t = hg_acc_capture_text(acc);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu0"), 1); /* times only */
	CHECK(strstr(t, "usage_") == NULL);
	CHECK(lp_find(t, "cpu,cpu=cpu-total", 0, line, sizeof line));
	CHECK_F(line, "time_user", 3018.54);
	CHECK_F(line, "time_steal", 0.0);
	CHECK_F(line, "time_guest", 0.44);
	CHECK_F(line, "time_guest_nice", 0.36);
	hg_acc_capture_clear(acc);

	use_stat("proc/derived/stat_plus_ticks");
	hg_input_cpu.gather(st, acc);
	t = hg_acc_capture_text(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "cpu,cpu=cpu0"), 2); /* time line, then usage line */
	CHECK(lp_find(t, "cpu,cpu=cpu0", 0, line, sizeof line));
	CHECK_F(line, "time_user", 445.9);
	CHECK_F(line, "time_guest", 0.32);
	CHECK_F(line, "time_idle", 10878.69);
	CHECK_F(line, "time_active", 693.8499999999999);
	CHECK(lp_find(t, "cpu,cpu=cpu0", 1, line, sizeof line));
	CHECK_F(line, "usage_active", 19.999999999998863);
	CHECK(lp_find(t, "cpu,cpu=cpu-total", 1, line, sizeof line));
	CHECK_F(line, "usage_active", 35.15509601180765);
	CHECK(lp_find(t, "cpu,cpu=cpu7", 1, line, sizeof line));
	CHECK_F(line, "usage_active", 2.899999999999677);
	CHECK_F(line, "usage_idle", 97.0999999999918);

	struct schema readme = { 0 }, got = { 0 };
	schema_from_readme(&readme, "../plugins/inputs/cpu/README.md", "collect_cpu_time report_active");
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 22);
	CHECK_INT(schema_diff(&readme, &got), 0);

	hg_acc_capture_free(acc);
	hg_input_cpu.free(st);
	free(cfg);
}

static void test_backwards_and_malformed(void)
{
	void *cfg = config_new(&hg_input_cpu);
	void *st = plugin_start(&hg_input_cpu, cfg);
	struct acc *acc = hg_acc_capture_new();

	use_stat("proc/node_exporter/proc__stat");
	hg_input_cpu.gather(st, acc);
	use_stat("proc/derived/stat_cpu1_backwards");
	hg_input_cpu.gather(st, acc);
	/* cpu0 did not move; cpu1 went back: error, and nothing after it */
	CHECK_STR(hg_acc_capture_text(acc), "");
	CHECK(strstr(hg_acc_capture_errors(acc), "current total CPU time is less than previous total CPU time") != NULL);
	hg_acc_capture_clear(acc);

	/* the backwards sample is the new baseline: cpu1 moves forward again */
	use_stat("proc/node_exporter/proc__stat");
	hg_input_cpu.gather(st, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(hg_acc_capture_text(acc), "cpu,cpu=cpu1", 0, line, sizeof line));
	CHECK_F(line, "usage_user", 24.999999999914735);
	CHECK_F(line, "usage_nice", 24.99999999990905);
	CHECK_F(line, "usage_system", 24.999999999914735);
	CHECK_F(line, "usage_idle", 25.0);
	hg_acc_capture_clear(acc);

	/* truncated cpu3 line and junk in cpu5: errors, the others still come */
	use_stat("proc/derived/stat_malformed");
	hg_input_cpu.gather(st, acc);
	const char *e = hg_acc_capture_errors(acc);
	CHECK(strstr(e, "\"cpu3 ") != NULL);
	CHECK(strstr(e, "\"cpu5 ") != NULL);
	const char *t = hg_acc_capture_text(acc);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu3"), 0);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu5"), 0);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu7"), 1);
	CHECK_INT(lp_count(t, "cpu,cpu=cpu-total"), 1);
	check_cpu0_usage(t);
	hg_acc_capture_clear(acc);

	/* missing file: an error, no crash, nothing emitted */
	setenv("HOST_PROC", "/nonexistent-hg", 1);
	hg_input_cpu.gather(st, acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "/nonexistent-hg/stat") != NULL);
	CHECK_STR(hg_acc_capture_text(acc), "");
	setenv("HOST_PROC", root, 1);

	hg_acc_capture_free(acc);
	hg_input_cpu.free(st);
	free(cfg);
}

/* procfs' 8-CPU stat has a 132 KB intr line: the read buffer has to grow. */
static void test_big_stat(void)
{
	void *cfg = config_new(&hg_input_cpu);
	config_bool(&hg_input_cpu, cfg, "collect_cpu_time", true);
	void *st = plugin_start(&hg_input_cpu, cfg);
	struct acc *acc = hg_acc_capture_new();
	use_stat("proc/procfs/proc__stat");
	hg_input_cpu.gather(st, acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(hg_acc_capture_text(acc), "cpu,cpu=cpu7"), 1);
	CHECK(lp_find(hg_acc_capture_text(acc), "cpu,cpu=cpu-total", 0, line, sizeof line));
	CHECK_F(line, "time_user", 3018.54);
	CHECK_F(line, "time_steal", 0.0);
	hg_acc_capture_free(acc);
	hg_input_cpu.free(st);
	free(cfg);
}

static int suite_setup(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	return 0;
}

static void suite_teardown(void)
{
	tree_free(root);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_defaults_two_gathers),
		CHECK_CASE(test_all_fields),
		CHECK_CASE(test_backwards_and_malformed),
		CHECK_CASE(test_big_stat),
	};
	return CHECK_RUN_WITH(argc, argv, cases, suite_setup, suite_teardown);
}
