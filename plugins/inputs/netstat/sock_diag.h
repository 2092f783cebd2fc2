/* Socket counts by state from a netlink NETLINK_SOCK_DIAG dump: the kernel
 * sends one binary record per socket, so nothing is formatted as text and
 * parsed back (unlike /proc/net/tcp). Sees the caller's network namespace. */
#ifndef HG_NETSTAT_SOCK_DIAG_H
#define HG_NETSTAT_SOCK_DIAG_H
#include <stddef.h>
#include <stdint.h>

struct sock_diag {
	int fd; /* -1 until the first dump; kept open between gathers */
	uint32_t seq;
};

void hg_sock_diag_init(struct sock_diag *d);
void hg_sock_diag_close(struct sock_diag *d);

/* Dumps every socket of family (AF_INET, AF_INET6) and protocol
 * (IPPROTO_TCP, IPPROTO_UDP) whose state bit is in states, adding 1 to
 * by_state[idiag_state] per socket, by_state[0] when the state is not below
 * nstates. buf (cap bytes, at least 32 KiB: the kernel's largest dump
 * message batch) is the caller's reused receive buffer. 0, or -errno; on
 * an error by_state holds a partial count and the socket is closed, so no
 * half-read dump is left for the next call. */
int hg_sock_diag_count(struct sock_diag *d, void *buf, size_t cap, int family, int protocol, uint32_t states,
		    int64_t *by_state, size_t nstates);

#endif
