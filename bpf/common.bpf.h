/* Kernel-side helpers every probe family includes: the shared `targets` map (the loader makes each
 * family reuse the one owned by targets.bpf.c) and the lost-event counter. */
#ifndef ARCHBENCH_COMMON_BPF_H
#define ARCHBENCH_COMMON_BPF_H

#include "targets.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct target_proc);
} targets SEC(".maps");

/* An array, not a hash: the verifier inlines array lookups, and this one is made on every syscall of
 * a target. Two live target threads whose tids collide modulo the size share a slot; `tid` tells
 * them apart, and the loser's syscall goes untimed (counted as lost). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AB_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, struct syscall_start);
} in_syscall SEC(".maps");

/* A prefilter in front of `targets`: slot tgid % size is set for every target. Most syscalls and
 * context switches are not a target's, and an (inlined) array read turns them away before the hash
 * lookup. Slots are never cleared: a stale one only costs that lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AB_TARGET_FILTER_SLOTS);
	__type(key, __u32);
	__type(value, __u8);
} target_filter SEC(".maps");

static __always_inline bool maybe_target(__u32 tgid)
{
	__u32 slot = tgid & (AB_TARGET_FILTER_SLOTS - 1);
	__u8 *flag = bpf_map_lookup_elem(&target_filter, &slot);

	return flag && *flag;
}

static __always_inline void mark_target(__u32 tgid)
{
	__u32 slot = tgid & (AB_TARGET_FILTER_SLOTS - 1);
	__u8 *flag = bpf_map_lookup_elem(&target_filter, &slot);

	if (flag)
		*flag = 1;
}

/* This thread's in-syscall slot, if it is this thread's. */
static __always_inline struct syscall_start *syscall_slot(__u32 tid)
{
	__u32 index = tid & (AB_SYSCALL_SLOTS - 1);

	return bpf_map_lookup_elem(&in_syscall, &index);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* The hot-path filter: one hash lookup. An exited process stays in the map for its report but no
 * longer matches, so a recycled pid is not mistaken for it. */
static __always_inline bool is_target(__u32 tgid)
{
	struct target_proc *proc;

	if (!maybe_target(tgid))
		return false;
	proc = bpf_map_lookup_elem(&targets, &tgid);

	return proc && proc->exit_ns == 0;
}

/* Each family defines its own per-CPU `<family>_lost` array and passes it here. */
static __always_inline void count_lost(void *lost_map, __u32 reason)
{
	__u64 *lost = bpf_map_lookup_elem(lost_map, &reason);

	if (lost)
		*lost += 1;
}

#define DEFINE_LOST_MAP(name)                                   \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);        \
		__uint(max_entries, LOST_REASONS);              \
		__type(key, __u32);                             \
		__type(value, __u64);                           \
	} name SEC(".maps")

#endif
