/* TCP trouble on the targets' sockets: shared by bpf/tcp.bpf.c, the loader and Swift. */
#ifndef ARCHBENCH_TCP_H
#define ARCHBENCH_TCP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per process (keyed by tgid). A socket belongs to a target when the target connected or listened
 * with it, or when its local port is one the target listens on (the connections it accepted). */
struct tcp_stats {
	__u64 retransmits;
	__u64 resets_sent;
	__u64 resets_received;
	__u64 drops;		/* drops on the socket: backlog full, out of memory, receive buffer full */
};

/* What an event in `tcp_events` was. */
enum ab_tcp_kind {
	AB_TCP_RETRANSMIT = 0,
	AB_TCP_RESET_SENT = 1,
	AB_TCP_RESET_RECEIVED = 2,
	AB_TCP_LISTEN_OVERFLOW = 3,	/* never sent by the kernel side: a listener's drops have no
				 * event of their own and are read from the listener (TCPProbe) */
	AB_TCP_DROP = 4,
};

/* Each counted event, with its time, through `tcp_events`: rare enough to send one by one, so that
 * the analysis can line it up with the client's slow requests. */
struct tcp_event {
	__u64 ts_ns;
	__u32 tgid;
	__u32 kind;	/* enum ab_tcp_kind */
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct tcp_stats) == 32, "tcp_stats layout is shared with the BPF side");
_Static_assert(sizeof(struct tcp_event) == 16, "tcp_event layout is shared with the BPF side");
#endif

#endif
