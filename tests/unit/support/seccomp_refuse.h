/* A seccomp filter that makes one system call fail with EPERM, as a
 * container's seccomp profile or systemd's IPAddressDeny= does, for tests
 * that check what the agent says then. Installed in a forked child, so the
 * test itself stays unfiltered. */
#ifndef HG_TEST_SECCOMP_REFUSE_H
#define HG_TEST_SECCOMP_REFUSE_H
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* A test exits with this (a ctest skip) when the kernel refuses the filter. */
#define SECCOMP_SKIP 77

#if defined(__x86_64__)
#define SECCOMP_FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_FILTER_ARCH AUDIT_ARCH_AARCH64
#endif

/* System call nr fails with EPERM, when arg0 >= 0 only if its first argument
 * is arg0 (its low 32 bits, first on these little-endian targets: enough for
 * an int such as socket()'s domain); every other call is allowed. Another
 * ABI's numbers (i386's int 0x80 on x86_64) mean other calls: let them be,
 * nothing here uses them. 0, or -errno of prctl. */
static inline int seccomp_refuse(int nr, long arg0)
{
#ifdef SECCOMP_FILTER_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_FILTER_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		/* arg0 < 0: any first argument (the jump is taken both ways). */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg0, 0, arg0 < 0 ? 0 : 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
		return -errno;
	return 0;
#else
	(void)nr;
	(void)arg0;
	return -ENOSYS; /* no filter written for this architecture */
#endif
}

#endif
