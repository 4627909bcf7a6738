/* The seccomp mode of ab-testhelper (deny_bpf.c). */
#ifndef AB_TESTHELPER_DENY_BPF_H
#define AB_TESTHELPER_DENY_BPF_H

int deny_bpf_exec(char **argv);

#endif
