/* NETLINK_SOCK_DIAG dump counted by state (see sock_diag.h). */
#include "sock_diag.h"
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void hg_sock_diag_init(struct sock_diag *d)
{
	d->fd = -1;
	d->seq = 0;
}

void hg_sock_diag_close(struct sock_diag *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static int send_request(struct sock_diag *d, int family, int protocol, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = ++d->seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = (uint8_t)protocol;
	req.r.idiag_states = states;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	do
		n = sendto(d->fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof req ? 0 : -EIO;
}

/* Counts the records of one received batch. 1 at the end of the dump,
 * 0 for more, -errno on an error record. NLMSG_OK compares its int length
 * with the __u32 nlmsg_len, which clang's -Wsign-compare flags: the
 * kernel's macro, used as documented. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
static int count_batch(const struct sock_diag *d, const void *buf, size_t len, int64_t *by_state, size_t nstates)
{
	int left = (int)len;
	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != d->seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE) {
			/* The dump's own error, if any, is the payload of DONE. */
			int e = 0;
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof e))
				memcpy(&e, NLMSG_DATA(h), sizeof e);
			return e < 0 ? e : 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
				return -EBADMSG;
			return e->error < 0 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			continue;
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		by_state[m->idiag_state < nstates ? m->idiag_state : 0]++;
	}
	return left == 0 ? 0 : -EBADMSG;
}
#pragma GCC diagnostic pop

int hg_sock_diag_count(struct sock_diag *d, void *buf, size_t cap, int family, int protocol, uint32_t states,
		    int64_t *by_state, size_t nstates)
{
	if (d->fd < 0) {
		d->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (d->fd < 0)
			return -errno;
	}
	int rc = send_request(d, family, protocol, states);
	while (rc == 0) {
		struct iovec iov = { .iov_base = buf, .iov_len = cap };
		struct sockaddr_nl from;
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		do
			n = recvmsg(d->fd, &msg, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			rc = -errno;
		else if (n == 0 || (msg.msg_flags & MSG_TRUNC))
			rc = -EMSGSIZE;
		else if (from.nl_pid == 0) /* only the kernel answers a dump */
			rc = count_batch(d, buf, (size_t)n, by_state, nstates);
	}
	if (rc < 0)
		hg_sock_diag_close(d);
	return rc < 0 ? rc : 0;
}
