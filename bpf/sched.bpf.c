// SPDX-License-Identifier: GPL-2.0
/* Where the threads of the targets spend their time off CPU: totals per thread (on-CPU, off-CPU, of
 * which runnable), and each off-CPU interval long enough to matter, tagged with the syscall the
 * thread was blocked in, for the pause detector. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "sched.h"

/* Off-CPU intervals shorter than this are only added to the totals. */
const volatile __u64 targ_min_offcpu_ns = 1000000;

DEFINE_LOST_MAP(sched_lost);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_state);
} thread_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_sched);
} thread_sched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} sched_events SEC(".maps");

static __always_inline struct thread_sched *totals_of(__u32 tid, __u32 tgid)
{
	struct thread_sched *totals = bpf_map_lookup_elem(&thread_sched, &tid);
	struct thread_sched fresh = { .tgid = tgid };

	if (totals)
		return totals;
	if (bpf_map_update_elem(&thread_sched, &tid, &fresh, BPF_NOEXIST) == -7 /* E2BIG: the map is full */)
		count_lost(&sched_lost, LOST_MAP_FULL);
	return bpf_map_lookup_elem(&thread_sched, &tid);
}

/* Moves a thread's totals up to `now`: the task clock's growth since the last switch seen is on-CPU
 * time, the rest of the wall time off-CPU (stolen time included). Cumulative, so a switch the probes
 * did not see costs no time: the next one seen accounts for it. */
static __always_inline void account(struct thread_state *state, __u32 tid, __u32 tgid, __u64 runtime, __u64 now)
{
	struct thread_sched *totals;
	__u64 wall, ran;

	if (state->last_ns && now > state->last_ns) {
		wall = now - state->last_ns;
		ran = runtime > state->last_runtime_ns ? runtime - state->last_runtime_ns : 0;
		if (ran > wall)
			ran = wall;
		totals = totals_of(tid, tgid);
		if (totals) {
			__sync_fetch_and_add(&totals->oncpu_ns, ran);
			__sync_fetch_and_add(&totals->offcpu_ns, wall - ran);
		}
	}
	state->last_ns = now;
	state->last_runtime_ns = runtime;
}

/* The syscall a thread being switched out is in, or -1, read from its saved user registers: the
 * syscall entry stores the number in orig_ax and -ENOSYS in ax until the syscall returns. Reading
 * them here rather than timing sys_enter keeps the pause detector's blocked syscall without the raw
 * syscall tracepoints, which slow every syscall of every process (see bench/syscall-tracepoint-floor.sh).
 * A page fault leaves the user's ax there, which is -ENOSYS only by coincidence. */
static __always_inline __s32 blocked_syscall(struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr;

	if (!regs || regs->ax != (unsigned long)-38 /* -ENOSYS */)
		return -1;
	nr = (long)regs->orig_ax;
	return nr >= 0 && nr < 1024 ? (__s32)nr : -1;
}

/* include/linux/sched.h: the state of a task switched out for the last time. */
#define AB_TASK_DEAD 0x80

static __always_inline void switched_out(struct task_struct *task, __u32 tid, __u32 tgid, bool preempt,
					 unsigned int prev_state, __u64 runtime, __u64 now)
{
	struct thread_state *state = bpf_map_lookup_elem(&thread_state, &tid);
	struct thread_state fresh = {};
	bool dead = prev_state & AB_TASK_DEAD;

	if (!state) {
		if (dead)
			return;
		fresh.last_ns = now;
		fresh.last_runtime_ns = runtime;
		bpf_map_update_elem(&thread_state, &tid, &fresh, BPF_NOEXIST);
		state = bpf_map_lookup_elem(&thread_state, &tid);
		if (!state)
			return;
	}
	if (state->in_ns) {
		/* Switched in, yet the task clock did not advance as much as the wall clock: the
		 * hypervisor ran something else (already in offcpu_ns through account()). */
		struct thread_sched *totals = totals_of(tid, tgid);
		__u64 wall = now - state->in_ns;
		__u64 ran = runtime > state->in_runtime_ns ? runtime - state->in_runtime_ns : 0;

		if (ran > wall)
			ran = wall;
		if (totals)
			__sync_fetch_and_add(&totals->stolen_ns, wall - ran);
	}
	account(state, tid, tgid, runtime, now);
	/* Its last run, up to this switch, is counted above; its state goes with it (totals stay). */
	if (dead) {
		bpf_map_delete_elem(&thread_state, &tid);
		return;
	}
	state->in_ns = 0;
	state->out_ns = now;
	state->wake_ns = 0;
	/* Still runnable: switched out while TASK_RUNNING, or preempted whatever its state. A thread
	 * preempted between setting its sleeping state and calling schedule() keeps that state, yet
	 * stays queued and waits for a CPU with no wake-up to come (the kernel counts that wait as run
	 * delay); only its next switch-out sleeps. */
	state->preempted = preempt || prev_state == 0;
	state->syscall = blocked_syscall(task);
}

