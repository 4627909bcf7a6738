/* The log-linear bucketing shared by the kernel's syscall histograms, the load generator's
 * histograms and Swift. The definition lives in bpf/, where the BPF programs (which cannot include
 * from CSources) find it; this module owns it on the C and Swift side, so a Swift file that imports
 * both CProbe and CLoadGen sees one declaration of each function, not two. */
#ifndef ARCHBENCH_AB_LOG_LINEAR_H
#define ARCHBENCH_AB_LOG_LINEAR_H

#include "../../../bpf/log_linear.h"

#endif
