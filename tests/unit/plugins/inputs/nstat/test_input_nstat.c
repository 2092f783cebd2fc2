/* nstat input: netstat/snmp/snmp6 counters over fixtures, dump_zeros,
 * configured paths and malformed files. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_nstat;

static char line[32768], v[64];
static const char *root;

static const char *gather(struct acc *acc, bool zeros, const char *snmp_path)
{
	void *cfg = config_new(&hg_input_nstat);
	config_bool(&hg_input_nstat, cfg, "dump_zeros", zeros);
	if (snmp_path)
		*(const char **)((char *)cfg + hg_opt_find(&hg_input_nstat, "proc_net_snmp")->offset) = snmp_path;
	void *st = plugin_start(&hg_input_nstat, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_nstat.gather(st, acc), GATHER_DONE);
	hg_input_nstat.free(st);
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
	tree_link(root, "net/netstat", "proc/node_exporter/proc__net__netstat");
	tree_link(root, "net/snmp", "proc/node_exporter/proc__net__snmp");
	tree_link(root, "net/snmp6", "proc/node_exporter/proc__net__snmp6");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc, true, NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "nstat,name=netstat"), 1);
	CHECK_INT(lp_count(t, "nstat,name=snmp"), 1);
	CHECK_INT(lp_count(t, "nstat,name=snmp6"), 1);
	CHECK(lp_find(t, "nstat,name=netstat", 0, line, sizeof line));
	CHECK_INT(nfields(line), 96);
	static const char head[] = "nstat,name=netstat TcpExtSyncookiesSent=0i,TcpExtSyncookiesRecv=0i,"
				   "TcpExtSyncookiesFailed=2i,";
	CHECK(strncmp(line, head, sizeof head - 1) == 0);
	CHECK(lp_field(line, "TcpExtTW", v, sizeof v));
	CHECK_STR(v, "388812i");
	CHECK(lp_find(t, "nstat,name=snmp", 0, line, sizeof line));
	CHECK_INT(nfields(line), 77);
	CHECK(lp_field(line, "TcpMaxConn", v, sizeof v));
	CHECK_STR(v, "-1i");
	CHECK(lp_field(line, "IpInReceives", v, sizeof v));
	CHECK_STR(v, "57740232i");
	CHECK(lp_field(line, "IcmpMsgOutType3", v, sizeof v));
	CHECK_STR(v, "120i");
	CHECK(lp_find(t, "nstat,name=snmp6", 0, line, sizeof line));
	CHECK_INT(nfields(line), 85);
	CHECK(lp_field(line, "Ip6InReceives", v, sizeof v));
	CHECK_STR(v, "7i");
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/nstat/README.md", "zeros"), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 258);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* without dump_zeros only the non-zero counters */
	t = gather(acc, false, NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "nstat,name=netstat", 0, line, sizeof line));
	CHECK_INT(nfields(line), 31);
	CHECK(!lp_field(line, "TcpExtSyncookiesSent", v, sizeof v));
	CHECK(lp_find(t, "nstat,name=snmp", 0, line, sizeof line));
	CHECK_INT(nfields(line), 32);
	CHECK(lp_find(t, "nstat,name=snmp6", 0, line, sizeof line));
	CHECK_INT(nfields(line), 20);
	CHECK(!lp_field(line, "Ip6InHdrErrors", v, sizeof v));

	/* malformed snmp from a configured path; no snmp6 is not an error */
	char path[1024];
	snprintf(path, sizeof path, "%s/proc/derived/net_snmp_malformed", fixtures_dir());
	tree_unlink(root, "net/snmp6");
	t = gather(acc, true, path);
	CHECK(strstr(hg_acc_capture_errors(acc), "net_snmp_malformed: 3 malformed") != NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "snmp6") == NULL);
	CHECK(lp_find(t, "nstat,name=snmp", 0, line, sizeof line));
	CHECK_INT(nfields(line), 52);
	CHECK(!lp_field(line, "UdpNoPorts", v, sizeof v));
	CHECK(lp_field(line, "UdpOutDatagrams", v, sizeof v));
	CHECK_STR(v, "53028i");
	CHECK(!lp_field(line, "TcpRtoMin", v, sizeof v));
	CHECK_INT(lp_count(t, "nstat,name=netstat"), 1);
	CHECK_INT(lp_count(t, "nstat,name=snmp6"), 0);

	/* an unreadable netstat: error, snmp still emitted */
	tree_unlink(root, "net/netstat");
	t = gather(acc, false, NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "net/netstat") != NULL);
	CHECK_INT(lp_count(t, "nstat,name=netstat"), 0);
	CHECK_INT(lp_count(t, "nstat,name=snmp"), 1);

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
