// SPDX-License-Identifier: GPL-2.0
/* Two programs that do nothing, on the tracepoints archbench's syscalls family uses: what tracing
 * every syscall costs before any work is done (bench/syscall-tracepoint-floor.sh). */
#include "../../bpf/vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp/sys_enter")
int floor_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int floor_exit(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
