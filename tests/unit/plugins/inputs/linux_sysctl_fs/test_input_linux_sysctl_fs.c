/* linux_sysctl_fs input: /proc/sys/fs counters over fixtures. */
#include <stdlib.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_linux_sysctl_fs;

static char line[8192];
static const char *root;

static const char *gather(struct acc *acc)
{
	void *cfg = config_new(&hg_input_linux_sysctl_fs);
	void *st = plugin_start(&hg_input_linux_sysctl_fs, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_linux_sysctl_fs.gather(st, acc), GATHER_DONE);
	hg_input_linux_sysctl_fs.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

static void test_gather(void)
{
	root = tree_new();
	setenv("HOST_PROC", root, 1);
	tree_link(root, "sys/fs/file-nr", "proc/node_exporter/proc__sys__fs__file-nr");
	tree_text(root, "sys/fs/aio-nr", "3\n");
	tree_text(root, "sys/fs/aio-max-nr", "65536\n");
	tree_text(root, "sys/fs/inode-state", "35952\t12957\t0\t0\t0\t0\t0\n");
	tree_text(root, "sys/fs/dentry-state", "64340\t55274\t45\t0\t0\t0\n");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "linux_sysctl_fs", 0, line, sizeof line));
	CHECK_STR(line, "linux_sysctl_fs aio-nr=3u,aio-max-nr=65536u,inode-nr=35952u,inode-free-nr=12957u,"
			"inode-preshrink-nr=0u,dentry-nr=64340u,dentry-unused-nr=55274u,dentry-age-limit=45u,"
			"dentry-want-pages=0u,file-nr=1024u,file-max=1631329u");
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/linux_sysctl_fs/README.md", ""), 0);
	schema_from_lp(&got, t);
	CHECK_INT(readme.n, 11);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* quota and super files when present; fewer columns give fewer fields */
	tree_text(root, "sys/fs/dquot-nr", "7\n");
	tree_text(root, "sys/fs/dquot-max", "8\n");
	tree_text(root, "sys/fs/super-nr", "9\n");
	tree_text(root, "sys/fs/super-max", "10\n");
	tree_text(root, "sys/fs/dentry-state", "64340\t55274\n");
	t = gather(acc);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK(lp_find(t, "linux_sysctl_fs", 0, line, sizeof line));
	CHECK_STR(line, "linux_sysctl_fs aio-nr=3u,aio-max-nr=65536u,dquot-nr=7u,dquot-max=8u,super-nr=9u,"
			"super-max=10u,inode-nr=35952u,inode-free-nr=12957u,inode-preshrink-nr=0u,dentry-nr=64340u,"
			"dentry-unused-nr=55274u,file-nr=1024u,file-max=1631329u");
	tree_text(root, "sys/fs/dentry-state", "64340\t55274\t45\t0\t0\t0\n");
	struct schema readme2 = { 0 }, got2 = { 0 };
	schema_from_readme(&readme2, "../plugins/inputs/linux_sysctl_fs/README.md", "quota super");
	schema_from_lp(&got2, gather(acc));
	CHECK_INT(readme2.n, 15);
	CHECK_INT(schema_diff(&readme2, &got2), 0);

	/* malformed: that file's fields are left out with an error */
	tree_text(root, "sys/fs/inode-state", "35952\t-1\t0\n");
	tree_text(root, "sys/fs/aio-nr", "");
	tree_text(root, "sys/fs/file-nr", "1024 0 1631329\n"); /* spaces, not tabs */
	tree_unlink(root, "sys/fs/super-nr");
	tree_unlink(root, "sys/fs/super-max");
	tree_unlink(root, "sys/fs/dquot-nr");
	tree_unlink(root, "sys/fs/dquot-max");
	t = gather(acc);
	const char *e = hg_acc_capture_errors(acc);
	CHECK(strstr(e, "inode-state") != NULL);
	CHECK(strstr(e, "aio-nr") != NULL);
	CHECK(strstr(e, "file-nr") != NULL);
	CHECK(lp_find(t, "linux_sysctl_fs", 0, line, sizeof line));
	CHECK_STR(line, "linux_sysctl_fs aio-max-nr=65536u,dentry-nr=64340u,dentry-unused-nr=55274u,"
			"dentry-age-limit=45u,dentry-want-pages=0u");

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
