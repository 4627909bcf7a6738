/* archbench's load generator: one epoll loop per thread over non-blocking sockets, HTTP/1.1
 * keep-alive (pipelining, connection churn, a weighted endpoint mix) or WebSocket echo, closed loop
 * or open loop at a fixed rate with coordinated-omission correction. Timing is CLOCK_MONOTONIC ns
 * (ab_monotonic_ns, CCommon's ab_clock.h).
 *
 * Library code: it never prints, exits or aborts. Constructors return NULL and set errno; int
 * functions return 0 or -errno. A run is started, polled (live counters; per-window and slow-request
 * records are drained into the run by each poll), waited for, then read. */
#ifndef ARCHBENCH_AB_LOAD_H
#define ARCHBENCH_AB_LOAD_H

#include <stddef.h>
#include <stdint.h>

/* Failed requests, counted by kind; none is fatal to the run. */
enum ab_load_error_kind {
	AB_ERR_CONNECT = 0,	/* connect() failed or timed out */
	AB_ERR_READ = 1,	/* read failed, or the peer closed with a response outstanding */
	AB_ERR_WRITE = 2,	/* write failed */
	AB_ERR_TIMEOUT = 3,	/* a request in flight got no response within the timeout */
	AB_ERR_STATUS = 4,	/* a response with status >= 400, or a refused WebSocket upgrade */
	AB_ERR_PARSE = 5,	/* the response (or frame, or echo) was not what the protocol allows */
	AB_ERR_KINDS = 6,
};

enum ab_latency_kind {
	AB_LATENCY_CORRECTED = 0,	/* from the intended start: coordinated-omission corrected */
	AB_LATENCY_UNCORRECTED = 1,	/* from the actual send */
	AB_LATENCY_SEND_LAG = 2,	/* actual send minus intended start (open loop) */
	AB_LATENCY_KINDS = 3,
};

#define AB_LOAD_MAX_ENDPOINTS 32
#define AB_LOAD_MAX_STATUS 600

struct ab_load_endpoint {
	const char *method;	/* "GET", "POST", … */
	const char *path;	/* "/api/users?limit=10" */
	const char *headers;	/* extra header lines, each ending "\r\n"; may be NULL */
	const char *body;	/* may be NULL */
	size_t body_length;
	uint32_t weight;	/* share of the mix; 0 counts as 1 */
};

struct ab_load_config {
	const char *host;	/* numeric address or name, resolved once at start */
	uint16_t port;
	const char *host_header;	/* the Host: value; NULL means host[:port] */
	uint32_t threads;
	uint32_t connections;	/* in total, spread over the threads */
	double duration_s;
	uint64_t max_requests;	/* stop sending after this many in total; 0 means no limit */
	double rate;		/* requests (or messages) per second in total; 0 means closed loop */
	double timeout_s;	/* a request in flight longer than this is a timeout */
	uint32_t pipeline_depth;	/* requests in flight per connection (HTTP); 1 means none */
	int close_each;		/* send Connection: close and reconnect after every response */
	const struct ab_load_endpoint *endpoints;
	size_t endpoint_count;
	int websocket;		/* 1: WebSocket echo; endpoints[0].path is the upgrade path */
	int websocket_text;	/* 1: text frames (hex-encoded stamps), 0: binary */
	uint32_t message_bytes;	/* WebSocket payload size; at least the stamp (24 binary, 48 text) */
	uint64_t window_ns;	/* per-window statistics period; 0 means 100 ms */
	uint32_t slow_capacity;	/* slow requests kept for the analysis; 0 means 100 000 */
};

struct ab_load_run;

/* Connects once to the target with a timeout, so an unreachable target fails fast and clearly. */
int ab_load_check_target(const char *host, uint16_t port, double timeout_s);

struct ab_load_run *ab_load_run__start(const struct ab_load_config *config);
/* Asks the threads to stop sending and finish (e.g. on SIGINT); returns at once. */
void ab_load_run__stop(struct ab_load_run *run);
/* 1 once every thread has finished. */
int ab_load_run__finished(struct ab_load_run *run);
/* Joins the threads and drains what they left; call once, before reading results. */
void ab_load_run__wait(struct ab_load_run *run);
void ab_load_run__destroy(struct ab_load_run *run);

struct ab_load_progress {
	uint64_t elapsed_ns;
	uint64_t requests;	/* sent */
	uint64_t responses;	/* completed */
	uint64_t errors;
};
/* Live counters, readable while the run goes on; also drains per-window and slow records. */
void ab_load_run__poll(struct ab_load_run *run, struct ab_load_progress *progress);

struct ab_load_totals {
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t send_window_ns;	/* how long requests were being sent */
	uint64_t requests, responses;
	uint64_t bytes_read, bytes_written;
	uint64_t connects;		/* successful connections, first ones included */
	uint64_t errors[AB_ERR_KINDS];
	uint64_t status_counts[AB_LOAD_MAX_STATUS];
	uint64_t late_sends;		/* sent more than 1 ms after their intended start */
	uint64_t dropped_sends;		/* due before the end but never sent */
	uint64_t pings_answered, server_closes;	/* WebSocket */
	uint64_t windows_dropped, slow_dropped;
};
/* Totals for one endpoint, or for all with endpoint = -1. */
int ab_load_run__totals(struct ab_load_run *run, int endpoint, struct ab_load_totals *totals);
/* A latency percentile in ns (0-100; 100 is the max), for one endpoint or all (-1). */
uint64_t ab_load_run__latency(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind, double percentile);
double ab_load_run__latency_mean(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind);
/* The merged histogram itself (after wait), so that it can be kept and merged with others: its
 * bucket bits, its sum and maximum of values in ns, and up to `capacity` non-empty buckets as (index, count)
 * pairs in `pairs`. Returns how many buckets are non-empty (more than `capacity`: call again with
 * more room), or -EINVAL before wait or for an unknown endpoint. */
long ab_load_run__histogram(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind, uint32_t *bits,
			    uint64_t *sum_ns, uint64_t *max_ns, uint64_t *pairs, size_t capacity);

/* One period of the run, all threads merged. */
struct ab_load_window {
	uint64_t start_ns;
	uint64_t responses;
	uint64_t errors;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;	/* corrected latency, ~6% buckets */
	uint32_t log2_counts[40];	/* responses with latency in [2^i, 2^(i+1)) µs; [0] holds < 2 µs */
};
size_t ab_load_run__window_count(struct ab_load_run *run);
size_t ab_load_run__windows(struct ab_load_run *run, struct ab_load_window *out, size_t capacity);

/* A request slower than the running p99 when it completed. */
struct ab_slow_request {
	uint64_t intended_ns, sent_ns, end_ns;
	uint32_t connection;	/* thread << 24 | connection index: stable across reconnects */
	uint16_t endpoint;
	uint16_t status;	/* 0 for a WebSocket message */
};
size_t ab_load_run__slow_count(struct ab_load_run *run);
size_t ab_load_run__slow_requests(struct ab_load_run *run, struct ab_slow_request *out, size_t capacity);

#endif
