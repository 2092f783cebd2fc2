/* interrupts input: /proc/interrupts and /proc/softirqs of real machines
 * (node_exporter's and procfs' fixtures, an aarch64 one, this machine's
 * capture), in both shapes of cpu_as_tag; every count equals node_exporter's
 * own reading of the same files (its e2e output); the emitted schema equals
 * the README's; broken files give Telegraf's errors. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_interrupts;

static char line[8192], v[64];
static const char *root;

static const char *gather(struct acc *acc, bool cpu_as_tag)
{
	void *cfg = config_new(&hg_input_interrupts);
	config_bool(&hg_input_interrupts, cfg, "cpu_as_tag", cpu_as_tag);
	void *st = plugin_start(&hg_input_interrupts, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_interrupts.gather(st, acc), GATHER_DONE);
	hg_input_interrupts.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void use(const char *interrupts, const char *softirqs)
{
	tree_link(root, "interrupts", interrupts);
	tree_link(root, "softirqs", softirqs);
}

/* Field names CPU0, CPU1 ... are one README row, "CPU<n>". */
static void schema_cpu_n(struct schema *s)
{
	struct schema out = { 0 };
	for (int i = 0; i < s->n; i++) {
		char m[64], t[64], f[64], ty[16];
		if (sscanf(s->e[i], "%63[^|]|%63[^|]|%63[^|]|%15s", m, t, f, ty) != 4)
			continue;
		if (!strncmp(f, "CPU", 3) && f[3] >= '0' && f[3] <= '9' && strspn(f + 3, "0123456789") == strlen(f + 3))
			strcpy(f, "CPU<n>");
		schema_add(&out, m, t, f, ty);
	}
	schema_sort(&out);
	*s = out;
}

static void check_schema(const char *text, const char *when, int rows)
{
	static struct schema readme, got;
	memset(&readme, 0, sizeof readme);
	memset(&got, 0, sizeof got);
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/interrupts/README.md", when), 0);
	schema_from_lp(&got, text);
	schema_cpu_n(&got);
	CHECK_INT(readme.n, rows);
	CHECK_INT(schema_diff(&readme, &got), 0);
}

/* Every node_interrupts_total / node_softirqs_functions_total sample of
 * node_exporter's e2e output (its reading of the same fixtures) is one of
 * our cpu_as_tag lines with the same count. Returns how many matched. */
