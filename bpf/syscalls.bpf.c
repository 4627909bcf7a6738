// SPDX-License-Identifier: GPL-2.0
/* Syscalls per process and syscall: counts and latency histograms (entry to exit), both taken as the
 * call returns; exit and exit_group, which never return, are counted as they enter. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "log_linear.h"
#include "syscalls.h"

_Static_assert(AB_LATENCY_SLOTS == AB_LOG_LINEAR_BUCKETS(AB_LATENCY_BITS, 36),
	       "syscall_latency's slots hold every latency below 2^36 ns");

DEFINE_LOST_MAP(syscalls_lost);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} slow_syscalls SEC(".maps");

/* Per CPU, so the hot path adds without atomics; 2 KiB a value, allocated as keys appear. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
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
	__u32 slot = ab_log_linear_index(AB_LATENCY_BITS, ns);

	return slot < AB_LATENCY_SLOTS ? slot : AB_LATENCY_SLOTS - 1;
}

/* This CPU's entry for `key`, inserted if this is the first of its kind. */
static __always_inline struct syscall_latency *latency_of(const struct syscall_key *key)
{
	struct syscall_latency *latency = bpf_map_lookup_elem(&syscall_latency, key);
	__u32 zero_index = 0;
	void *zero;

	if (latency)
		return latency;
	zero = bpf_map_lookup_elem(&zero_latency, &zero_index);
	if (!zero)
		return NULL;
	bpf_map_update_elem(&syscall_latency, key, zero, BPF_NOEXIST);
	latency = bpf_map_lookup_elem(&syscall_latency, key);
	if (!latency)
		count_lost(&syscalls_lost, LOST_MAP_FULL);
	return latency;
}

/* The hot path, on every syscall of the machine: a non-target costs one inlined array read. A
 * target thread's slot remembers that it is one, so only its first syscall looks in `targets`.
 * Calls are counted at exit, where the one hash lookup also times them; exit and exit_group, which
 * never return, are counted here. */
SEC("raw_tp/sys_enter")
int BPF_PROG(ab_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct syscall_start *in;

	if (!maybe_target(tgid))
		return 0;
	in = syscall_slot(tid);
	if (!in)
		return 0;
	if (in->tid != tid) {
		if (!is_target(tgid))
			return 0;
		in->tid = tid;
	}
	if (id == 60 || id == 231) {	/* exit, exit_group */
		struct syscall_key key = { .tgid = tgid, .nr = (__u32)id };
		struct syscall_latency *latency = latency_of(&key);

		if (latency)
			latency->calls++;
		in->nr = -1;
		return 0;
	}
	in->start_ns = bpf_ktime_get_ns();
	in->nr = id;
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(ab_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid, slot;
	struct syscall_start *start;
	struct syscall_latency *latency;
	struct syscall_key key = { .tgid = tgid };
	struct slow_syscall *slow;
	__u64 ns;

	if (!maybe_target(tgid))
		return 0;
	start = syscall_slot(tid);
	/* Not this thread's slot: not a target, or a colliding thread took it (then this call
	 * goes uncounted); nr < 0: entered before the probes attached. */
	if (!start || start->tid != tid || start->nr < 0)
		return 0;
	ns = bpf_ktime_get_ns() - start->start_ns;
	key.nr = (__u32)start->nr;
	start->nr = -1;
	if (ns >= AB_SLOW_SYSCALL_NS) {
		slow = bpf_ringbuf_reserve(&slow_syscalls, sizeof(*slow), 0);
		if (slow) {
			slow->start_ns = start->start_ns;
			slow->duration_ns = ns;
			slow->tgid = tgid;
			slow->nr = key.nr;
			bpf_ringbuf_submit(slow, 0);
		} else {
			count_lost(&syscalls_lost, LOST_RINGBUF_FULL);
		}
	}
	latency = latency_of(&key);
	if (!latency)
		return 0;
	latency->calls++;
	latency->count++;
	latency->total_ns += ns;
	if (ns > latency->max_ns)
		latency->max_ns = ns;
	slot = latency_slot(ns);
	/* Bounded again here, where the verifier can see it: the compiler folds latency_slot's clamp
	 * into a form the verifier cannot follow. */
	barrier_var(slot);
	if (slot >= AB_LATENCY_SLOTS)
		return 0;
	latency->slots[slot]++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
