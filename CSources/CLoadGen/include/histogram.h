/* A log-linear latency histogram in the manner of HdrHistogram: values below 2^bits are counted
 * exactly, larger ones in buckets no wider than 1/2^(bits-1) of their value, so `bits` = 11 keeps
 * three significant digits. The bucketing is bpf/log_linear.h's, the one the kernel's syscall
 * histograms use. Written here rather than taken from a library because it is on the hot path of
 * every response (one clz, two shifts, one increment) and Debian packages no C HdrHistogram. */
#ifndef AB_HISTOGRAM_H
#define AB_HISTOGRAM_H

#include <ab_log_linear.h>
#include <stddef.h>
#include <stdint.h>

/* 60 s in ns: larger values are clamped to it (the top of the range the suite reports). */
#define AB_HISTOGRAM_MAX_NS 60000000000ull
/* Three significant digits, for the run's histograms. */
#define AB_HISTOGRAM_PRECISE_BITS 11
/* About 6% wide buckets, for the per-window histograms kept for the whole run. */
#define AB_HISTOGRAM_COARSE_BITS 4

struct ab_histogram {
	uint32_t bits;
	uint32_t bucket_count;
	uint64_t total;
	uint64_t min;
	uint64_t max;
	uint64_t sum;		/* for the mean; ns, wraps after ~580 years of latency */
	uint64_t counts[];
};

struct ab_histogram *ab_histogram__new(uint32_t bits);
void ab_histogram__free(struct ab_histogram *h);
void ab_histogram__reset(struct ab_histogram *h);
size_t ab_histogram__bytes(uint32_t bits);

static inline uint32_t ab_histogram__index(uint32_t bits, uint64_t value)
{
	return ab_log_linear_index(bits, value);
}

static inline void ab_histogram__record(struct ab_histogram *h, uint64_t value)
{
	if (value > AB_HISTOGRAM_MAX_NS)
		value = AB_HISTOGRAM_MAX_NS;
	h->counts[ab_histogram__index(h->bits, value)]++;
	h->total++;
	h->sum += value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

/* Adds `from` into `into`; both must have the same bits (else -EINVAL). */
int ab_histogram__merge(struct ab_histogram *into, const struct ab_histogram *from);
/* Makes `into` a copy of `from`; both must have the same bits (else -EINVAL). */
int ab_histogram__copy(struct ab_histogram *into, const struct ab_histogram *from);
/* The highest value equivalent to the one at `percentile` (0-100], as HdrHistogram reports it;
 * the exact max at 100. 0 for an empty histogram. */
uint64_t ab_histogram__percentile(const struct ab_histogram *h, double percentile);
/* Bucket bounds, for callers that walk the counts. */
uint64_t ab_histogram__lowest(uint32_t bits, uint32_t index);
uint64_t ab_histogram__highest(uint32_t bits, uint32_t index);

#endif
