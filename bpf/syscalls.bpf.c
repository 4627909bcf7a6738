// SPDX-License-Identifier: GPL-2.0
/* Syscalls per process and syscall: counts (at entry, so calls that never return — exit_group, a
 * successful execve's old image — count too) and latency histograms (entry to exit). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "syscalls.h"

DEFINE_LOST_MAP(syscalls_lost);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_SYSCALL_KEYS);
	__type(key, struct syscall_key);
	__type(value, __u64);
} syscall_counts SEC(".maps");

/* 2 KiB a value: allocated as keys appear, not up front. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct syscall_key);
	__type(value, struct syscall_latency);
} syscall_latency SEC(".maps");

/* A zeroed value to insert from: 2 KiB do not fit on the BPF stack. Never written. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syscall_latency);
} zero_latency SEC(".maps");

static __always_inline __u32 latency_slot(__u64 ns)
{
	__u32 msb, slot;

	if (ns < (1u << AB_LATENCY_SUB_BITS))
		return (__u32)ns;
	msb = log2_u64(ns);
	slot = (msb - AB_LATENCY_SUB_BITS + 1) * (1u << AB_LATENCY_SUB_BITS) +
	       (__u32)((ns >> (msb - AB_LATENCY_SUB_BITS)) & ((1u << AB_LATENCY_SUB_BITS) - 1));
	return slot < AB_LATENCY_SLOTS ? slot : AB_LATENCY_SLOTS - 1;
}

/* Finds the entry for `key`, inserting it if this is the first of its kind. Two CPUs may race to
 * insert: the loser's BPF_NOEXIST fails and it uses the winner's entry. */
static __always_inline void *lookup_or_insert(void *map, const void *key, const void *zero)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(ab_sys_enter, struct pt_regs *regs, long id)
{
	struct syscall_key key = { .tgid = current_tgid(), .nr = (__u32)id };
	struct syscall_start *in;
	static const __u64 zero_count;
	__u32 tid;
	__u64 *count;

	if (!is_target(key.tgid))
		return 0;
	count = lookup_or_insert(&syscall_counts, &key, &zero_count);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		count_lost(&syscalls_lost, LOST_MAP_FULL);
	tid = (__u32)bpf_get_current_pid_tgid();
	in = syscall_slot(tid);
	if (in) {
		in->start_ns = bpf_ktime_get_ns();
		in->nr = id;
		in->tid = tid;
	}
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(ab_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero_index = 0;
	struct syscall_start *start;
	struct syscall_latency *latency;
	struct syscall_key key;
	void *zero;
	__u32 slot;
	__u64 ns;

	key.tgid = current_tgid();
	if (!maybe_target(key.tgid))
		return 0;
	start = syscall_slot(tid);
	if (!start)
		return 0;
	if (start->tid != tid) {
		/* Another live target thread in the slot: a collision, this call goes untimed. An empty
		 * or finished slot means this call entered before the probes attached. */
		if (start->tid != 0 && start->nr >= 0)
			count_lost(&syscalls_lost, LOST_MAP_FULL);
		return 0;
	}
	if (start->nr < 0)
		return 0;
	ns = bpf_ktime_get_ns() - start->start_ns;
	key.nr = (__u32)start->nr;
	start->nr = -1;
	zero = bpf_map_lookup_elem(&zero_latency, &zero_index);
	if (!zero)
		return 0;
	latency = lookup_or_insert(&syscall_latency, &key, zero);
	if (!latency) {
		count_lost(&syscalls_lost, LOST_MAP_FULL);
		return 0;
	}
	__sync_fetch_and_add(&latency->count, 1);
	__sync_fetch_and_add(&latency->total_ns, ns);
	if (ns > latency->max_ns)
		latency->max_ns = ns;	/* a racing larger value may be lost: max is best effort */
	slot = latency_slot(ns);
	/* Bounded again here, where the verifier can see it: the compiler folds latency_slot's clamp
	 * into a form the verifier cannot follow. */
	barrier_var(slot);
	if (slot >= AB_LATENCY_SLOTS)
		return 0;
	__sync_fetch_and_add(&latency->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
