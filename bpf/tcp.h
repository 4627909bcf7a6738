/* TCP trouble on the targets' sockets: shared by bpf/tcp.bpf.c, the loader and Swift. */
#ifndef ARCHBENCH_TCP_H
#define ARCHBENCH_TCP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per process (keyed by tgid). A socket belongs to a target when its local port is one the target
 * listens on, when its remote port is (the target's clients and peers), or when the event happens in
 * the target's own context. */
struct tcp_stats {
	__u64 retransmits;
	__u64 resets_sent;
	__u64 resets_received;
	__u64 listen_overflows;	/* SYNs or connections dropped because the accept queue was full */
	__u64 drops;		/* other drops on the socket: backlog full, out of memory, receive buffer full */
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct tcp_stats) == 40, "tcp_stats layout is shared with the BPF side");
#endif

#endif
