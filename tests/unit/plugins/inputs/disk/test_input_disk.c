/* disk input: mounts from a fixture mountinfo, statvfs under
 * HOST_MOUNT_PREFIX, path/device/mode/label tags, filters. Sizes are
 * checked against statvfs() of the same directory. */
#include <stdlib.h>
#include <sys/statvfs.h>
#include "acc.h"
#include "check.h"
#include "input_check.h"

extern const struct input_plugin hg_input_disk;

static char line[8192], v[128], expect[4096];
static const char *root;
static char host[300];

static const char *gather(struct acc *acc, char **mps, char **ignore_fs, char **ignore_opts)
{
	void *cfg = config_new(&hg_input_disk);
	char *none[] = { NULL }, *deflt[] = { "tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs", NULL };
	config_list(&hg_input_disk, cfg, "mount_points", mps ? mps : none);
	config_list(&hg_input_disk, cfg, "ignore_fs", ignore_fs ? ignore_fs : deflt);
	config_list(&hg_input_disk, cfg, "ignore_mount_opts", ignore_opts ? ignore_opts : none);
	void *st = plugin_start(&hg_input_disk, cfg);
	hg_acc_capture_clear(acc);
	CHECK_INT(hg_input_disk.gather(st, acc), GATHER_DONE);
	hg_input_disk.free(st);
	free(cfg);
	return hg_acc_capture_text(acc);
}

/* The fields the input must give for a directory, from our own statvfs. */
static const char *fields_of(const char *dir)
{
	struct statvfs st;
	if (statvfs(dir, &st) < 0)
		return "statvfs failed";
	unsigned long long bs = st.f_bsize, total = st.f_blocks * bs, free_ = st.f_bavail * bs,
			   used = (st.f_blocks - st.f_bfree) * bs, it = st.f_files, ifr = st.f_ffree;
	snprintf(expect, sizeof expect,
		 "free=%lluu,inodes_free=%lluu,inodes_total=%lluu,inodes_used=%lluu,inodes_used_percent=X,"
		 "total=%lluu,used=%lluu,used_percent=X",
		 free_, ifr, it, it - ifr, total, used);
	return expect;
}

/* The line's fields with both percentages replaced by X. */
static const char *fields_x(const char *l)
{
	static char out[4096];
	const char *sp = strchr(l, ' ');
	snprintf(out, sizeof out, "%s", sp ? sp + 1 : "");
	for (const char *k = "inodes_used_percent="; k; k = k[0] == 'i' ? "used_percent=" : NULL) {
		char *p = out;
		while ((p = strstr(p, k)) && p != out && p[-1] != ',')
			p++;
		if (!p)
			continue;
		p += strlen(k);
		char *e = strchr(p, ',');
		memmove(p + 1, e ? e : p + strlen(p), strlen(e ? e : p + strlen(p)) + 1);
		*p = 'X';
	}
	return out;
}

