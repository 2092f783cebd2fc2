/* diskio input: diskstats counters, device globs and udev links, udev
 * tags and serial, wwid, and io_await/io_svctm/io_util from deltas. */
#include <stdlib.h>
#include "acc.h"
#include "agent_internal.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_diskio;

static char line[8192];
static const char *root;

static void *start(char **devices, char **tags, bool serial)
{
	void *cfg = config_new(&hg_input_diskio);
	char *none[] = { NULL };
	config_list(&hg_input_diskio, cfg, "devices", devices ? devices : none);
	config_list(&hg_input_diskio, cfg, "device_tags", tags ? tags : none);
	config_bool(&hg_input_diskio, cfg, "skip_serial_number", !serial);
	void *st = plugin_start(&hg_input_diskio, cfg);
	free(cfg);
	return st;
}

static const char *gather(void *st, struct acc *acc, int64_t t)
{
	hg_acc_capture_clear(acc);
	hg_acc_begin_gather(acc, t);
	CHECK_INT(hg_input_diskio.gather(st, acc), GATHER_DONE);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	char proc[300], sys[300], run[300];
	snprintf(proc, sizeof proc, "%s/proc", root);
	snprintf(sys, sizeof sys, "%s/sys", root);
	snprintf(run, sizeof run, "%s/run", root);
	setenv("HOST_PROC", proc, 1);
	setenv("HOST_SYS", sys, 1);
	setenv("HOST_RUN", run, 1);
	tree_link(root, "proc/diskstats", "proc/node_exporter/proc__diskstats");
	tree_text(root, "run/udev/data/b8:0", "S:disk/by-id/ata-ST1000_ABC\nS:disk/by-path/pci-0000:00:1f.2-ata-1\n"
					      "E:ID_SERIAL= ST1000_ABC \nE:ID_FS_TYPE=ext4\nG:systemd\n");
	tree_text(root, "run/udev/data/b8:1", "E:ID_FS_TYPE=vfat\n");
	tree_text(root, "sys/block/sda/wwid", "naa.5000c500a1b2c3d4\n");
	struct acc *acc = hg_acc_capture_new();
	const int64_t t0 = 1700000000000000000;

	/* defaults: every device, no serial, no deltas on the first gather */
	void *st = start(NULL, NULL, false);
	const char *t = gather(st, acc, t0);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "diskio,name=ram0"), 1);
	CHECK_INT(lp_count(t, "diskio,name=dm-0"), 1);
	CHECK(lp_find(t, "diskio,name=sda,wwid=naa.5000c500a1b2c3d4", 0, line, sizeof line));
	CHECK_STR(line, "diskio,name=sda,wwid=naa.5000c500a1b2c3d4 io_time=9653880u,iops_in_progress=0u,"
			"merged_reads=34367663u,merged_writes=11134226u,read_bytes=513713216512u,read_time=18492372u,"
			"reads=25354637u,weighted_io_time=82621804u,write_bytes=258916880384u,write_time=63877960u,"
			"writes=28444756u");
	int lines = 0;
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 51);

	/* 10 s later: deltas for sda, io_util 0 for idle devices */
	tree_link(root, "proc/diskstats", "proc/derived/diskstats_plus_io");
	t = gather(st, acc, t0 + 10000000000);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "diskio,name=sda,wwid=naa.5000c500a1b2c3d4", 0, line, sizeof line));
	CHECK_STR(line, "diskio,name=sda,wwid=naa.5000c500a1b2c3d4 io_await=3,io_svctm=1.3333333333333333,"
			"io_time=9654080u,io_util=2,iops_in_progress=2u,merged_reads=34367663u,merged_writes=11134226u,"
			"read_bytes=513713626112u,read_time=18492672u,reads=25354737u,weighted_io_time=82622254u,"
			"write_bytes=258917085184u,write_time=63878110u,writes=28444806u");
	CHECK(lp_find(t, "diskio,name=sda1", 0, line, sizeof line));
	CHECK_STR(line, "diskio,name=sda1 io_time=36u,io_util=0,iops_in_progress=0u,merged_reads=0u,merged_writes=0u,"
			"read_bytes=1024000u,read_time=36u,reads=250u,weighted_io_time=36u,write_bytes=0u,write_time=0u,"
			"writes=0u");
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/diskio/README.md", "delta busy wwid"), 0);
	schema_from_lp(&got, t);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* counters going back (a reset): no derived fields */
	tree_link(root, "proc/diskstats", "proc/node_exporter/proc__diskstats");
	t = gather(st, acc, t0 + 20000000000);
	CHECK(lp_find(t, "diskio,name=sda,wwid=naa.5000c500a1b2c3d4", 0, line, sizeof line));
	CHECK(strstr(line, "io_util") == NULL && strstr(line, "io_await") == NULL);
	CHECK(lp_find(t, "diskio,name=sda1", 0, line, sizeof line));
	CHECK(strstr(line, "io_util=0,") != NULL);
	hg_input_diskio.free(st);

	/* globs on names and udev links; udev tags; serial */
	char *devs[] = { "sd[a-z]1", "disk/by-id/ata-*", NULL }, *tags[] = { "ID_FS_TYPE", "ID_MISSING", NULL };
	st = start(devs, tags, true);
	t = gather(st, acc, t0);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	lines = 0;
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 4); /* sda by its link; sda1, sdb1, sdc1 */
	CHECK_INT(lp_count(t, "diskio,ID_FS_TYPE=ext4,name=sda,serial=ST1000_ABC,wwid=naa.5000c500a1b2c3d4"), 1);
	CHECK_INT(lp_count(t, "diskio,ID_FS_TYPE=vfat,name=sda1,serial=unknown"), 1);
	CHECK_INT(lp_count(t, "diskio,name=sdb1,serial=unknown"), 1);
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/diskio/README.md", "serial wwid");
	schema_from_lp(&got2, t);
	CHECK(got2.n > 0);
	hg_input_diskio.free(st);

	/* malformed lines: counted error, the rest still emitted */
	tree_link(root, "proc/diskstats", "proc/derived/diskstats_malformed");
	st = start(NULL, NULL, false);
	t = gather(st, acc, t0);
	CHECK(strstr(hg_acc_capture_errors(acc), "2 malformed") != NULL);
	CHECK_INT(lp_count(t, "diskio,name=sda1"), 0);
	CHECK_INT(lp_count(t, "diskio,name=sda2"), 0);
	CHECK_INT(lp_count(t, "diskio,name=sda3"), 1);
	tree_unlink(root, "proc/diskstats");
	t = gather(st, acc, t0);
	CHECK(strstr(hg_acc_capture_errors(acc), "diskstats") != NULL);
	CHECK_STR(t, "");
	hg_input_diskio.free(st);

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
