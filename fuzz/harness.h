/* What the fuzz targets share: a check that aborts, so libFuzzer keeps the input that failed it,
 * and the cutting of an input's bytes into reads, the same for the same input every time. */
#ifndef ARCHBENCH_FUZZ_HARNESS_H
#define ARCHBENCH_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* Reads of 1..most bytes (all that is left when most is 0), pseudo-random from most and the
 * input's length. */
struct cuts {
	uint64_t state;
	unsigned most;
};

static inline struct cuts cuts_start(unsigned most, size_t length)
{
	struct cuts cuts = { ((uint64_t)most << 32 | length) * 0x9E3779B97F4A7C15ull | 1, most };

	return cuts;
}

static inline size_t cuts_next(struct cuts *cuts, size_t left)
{
	size_t piece;

	if (!cuts->most)
		return left;
	cuts->state ^= cuts->state << 13;
	cuts->state ^= cuts->state >> 7;
	cuts->state ^= cuts->state << 17;
	piece = 1 + cuts->state % cuts->most;
	return piece < left ? piece : left;
}

#endif
