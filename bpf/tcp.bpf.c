// SPDX-License-Identifier: GPL-2.0
/* Retransmits, resets, listen-queue overflows and drops on the targets' TCP sockets. Most of these
 * events happen in softirq context, where the current task is unrelated: sockets are matched to
 * targets by port instead (the `tcp_ports` map, filled by the loader from the targets' listeners). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
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
	__u16 local, remote;
	__u32 *tgid, current;

	if (sk) {
		local = sk->__sk_common.skc_num;
		remote = bpf_ntohs(sk->__sk_common.skc_dport);
		tgid = bpf_map_lookup_elem(&tcp_ports, &local);
		if (!tgid)
			tgid = bpf_map_lookup_elem(&tcp_ports, &remote);
		if (tgid)
			return *tgid;
	}
	current = current_tgid();
	return is_target(current) ? current : 0;
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
	case AB_TCP_LISTEN_OVERFLOW: __sync_fetch_and_add(&stats->listen_overflows, 1); break;
	case AB_TCP_DROP: __sync_fetch_and_add(&stats->drops, 1); break;
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

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ab_tcp_retransmit, const struct sock *sk)
{
	count(sk, AB_TCP_RETRANSMIT);
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

	if (reason != SKB_DROP_REASON_TCP_LISTEN_OVERFLOW && reason != SKB_DROP_REASON_SOCKET_BACKLOG &&
	    reason != SKB_DROP_REASON_PROTO_MEM && reason != SKB_DROP_REASON_SOCKET_RCVBUFF)
		return 0;
	sk = rx_sk ? rx_sk : skb->sk;
	count(sk, reason == SKB_DROP_REASON_TCP_LISTEN_OVERFLOW ? AB_TCP_LISTEN_OVERFLOW : AB_TCP_DROP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