static int crosscheck_node_exporter(const char *t)
{
	char *prom = ic_slurp("../tests/fixtures/prometheus-text/node_exporter-e2e-output.prom");
	int matched = 0;
	for (const char *l = prom; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		struct prom_line pl;
		if (!prom_parse_line(l, &pl))
			continue;
		char want[512];
		if (!strcmp(pl.name, "node_interrupts_total")) {
			/* node_exporter: type = the IRQ, info = its type, devices = the device */
			snprintf(want, sizeof want, "interrupts,cpu=cpu%s", prom_label(&pl, "cpu"));
			lp_add_tag(want, sizeof want, "device", prom_label(&pl, "devices"));
			lp_add_tag(want, sizeof want, "irq", prom_label(&pl, "type"));
			lp_add_tag(want, sizeof want, "type", prom_label(&pl, "info"));
		} else if (!strcmp(pl.name, "node_softirqs_functions_total")) {
			snprintf(want, sizeof want, "soft_interrupts,cpu=cpu%s", prom_label(&pl, "cpu"));
			lp_add_tag(want, sizeof want, "irq", prom_label(&pl, "type"));
		} else {
			continue;
		}
		if (!lp_find(t, want, 0, line, sizeof line)) {
			fprintf(stderr, "node_exporter has %s, we have no line %s\n", pl.name, want);
			check_failures++;
			continue;
		}
		char expect[64];
		snprintf(expect, sizeof expect, "%.0fi", pl.v);
		CHECK(lp_field(line, "count", v, sizeof v));
		if (strcmp(v, expect) != 0) {
			fprintf(stderr, "%s: count=%s, node_exporter %s\n", want, v, expect);
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
	struct acc *acc = hg_acc_capture_new();

	/* node_exporter's x86 fixture (4 CPUs), cpu_as_tag = false (Telegraf's default) */
	use("proc/node_exporter/proc__interrupts", "proc/node_exporter/proc__softirqs");
	const char *t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	/* 28 numbered and named IRQs, plus ERR and MIS (one column: CPU0 only) */
	CHECK_INT(lp_count(t, "interrupts,device=timer,irq=0,type=IR-IO-APIC-edge"), 1);
	CHECK(lp_find(t, "interrupts,device=timer,irq=0,type=IR-IO-APIC-edge", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,device=timer,irq=0,type=IR-IO-APIC-edge CPU0=18i,CPU1=0i,CPU2=0i,CPU3=0i,total=18i");
	/* a device list with ", " keeps it, joined by one space */
	CHECK(lp_find(t, "interrupts,device=ehci_hcd:usb1\\,\\ mmc0,irq=16,type=IR-IO-APIC-fasteoi", 0, line,
		      sizeof line));
	CHECK_STR(line, "interrupts,device=ehci_hcd:usb1\\,\\ mmc0,irq=16,type=IR-IO-APIC-fasteoi "
			"CPU0=328511i,CPU1=322879i,CPU2=293782i,CPU3=351412i,total=1296584i");
	CHECK(lp_find(t, "interrupts,irq=LOC,type=Local\\ timer\\ interrupts", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=LOC,type=Local\\ timer\\ interrupts "
			"CPU0=174326351i,CPU1=135776678i,CPU2=168393257i,CPU3=130980079i,total=609476365i");
	CHECK(lp_find(t, "interrupts,irq=ERR", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=ERR CPU0=0i,total=0i");
	CHECK_INT(lp_count(t, "interrupts,irq=MIS"), 1);
	CHECK(lp_find(t, "soft_interrupts,irq=NET_RX", 0, line, sizeof line));
	CHECK_STR(line, "soft_interrupts,irq=NET_RX CPU0=43066i,CPU1=104508i,total=147574i");
	int lines = 0;
	for (const char *c = t; (c = strchr(c, '\n')); c++)
		lines++;
	CHECK_INT(lines, 30 + 10);
	check_schema(t, "cpu_fields", 8);

	/* cpu_as_tag = true: one line per IRQ and CPU, field count */
	t = gather(acc, true);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "interrupts,cpu=cpu3,device=iwlwifi,irq=46,type=IR-PCI-MSI-edge", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,cpu=cpu3,device=iwlwifi,irq=46,type=IR-PCI-MSI-edge count=290i");
	CHECK(lp_find(t, "soft_interrupts,cpu=cpu1,irq=HI", 0, line, sizeof line));
	CHECK_STR(line, "soft_interrupts,cpu=cpu1,irq=HI count=1i");
	CHECK(lp_find(t, "interrupts,cpu=cpu0,irq=ERR", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,cpu=cpu0,irq=ERR count=0i");
	CHECK_INT(lp_count(t, "interrupts,cpu=cpu1,irq=ERR"), 0);
	check_schema(t, "cpu_as_tag", 4);
	/* the peer: node_exporter read the same two files; it leaves out ERR
	 * and MIS, which Telegraf (and this input) keep */
	CHECK_INT(crosscheck_node_exporter(t), 28 * 4 + 10 * 2);
	lines = 0;
	for (const char *c = t; (c = strchr(c, '\n')); c++)
		lines++;
	CHECK_INT(lines, 28 * 4 + 2 + 10 * 2);

	/* aarch64: "GICv3  27 Level  arch_timer": type GICv3, device the rest; IPI rows named */
	use("proc/node_exporter/proc__interrupts_aarch64", "proc/procfs/proc__softirqs");
	t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "interrupts,device=27\\ Level\\ arch_timer,irq=10,type=GICv3", 0, line, sizeof line));
	CHECK(lp_field(line, "CPU7", v, sizeof v));
	CHECK_STR(v, "3225020442i");
	CHECK(lp_field(line, "total", v, sizeof v));
	CHECK_STR(v, "26767542953i"); /* beyond 32 bits: int64 as in Telegraf */
	/* "IPI0:2768808080": no blank after the colon, so its first token does
	 * not end in ':' and Telegraf skips the line; so does this input */
	CHECK_INT(lp_count(t, "interrupts,irq=IPI0,type=Rescheduling\\ interrupts"), 0);
	CHECK(lp_find(t, "interrupts,irq=IPI1,type=Function\\ call\\ interrupts", 0, line, sizeof line));
	CHECK(lp_field(line, "CPU0", v, sizeof v));
	CHECK_STR(v, "357815098i");
	CHECK(lp_find(t, "interrupts,irq=Err", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=Err CPU0=0i,total=0i");

	/* procfs' fixture and this machine's capture: every line parsed, named
	 * rows of the capture with their type text */
	use("proc/procfs/proc__interrupts", "proc/procfs/proc__softirqs");
	t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "interrupts,device=2-edge\\ timer,irq=0,type=IO-APIC", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,device=2-edge\\ timer,irq=0,type=IO-APIC CPU0=49i,CPU1=0i,CPU2=0i,CPU3=0i,total=49i");
	use("proc/captured/proc__interrupts", "proc/captured/proc__softirqs");
	t = gather(acc, true);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "interrupts,cpu=cpu1,irq=PIW,type=Posted-interrupt\\ wakeup\\ event", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,cpu=cpu1,irq=PIW,type=Posted-interrupt\\ wakeup\\ event count=0i");
	CHECK(lp_find(t, "interrupts,cpu=cpu0,device=5-edge\\ ACPI:Ged,irq=24,type=IO-APIC", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,cpu=cpu0,device=5-edge\\ ACPI:Ged,irq=24,type=IO-APIC count=1i");
	CHECK(lp_find(t, "soft_interrupts,cpu=cpu1,irq=RCU", 0, line, sizeof line));
	CHECK_STR(line, "soft_interrupts,cpu=cpu1,irq=RCU count=2078661i");
	check_schema(t, "cpu_as_tag", 4);

	/* Telegraf's parsing rules on made-up lines: a count that is no number
	 * drops its line; a line without "ID:" is skipped; fewer counts than
	 * CPUs keep the ones given and no type; a numbered IRQ with only a
	 * type has no device; tabs separate like spaces. */
	tree_text(root, "interrupts",
		  "   CPU0 CPU1\n"
		  " 5: 1 x IO-APIC dev\n"
		  "garbage line\n"
		  "\n"
		  " 6:\t3\t4\tPCI-MSI\n"
		  "ERR: 7\n"
		  "X::  1 2   some   spaced    text  \n"
		  "-1: 9223372036854775807 1 t d\n");
	tree_text(root, "softirqs", "                    CPU0\n          HI:          3\n");
	t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "interrupts,device=dev,irq=5,type=IO-APIC"), 0);
	CHECK(lp_find(t, "interrupts,irq=6,type=PCI-MSI", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=6,type=PCI-MSI CPU0=3i,CPU1=4i,total=7i");
	CHECK(lp_find(t, "interrupts,irq=ERR", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=ERR CPU0=7i,total=7i");
	CHECK(lp_find(t, "interrupts,irq=X,type=some\\ spaced\\ text", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,irq=X,type=some\\ spaced\\ text CPU0=1i,CPU1=2i,total=3i");
	/* "-1" parses as a number (Go's ParseInt), so t/d are type and device; the total wraps as Go's does */
	CHECK(lp_find(t, "interrupts,device=d,irq=-1,type=t", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,device=d,irq=-1,type=t CPU0=9223372036854775807i,CPU1=1i,total=-9223372036854775808i");
	CHECK(lp_find(t, "soft_interrupts,irq=HI", 0, line, sizeof line));
	CHECK_STR(line, "soft_interrupts,irq=HI CPU0=3i,total=3i");

	/* a header that is not CPU0...: Telegraf's error, nothing of that file;
	 * a missing file: an error, the other file still read */
	tree_text(root, "interrupts", "  0: 1 2\n");
	tree_unlink(root, "softirqs");
	t = gather(acc, false);
	CHECK(strstr(hg_acc_capture_errors(acc), "expected first line to start with CPU0") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "could not open file") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "softirqs") != NULL);
	CHECK_STR(t, "");
	tree_text(root, "interrupts", "");
	tree_link(root, "softirqs", "proc/node_exporter/proc__softirqs");
	t = gather(acc, false);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "soft_interrupts,irq=TIMER"), 1);
	CHECK_INT(lp_count(t, "interrupts,irq=0"), 0);

	/* more CPUs than the first allocation (8): field names grow with it */
	char big[8192] = "";
	for (int i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), " CPU%d", i);
	strcat(big, "\nLOC:");
	for (int i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), " %d", i);
	strcat(big, " Local timer interrupts\n");
	tree_text(root, "interrupts", big);
	t = gather(acc, false);
	CHECK(lp_find(t, "interrupts,irq=LOC,type=Local\\ timer\\ interrupts", 0, line, sizeof line));
	CHECK(lp_field(line, "CPU39", v, sizeof v));
	CHECK_STR(v, "39i");
	CHECK(lp_field(line, "total", v, sizeof v));
	CHECK_STR(v, "780i");
	t = gather(acc, true);
	CHECK(lp_find(t, "interrupts,cpu=cpu39,irq=LOC,type=Local\\ timer\\ interrupts", 0, line, sizeof line));
	CHECK_STR(line, "interrupts,cpu=cpu39,irq=LOC,type=Local\\ timer\\ interrupts count=39i");

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
