/* Off-CPU and run-queue time per thread, and the off-CPU intervals the pause detector needs: shared
 * by bpf/sched.bpf.c, the loader and Swift. */
#ifndef ARCHBENCH_SCHED_H
#define ARCHBENCH_SCHED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define AB_MAX_THREADS 65536

/* Totals per thread (keyed by tid), since the probes attached or the thread was born. */
struct thread_sched {
	__u32 tgid;
	__u32 switches;		/* times switched in */
	__u64 oncpu_ns;
	__u64 offcpu_ns;	/* everything between a switch-out and the next switch-in */
	__u64 runq_ns;		/* the part of it spent runnable, waiting for a CPU */
};

/* One off-CPU interval of a target thread at least `min_offcpu_ns` long (rodata), sent through the
 * `sched_events` ring buffer. */
struct offcpu_event {
	__u32 tid;
	__u32 tgid;
	__u64 start_ns;		/* switch-out, CLOCK_MONOTONIC */
	__u64 end_ns;		/* switch-in */
	__u64 runq_ns;		/* of which runnable (preempted, or woken and waiting for a CPU) */
	__s32 syscall;		/* the syscall it was blocked in (futex = 202), or -1 */
	__u32 preempted;	/* 1: it was switched out while runnable */
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct thread_sched) == 32, "thread_sched layout is shared with the BPF side");
_Static_assert(sizeof(struct offcpu_event) == 40, "offcpu_event layout is shared with the BPF side");
#endif

#endif
