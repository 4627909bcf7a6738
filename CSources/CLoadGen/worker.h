/* One load-generating thread: its connections, its epoll loop, its statistics. Nothing here is
 * shared with another worker; the run reads the statistics after the thread ends, and the live
 * counters and the window/slow rings (single producer, single consumer) while it runs. */
#ifndef AB_WORKER_H
#define AB_WORKER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ab_load.h"
#include "histogram.h"
#include "http_response.h"

#define AB_WINDOW_RING 64
#define AB_SLOW_RING 4096

struct inflight {
	uint64_t intended_ns;
	uint64_t sent_ns;
	uint64_t seq;		/* WebSocket message sequence number */
	uint32_t endpoint;
	uint32_t is_head;
};

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY };
enum stop_reason { STOP_NONE, STOP_REFUSED, STOP_UNSOLICITED };

struct conn {
	int fd;
	uint32_t index;
	uint8_t state;
	uint8_t wants_writable;
	uint8_t on_idle_stack;
	uint8_t stop_reason;		/* why a response callback stopped the parse */
	uint16_t inflight_head, inflight_count;
	struct inflight *inflight;	/* ring of pipeline_depth entries */
	uint64_t state_since_ns;
	uint64_t reconnect_at_ns;	/* 0: no reconnect pending */
	struct ab_http_response http;
	uint8_t *pending;		/* bytes a write could not take yet */
	uint32_t pending_length, pending_offset, pending_capacity;
	uint8_t *partial;		/* a WebSocket frame split across reads */
	uint32_t partial_length, partial_capacity;
	uint8_t *message;		/* a fragmented WebSocket message being reassembled */
	uint32_t message_length, message_capacity;
	char ws_key[25];
	struct worker *worker;
};

struct endpoint_stats {
	uint64_t requests, responses;
	uint64_t errors[AB_ERR_KINDS];
	uint64_t status_counts[AB_LOAD_MAX_STATUS];
	struct ab_histogram *latency[AB_LATENCY_KINDS];
};

struct window_record {
	uint64_t index;
	uint64_t responses, errors;
	struct ab_histogram *histogram;
};

struct request_template {
	char *bytes;
	size_t length;
	int is_head;
};

/* What every worker reads from the run: set before the threads start, constant after. */
struct load_plan {
	struct ab_load_config config;
	struct sockaddr_storage address;
	socklen_t address_length;
	struct request_template templates[AB_LOAD_MAX_ENDPOINTS];
	uint32_t cumulative_weight[AB_LOAD_MAX_ENDPOINTS];
	uint32_t weight_total;
	char *ws_handshake_prefix;	/* the upgrade request up to the key header */
	uint64_t start_ns, deadline_ns, timeout_ns, window_ns;
	int stop_requested;		/* set by ab_load_run__stop; read with __atomic */
};

struct worker {
	const struct load_plan *plan;
	uint32_t index;
	pthread_t thread;
	int epfd;
	struct conn *conns;
	uint32_t conn_count;
	uint32_t *idle;			/* connections free to take a request (open loop) */
	uint32_t idle_count;
	uint64_t rng;
	uint32_t depth;

	/* Schedule (open loop) and limits. */
	double interval_ns;
	uint64_t schedule_start_ns;
	uint64_t scheduled;		/* index of the next intended start */
	uint64_t budget, sent;
	uint64_t inflight_total;
	uint64_t next_reconnect_ns;
	uint64_t send_end_ns, end_ns;
	int draining;

	/* Statistics. */
	struct endpoint_stats *endpoints;
	uint64_t errors[AB_ERR_KINDS];
	uint64_t bytes_read, bytes_written, connects, late_sends, dropped_sends, pings_answered, server_closes;
	uint64_t slow_threshold_ns;	/* the running p99 that marks slow requests */

	/* Live counters: one writer (this thread), read by the poller. */
	uint64_t live_requests, live_responses, live_errors;
	int finished;

	/* Per-window records and slow requests, drained by the poller. */
	uint64_t window_index;
	uint64_t window_responses, window_errors;
	struct ab_histogram *window_histogram;
	struct window_record window_ring[AB_WINDOW_RING];
	uint64_t window_head, window_tail, windows_dropped;
	struct ab_slow_request slow_ring[AB_SLOW_RING];
	uint64_t slow_head, slow_tail, slow_dropped;

	char *read_buffer;
	uint8_t *write_buffer;
	uint8_t *message_buffer;
	uint64_t ws_seq;
};

int worker_init(struct worker *worker, const struct load_plan *plan, uint32_t index, uint32_t connections,
		uint64_t budget);
void *worker_main(void *worker);
void worker_free(struct worker *worker);

#endif
