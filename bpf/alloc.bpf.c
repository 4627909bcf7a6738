// SPDX-License-Identifier: GPL-2.0
/* Outstanding native allocations by user stack, for leak hunting (as libbpf-tools' memleak): uprobes
 * on libc's malloc, calloc, realloc, aligned_alloc (= memalign), posix_memalign and free, attached by
 * the loader per target process, never automatically. Off by default: every call of these traps
 * into the kernel, sampled or not (bench/alloc-overhead.py; docs/benchmarks.md).
 *
 * A call is tracked with probability 1 / targ_sample_every (allocations of targ_always_bytes or more
 * always), and its bytes and count are weighted by the inverse, so the estimates are unbiased; a
 * sample of 1 tracks every allocation and the counts are exact. The user stack is taken in the
 * return probe: at the entry, a frame-pointer walk misses the direct caller (its return address is
 * on the stack, not in a frame record), at the return it is the instruction pointer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "alloc.h"

const volatile __u32 targ_sample_every = 1;
const volatile __u64 targ_always_bytes = 128 << 10;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALLOC_LOST_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} alloc_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, AB_ALLOC_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct alloc_stack));
} alloc_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_ALLOC_MAX_STACKS * 4);
	__type(key, struct alloc_site);
	__type(value, struct alloc_outstanding);
} alloc_outstanding SEC(".maps");

/* Not preallocated: half a million entries would pin tens of MiB while few are used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AB_ALLOC_MAX_TRACKED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct alloc_key);
	__type(value, struct alloc_info);
} alloc_tracked SEC(".maps");

/* The allocation call a thread is in, from entry to return, in an array indexed by tid (inlined
 * lookups, no hash update per call). `entry_sp` tells the outermost call from one nested in it
 * (glibc's realloc(NULL, n) calls malloc): a nested call has a lower stack pointer, and the outer
 * call's return the only higher one. */
struct alloc_call {
	__u32 tid;
	__u32 weight;		/* 0: not tracked */
	__u64 entry_sp;		/* 0: no call in progress */
	__u64 size_bytes;
	__u64 memptr;		/* posix_memalign's out-parameter */
};

#define ALLOC_CALL_SLOTS 65536

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALLOC_CALL_SLOTS);
	__type(key, __u32);
	__type(value, struct alloc_call);
} alloc_calls SEC(".maps");

static __always_inline struct alloc_call *call_slot(__u32 tid)
{
	__u32 index = tid & (ALLOC_CALL_SLOTS - 1);

	return bpf_map_lookup_elem(&alloc_calls, &index);
}

/* The tracking weight of an allocation of `size` bytes: 0 (not tracked), 1 or targ_sample_every. */
static __always_inline __u32 sample_weight(__u64 size)
{
	if (size >= targ_always_bytes || targ_sample_every <= 1)
		return 1;
	return bpf_get_prandom_u32() % targ_sample_every == 0 ? targ_sample_every : 0;
}

static __always_inline void untrack(__u32 tgid, __u64 address)
{
	struct alloc_key key = { .tgid = tgid, .address = address };
	struct alloc_info *info = bpf_map_lookup_elem(&alloc_tracked, &key);
	struct alloc_outstanding *outstanding;
	struct alloc_site site = { .tgid = tgid };

	if (!info)
		return;
	site.stack_id = info->stack_id;
	outstanding = bpf_map_lookup_elem(&alloc_outstanding, &site);
	if (outstanding) {
		__sync_fetch_and_sub(&outstanding->estimated_bytes, info->size_bytes * info->weight);
		__sync_fetch_and_sub(&outstanding->estimated_count, (__u64)info->weight);
		__sync_fetch_and_sub(&outstanding->sampled_bytes, info->size_bytes);
		__sync_fetch_and_sub(&outstanding->sampled_count, 1);
	}
	bpf_map_delete_elem(&alloc_tracked, &key);
}

static __always_inline struct alloc_outstanding *site_of(struct alloc_site *site)
{
	struct alloc_outstanding *outstanding = bpf_map_lookup_elem(&alloc_outstanding, site);
	struct alloc_outstanding zero = {};

	if (outstanding)
		return outstanding;
	bpf_map_update_elem(&alloc_outstanding, site, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&alloc_outstanding, site);
}

