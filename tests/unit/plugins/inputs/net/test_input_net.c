/* net input: /proc/net/dev counters, interface selection by sysfs flags or
 * globs, speed; over fixtures. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"
#include "log.h"

extern const struct input_plugin hg_input_net;

static char line[8192];
static const char *root;

static const char *gather(struct acc *acc, char **ifaces)
{
	void *cfg = config_new(&hg_input_net);
	char *none[] = { NULL };
	config_list(&hg_input_net, cfg, "interfaces", ifaces ? ifaces : none);
	void *st = plugin_start(&hg_input_net, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_net.gather(st, acc), GATHER_DONE);
	hg_input_net.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	char proc[300], sys[300];
	snprintf(proc, sizeof proc, "%s/proc", root);
	snprintf(sys, sizeof sys, "%s/sys", root);
	setenv("HOST_PROC", proc, 1);
	setenv("HOST_SYS", sys, 1);
	tree_link(root, "proc/net/dev", "proc/procfs/proc__net__dev");
	tree_text(root, "sys/class/net/eth0/flags", "0x1003\n");
	tree_text(root, "sys/class/net/eth0/speed", "1000\n");
	tree_text(root, "sys/class/net/lo/flags", "0x9\n");
	tree_text(root, "sys/class/net/docker0/flags", "0x1002\n"); /* down */
	tree_text(root, "sys/class/net/vethf345468/flags", "0x1103\n"); /* up, no speed file */
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc, NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "net,interface=eth0"), 1);
	CHECK_INT(lp_count(t, "net,interface=vethf345468"), 1);
	CHECK_INT(lp_count(t, "net,interface=lo"), 0);
	CHECK_INT(lp_count(t, "net,interface=docker0"), 0);
	CHECK_INT(lp_count(t, "net,interface=all"), 0);
	CHECK(lp_find(t, "net,interface=eth0", 0, line, sizeof line));
	CHECK_STR(line, "net,interface=eth0 bytes_recv=874354587u,bytes_sent=563352563u,drop_in=0u,drop_out=0u,"
			"err_in=0u,err_out=0u,packets_recv=1036395u,packets_sent=732147u,speed=1000i");
	CHECK(lp_find(t, "net,interface=vethf345468", 0, line, sizeof line));
	CHECK_STR(line, "net,interface=vethf345468 bytes_recv=648u,bytes_sent=438u,drop_in=0u,drop_out=0u,"
			"err_in=0u,err_out=0u,packets_recv=8u,packets_sent=5u,speed=-1i");
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/net/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 9);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* globs pick interfaces whatever their state, flags or not */
	char *globs[] = { "lo", "d*", "e[a-z]h?", NULL };
	tree_unlink(root, "sys/class/net/docker0/flags");
	t = gather(acc, globs);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "net"), 0);
	CHECK_INT(lp_count(t, "net,interface=lo"), 1);
	CHECK_INT(lp_count(t, "net,interface=docker0"), 1);
	CHECK_INT(lp_count(t, "net,interface=eth0"), 1);
	CHECK_INT(lp_count(t, "net,interface=vethf345468"), 0);
	CHECK(lp_find(t, "net,interface=lo", 0, line, sizeof line));
	CHECK_STR(line, "net,interface=lo bytes_recv=1664039048u,bytes_sent=1664039048u,drop_in=0u,drop_out=0u,"
			"err_in=0u,err_out=0u,packets_recv=1566805u,packets_sent=1566805u,speed=-1i");

	/* malformed lines: one error, the good interfaces still come */
	tree_link(root, "proc/net/dev", "proc/derived/net_dev_malformed");
	tree_text(root, "sys/class/net/eth0/speed", "fast\n");
	char *all[] = { "*", NULL };
	t = gather(acc, all);
	CHECK(strstr(hg_acc_capture_errors(acc), "2 malformed") != NULL);
	CHECK_INT(lp_count(t, "net,interface=eth0"), 0);
	CHECK_INT(lp_count(t, "net,interface=lo"), 1);
	CHECK_INT(lp_count(t, "net,interface=docker0"), 1);
	CHECK_INT(lp_count(t, "net,interface=vethf345468"), 1);

	tree_unlink(root, "proc/net/dev");
	t = gather(acc, NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "net/dev") != NULL);
	CHECK_STR(t, "");

	/* ignore_protocol_stats = false loads, as in Telegraf, and says where those counters are. */
	char logpath[320];
	snprintf(logpath, sizeof logpath, "%s/agent.log", root);
	CHECK_INT(hg_log_open(logpath, false, false), 0);
	void *cfg = config_new(&hg_input_net);
	config_bool(&hg_input_net, cfg, "ignore_protocol_stats", false);
	void *st = plugin_start(&hg_input_net, cfg);
	hg_input_net.free(st);
	free(cfg);
	cfg = config_new(&hg_input_net); /* the default (true) says nothing */
	st = plugin_start(&hg_input_net, cfg);
	hg_input_net.free(st);
	free(cfg);
	hg_log_close();
	char logtext[2048] = "";
	FILE *lf = fopen(logpath, "r");
	CHECK(lf != NULL);
	if (lf) {
		logtext[fread(logtext, 1, sizeof logtext - 1, lf)] = '\0';
		fclose(lf);
	}
	const char *warned = strstr(logtext, "W! [net] ignore_protocol_stats = false has no effect");
	CHECK(warned != NULL);
	CHECK(strstr(logtext, "nstat,name=snmp") != NULL);
	CHECK(warned && strstr(warned + 1, "W! ") == NULL); /* once: not for the default */

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
