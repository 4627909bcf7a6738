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
	__u64 oncpu_ns;		/* by the task's own clock (se.sum_exec_runtime), as /proc/PID/schedstat */
	__u64 offcpu_ns;	/* switch-out to switch-in, plus stolen_ns */
	__u64 runq_ns;		/* the part of it spent runnable, waiting for a CPU */
	__u64 stolen_ns;	/* switched in but not running: the hypervisor's steal (and what the task
				 * clock leaves out); counted as off CPU, as the window-minus-runtime
				 * reading of schedstat does */
};

/* Where a thread is now (keyed by tid): on CPU since in_ns, or off since out_ns (and woken at
 * wake_ns). Read at the end of a run to count the time of threads still off CPU. */
struct thread_state {
	__u64 in_ns;
	__u64 in_runtime_ns;	/* se.sum_exec_runtime at the switch-in */
	__u64 out_ns;
	__u64 wake_ns;
	__s32 syscall;
	__u32 preempted;
	/* The last switch seen (either way) and the task clock then: the totals grow by the wall time
	 * and task time between two switches seen, so one the probes did not see delays the count
	 * instead of losing a stretch. */
	__u64 last_ns;
	__u64 last_runtime_ns;
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
_Static_assert(sizeof(struct thread_state) == 56, "thread_state layout is shared with the BPF side");
_Static_assert(sizeof(struct thread_sched) == 40, "thread_sched layout is shared with the BPF side");
_Static_assert(sizeof(struct offcpu_event) == 40, "offcpu_event layout is shared with the BPF side");
#endif

#endif