static __always_inline void track(struct pt_regs *ctx, __u32 tgid, __u64 address, __u64 size, __u32 weight)
{
	struct alloc_key key = { .tgid = tgid, .address = address };
	struct alloc_info info = { .size_bytes = size, .ts_ns = bpf_ktime_get_ns(), .weight = weight };
	struct alloc_site site = { .tgid = tgid };
	struct alloc_outstanding *outstanding;
	long stack_id = bpf_get_stackid(ctx, &alloc_stacks, BPF_F_USER_STACK);

	if (stack_id < 0) {
		count_lost(&alloc_lost, ALLOC_LOST_NO_STACK);
		stack_id = AB_ALLOC_NO_STACK;
	}
	info.stack_id = site.stack_id = (__s32)stack_id;
	/* A record already at this address is one whose free was not seen: it is gone. */
	untrack(tgid, address);
	outstanding = site_of(&site);
	if (!outstanding) {
		count_lost(&alloc_lost, LOST_MAP_FULL);
		return;
	}
	if (bpf_map_update_elem(&alloc_tracked, &key, &info, BPF_ANY)) {
		count_lost(&alloc_lost, LOST_MAP_FULL);
		return;
	}
	__sync_fetch_and_add(&outstanding->estimated_bytes, size * weight);
	__sync_fetch_and_add(&outstanding->estimated_count, (__u64)weight);
	__sync_fetch_and_add(&outstanding->sampled_bytes, size);
	__sync_fetch_and_add(&outstanding->sampled_count, 1);
}

static __always_inline int call_enter(struct pt_regs *ctx, __u64 size, __u64 memptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 sp = PT_REGS_SP(ctx);
	struct alloc_call *call;

	if (!is_target(pid_tgid >> 32))
		return 0;
	call = call_slot(tid);
	if (!call)
		return 0;
	if (call->tid == tid && call->entry_sp && sp < call->entry_sp)
		return 0;	/* nested in a call already watched */
	call->tid = tid;
	call->entry_sp = sp;
	call->size_bytes = size;
	call->memptr = memptr;
	call->weight = sample_weight(size);
	return 0;
}

/* The outermost call's state at its return, or NULL for a nested call's return or an untracked call. */
static __always_inline struct alloc_call *call_return(struct pt_regs *ctx, __u32 tid)
{
	struct alloc_call *call = call_slot(tid);

	if (!call || !call->entry_sp)
		return NULL;
	if (call->tid != tid) {
		count_lost(&alloc_lost, ALLOC_LOST_THREAD_SLOT);
		return NULL;
	}
	if (PT_REGS_SP(ctx) <= call->entry_sp)
		return NULL;
	call->entry_sp = 0;
	return call->weight ? call : NULL;
}

static __always_inline int call_exit(struct pt_regs *ctx, __u64 address)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct alloc_call *call;

	if (!is_target(pid_tgid >> 32))
		return 0;
	call = call_return(ctx, (__u32)pid_tgid);
	if (call && address)
		track(ctx, pid_tgid >> 32, address, call->size_bytes, call->weight);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ab_malloc_enter, __u64 size)
{
	return call_enter(ctx, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ab_malloc_exit, void *address)
{
	return call_exit(ctx, (__u64)address);
}

SEC("uprobe")
int BPF_KPROBE(ab_calloc_enter, __u64 count, __u64 size)
{
	/* An overflowing product makes calloc fail, and a failed call is not tracked. (The barrier keeps
	 * clang from turning the check into a 128-bit multiply, which BPF does not have.) */
	__u64 limit = count ? ~0ull / count : ~0ull;
	__u64 bytes;

	asm volatile("" : "+r"(limit));
	bytes = size > limit ? 0 : count * size;

	return call_enter(ctx, bytes, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ab_calloc_exit, void *address)
{
	return call_exit(ctx, (__u64)address);
}

/* realloc = free(old) + malloc(size). The old block is forgotten at the entry, before realloc can
 * hand its address to another thread; a realloc that fails leaves it allocated but untracked. */
SEC("uprobe")
int BPF_KPROBE(ab_realloc_enter, void *old, __u64 size)
{
	__u32 tgid = current_tgid();

	if (old && is_target(tgid))
		untrack(tgid, (__u64)old);
	return call_enter(ctx, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ab_realloc_exit, void *address)
{
	return call_exit(ctx, (__u64)address);
}

SEC("uprobe")
int BPF_KPROBE(ab_aligned_alloc_enter, __u64 alignment, __u64 size)
{
	return call_enter(ctx, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ab_aligned_alloc_exit, void *address)
{
	return call_exit(ctx, (__u64)address);
}

SEC("uprobe")
int BPF_KPROBE(ab_posix_memalign_enter, void **memptr, __u64 alignment, __u64 size)
{
	return call_enter(ctx, size, (__u64)memptr);
}

SEC("uretprobe")
int BPF_KRETPROBE(ab_posix_memalign_exit, int error)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct alloc_call *call;
	void *address = NULL;

	if (!is_target(pid_tgid >> 32))
		return 0;
	call = call_return(ctx, (__u32)pid_tgid);
	if (!call || error)
		return 0;
	if (bpf_probe_read_user(&address, sizeof(address), (void *)call->memptr) == 0 && address)
		track(ctx, pid_tgid >> 32, (__u64)address, call->size_bytes, call->weight);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ab_free_enter, void *address)
{
	__u32 tgid = current_tgid();

	if (address && is_target(tgid))
		untrack(tgid, (__u64)address);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
