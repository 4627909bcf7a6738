/* Garbage-collection pauses a runtime reports itself through USDT probes (HotSpot's hotspot:gc__begin
 * and gc__end): shared by bpf/gc.bpf.c, the loader and Swift. */
#ifndef ARCHBENCH_GC_H
#define ARCHBENCH_GC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct gc_event {
	__u32 tgid;
	__u32 tid;
	__u64 start_ns;		/* gc__begin, CLOCK_MONOTONIC */
	__u64 end_ns;		/* gc__end */
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct gc_event) == 24, "gc_event layout is shared with the BPF side");
#endif

#endif
