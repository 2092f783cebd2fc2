/* conntrack input: table size and limit from the dirs/files (nf_ and the
 * legacy ip_ names), the nf_conntrack counters (all, percpu) over
 * node_exporter's fixtures and this machine's capture; every value equals
 * node_exporter's e2e reading of the same files; the emitted schema equals
 * the README's; missing files give Telegraf's errors. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_conntrack;

static char line[8192], v[64];
static const char *root;
static char dir_v4[300], dir_nf[300];

static const char *gather_with(struct acc *acc, char **collect, char **files)
{
	void *cfg = config_new(&hg_input_conntrack);
	char *dirs[] = { dir_v4, dir_nf, NULL }, *none[] = { NULL };
	config_list(&hg_input_conntrack, cfg, "collect", collect);
	config_list(&hg_input_conntrack, cfg, "dirs", dirs);
	config_list(&hg_input_conntrack, cfg, "files", files ? files : none);
	void *st = plugin_start(&hg_input_conntrack, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_conntrack.gather(st, acc), GATHER_DONE);
	hg_input_conntrack.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static const char *gather(struct acc *acc, char **collect)
{
	return gather_with(acc, collect, NULL);
}

static void check_schema(const char *text, const char *when, int rows)
{
	static struct schema readme, got;
	memset(&readme, 0, sizeof readme);
	memset(&got, 0, sizeof got);
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/conntrack/README.md", when), 0);
	schema_from_lp(&got, text);
	CHECK_INT(readme.n, rows);
	CHECK_INT(schema_diff(&readme, &got), 0);
}

/* node_exporter's readings of the same fixtures: node_nf_conntrack_entries
 * and _limit, node_nf_conntrack_stat_* (summed over CPUs) and
 * node_lnstat_*_total{subsystem="nf_conntrack"} (per CPU, named by the
 * file's header). Returns how many samples matched. */