static __always_inline void switched_in(__u32 tid, __u32 tgid, __u64 runtime, __u64 now)
{
	struct thread_state *state = bpf_map_lookup_elem(&thread_state, &tid);
	struct thread_state fresh = { .in_ns = now, .in_runtime_ns = runtime, .last_ns = now, .last_runtime_ns = runtime };
	struct thread_sched *totals;
	struct offcpu_event *event;
	__u64 off, runq;

	if (!state) {
		/* First seen switching in: its off-CPU time before the probes attached is unknown. */
		bpf_map_update_elem(&thread_state, &tid, &fresh, BPF_NOEXIST);
		return;
	}
	account(state, tid, tgid, runtime, now);
	if (state->out_ns) {
		off = now - state->out_ns;
		runq = state->preempted ? off
		       : state->wake_ns && state->wake_ns >= state->out_ns ? now - state->wake_ns : 0;
		totals = totals_of(tid, tgid);
		if (totals) {
			__sync_fetch_and_add(&totals->runq_ns, runq);
			__sync_fetch_and_add(&totals->switches, 1);
		}
		if (off >= targ_min_offcpu_ns) {
			event = bpf_ringbuf_reserve(&sched_events, sizeof(*event), 0);
			if (event) {
				event->tid = tid;
				event->tgid = tgid;
				event->start_ns = state->out_ns;
				event->end_ns = now;
				event->runq_ns = runq;
				event->syscall = state->syscall;
				event->preempted = state->preempted;
				bpf_ringbuf_submit(event, 0);
			} else {
				count_lost(&sched_lost, LOST_RINGBUF_FULL);
			}
		}
	}
	state->in_ns = now;
	state->in_runtime_ns = runtime;
	state->out_ns = 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ab_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;

	/* The scheduler has brought prev's runtime up to date before this tracepoint. A thread's last
	 * switch comes after its process was marked exited (is_target says no by then): a dead one
	 * is let through the cheap prefilter alone, and switched_out finds its state or nothing. */
	if (is_target(prev_tgid) || ((prev_state & AB_TASK_DEAD) && maybe_target(prev_tgid)))
		switched_out(prev, prev->pid, prev_tgid, preempt, prev_state, prev->se.sum_exec_runtime, now);
	if (is_target(next_tgid))
		switched_in(next->pid, next_tgid, next->se.sum_exec_runtime, now);
	return 0;
}

/* A sleeping thread is woken: from here until it runs, it waits for a CPU. Dated at sched_waking, in
 * the waker's context, not sched_wakeup: a wake-up aimed at another CPU is queued to that CPU and
 * sched_wakeup fires only when it gets round to it, which on a VM whose other vCPU the host is not
 * running can be milliseconds later; the thread was released at the waking. Only the first wake-up
 * after a switch-out counts. sched_wakeup stays as the fallback for a waking that raced the
 * switch-out (traced before the sleeper's sched_switch, which ttwu then waits for). */
static __always_inline void woken(struct task_struct *task)
{
	__u32 tid = task->pid;
	struct thread_state *state;

	if (!is_target(task->tgid))
		return;
	state = bpf_map_lookup_elem(&thread_state, &tid);
	if (!state) {
		/* Not seen switching yet (asleep since before the probes attached, as a spawned command
		 * held before exec is): from here it waits for a CPU, which counts as it does for a new
		 * thread. Its sleep before this is unknown and not counted. */
		struct thread_state fresh = { .syscall = -1 };

		fresh.out_ns = fresh.wake_ns = fresh.last_ns = bpf_ktime_get_ns();
		fresh.last_runtime_ns = task->se.sum_exec_runtime;
		bpf_map_update_elem(&thread_state, &tid, &fresh, BPF_NOEXIST);
		return;
	}
	if (state->out_ns && !state->preempted && !state->wake_ns)
		state->wake_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_waking")
int BPF_PROG(ab_sched_waking, struct task_struct *task)
{
	woken(task);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(ab_sched_wakeup, struct task_struct *task)
{
	woken(task);
	return 0;
}

/* A new thread is runnable from here: its first wait for a CPU is off-CPU time too. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(ab_sched_wakeup_new, struct task_struct *task)
{
	__u32 tid = task->pid;
	__u64 now;
	struct thread_state fresh = { .syscall = -1 };

	if (!is_target(task->tgid))
		return 0;
	now = bpf_ktime_get_ns();
	fresh.out_ns = now;
	fresh.wake_ns = now;
	fresh.last_ns = now;
	fresh.last_runtime_ns = task->se.sum_exec_runtime;
	bpf_map_update_elem(&thread_state, &tid, &fresh, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
