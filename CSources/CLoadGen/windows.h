/* The run's per-window statistics: every worker's record of a window (records.h) merged into one
 * struct ab_load_window, finished when the last worker has reported it or the run has ended. Used
 * from the poller's thread only (the run's lock held). */
#ifndef AB_WINDOWS_H
#define AB_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "ab_load.h"
#include "histogram.h"
#include "records.h"

struct windows {
	uint64_t start_ns, window_ns;
	uint32_t reporters;		/* workers: each reports every window once */
	struct ab_load_window *list;
	struct ab_histogram **merging;	/* per window, until every worker has reported it */
	uint32_t *reports;
	size_t count, capacity;
	uint64_t dropped;		/* windows past the limit (WINDOWS_LIMIT) */
};

void windows_init(struct windows *windows, uint32_t reporters, uint64_t start_ns, uint64_t window_ns);
void windows_free(struct windows *windows);
/* Merges one worker's record. `counts_drops`: this worker's records count the windows past the
 * limit, so each counts once, not once per worker. */
void windows_add(struct windows *windows, const struct window_record *record, int counts_drops);
/* Finishes the windows some worker never reported (it ended first). */
void windows_finish(struct windows *windows);
/* Copies up to `capacity` windows; returns how many. */
size_t windows_copy(const struct windows *windows, struct ab_load_window *out, size_t capacity);

#endif