static void test_gather(void)
{
	root = tree_new();
	char proc[300], sys[300];
	snprintf(proc, sizeof proc, "%s/proc", root);
	snprintf(sys, sizeof sys, "%s/sys", root);
	snprintf(host, sizeof host, "%s/host", root);
	setenv("HOST_PROC", proc, 1);
	setenv("HOST_SYS", sys, 1);
	setenv("HOST_MOUNT_PREFIX", host, 1);
	tree_link(root, "proc/1/mountinfo", "proc/node_exporter/proc__1__mountinfo");
	/* the host's directories the fixture's mounts point at */
	tree_text(root, "host/boot/.keep", "");
	tree_text(root, "host/run/.keep", ""); /* tmpfs: ignored by default */
	tree_text(root, "host/var/lib/containers/storage/overlay/.keep", "");
	tree_text(root, "host/var/lib/kubelet/plugins/kubernetes.io/vsphere-volume/mounts/"
		  "[vsanDatastore] bafb9e5a-8856-7e6c-699c-801844e77a4a/"
		  "kubernetes-dynamic-pvc-3eba5bba-48a3-11e8-89ab-005056b92113.vmdk/.keep", "");
	tree_text(root, "sys/block/dm-2/dm/name", "vg-root\n");
	struct acc *acc = hg_acc_capture_new();

	const char *t = gather(acc, NULL, NULL, NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "disk,device=dm-2,fstype=ext4,label=vg-root,mode=rw,path=/"), 1);
	CHECK_INT(lp_count(t, "disk,device=sda3,fstype=ext2,mode=rw,path=/boot"), 1);
	CHECK_INT(lp_count(t, "disk,device=mapper/rhel-root,fstype=xfs,mode=rw,path=/var/lib/containers/storage/overlay"), 1);
	CHECK_INT(lp_count(t, "disk,device=sda,fstype=ext4,mode=rw,path=/var/lib/kubelet/plugins/kubernetes.io/"
			      "vsphere-volume/mounts/[vsanDatastore]\\ bafb9e5a-8856-7e6c-699c-801844e77a4a/"
			      "kubernetes-dynamic-pvc-3eba5bba-48a3-11e8-89ab-005056b92113.vmdk"), 1);
	int lines = 0;
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_INT(lines, 4); /* no tmpfs, autofs, proc, sysfs, cgroup ... */
	CHECK(lp_find(t, "disk,device=sda3,fstype=ext2,mode=rw,path=/boot", 0, line, sizeof line));
	char dir[600];
	snprintf(dir, sizeof dir, "%s/boot", host);
	CHECK_STR(fields_x(line), fields_of(dir));
	double up = lp_float(line, "used_percent");
	CHECK(up >= 0 && up <= 100);
	CHECK(lp_find(t, "disk,device=dm-2,fstype=ext4,label=vg-root,mode=rw,path=/", 0, line, sizeof line));
	CHECK_STR(fields_x(line), fields_of(host));
	struct schema readme = { 0 }, got = { 0 };
	CHECK_INT(schema_from_readme(&readme, "../plugins/inputs/disk/README.md", "dm"), 0);
	/* input_check.h's schema reader splits at the first space, escaped or
	 * not: leave the escaped-space line out of the schema comparison */
	static char plain[16384];
	size_t pn = 0;
	for (const char *l = t; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
		if (!memmem(l, len, "\\ ", 2) && pn + len < sizeof plain) {
			memcpy(plain + pn, l, len);
			pn += len;
		}
		l += len;
	}
	plain[pn] = '\0';
	schema_from_lp(&got, plain);
	CHECK_INT(readme.n, 16);
	CHECK_INT(schema_diff(&readme, &got), 0);

	/* filters: mount points, file-system types, mount options; ro mode;
	 * a mount point already under the prefix keeps the host's path */
	char mi[2048];
	snprintf(mi, sizeof mi,
		 "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/dm-2 rw\n"
		 "48 45 260:3 / /boot ro,relatime shared:92 - ext2 /dev/sda3 rw\n"
		 "28 29 0:25 / /run rw,nosuid,relatime shared:5 - tmpfs tmpfs rw\n"
		 "50 29 8:1 / %s/var/lib/containers/storage/overlay rw,nodev - xfs /dev/sdb1 rw\n",
		 host);
	tree_text(root, "proc/1/mountinfo", mi);
	char *mps[] = { "/boot", "/run", NULL }, *fs_none[] = { NULL };
	t = gather(acc, mps, fs_none, NULL);
	CHECK_STR(hg_acc_capture_errors(acc), "");
	CHECK_INT(lp_count(t, "disk,device=sda3,fstype=ext2,mode=ro,path=/boot"), 1);
	CHECK_INT(lp_count(t, "disk,device=tmpfs,fstype=tmpfs,mode=rw,path=/run"), 1);
	CHECK_INT(lp_count(t, "disk,device=dm-2,fstype=ext4,label=vg-root,mode=rw,path=/"), 0);
	char *nodev[] = { "nodev", NULL }, *ext[] = { "ext2", NULL };
	t = gather(acc, NULL, ext, nodev);
	CHECK_INT(lp_count(t, "disk,device=dm-2,fstype=ext4,label=vg-root,mode=rw,path=/"), 1);
	CHECK_INT(lp_count(t, "disk,device=tmpfs,fstype=tmpfs,mode=rw,path=/run"), 1);
	CHECK_INT(lp_count(t, "disk,device=sda3,fstype=ext2,mode=ro,path=/boot"), 0);
	CHECK_INT(lp_count(t, "disk,device=sdb1,fstype=xfs,mode=rw,path=/var/lib/containers/storage/overlay"), 0);
	t = gather(acc, NULL, ext, NULL);
	CHECK(lp_find(t, "disk,device=sdb1,fstype=xfs,mode=rw,path=/var/lib/containers/storage/overlay", 0, line,
		      sizeof line));
	snprintf(dir, sizeof dir, "%s/var/lib/containers/storage/overlay", host);
	CHECK_STR(fields_x(line), fields_of(dir));
	CHECK(lp_field(line, "total", v, sizeof v));

	/* malformed lines: counted, the good ones still gathered */
	tree_text(root, "proc/1/mountinfo", "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/dm-2 rw\n"
					     "30 1 8:1 / /x rw\n"
					     "garbage\n"
					     "31 1 8:2 / /y rw - ext4");
	t = gather(acc, NULL, NULL, NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "3 malformed") != NULL);
	CHECK_INT(lp_count(t, "disk,device=dm-2,fstype=ext4,label=vg-root,mode=rw,path=/"), 1);

	/* no mountinfo at all */
	tree_unlink(root, "proc/1/mountinfo");
	t = gather(acc, NULL, NULL, NULL);
	CHECK(strstr(hg_acc_capture_errors(acc), "mountinfo") != NULL);
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
