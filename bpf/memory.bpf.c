// SPDX-License-Identifier: GPL-2.0
/* RSS of the targets over time and their user page faults. The rss_stat tracepoint fires on every
 * counter update — tens of thousands per large allocation — so events are thresholded here, in the
 * kernel: only a change of max(64 KiB, RSS / 128) since the last event is sent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "memory.h"

#define PAGE_BYTES 4096

DEFINE_LOST_MAP(memory_lost);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct memory_stats);
} memory_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} memory_events SEC(".maps");

/* Before 6.2 the counters were an atomic_long_t array inside struct mm_rss_stat; since, they are
 * percpu_counters whose `count` is what /proc reads (percpu_counter_read_positive). */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

static __always_inline __s64 mm_counter(struct mm_struct *mm, int member)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62))
		return BPF_CORE_READ((struct mm_struct___pre62 *)mm, rss_stat.count[member].counter);
	return BPF_CORE_READ(mm, rss_stat[member].count);
}

static __always_inline struct memory_stats *stats_of(__u32 tgid)
{
	struct memory_stats *stats = bpf_map_lookup_elem(&memory_stats, &tgid);
	struct memory_stats fresh = { .rss_min_bytes = ~0ull };

	if (stats)
		return stats;
	bpf_map_update_elem(&memory_stats, &tgid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&memory_stats, &tgid);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(ab_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = current_tgid();
	struct memory_stats *stats;
	struct rss_event *event;
	__s64 pages;
	__u64 rss, step, moved, now;

	/* Only the process's own mm: an update made from another task (exit, ptrace) is skipped. */
	if (!is_target(tgid) || task->mm != mm)
		return 0;
	pages = mm_counter(mm, MM_FILEPAGES) + mm_counter(mm, MM_ANONPAGES) + mm_counter(mm, MM_SHMEMPAGES);
	rss = pages > 0 ? (__u64)pages * PAGE_BYTES : 0;
	stats = stats_of(tgid);
	if (!stats)
		return 0;
	now = bpf_ktime_get_ns();
	stats->rss_last_bytes = rss;
	stats->rss_last_ns = now;
	if (rss < stats->rss_min_bytes)
		stats->rss_min_bytes = rss;
	if (rss > stats->rss_max_bytes)
		stats->rss_max_bytes = rss;
	step = rss / 128 > 65536 ? rss / 128 : 65536;
	moved = rss > stats->rss_emitted_bytes ? rss - stats->rss_emitted_bytes : stats->rss_emitted_bytes - rss;
	if (moved < step)
		return 0;
	stats->rss_emitted_bytes = rss;
	event = bpf_ringbuf_reserve(&memory_events, sizeof(*event), 0);
	if (!event) {
		count_lost(&memory_lost, LOST_RINGBUF_FULL);
		return 0;
	}
	event->tgid = tgid;
	event->pad = 0;
	event->ts_ns = now;
	event->rss_bytes = rss;
	bpf_ringbuf_submit(event, 0);
	return 0;
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(ab_page_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid = current_tgid();
	struct memory_stats *stats;

	if (!is_target(tgid))
		return 0;
	stats = stats_of(tgid);
	if (stats)
		__sync_fetch_and_add(&stats->page_faults, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
