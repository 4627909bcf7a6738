// SPDX-License-Identifier: GPL-2.0
/* The target set: follows forks of probed processes and records exec and exit, so every process of
 * a deployment is covered, including workers a gateway starts after the probes attach. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"

DEFINE_LOST_MAP(targets_lost);

SEC("raw_tp/sched_process_fork")
int BPF_PROG(ab_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 child_pid = BPF_CORE_READ(child, pid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	struct target_proc proc = {};

	/* A new thread joins its process, which is either a target already or not one. */
	if (child_pid != child_tgid || !is_target(parent_tgid))
		return 0;
	proc.ppid = parent_tgid;
	proc.start_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&proc.comm, child, comm);
	if (bpf_map_update_elem(&targets, &child_tgid, &proc, BPF_ANY))
		count_lost(&targets_lost, LOST_TARGETS_FULL);
	else
		mark_target(child_tgid);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(ab_exec, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct target_proc *proc = bpf_map_lookup_elem(&targets, &tgid);

	if (proc)
		BPF_CORE_READ_STR_INTO(&proc->comm, task, comm);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(ab_exit, struct task_struct *task)
{
	__u32 pid = BPF_CORE_READ(task, pid);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct syscall_start *slot;
	struct target_proc *proc;

	/* Free the thread's syscall slot for whichever thread gets its index next. */
	slot = syscall_slot(pid);
	if (slot && slot->tid == pid) {
		slot->nr = -1;
		slot->tid = 0;	/* a recycled tid must not inherit "is a target" */
	}
	/* Record the process once, at its leader's exit: exit_code is already set by do_exit. */
	if (pid != tgid)
		return 0;
	proc = bpf_map_lookup_elem(&targets, &tgid);
	if (!proc)
		return 0;
	proc->exit_code = BPF_CORE_READ(task, exit_code);
	proc->exit_ns = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
