/* Disk spool durability: order across segments, restart at the acknowledged
 * point, kill -9 (a child that SIGKILLs itself without closing), a record
 * held in memory when killed, files copied from under a live spool; each
 * under the fsync policies. Each case works in its own temp directory.
 * Damaged files and max_size are in test_spool_damage.c. */
#include <signal.h>
#include <sys/wait.h>
#include "check.h"
#include "spool_harness.h"

static void test_order(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	struct spool *s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	size_t len = 0;
	uint32_t nl = 0;
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(hg_spool_ack(s, err, sizeof err), -1);
	uint64_t bytes = 0;
	for (int i = 0; i < 50; i++) {
		CHECK_INT(append_rec(s, i, 3), 0);
		bytes += rec_bytes(i, 3);
	}
	CHECK_INT(hg_spool_pending_lines(s), 150);
	CHECK_INT(hg_spool_pending_bytes(s), bytes);
	uint64_t disk;
	int nseg = seg_files(dir, &disk);
	CHECK(nseg >= 5); /* ~170-byte records, 1 KiB segments */
	CHECK_INT(disk, bytes + 50 * SPOOL_HDR);
	/* Peeking twice without an ack gives the same record. */
	CHECK_INT(expect_rec(s, 0, 3, 0), 0);
	CHECK_INT(expect_rec(s, 0, 3, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 147);
	CHECK_INT(hg_spool_pending_bytes(s), bytes - rec_bytes(0, 3));
	for (int i = 1; i < 30; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	/* Segments read to their end are gone from disk. */
	int nseg2 = seg_files(dir, &disk);
	CHECK(nseg2 < nseg && nseg2 >= 2);
	for (int i = 30; i < 50; i++)
		CHECK_INT(expect_rec(s, i, 3, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	CHECK_INT(hg_spool_pending_bytes(s), 0);
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(seg_files(dir, &disk), 1); /* the one appends go to */
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	CHECK_INT(hg_spool_sync(s), 0);
	/* Appends after draining are read next. */
	CHECK_INT(append_rec(s, 50, 1), 0);
	CHECK_INT(expect_rec(s, 50, 1, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

static void test_restart(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	struct spool *s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 20; i++)
		CHECK_INT(append_rec(s, i, 2), 0);
	for (int i = 0; i < 7; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	CHECK_INT(expect_rec(s, 7, 2, 0), 0); /* peeked, not acked: must come back */
	hg_spool_close(s);

	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 26);
	uint64_t bytes = 0;
	for (int i = 7; i < 20; i++)
		bytes += rec_bytes(i, 2);
	CHECK_INT(hg_spool_pending_bytes(s), bytes);
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	for (int i = 7; i < 12; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	for (int i = 20; i < 25; i++)
		CHECK_INT(append_rec(s, i, 2), 0);
	hg_spool_close(s);

	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 26);
	for (int i = 12; i < 25; i++)
		CHECK_INT(expect_rec(s, i, 2, 1), 0);
	CHECK_INT(hg_spool_pending_lines(s), 0);
	hg_spool_close(s);

	/* Drained and restarted: nothing comes back, and new segments sort
	 * after the acknowledged one. */
	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	size_t len;
	uint32_t nl;
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	CHECK_INT(append_rec(s, 99, 1), 0);
	hg_spool_close(s);
	s = open_spool(dir, 1 << 20, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(expect_rec(s, 99, 1, 1), 0);
	CHECK_INT(hg_spool_peek(s, &rbuf, &rcap, &len, &nl, err, sizeof err), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* kill -9: a child appends and acknowledges, then SIGKILLs itself without
 * closing or syncing; the parent reopens and finds everything. */
static void test_kill(int64_t fsync_ns)
{
	char dir[64];
	mktemp_dir(dir, sizeof dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct spool *s = open_spool(dir, 1 << 20, 2048, fsync_ns);
		if (!s)
			_exit(2);
		for (int i = 0; i < 40; i++)
			if (append_rec(s, i, 4) != 0)
				_exit(3);
		for (int i = 0; i < 9; i++)
			if (expect_rec(s, i, 4, 1) != 0)
				_exit(4);
		if (expect_rec(s, 9, 4, 0) != 0)
			_exit(5);
		raise(SIGKILL);
		_exit(6);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct spool *s = open_spool(dir, 1 << 20, 2048, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_pending_lines(s), 31 * 4);
	CHECK_INT(hg_spool_dropped_lines(s), 0);
	for (int i = 9; i < 40; i++)
		CHECK_INT(expect_rec(s, i, 4, 1), 0);
	hg_spool_close(s);
	rm_rf(dir);
}

/* kill -9 while the record being written exists only in memory (max_size
 * removed its segment): the next open counts its lines as dropped, once;
 * written and acknowledged instead, nothing is counted. */
static void test_kill_held(int64_t fsync_ns, int write_it)
{
	char dir[64], held[128];
	mktemp_dir(dir, sizeof dir);
	snprintf(held, sizeof held, "%s/held", dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct spool *s = open_spool(dir, 4096, 1024, fsync_ns);
		if (!s)
			_exit(2);
		int i = 0;
		for (; i < 10; i++)
			if (append_rec(s, i, 3) != 0)
				_exit(3);
		if (expect_rec(s, 0, 3, 0) != 0) /* record 0 handed to the writer */
			_exit(4);
		uint64_t d0 = hg_spool_dropped_lines(s);
		while (hg_spool_dropped_lines(s) == d0 && i < 1000) /* until max_size takes its segment */
			if (append_rec(s, i++, 3) != 0)
				_exit(5);
		if (access(held, F_OK) != 0)
			_exit(6); /* the marker is there before the agent can die */
		if (write_it) {
			if (hg_spool_ack(s, err, sizeof err) != 0 || access(held, F_OK) == 0)
				_exit(7); /* written: the marker goes */
		}
		if (fsync_ns)
			hg_spool_sync(s);
		raise(SIGKILL);
		_exit(8);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (!WIFSIGNALED(status))
		fprintf(stderr, "child exit %d\n", WEXITSTATUS(status));
	struct spool *s = open_spool(dir, 4096, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), write_it ? 0 : 3);
	CHECK(access(held, F_OK) != 0);
	hg_spool_close(s);
	s = open_spool(dir, 4096, 1024, fsync_ns);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hg_spool_dropped_lines(s), 0); /* counted once */
	hg_spool_close(s);
	rm_rf(dir);
}

/* Files copied from under a live spool (never closed) open as a spool with
 * everything; a second spool on the live directory is refused. */
static void test_copy_live(void)
{
	char dir[64], dir2[64], cmd[256];
	mktemp_dir(dir, sizeof dir);
	mktemp_dir(dir2, sizeof dir2);
	struct spool *s = open_spool(dir, 1 << 20, 1024, 1000000000);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 30; i++)
		CHECK_INT(append_rec(s, i, 1), 0);
	CHECK_INT(expect_rec(s, 0, 1, 1), 0);
	CHECK_INT(expect_rec(s, 1, 1, 1), 0);
	struct spool_opts o = { .dir = dir };
	struct spool *s2 = NULL;
	CHECK_INT(hg_spool_open(&s2, &o, err, sizeof err), -1);
	CHECK(strstr(err, "in use") != NULL);
	snprintf(cmd, sizeof cmd, "cp %s/* %s/", dir, dir2);
	CHECK_INT(system(cmd), 0);
	s2 = open_spool(dir2, 1 << 20, 1024, 1000000000);
	CHECK(s2 != NULL);
	if (s2) {
		CHECK_INT(hg_spool_pending_lines(s2), 28);
		for (int i = 2; i < 30; i++)
			CHECK_INT(expect_rec(s2, i, 1, 1), 0);
		hg_spool_close(s2);
	}
	hg_spool_close(s);
	rm_rf(dir);
	rm_rf(dir2);
}

/* The cases that hold under either fsync policy, each under both. */
static void test_order_fsync_each(void)
{
	test_order(FSYNC_EACH);
}
static void test_order_fsync_1s(void)
{
	test_order(FSYNC_1S);
}
static void test_restart_fsync_each(void)
{
	test_restart(FSYNC_EACH);
}
static void test_restart_fsync_1s(void)
{
	test_restart(FSYNC_1S);
}
static void test_kill_fsync_each(void)
{
	test_kill(FSYNC_EACH);
}
static void test_kill_fsync_1s(void)
{
	test_kill(FSYNC_1S);
}

/* A record held in memory when killed: lost and counted (not written, either
 * policy) or written and acknowledged (nothing counted). */
static const struct {
	int64_t fsync_ns;
	int write_it;
} kill_held[] = {
	{ FSYNC_EACH, 0 },
	{ FSYNC_1S, 0 },
	{ FSYNC_EACH, 1 },
};

static void test_kill_held_all(void)
{
	for (size_t i = 0; i < sizeof kill_held / sizeof kill_held[0]; i++)
		test_kill_held(kill_held[i].fsync_ns, kill_held[i].write_it);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_order_fsync_each),
		CHECK_CASE(test_order_fsync_1s),
		CHECK_CASE(test_restart_fsync_each),
		CHECK_CASE(test_restart_fsync_1s),
		CHECK_CASE(test_kill_fsync_each),
		CHECK_CASE(test_kill_fsync_1s),
		CHECK_CASE(test_kill_held_all),
		CHECK_CASE(test_copy_live),
	};
	return CHECK_RUN_WITH(argc, argv, cases, spool_setup, spool_teardown);
}
