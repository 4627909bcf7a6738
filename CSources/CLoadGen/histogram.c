#include "histogram.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bucket_count(uint32_t bits)
{
	return ab_histogram__index(bits, AB_HISTOGRAM_MAX_NS) + 1;
}

size_t ab_histogram__bytes(uint32_t bits)
{
	return sizeof(struct ab_histogram) + bucket_count(bits) * sizeof(uint64_t);
}

struct ab_histogram *ab_histogram__new(uint32_t bits)
{
	struct ab_histogram *h;

	if (bits < 2 || bits > 20) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, ab_histogram__bytes(bits));
	if (!h)
		return NULL;
	h->bits = bits;
	h->bucket_count = bucket_count(bits);
	h->min = UINT64_MAX;
	return h;
}

void ab_histogram__free(struct ab_histogram *h)
{
	free(h);
}

void ab_histogram__reset(struct ab_histogram *h)
{
	memset(h->counts, 0, h->bucket_count * sizeof(uint64_t));
	h->total = 0;
	h->sum = 0;
	h->max = 0;
	h->min = UINT64_MAX;
}

int ab_histogram__merge(struct ab_histogram *into, const struct ab_histogram *from)
{
	if (into->bits != from->bits)
		return -EINVAL;
	for (uint32_t i = 0; i < into->bucket_count; i++)
		into->counts[i] += from->counts[i];
	into->total += from->total;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	return 0;
}

int ab_histogram__copy(struct ab_histogram *into, const struct ab_histogram *from)
{
	if (into->bits != from->bits)
		return -EINVAL;
	memcpy(into->counts, from->counts, into->bucket_count * sizeof(uint64_t));
	into->total = from->total;
	into->sum = from->sum;
	into->min = from->min;
	into->max = from->max;
	return 0;
}

uint64_t ab_histogram__lowest(uint32_t bits, uint32_t index)
{
	return ab_log_linear_lowest(bits, index);
}

uint64_t ab_histogram__highest(uint32_t bits, uint32_t index)
{
	return ab_log_linear_lowest(bits, index) + ab_log_linear_width(bits, index) - 1;
}

uint64_t ab_histogram__percentile(const struct ab_histogram *h, double percentile)
{
	uint64_t wanted, seen = 0;

	if (h->total == 0)
		return 0;
	if (percentile >= 100.0)
		return h->max;
	wanted = ab_log_linear_rank(percentile, h->total);
	for (uint32_t i = 0; i < h->bucket_count; i++) {
		seen += h->counts[i];
		if (seen >= wanted) {
			uint64_t value = ab_histogram__highest(h->bits, i);

			return value > h->max ? h->max : value;
		}
	}
	return h->max;
}
