// SPDX-License-Identifier: GPL-2.0
/* Retransmits, resets and drops on the targets' TCP sockets (listen drops are read from user space:
 * see AB_TCP_LISTEN_OVERFLOW). Most of these
 * events happen in softirq context, where the current task is unrelated (over loopback it is often
 * the peer that sent the segment), so a socket's owner is never taken from the current task when the
 * event happens. It is learnt when the socket changes state (ab_tcp_state), or else from the
 * listener's local port of an accepted connection (`tcp_ports`, filled there and by the loader from
 * the listeners alive at attach). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "tcp.h"

DEFINE_LOST_MAP(tcp_lost);

/* Local TCP port → the tgid listening on it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);
	__type(value, __u32);
} tcp_ports SEC(".maps");

/* A target's own connecting or listening socket → its tgid; removed when the socket is destroyed.
 * LRU: a socket whose destruction was missed (opened before attach) ages out instead of filling it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} tcp_socket_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct tcp_stats);
} tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} tcp_events SEC(".maps");

static __always_inline __u32 owner_of(const struct sock *sk)
{
	__u64 socket = (__u64)sk;
	__u16 local;
	__u32 *tgid;

	if (!sk)
		return 0;
	tgid = bpf_map_lookup_elem(&tcp_socket_owner, &socket);
	if (!tgid) {
		local = sk->__sk_common.skc_num;
		tgid = bpf_map_lookup_elem(&tcp_ports, &local);
	}
	return tgid ? *tgid : 0;
}

static __always_inline void count(const struct sock *sk, enum ab_tcp_kind counter)
{
	__u32 tgid = owner_of(sk);
	struct tcp_stats *stats, fresh = {};
	struct tcp_event *event;

	if (!tgid)
		return;
	stats = bpf_map_lookup_elem(&tcp_stats, &tgid);
	if (!stats) {
		bpf_map_update_elem(&tcp_stats, &tgid, &fresh, BPF_NOEXIST);
		stats = bpf_map_lookup_elem(&tcp_stats, &tgid);
		if (!stats) {
			count_lost(&tcp_lost, LOST_MAP_FULL);
			return;
		}
	}
	switch (counter) {
	case AB_TCP_RETRANSMIT: __sync_fetch_and_add(&stats->retransmits, 1); break;
	case AB_TCP_RESET_SENT: __sync_fetch_and_add(&stats->resets_sent, 1); break;
	case AB_TCP_RESET_RECEIVED: __sync_fetch_and_add(&stats->resets_received, 1); break;
	case AB_TCP_DROP: __sync_fetch_and_add(&stats->drops, 1); break;
	case AB_TCP_LISTEN_OVERFLOW: return;
	}
	event = bpf_ringbuf_reserve(&tcp_events, sizeof(*event), 0);
	if (!event) {
		count_lost(&tcp_lost, LOST_RINGBUF_FULL);
		return;
	}
	event->ts_ns = bpf_ktime_get_ns();
	event->tgid = tgid;
	event->kind = counter;
	bpf_ringbuf_submit(event, 0);
}

/* A target's connect() (SYN_SENT) and listen() run in its own context: the socket is its. A
 * connection accepted on a target's listener is its from the handshake's end (in softirq, matched by
 * the listener's port), so that its reset on close, once the port is released, still counts. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ab_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 socket = (__u64)sk;
	__u16 local = sk->__sk_common.skc_num;
	__u32 tgid, *listener;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		listener = bpf_map_lookup_elem(&tcp_ports, &local);
		if (listener)
			bpf_map_update_elem(&tcp_socket_owner, &socket, listener, BPF_ANY);
		else
			bpf_map_delete_elem(&tcp_socket_owner, &socket);
		return 0;
	}
	if (newstate != TCP_SYN_SENT && newstate != TCP_LISTEN)
		return 0;
	tgid = current_tgid();
	if (!is_target(tgid)) {
		/* A socket reused at this address by someone else. */
		bpf_map_delete_elem(&tcp_socket_owner, &socket);
		return 0;
	}
	bpf_map_update_elem(&tcp_socket_owner, &socket, &tgid, BPF_ANY);
	if (newstate == TCP_LISTEN)
		bpf_map_update_elem(&tcp_ports, &local, &tgid, BPF_ANY);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(ab_tcp_destroy, struct sock *sk)
{
	__u64 socket = (__u64)sk;

	bpf_map_delete_elem(&tcp_socket_owner, &socket);
	return 0;
}

/* Since Linux 6.12 the tracepoint also fires for a retransmit that did not go out (the segment still
 * queued below TCP, no memory), with its error as a third argument; the kernel's RetransSegs and
 * the socket's tcpi_total_retrans count only those that went out, and so does this. An older
 * kernel's tracepoint has two arguments and fires only for those. */
typedef void (*btf_trace_tcp_retransmit_skb___with_error)(void *, const struct sock *, const struct sk_buff *, int);

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ab_tcp_retransmit, const struct sock *sk)
{
	if (bpf_core_type_matches(btf_trace_tcp_retransmit_skb___with_error) && (int)ctx[2] != 0)
		return 0;
	count(sk, AB_TCP_RETRANSMIT);
	return 0;
}

/* A SYN-ACK sent again by a target's listener (the handshake's last ACK lost or dropped at a full
 * queue): the kernel counts it in RetransSegs and, once accepted, in the connection's
 * tcpi_total_retrans, but not through tcp_retransmit_skb. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(ab_tcp_retransmit_synack, const struct sock *listener)
{
	count(listener, AB_TCP_RETRANSMIT);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(ab_tcp_send_reset, const struct sock *sk)
{
	count(sk, AB_TCP_RESET_SENT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ab_tcp_recv_reset, struct sock *sk)
{
	count(sk, AB_TCP_RESET_RECEIVED);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(ab_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk)
{
	const struct sock *sk;

	/* A full accept queue's drops are the listener's, counted with the SYNs it dropped (TCPProbe). */
	if (reason != SKB_DROP_REASON_SOCKET_BACKLOG && reason != SKB_DROP_REASON_PROTO_MEM &&
	    reason != SKB_DROP_REASON_SOCKET_RCVBUFF)
		return 0;
	sk = rx_sk ? rx_sk : skb->sk;
	count(sk, AB_TCP_DROP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
