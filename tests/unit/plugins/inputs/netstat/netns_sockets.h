/* Test helpers for the netstat tests: a private network namespace, loopback
 * listeners, and a field of the emitted line. */
#ifndef HG_TEST_NETNS_SOCKETS_H
#define HG_TEST_NETNS_SOCKETS_H
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The integer value of field name in a line protocol line, or -1. */
static inline long lp_int_field(const char *l, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "%s=", name);
	const char *p = strstr(l, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* A private network namespace with lo up; with_user_ns: in a user namespace
 * when plain CLONE_NEWNET is not permitted. False when not permitted. */
static inline bool netns_isolate(bool with_user_ns)
{
	if (unshare(CLONE_NEWNET) != 0 && !(with_user_ns && unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0))
		return false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	bool ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static inline socklen_t loopback_addr(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof *a;
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_loopback;
	return sizeof *a;
}

/* A TCP listener on the loopback address of family, port chosen by the
 * kernel and written to *ss; -1 on failure. */
static inline int loopback_listener(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = loopback_addr(family, ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)ss, *len) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)ss, len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

#endif
