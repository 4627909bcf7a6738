/* Log-linear bucketing in the manner of HdrHistogram, defined once for every histogram archbench
 * keeps: the kernel's syscall latencies (bpf/syscalls.bpf.c), the load generator's latencies
 * (CSources/CLoadGen/include/histogram.h) and Swift's reading of both (through CCommon's
 * ab_log_linear.h, which the CProbe and CLoadGen modules export).
 *
 * With `bits` (at least 2): every value below 2^bits has a bucket of its own; above that, each power
 * of two is split into 2^(bits-1) equal buckets, so no bucket is wider than 1/2^(bits-1) of the
 * values it holds. Above the exact range, a value whose top bit is bit m lands in bucket
 * (s + 1) * 2^(bits-1) + (its bits-1 bits below the top one), s = m - (bits - 1); for the upper half
 * of the exact range (s = 0) that is the value itself, so the two ranges join without a gap.
 *
 * Plain C with no includes: BPF C (vmlinux.h, no libc) and user-space C both take it. BPF has no
 * count-leading-zeros instruction, so there floor(log2) is a shift cascade. */
#ifndef ARCHBENCH_LOG_LINEAR_H
#define ARCHBENCH_LOG_LINEAR_H

/* How many buckets hold every value below 2^value_bits (value_bits >= bits). */
#define AB_LOG_LINEAR_BUCKETS(bits, value_bits) ((((value_bits) - (bits)) + 2) << ((bits) - 1))

/* floor(log2(value)), for value > 0. */
static inline __attribute__((always_inline)) unsigned int ab_log_linear_log2(unsigned long long value)
{
#ifdef __bpf__
	unsigned int r = 0, shift;

	shift = (value > 0xFFFFFFFFull) << 5; value >>= shift; r |= shift;
	shift = (value > 0xFFFF) << 4; value >>= shift; r |= shift;
	shift = (value > 0xFF) << 3; value >>= shift; r |= shift;
	shift = (value > 0xF) << 2; value >>= shift; r |= shift;
	shift = (value > 0x3) << 1; value >>= shift; r |= shift;
	r |= (unsigned int)(value >> 1);
	return r;
#else
	return 63u - (unsigned int)__builtin_clzll(value);
#endif
}

/* The bucket that counts `value`. */
static inline __attribute__((always_inline)) unsigned int ab_log_linear_index(unsigned int bits,
									     unsigned long long value)
{
	unsigned int shift;

	if (value < (1ull << bits))
		return (unsigned int)value;
	shift = ab_log_linear_log2(value) - (bits - 1);
	return ((shift + 1) << (bits - 1)) + (unsigned int)((value >> shift) & ((1ull << (bits - 1)) - 1));
}

/* The lowest value bucket `index` counts. */
static inline __attribute__((always_inline)) unsigned long long ab_log_linear_lowest(unsigned int bits,
										    unsigned int index)
{
	unsigned int half = 1u << (bits - 1);

	if (index < 2 * half)
		return index;
	return (unsigned long long)(half + (index & (half - 1))) << ((index >> (bits - 1)) - 1);
}

/* How many values bucket `index` counts: 1 in the exact range, a power of two above it. */
static inline __attribute__((always_inline)) unsigned long long ab_log_linear_width(unsigned int bits,
										   unsigned int index)
{
	if (index < (2u << (bits - 1)))
		return 1;
	return 1ull << ((index >> (bits - 1)) - 1);
}

#ifndef __bpf__
/* The rank of the `percentile` (0-100] among `total` values, by the nearest-rank rule every reader
 * of these histograms uses: the smallest count of values, walking up from the lowest bucket, that
 * reaches it (at least 1). User space only: BPF has no floating point. */
static inline unsigned long long ab_log_linear_rank(double percentile, unsigned long long total)
{
	unsigned long long rank = (unsigned long long)(percentile / 100.0 * (double)total + 0.5);

	return rank > 0 ? rank : 1;
}
#endif

#endif
