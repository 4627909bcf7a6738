/* Resident memory over time and page faults per process: shared by bpf/memory.bpf.c, the loader and
 * Swift. */
#ifndef ARCHBENCH_MEMORY_H
#define ARCHBENCH_MEMORY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per process (keyed by tgid). RSS is what /proc/PID/status calls VmRSS: file + anon + shmem pages. */
struct memory_stats {
	__u64 rss_min_bytes;
	__u64 rss_max_bytes;
	__u64 rss_last_bytes;
	__u64 rss_emitted_bytes;	/* the last value sent as an event */
	__u64 rss_last_ns;
	__u64 page_faults;		/* user-mode page faults */
};

/* A change of RSS by at least max(64 KiB, RSS / 128) since the last event, through `memory_events`. */
struct rss_event {
	__u32 tgid;
	__u32 pad;
	__u64 ts_ns;
	__u64 rss_bytes;
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct memory_stats) == 48, "memory_stats layout is shared with the BPF side");
_Static_assert(sizeof(struct rss_event) == 24, "rss_event layout is shared with the BPF side");
#endif

#endif
