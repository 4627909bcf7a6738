/* Syscall counts per process: shared by bpf/syscalls.bpf.c and the loader in CSources/CProbe. */
#ifndef ARCHBENCH_SYSCALLS_H
#define ARCHBENCH_SYSCALLS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Distinct (process, syscall) pairs the family can hold; a busy process uses 30-80. */
#define AB_MAX_SYSCALL_KEYS 65536

struct syscall_key {
	__u32 tgid;
	__u32 nr;	/* x86_64 syscall number, as the kernel saw it (glibc's nanosleep is clock_nanosleep) */
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct syscall_key) == 8, "syscall_key layout is shared with the BPF side");
#endif

#endif