static int crosscheck_node_exporter(const char *t)
{
	char *prom = ic_slurp("../tests/fixtures/prometheus-text/node_exporter-e2e-output.prom");
	int matched = 0;
	for (const char *l = prom; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		struct prom_line pl;
		if (!prom_parse_line(l, &pl))
			continue;
		char want[128], field[64], expect[64];
		size_t nl = strlen(pl.name);
		if (!strcmp(pl.name, "node_nf_conntrack_entries") || !strcmp(pl.name, "node_nf_conntrack_entries_limit")) {
			snprintf(want, sizeof want, "conntrack");
			snprintf(field, sizeof field, "%s", pl.name[25] ? "ip_conntrack_max" : "ip_conntrack_count");
			snprintf(expect, sizeof expect, "%.0f", pl.v);
		} else if (!strncmp(pl.name, "node_nf_conntrack_stat_", 23)) {
			snprintf(want, sizeof want, "conntrack,cpu=all");
			snprintf(field, sizeof field, "%.40s", pl.name + 23);
			snprintf(expect, sizeof expect, "%.0fu", pl.v);
		} else if (!strncmp(pl.name, "node_lnstat_", 12) && nl > 18 && !strcmp(pl.name + nl - 6, "_total") &&
			   !strcmp(prom_label(&pl, "subsystem"), "nf_conntrack")) {
			snprintf(want, sizeof want, "conntrack,cpu=cpu%s", prom_label(&pl, "cpu"));
			snprintf(field, sizeof field, "%.*s", (int)(nl - 18), pl.name + 12);
			snprintf(expect, sizeof expect, "%.0fu", pl.v);
		} else {
			continue;
		}
		if (!lp_find(t, want, 0, line, sizeof line) || !lp_field(line, field, v, sizeof v)) {
			fprintf(stderr, "node_exporter has %s, we have no %s %s\n", pl.name, want, field);
			check_failures++;
			continue;
		}
		if (strcmp(v, expect) != 0) {
			fprintf(stderr, "%s %s=%s, node_exporter %s\n", want, field, v, expect);
			check_failures++;
		}
		matched++;
	}
	free(prom);
	return matched;
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	snprintf(dir_v4, sizeof dir_v4, "%s/sys/net/ipv4/netfilter", root);
	snprintf(dir_nf, sizeof dir_nf, "%s/sys/net/netfilter", root);
	struct acc *acc = hg_acc_capture_new();
	char *both[] = { "all", "percpu", NULL }, *all[] = { "all", NULL }, *none[] = { NULL };

	/* node_exporter's fixtures: a 4-CPU stat file with the old header */
	tree_link(root, "sys/net/netfilter/nf_conntrack_count", "proc/node_exporter/proc__sys__net__netfilter__nf_conntrack_count");
	tree_link(root, "sys/net/netfilter/nf_conntrack_max", "proc/node_exporter/proc__sys__net__netfilter__nf_conntrack_max");
	tree_link(root, "net/stat/nf_conntrack", "proc/node_exporter/proc__net__stat__nf_conntrack");
	const char *t = gather(acc, both);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_count=123,ip_conntrack_max=65536");
	CHECK(lp_find(t, "conntrack,cpu=all", 0, line, sizeof line));
	/* entries is the table size on every row: summed, as gopsutil does (4 x 0x21) */
	CHECK_STR(line, "conntrack,cpu=all delete=0u,delete_list=0u,drop=0u,early_drop=0u,entries=132u,"
			"expect_create=0u,expect_delete=0u,expect_new=0u,found=0u,icmp_error=0u,ignore=89738u,insert=0u,"
			"insert_failed=0u,invalid=53u,new=0u,search_restart=7u,searched=0u");
	CHECK(lp_find(t, "conntrack,cpu=cpu3", 0, line, sizeof line));
	CHECK(lp_field(line, "invalid", v, sizeof v));
	CHECK_STR(v, "47u");
	CHECK(lp_field(line, "ignore", v, sizeof v));
	CHECK_STR(v, "22152u");
	CHECK_INT(lp_count(t, "conntrack,cpu=cpu4"), 0);
	/* 2 gauges, 8 summed counters, 17 counters x 4 CPUs */
	CHECK_INT(crosscheck_node_exporter(t), 2 + 8 + 17 * 4);
	check_schema(t, "collect", 19);

	/* no collect (Telegraf's default): the two gauges only */
	t = gather(acc, none);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "conntrack,cpu=all"), 0);
	CHECK_INT(lp_count(t, "conntrack"), 1);
	check_schema(t, "", 2);

	/* percpu twice: Telegraf gathers each entry, duplicates included */
	char *twice[] = { "percpu", "percpu", NULL };
	t = gather(acc, twice);
	CHECK_INT(lp_count(t, "conntrack,cpu=cpu0"), 2);

	/* this machine's capture: the new header (clashres, chainlength); the
	 * columns keep Telegraf's names by position */
	tree_link(root, "sys/net/netfilter/nf_conntrack_count", "proc/captured/proc__sys__net__netfilter__nf_conntrack_count");
	tree_link(root, "sys/net/netfilter/nf_conntrack_max", "proc/captured/proc__sys__net__netfilter__nf_conntrack_max");
	tree_link(root, "net/stat/nf_conntrack", "proc/captured/proc__net__stat__nf_conntrack");
	t = gather(acc, both);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_count=0,ip_conntrack_max=262144");
	CHECK_INT(lp_count(t, "conntrack,cpu=cpu0"), 1);
	CHECK_INT(lp_count(t, "conntrack,cpu=cpu1"), 1);
	CHECK_INT(lp_count(t, "conntrack,cpu=cpu2"), 0);
	check_schema(t, "collect", 19);

	/* a pre-2.6.26 kernel: ip_ names in ipv4/netfilter give the same fields */
	tree_unlink(root, "sys/net/netfilter/nf_conntrack_count");
	tree_unlink(root, "sys/net/netfilter/nf_conntrack_max");
	tree_text(root, "sys/net/ipv4/netfilter/ip_conntrack_count", "7\n");
	tree_text(root, "sys/net/ipv4/netfilter/ip_conntrack_max", "65536\n");
	t = gather(acc, none);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_count=7,ip_conntrack_max=65536");
	/* both present: the later dir (netfilter) wins, as in Telegraf */
	tree_text(root, "sys/net/netfilter/nf_conntrack_count", "9\n");
	t = gather(acc, none);
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_count=9,ip_conntrack_max=65536");
	/* files beyond the defaults: nf_conntrack_buckets is ip_conntrack_buckets;
	 * a name without '_' is skipped */
	tree_text(root, "sys/net/netfilter/nf_conntrack_buckets", "16384\n");
	tree_text(root, "sys/net/netfilter/plain", "1\n");
	char *files[] = { "nf_conntrack_buckets", "plain", NULL };
	t = gather_with(acc, none, files);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_buckets=16384");

	/* a value that is no number: reported, its field left out */
	tree_text(root, "sys/net/netfilter/nf_conntrack_count", "lots\n");
	t = gather(acc, none);
	CHECK(strstr(hg_acc_capture_errors(acc), "failed to parse metric") != NULL);
	CHECK(lp_find(t, "conntrack", 0, line, sizeof line));
	CHECK_STR(line, "conntrack ip_conntrack_count=7,ip_conntrack_max=65536");

	/* odd stat rows: the header and rows without 17 columns skipped; not
	 * hex gives 0, beyond 32 bits 4294967295; the sum wraps at 32 bits */
	tree_text(root, "net/stat/nf_conntrack",
		  "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
		  "00000001 zz 1ffffffff ffffffff 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		  "00000001 00000000 00000000 00000002 0 0 0 0 0 0 0 0 0 0 0 0\n"
		  "00000001 00000001 00000001 00000002 0 0 0 0 0 0 0 0 0 0 0 0 A B\n");
	t = gather(acc, all);
	CHECK(lp_find(t, "conntrack,cpu=all", 0, line, sizeof line));
	CHECK(lp_field(line, "entries", v, sizeof v));
	CHECK_STR(v, "1u");
	CHECK(lp_field(line, "searched", v, sizeof v));
	CHECK_STR(v, "0u");
	CHECK(lp_field(line, "found", v, sizeof v));
	CHECK_STR(v, "4294967295u");
	CHECK(lp_field(line, "new", v, sizeof v));
	CHECK_STR(v, "4294967295u");
	tree_text(root, "net/stat/nf_conntrack",
		  "00000001 00000000 00000000 ffffffff 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		  "00000001 00000000 00000000 00000002 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	t = gather(acc, all);
	CHECK(lp_find(t, "conntrack,cpu=all", 0, line, sizeof line));
	CHECK(lp_field(line, "new", v, sizeof v));
	CHECK_STR(v, "1u");
	CHECK(lp_field(line, "entries", v, sizeof v));
	CHECK_STR(v, "2u");

	/* no conntrack (module not loaded): Telegraf's errors, nothing emitted */
	tree_free(root);
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	snprintf(dir_v4, sizeof dir_v4, "%s/sys/net/ipv4/netfilter", root);
	snprintf(dir_nf, sizeof dir_nf, "%s/sys/net/netfilter", root);
	t = gather(acc, none);
	CHECK_STR(hg_acc_capture_errors(acc),
		  "conntrack input failed to collect metrics, make sure that the kernel module is loaded\n");
	CHECK_STR(t, "");
	t = gather(acc, all);
	const char *e = hg_acc_capture_errors(acc);
	CHECK(strstr(e, "failed to retrieve conntrack statistics") != NULL);
	CHECK(strstr(e, "conntrack input failed to collect stats") != NULL);
	CHECK(strstr(e, "make sure that the kernel module is loaded") != NULL);
	CHECK_STR(t, "");
	/* a header-only stat file: no rows */
	tree_text(root, "net/stat/nf_conntrack", "entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n");
	t = gather(acc, all);
	CHECK(strstr(hg_acc_capture_errors(acc), "conntrack input failed to collect stats") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "failed to retrieve") == NULL);

	/* collect accepts "all" and "percpu" only */
	void *cfg = config_new(&hg_input_conntrack);
	char *bad[] = { "all", "everything", NULL };
	config_list(&hg_input_conntrack, cfg, "collect", bad);
	void *st = NULL;
	char err[256] = "";
	struct plugin_env env = { 0 };
	CHECK(hg_input_conntrack.init(&st, cfg, &env, err, sizeof err) < 0);
	CHECK(strstr(err, "everything") != NULL);
	CHECK(st == NULL);
	free(cfg);

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
