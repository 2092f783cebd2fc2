/* netstat input: socket states from /proc/net/{tcp,udp}{,6} over fixtures,
 * including files larger than the read buffer. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_netstat;

static char line[8192];
static const char *root;

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_netstat);
	void *st = plugin_start(&hg_input_netstat, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_netstat.gather(st, acc), GATHER_DONE);
	hg_input_netstat.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "net/tcp", "proc/procfs/proc__net__tcp"); /* 3 listen */
	tree_link(root, "net/udp", "proc/procfs/proc__net__udp"); /* 3 sockets */
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc); /* no tcp6/udp6: not an error */
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "netstat"), 1);
	CHECK(lp_find(t, "netstat", 0, line, sizeof line));
	CHECK_STR(line, "netstat tcp_close=0i,tcp_close_wait=0i,tcp_closing=0i,tcp_established=0i,tcp_fin_wait1=0i,"
			"tcp_fin_wait2=0i,tcp_last_ack=0i,tcp_listen=3i,tcp_none=0i,tcp_syn_recv=0i,tcp_syn_sent=0i,"
			"tcp_time_wait=0i,udp_socket=3i");
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/netstat/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 13);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* tcp6 adds states; an unknown state is tcp_none; udp6 adds sockets */
	tree_link(root, "net/tcp6", "proc/derived/net_tcp_states");
	tree_link(root, "net/udp6", "proc/procfs/proc__net__udp");
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "netstat", 0, line, sizeof line));
	CHECK_STR(line, "netstat tcp_close=0i,tcp_close_wait=0i,tcp_closing=0i,tcp_established=2i,tcp_fin_wait1=0i,"
			"tcp_fin_wait2=0i,tcp_last_ack=0i,tcp_listen=3i,tcp_none=1i,tcp_syn_recv=0i,tcp_syn_sent=0i,"
			"tcp_time_wait=1i,udp_socket=6i");

	/* every state, in a file of 200 KiB: lines cross the 64 KiB chunks */
	static char big[220 * 1024];
	size_t len = (size_t)snprintf(big, sizeof big, "  sl  local_address rem_address   st tx_queue\n");
	int want[12] = { 0 };
	for (int i = 0; len + 200 < sizeof big; i++) {
		int st = i % 12; /* 0 is not a kernel state: tcp_none */
		want[st]++;
		len += (size_t)snprintf(big + len, sizeof big - len,
					"%4d: 0100007F:%04X 0100007F:0016 %02X 00000000:00000000 00:00000000 00000000  "
					"1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
					i, i & 0xffff, st, 100000 + i);
	}
	tree_write(root, "net/tcp", big, len);
	tree_unlink(root, "net/tcp6");
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "netstat", 0, line, sizeof line));
	char expect[512];
	snprintf(expect, sizeof expect,
		 "netstat tcp_close=%di,tcp_close_wait=%di,tcp_closing=%di,tcp_established=%di,tcp_fin_wait1=%di,"
		 "tcp_fin_wait2=%di,tcp_last_ack=%di,tcp_listen=%di,tcp_none=%di,tcp_syn_recv=%di,tcp_syn_sent=%di,"
		 "tcp_time_wait=%di,udp_socket=6i",
		 want[7], want[8], want[11], want[1], want[4], want[5], want[9], want[10], want[0], want[3], want[2],
		 want[6]);
	CHECK_STR(line, expect);
	CHECK(want[1] > 100);

	/* malformed and truncated lines: counted error, the rest still counted */
	tree_link(root, "net/tcp", "proc/derived/net_tcp_malformed");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "2 malformed") != NULL);
	CHECK(lp_find(t, "netstat", 0, line, sizeof line));
	CHECK(strstr(line, "tcp_listen=2i") != NULL);

	/* no table at all: an error, no line */
	tree_unlink(root, "net/tcp");
	tree_unlink(root, "net/udp");
	tree_unlink(root, "net/udp6");
	t = gather(acc);
	CHECK(strstr(hg_acc_capture_errors(acc), "no readable socket table") != NULL);
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
