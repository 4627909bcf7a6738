// SPDX-License-Identifier: GPL-2.0
/* Programs that do nothing, on the uprobes archbench's alloc family uses: what trapping malloc's
 * entry and return and free's entry costs before any work is done (bench/alloc-overhead.py). */
#include "../../bpf/vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int floor_malloc(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_malloc_exit(void *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_free(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
