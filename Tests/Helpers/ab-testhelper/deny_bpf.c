/* ab-testhelper deny-bpf -- PROGRAM ARGS...: runs PROGRAM with every bpf() call failing with EPERM,
 * as a seccomp-locked container or a hardened kernel refuses it, even to root. Nothing else is
 * filtered, and the filter is inherited by everything PROGRAM starts. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "deny_bpf.h"

int deny_bpf_exec(char **argv)
{
	struct sock_filter filter[] = {
		/* Another architecture's syscall numbers mean other calls: refuse to guess. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	/* Required to install a filter without CAP_SYS_ADMIN; it also keeps a setuid PROGRAM from
	 * escaping the filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		perror("ab-testhelper: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == -1) {
		perror("ab-testhelper: PR_SET_SECCOMP");
		return 1;
	}
	execv(argv[0], argv);
	perror("ab-testhelper: execv");
	return 127;
}
