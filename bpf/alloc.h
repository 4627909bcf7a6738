/* Native allocation attribution (malloc, calloc, realloc, free, posix_memalign, aligned_alloc):
 * outstanding bytes by user stack, shared by bpf/alloc.bpf.c, the loader and Swift. Off by default
 * (`archbench probe --alloc`); attached per target process to its libc by uprobes. */
#ifndef ARCHBENCH_ALLOC_H
#define ARCHBENCH_ALLOC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Frames kept per stack: the allocation site and its callers, innermost first. */
#define AB_ALLOC_STACK_FRAMES 64
#define AB_ALLOC_MAX_STACKS 16384
/* Allocations tracked at once, over every target. */
#define AB_ALLOC_MAX_TRACKED (512 * 1024)
/* Stack id of allocations whose stack could not be captured: still counted, under no stack. */
#define AB_ALLOC_NO_STACK (-1)

/* Key of `alloc_outstanding`: one process's allocations from one user stack. */
struct alloc_site {
	__u32 tgid;
	__s32 stack_id;		/* in `alloc_stacks`, or AB_ALLOC_NO_STACK */
};

/* Allocations from one site not yet freed. The estimates weigh each tracked allocation by the
 * inverse of the probability it was tracked with (1 in targ_sample_every, or 1 for large ones), so
 * their expectation is the truth; with a sample of 1 they are exact. */
struct alloc_outstanding {
	__u64 estimated_bytes;
	__u64 estimated_count;
	__u64 sampled_bytes;	/* the tracked (sampled) allocations themselves, unweighted */
	__u64 sampled_count;
};

/* A value of `alloc_stacks`: user return addresses, innermost first, zero after the last. */
struct alloc_stack {
	__u64 ip[AB_ALLOC_STACK_FRAMES];
};

/* Key of `alloc_tracked`: a live tracked allocation (the tgid, since forked children share
 * addresses). */
struct alloc_key {
	__u32 tgid;
	__u32 pad;
	__u64 address;
};

struct alloc_info {
	__u64 size_bytes;
	__u64 ts_ns;		/* CLOCK_MONOTONIC when it returned */
	__s32 stack_id;
	__u32 weight;		/* 1 / the probability it was tracked with */
};

/* Why an allocation event was dropped, in `alloc_lost`: the shared reasons (LOST_MAP_FULL: the
 * tracked allocations or the site table is full) and these. */
enum alloc_lost_reason {
	ALLOC_LOST_NO_STACK = 3,	/* counted under no stack: bpf_get_stackid failed (full, collision) */
	ALLOC_LOST_THREAD_SLOT = 4,	/* two threads' call state shared a slot; the call is untracked */
	ALLOC_LOST_REASONS = 5,
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct alloc_site) == 8, "alloc_site layout is shared with the BPF side");
_Static_assert(sizeof(struct alloc_outstanding) == 32, "alloc_outstanding layout is shared with the BPF side");
_Static_assert(sizeof(struct alloc_stack) == 512, "alloc_stack layout is shared with the BPF side");
_Static_assert(sizeof(struct alloc_key) == 16, "alloc_key layout is shared with the BPF side");
_Static_assert(sizeof(struct alloc_info) == 24, "alloc_info layout is shared with the BPF side");
#endif

#endif
