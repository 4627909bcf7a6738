#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ab_listening.h"

enum { TCP_LISTEN_STATE = 10 };

/* The socket's drop count from the reply's INET_DIAG_SKMEMINFO attribute, when there is one. */
static void read_drops(const struct nlmsghdr *reply, const struct inet_diag_msg *socket_info,
		       struct ab_listening_socket *out)
{
	int remaining = (int)reply->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*socket_info));
	const struct rtattr *attribute = (const struct rtattr *)(socket_info + 1);

	for (; RTA_OK(attribute, remaining); attribute = RTA_NEXT(attribute, remaining)) {
		if (attribute->rta_type != INET_DIAG_SKMEMINFO ||
		    RTA_PAYLOAD(attribute) < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
			continue;
		out->drops = ((const uint32_t *)RTA_DATA(attribute))[SK_MEMINFO_DROPS];
		out->has_drops = 1;
	}
}

/* Sends one dump request for `family` and reads the replies into `out`; returns the running count. */
static long dump_family(int netlink, int family, struct ab_listening_socket *out, size_t capacity, long found)
{
	struct {
		struct nlmsghdr header;
		struct inet_diag_req_v2 request;
	} message = {
		.header = { .nlmsg_len = sizeof(message), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.request = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
			     .idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1), .idiag_states = 1u << TCP_LISTEN_STATE },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	/* Aligned for nlmsghdr: the replies are parsed in place. */
	static __thread long buffer[8192 / sizeof(long)];

	if (sendto(netlink, &message, sizeof(message), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t length = recv(netlink, buffer, sizeof(buffer), 0);
		struct nlmsghdr *reply = (struct nlmsghdr *)buffer;

		if (length < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (length == 0)
			return found;
		/* NLMSG_NEXT counts `length` down: a dump's NLMSG_DONE may come in a later read. */
		for (; NLMSG_OK(reply, (size_t)length); reply = NLMSG_NEXT(reply, length)) {
			if (reply->nlmsg_type == NLMSG_DONE)
				return found;
			if (reply->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *error = NLMSG_DATA(reply);
				return error->error ? error->error : -EPROTO;
			}
			if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			struct inet_diag_msg *socket_info = NLMSG_DATA(reply);
			if ((size_t)found < capacity) {
				out[found] = (struct ab_listening_socket){ .inode = socket_info->idiag_inode,
					.port = ntohs(socket_info->id.idiag_sport), .ipv6 = family == AF_INET6 };
				read_drops(reply, socket_info, &out[found]);
			}
			found++;
		}
	}
}

long ab_listening_sockets(struct ab_listening_socket *out, size_t capacity)
{
	int netlink = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	long found;

	if (netlink < 0)
		return -errno;
	found = dump_family(netlink, AF_INET, out, capacity, 0);
	/* A kernel built without IPv6 answers ENOENT for it: that family simply has no sockets. */
	if (found >= 0) {
		long with_ipv6 = dump_family(netlink, AF_INET6, out, capacity, found);
		found = with_ipv6 == -ENOENT ? found : with_ipv6;
	}
	close(netlink);
	return found;
}
