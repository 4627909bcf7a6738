/* Syscall counts per process: shared by bpf/syscalls.bpf.c and the loader in CSources/CProbe. */
#ifndef ARCHBENCH_SYSCALLS_H
#define ARCHBENCH_SYSCALLS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Distinct (process, syscall) pairs the family can hold: a process uses a few dozen syscalls (an
 * `archbench probe --syscalls` report lists them), so this covers hundreds of busy targets. */
#define AB_MAX_SYSCALL_KEYS 65536

struct syscall_key {
	__u32 tgid;
	__u32 nr;	/* x86_64 syscall number, as the kernel saw it (glibc's nanosleep is clock_nanosleep) */
};

/* Latency histogram, bucketed by bpf/log_linear.h with AB_LATENCY_BITS: every value below 32 ns
 * exact, then 16 buckets per power of two (each at most 1/16 of its value wide, so a bucket's
 * midpoint is within 3.2% of any value in it), up to 2^36 ns (the last slot also takes anything
 * longer). */
#define AB_LATENCY_BITS 5
#define AB_LATENCY_SLOTS 528	/* AB_LOG_LINEAR_BUCKETS(AB_LATENCY_BITS, 36), asserted in syscalls.bpf.c */

/* Per CPU: summed by the reader. */
struct syscall_latency {
	__u64 calls;		/* every call: counted at exit, or at entry for exit and exit_group */
	__u64 count;		/* timed calls (entered after the probes attached) */
	__u64 total_ns;
	__u64 max_ns;
	__u32 slots[AB_LATENCY_SLOTS];
};

/* A call that took at least AB_SLOW_SYSCALL_NS from entry to exit, through `slow_syscalls`, so that
 * the analysis can line it up with the client's slow requests. */
#define AB_SLOW_SYSCALL_NS 1000000
struct slow_syscall {
	__u64 start_ns;
	__u64 duration_ns;
	__u32 tgid;
	__u32 nr;
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct slow_syscall) == 24, "slow_syscall layout is shared with the BPF side");
_Static_assert(sizeof(struct syscall_latency) == 32 + 4 * AB_LATENCY_SLOTS, "syscall_latency layout is shared");
_Static_assert(sizeof(struct syscall_key) == 8, "syscall_key layout is shared with the BPF side");
#endif

#endif
