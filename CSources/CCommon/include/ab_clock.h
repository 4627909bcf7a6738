/* The one clock archbench times with, in C and in Swift (through the C modules that include this). */
#ifndef ARCHBENCH_AB_CLOCK_H
#define ARCHBENCH_AB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: the clock bpf_ktime_get_ns reads, so times taken here and by the
 * probes in the kernel compare directly. */
uint64_t ab_monotonic_ns(void);

#endif
