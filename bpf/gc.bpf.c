// SPDX-License-Identifier: GPL-2.0
/* A runtime's own account of its GC pauses, from its USDT probes: attached by the loader per target
 * process that maps a runtime with the probes (HotSpot's libjvm.so), never automatically. Each
 * becomes a confirmed pause; in a process with these probes attached the detector's own pauses are
 * dropped (Sources/Analysis/PauseConfirmation.swift, docs/pause-detection.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "common.bpf.h"
#include "gc.h"

DEFINE_LOST_MAP(gc_lost);

/* gc__begin time per thread that began a collection. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} gc_begin SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} gc_events SEC(".maps");

SEC("usdt")
int BPF_USDT(ab_gc_begin)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&gc_begin, &tid, &now, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(ab_gc_end)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 *begin = bpf_map_lookup_elem(&gc_begin, &tid);
	struct gc_event *event;

	if (!begin)
		return 0;
	event = bpf_ringbuf_reserve(&gc_events, sizeof(*event), 0);
	if (event) {
		event->tgid = pid_tgid >> 32;
		event->tid = tid;
		event->start_ns = *begin;
		event->end_ns = bpf_ktime_get_ns();
		bpf_ringbuf_submit(event, 0);
	} else {
		count_lost(&gc_lost, LOST_RINGBUF_FULL);
	}
	bpf_map_delete_elem(&gc_begin, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
