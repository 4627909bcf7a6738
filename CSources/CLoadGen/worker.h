/* One load-generating thread: its connections, their state machine (connect, WebSocket upgrade,
 * requests and responses, timeouts, reconnects) and its epoll loop. Nothing in it is shared with
 * another worker. While it runs, other threads read only its live counters and drain its records
 * (records.h); its statistics are read once its thread has ended. */
#ifndef AB_WORKER_H
#define AB_WORKER_H

#include <stdint.h>

#include "ab_load.h"
#include "histogram.h"
#include "plan.h"
#include "records.h"

/* One endpoint's counts and latencies, in one worker. */
struct endpoint_stats {
	uint64_t requests, responses;
	uint64_t errors[AB_ERR_KINDS];
	uint64_t status_counts[AB_LOAD_MAX_STATUS];
	struct ab_histogram *latency[AB_LATENCY_KINDS];	/* AB_HISTOGRAM_PRECISE_BITS */
};

/* What a worker measured; complete once its thread has ended. */
struct worker_stats {
	struct endpoint_stats *endpoints;	/* one per endpoint of the plan */
	uint64_t errors[AB_ERR_KINDS];		/* all of them: also those no request owns (a failed connect) */
	uint64_t bytes_read, bytes_written, connects, late_sends, dropped_sends, pings_answered, server_closes;
	uint64_t send_end_ns;			/* when it stopped sending */
	uint64_t end_ns;			/* when its thread ended */
};

/* Counters that grow while the worker runs, readable from any thread. */
struct worker_live {
	uint64_t requests;	/* sent */
	uint64_t responses;	/* completed */
	uint64_t errors;
};

struct worker;

/* A worker for `connections` of the plan's connections, that sends at most `budget` requests
 * (UINT64_MAX: no limit); NULL with errno set on failure. */
struct worker *worker_new(const struct load_plan *plan, uint32_t index, uint32_t connections, uint64_t budget);
/* Starts its thread; 0 or -errno. */
int worker_start(struct worker *worker);
void worker_join(struct worker *worker);
/* 1 once its thread has ended (after pushing its last records). */
int worker_finished(const struct worker *worker);
void worker_live_counts(const struct worker *worker, struct worker_live *live);
/* Where its thread pushes windows and slow requests, for the poller to drain. */
struct records *worker_records(struct worker *worker);
/* Read after worker_join. */
const struct worker_stats *worker_stats(const struct worker *worker);
void worker_free(struct worker *worker);

#endif
