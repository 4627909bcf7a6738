/* A worker's per-window records and slow requests on their way to the run: two single-producer,
 * single-consumer rings. The worker's thread pushes (records_push_*), the poller's thread drains
 * (records_drain); neither waits for the other. A push onto a full ring drops the record and counts
 * it, so the load never waits for a slow poller. */
#ifndef AB_RECORDS_H
#define AB_RECORDS_H

#include <stdint.h>

#include "ab_load.h"
#include "histogram.h"

#define RECORDS_WINDOW_RING 64
#define RECORDS_SLOW_RING 4096

/* One worker's statistics for one window of the run. */
struct window_record {
	uint64_t index;		/* windows since the run's start */
	uint64_t responses, errors;
	struct ab_histogram *histogram;	/* corrected latency, AB_HISTOGRAM_COARSE_BITS */
};

struct records {
	struct window_record windows[RECORDS_WINDOW_RING];
	uint64_t window_head;	/* pushed: written by the producer only */
	uint64_t window_tail;	/* drained: written by the consumer only */
	uint64_t windows_dropped;
	struct ab_slow_request slow[RECORDS_SLOW_RING];
	uint64_t slow_head, slow_tail;
	uint64_t slow_dropped;
};

/* Where records_drain hands the records, oldest first; the record is only valid during the call. */
struct records_sink {
	void (*window)(void *context, const struct window_record *record);
	void (*slow)(void *context, const struct ab_slow_request *request);
	void *context;
};

/* 0 or -ENOMEM; call records_free either way. */
int records_init(struct records *records);
void records_free(struct records *records);

/* The producer's side. The window's histogram is copied: the caller keeps counting into its own. */
void records_push_window(struct records *records, uint64_t index, uint64_t responses, uint64_t errors,
			 const struct ab_histogram *histogram);
void records_push_slow(struct records *records, const struct ab_slow_request *request);

/* The consumer's side: hands `sink` every record pushed so far, then frees their slots. */
void records_drain(struct records *records, const struct records_sink *sink);
/* Records a full ring dropped; final once the producer has ended. */
uint64_t records_windows_dropped(const struct records *records);
uint64_t records_slow_dropped(const struct records *records);

#endif
