/* Which processes the probes watch: shared by bpf/targets.bpf.c, every other probe family (through
 * common.bpf.h) and the loader in CSources/CProbe. Fixed-width fields only, units in the names. */
#ifndef ARCHBENCH_TARGETS_H
#define ARCHBENCH_TARGETS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define AB_COMM_BYTES 16
#define AB_MAX_TARGETS 16384

/* One probed process (thread group), keyed by tgid in the `targets` map. Userspace registers the
 * first ones; the kernel side adds every process they fork afterwards. */
struct target_proc {
	__u32 ppid;
	__s32 exit_code;	/* task->exit_code at the leader's exit: wait(2) status format */
	__u64 start_ns;		/* CLOCK_MONOTONIC: registration, or the fork that created it */
	__u64 exit_ns;		/* CLOCK_MONOTONIC at the leader's exit; 0 while it lives */
	char comm[AB_COMM_BYTES];	/* updated on exec */
};

/* The syscall a thread is in, keyed by tid in the shared `in_syscall` map: set at entry, nr = -1 at
 * exit. The syscalls family times syscalls with it; the sched family tags off-CPU intervals. */
struct syscall_start {
	__u64 start_ns;
	__s64 nr;
	__u32 tid;	/* whose slot this is: the map is an array indexed by tid modulo its size */
	__u32 pad;
};

/* The `in_syscall` array's size, and the `target_filter` array's: a power of two each. */
#define AB_SYSCALL_SLOTS 65536
#define AB_TARGET_FILTER_SLOTS 4096

/* Why an event was dropped, as an index into each family's `*_lost` per-CPU array. */
enum lost_reason {
	LOST_TARGETS_FULL = 0,	/* a forked child could not be added to `targets` */
	LOST_MAP_FULL = 1,	/* an aggregate map of the family had no room for a new key */
	LOST_RINGBUF_FULL = 2,	/* an event found the ring buffer full (userspace polls too slowly) */
	LOST_REASONS = 3,
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct target_proc) == 40, "target_proc layout is shared with the BPF side");
_Static_assert(sizeof(struct syscall_start) == 24, "syscall_start layout is shared with the BPF side");
#endif

#endif
