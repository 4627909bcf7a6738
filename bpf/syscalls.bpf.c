// SPDX-License-Identifier: GPL-2.0
/* Syscall counts per process and syscall, for every target. Counted at entry, so calls that never
 * return (exit_group, a successful execve's old image) are counted too. */
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

SEC("raw_tp/sys_enter")
int BPF_PROG(ab_sys_enter, struct pt_regs *regs, long id)
{
	struct syscall_key key = { .tgid = current_tgid(), .nr = (__u32)id };
	static const __u64 one = 1;
	__u64 *count;

	if (!is_target(key.tgid))
		return 0;
	count = bpf_map_lookup_elem(&syscall_counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	/* First call of this syscall by this process. Two threads may race here: the loser's insert
	 * fails with EEXIST and it adds to the winner's entry, so no call is lost. */
	if (!bpf_map_update_elem(&syscall_counts, &key, &one, BPF_NOEXIST))
		return 0;
	count = bpf_map_lookup_elem(&syscall_counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		count_lost(&syscalls_lost, LOST_MAP_FULL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
