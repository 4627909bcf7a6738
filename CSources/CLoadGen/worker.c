#define _GNU_SOURCE
#include "worker.h"

#include <ab_clock.h>
#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "http_response.h"
#include "rng.h"
#include "ws_frame.h"
#include "ws_session.h"

#define READ_BUFFER_BYTES (64 * 1024)
#define MAX_EVENTS 256
#define TIMEOUT_CHECK_NS (20 * 1000000ull)
#define CONNECT_BACKOFF_NS (10 * 1000000ull)
#define LATE_SEND_NS 1000000ull
#define SPIN_POLLS 4		/* non-blocking epoll polls before a blocking one, when busy */
#define SPIN_WHEN_EVENTS 1	/* the last wait returned at least this many events */
#define SLOW_THRESHOLD_MIN_RESPONSES 100	/* fewer make no p99 worth marking slow requests by */

enum io_status { IO_OK, IO_CLOSED };	/* IO_CLOSED: the connection was closed, stop using it */

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
	struct ws_session ws;		/* WebSocket runs only */
	struct worker *worker;
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
	int draining;

	struct worker_stats stats;
	uint64_t slow_threshold_ns;	/* the running p99 that marks slow requests */

	/* One writer (this thread), read by the poller. */
	struct worker_live live;
	int finished;

	/* The window being counted; each one closed goes to `records`. */
	uint64_t window_index;
	uint64_t window_responses, window_errors;
	struct ab_histogram *window_histogram;
	struct records records;

	char *read_buffer;
	uint8_t *write_buffer;
	uint8_t *message_buffer;	/* a WebSocket message: stamp, then filler */
};

static uint64_t next_random(struct worker *w)
{
	return rng_next(&w->rng);
}

static int stop_requested(const struct worker *w)
{
	return __atomic_load_n(&w->plan->stop_requested, __ATOMIC_RELAXED);
}

static void count_error(struct worker *w, int endpoint, enum ab_load_error_kind kind, uint64_t count)
{
	w->stats.errors[kind] += count;
	w->window_errors += count;
	__atomic_store_n(&w->live.errors, w->live.errors + count, __ATOMIC_RELAXED);
	if (endpoint >= 0)
		w->stats.endpoints[endpoint].errors[kind] += count;
}

/* ---- connection lifecycle ---- */

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);	/* also removes it from the epoll set */
		c->fd = -1;
	}
	w->inflight_total -= c->inflight_count;
	c->inflight_count = 0;
	c->inflight_head = 0;
	c->state = CONN_CLOSED;
	c->wants_writable = 0;
	c->pending_length = c->pending_offset = 0;
	ws_session_reset(&c->ws);
}

static void schedule_reconnect(struct worker *w, struct conn *c, uint64_t at_ns)
{
	c->reconnect_at_ns = at_ns ? at_ns : 1;
	if (w->next_reconnect_ns == 0 || c->reconnect_at_ns < w->next_reconnect_ns)
		w->next_reconnect_ns = c->reconnect_at_ns;
}

/* Closes the connection and, unless the worker is winding down, reconnects at `at_ns` (0: now). */
static void conn_close_and_reconnect(struct worker *w, struct conn *c, uint64_t at_ns)
{
	conn_close(w, c);
	if (!w->draining)
		schedule_reconnect(w, c, at_ns);
}

/* Counts the failure against the request at the head of the pipeline, if any, then reconnects. */
static void conn_fail(struct worker *w, struct conn *c, enum ab_load_error_kind kind)
{
	int endpoint = c->inflight_count ? (int)c->inflight[c->inflight_head].endpoint : -1;

	count_error(w, endpoint, kind, 1);
	conn_close_and_reconnect(w, c, kind == AB_ERR_CONNECT ? ab_monotonic_ns() + CONNECT_BACKOFF_NS : 0);
}

/* Counts every request in flight on the connection as failed (the head's endpoint owns them). */
static void fail_inflight(struct worker *w, struct conn *c, enum ab_load_error_kind kind)
{
	if (c->inflight_count)
		count_error(w, (int)c->inflight[c->inflight_head].endpoint, kind, c->inflight_count);
}

static void conn_set_writable_interest(struct worker *w, struct conn *c, int wanted)
{
	struct epoll_event event = { .events = EPOLLIN | (wanted ? EPOLLOUT : 0), .data.u32 = c->index };

	if (c->wants_writable == wanted)
		return;
	c->wants_writable = (uint8_t)wanted;
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &event);
}

static void conn_open(struct worker *w, struct conn *c)
{
	const struct load_plan *plan = w->plan;
	struct epoll_event event = { .events = EPOLLIN | EPOLLOUT, .data.u32 = c->index };
	int one = 1;

	c->reconnect_at_ns = 0;
	c->fd = socket(plan->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		count_error(w, -1, AB_ERR_CONNECT, 1);
		schedule_reconnect(w, c, ab_monotonic_ns() + CONNECT_BACKOFF_NS);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&plan->address, plan->address_length) == -1 &&
	    errno != EINPROGRESS) {
		conn_fail(w, c, AB_ERR_CONNECT);
		return;
	}
	/* Writable once connected; EPOLLOUT is dropped then and only asked for again when a write
	 * could not finish, so a request costs one write and one read, no epoll_ctl. */
	c->wants_writable = 1;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &event) == -1) {
		conn_fail(w, c, AB_ERR_CONNECT);
		return;
	}
	c->state = CONN_CONNECTING;
	c->state_since_ns = ab_monotonic_ns();
}

static enum io_status conn_flush(struct worker *w, struct conn *c)
{
	while (c->pending_offset < c->pending_length) {
		ssize_t n = send(c->fd, c->pending + c->pending_offset, c->pending_length - c->pending_offset, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EAGAIN) {
				conn_set_writable_interest(w, c, 1);
				return IO_OK;
			}
			if (errno == EINTR)
				continue;
			conn_fail(w, c, AB_ERR_WRITE);
			return IO_CLOSED;
		}
		w->stats.bytes_written += (uint64_t)n;
		c->pending_offset += (uint32_t)n;
	}
	c->pending_length = c->pending_offset = 0;
	conn_set_writable_interest(w, c, 0);
	return IO_OK;
}

/* Writes at once when nothing is queued; keeps what the socket does not take for EPOLLOUT. */
static enum io_status conn_write(struct worker *w, struct conn *c, const void *bytes, size_t length)
{
	size_t written = 0;

	if (c->pending_length == 0) {
		for (;;) {
			/* send with MSG_NOSIGNAL, not write: a peer's reset must be an error we count, not a SIGPIPE. */
			ssize_t n = send(c->fd, bytes, length, MSG_NOSIGNAL);

			if (n >= 0) {
				written = (size_t)n;
				w->stats.bytes_written += (uint64_t)n;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_fail(w, c, AB_ERR_WRITE);
			return IO_CLOSED;
		}
		if (written == length)
			return IO_OK;
	}
	if (buffer_reserve(&c->pending, &c->pending_capacity, c->pending_length + length - written)) {
		conn_fail(w, c, AB_ERR_WRITE);
		return IO_CLOSED;
	}
	memcpy(c->pending + c->pending_length, (const uint8_t *)bytes + written, length - written);
	c->pending_length += (uint32_t)(length - written);
	conn_set_writable_interest(w, c, 1);
	return IO_OK;
}

/* ---- sending ---- */

static int can_send(const struct worker *w)
{
	return !w->draining && w->sent < w->budget;
}

static uint32_t choose_endpoint(struct worker *w)
{
	const struct load_plan *plan = w->plan;
	uint32_t pick;

	if (plan->config.endpoint_count == 1)
		return 0;
	pick = (uint32_t)(next_random(w) % plan->weight_total);
	for (uint32_t i = 0; i < plan->config.endpoint_count; i++)
		if (pick < plan->cumulative_weight[i])
			return i;
	return 0;
}

static struct inflight *push_inflight(struct worker *w, struct conn *c)
{
	struct inflight *slot = &c->inflight[(c->inflight_head + c->inflight_count) % w->depth];

	c->inflight_count++;
	w->inflight_total++;
	return slot;
}

static void pop_inflight(struct worker *w, struct conn *c)
{
	c->inflight_head = (uint16_t)((c->inflight_head + 1) % w->depth);
	c->inflight_count--;
	w->inflight_total--;
}

static void note_sent(struct worker *w, uint32_t endpoint, uint64_t intended_ns, uint64_t sent_ns)
{
	w->sent++;
	w->stats.endpoints[endpoint].requests++;
	__atomic_store_n(&w->live.requests, w->sent, __ATOMIC_RELAXED);
	if (w->interval_ns > 0) {
		uint64_t lag = sent_ns > intended_ns ? sent_ns - intended_ns : 0;

		ab_histogram__record(w->stats.endpoints[endpoint].latency[AB_LATENCY_SEND_LAG], lag);
		if (lag > LATE_SEND_NS)
			w->stats.late_sends++;
	}
}

/* Sends one request (or WebSocket message) intended to start at `intended_ns` (0: now). */
static enum io_status send_one(struct worker *w, struct conn *c, uint64_t intended_ns)
{
	const struct load_plan *plan = w->plan;
	uint64_t sent_ns = ab_monotonic_ns();
	struct inflight *slot;

	if (!intended_ns)
		intended_ns = sent_ns;
	slot = push_inflight(w, c);
	slot->intended_ns = intended_ns;
	slot->sent_ns = sent_ns;
	if (plan->config.websocket) {
		size_t length = ws_session_message(&c->ws, w->message_buffer, w->write_buffer, sent_ns, intended_ns,
						   &slot->seq);

		slot->endpoint = 0;
		slot->is_head = 0;
		note_sent(w, 0, intended_ns, sent_ns);
		return conn_write(w, c, w->write_buffer, length);
	}
	slot->endpoint = choose_endpoint(w);
	slot->is_head = (uint32_t)plan->templates[slot->endpoint].is_head;
	note_sent(w, slot->endpoint, intended_ns, sent_ns);
	return conn_write(w, c, plan->templates[slot->endpoint].bytes, plan->templates[slot->endpoint].length);
}

static uint64_t intended_start(const struct worker *w, uint64_t index)
{
	return w->schedule_start_ns + (uint64_t)((double)index * w->interval_ns);
}

/* Open loop: whether the next intended start has come by `now`. The schedule is the intended starts
 * strictly before the end (start_draining counts the rest as dropped): one at or after it is never
 * due, however late the loop looks. */
static bool next_start_due(const struct worker *w, uint64_t now, uint64_t *intended)
{
	*intended = intended_start(w, w->scheduled);
	return *intended <= now && *intended < w->plan->deadline_ns;
}

static void push_idle(struct worker *w, struct conn *c)
{
	if (c->on_idle_stack)
		return;
	c->on_idle_stack = 1;
	w->idle[w->idle_count++] = c->index;
}

/* Open loop: hands every request whose intended start has come to a free connection. Requests
 * that find none wait, keeping their intended start, so their latency counts the wait. */
static void dispatch_due(struct worker *w, uint64_t now)
{
	while (can_send(w) && w->idle_count > 0) {
		uint64_t intended;
		struct conn *c;

		if (!next_start_due(w, now, &intended))
			return;
		c = &w->conns[w->idle[--w->idle_count]];
		c->on_idle_stack = 0;
		if (c->state != CONN_READY || c->inflight_count >= w->depth)
			continue;
		w->scheduled++;
		if (send_one(w, c, intended) == IO_OK && c->inflight_count < w->depth)
			push_idle(w, c);
	}
}

/* After a response (or on connecting): keep the connection as busy as the mode asks. */
static void refill(struct worker *w, struct conn *c)
{
	if (c->state != CONN_READY)
		return;
	if (w->interval_ns > 0) {
		while (can_send(w) && c->inflight_count < w->depth && c->state == CONN_READY) {
			uint64_t intended;

			if (!next_start_due(w, ab_monotonic_ns(), &intended))
				break;
			w->scheduled++;
			if (send_one(w, c, intended) != IO_OK)
				return;
		}
		if (c->state == CONN_READY && c->inflight_count < w->depth)
			push_idle(w, c);
		return;
	}
	while (can_send(w) && c->inflight_count < w->depth && c->state == CONN_READY)
		if (send_one(w, c, 0) != IO_OK)
			return;
}

/* ---- receiving ---- */

static void record_completion(struct worker *w, struct conn *c, unsigned status)
{
	struct inflight *done = &c->inflight[c->inflight_head];
	struct endpoint_stats *stats = &w->stats.endpoints[done->endpoint];
	uint64_t end = ab_monotonic_ns();
	uint64_t corrected = end - done->intended_ns;

	ab_histogram__record(stats->latency[AB_LATENCY_CORRECTED], corrected);
	/* Closed loop: every request starts when it is sent, so the uncorrected histogram would be a
	 * copy; the run copies it once at the end instead of recording every response twice. */
	if (w->interval_ns > 0)
		ab_histogram__record(stats->latency[AB_LATENCY_UNCORRECTED], end - done->sent_ns);
	ab_histogram__record(w->window_histogram, corrected);
	stats->responses++;
	w->window_responses++;
	__atomic_store_n(&w->live.responses, w->live.responses + 1, __ATOMIC_RELAXED);
	if (status) {
		stats->status_counts[status < AB_LOAD_MAX_STATUS ? status : 0]++;
		if (status >= 400)
			count_error(w, (int)done->endpoint, AB_ERR_STATUS, 1);
	}
	if (w->slow_threshold_ns && corrected > w->slow_threshold_ns) {
		struct ab_slow_request slow = {
			.intended_ns = done->intended_ns,
			.sent_ns = done->sent_ns,
			.end_ns = end,
			.connection = w->index << 24 | c->index,
			.endpoint = (uint16_t)done->endpoint,
			.status = (uint16_t)status,
		};

		records_push_slow(&w->records, &slow);
	}
	pop_inflight(w, c);
}

static int answers_head(void *context)
{
	struct conn *c = context;

	return c->inflight_count && c->inflight[c->inflight_head].is_head;
}

static int on_http_response(void *context, unsigned status, int keep_alive)
{
	struct conn *c = context;
	struct worker *w = c->worker;

	if (c->state == CONN_HANDSHAKE) {
		/* Any complete response to the upgrade request other than a 101 is a refusal. */
		c->stop_reason = STOP_REFUSED;
		w->stats.endpoints[0].status_counts[status < AB_LOAD_MAX_STATUS ? status : 0]++;
		return 1;
	}
	if (c->inflight_count == 0) {
		c->stop_reason = STOP_UNSOLICITED;
		return 1;
	}
	record_completion(w, c, status);
	/* With --close we asked for the close, whatever the response says. */
	return !keep_alive || w->plan->config.close_each;
}

static const struct ab_http_response_callbacks http_callbacks = {
	.answers_head = answers_head,
	.on_complete = on_http_response,
};

static enum io_status ws_feed(struct worker *w, struct conn *c, uint8_t *data, size_t length)
{
	switch (ws_session_feed(&c->ws, data, length)) {
	case WS_FEED_OK:
		return IO_OK;
	case WS_FEED_STOPPED:
		return IO_CLOSED;
	case WS_FEED_INVALID:
	default:
		conn_fail(w, c, AB_ERR_PARSE);
		return IO_CLOSED;
	}
}

static enum io_status http_feed(struct worker *w, struct conn *c, char *data, size_t length)
{
	size_t consumed;
	enum ab_http_feed_result result = ab_http_response__feed(&c->http, data, length, &consumed);

	switch (result) {
	case AB_HTTP_OK:
		refill(w, c);
		return c->state == CONN_CLOSED ? IO_CLOSED : IO_OK;
	case AB_HTTP_STOPPED:
		if (c->state == CONN_HANDSHAKE) {
			count_error(w, 0, AB_ERR_STATUS, 1);
			conn_close_and_reconnect(w, c, ab_monotonic_ns() + CONNECT_BACKOFF_NS);
			return IO_CLOSED;
		}
		if (c->stop_reason == STOP_UNSOLICITED) {
			c->stop_reason = STOP_NONE;
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		/* Connection: close. Requests pipelined behind the last response will never be answered. */
		fail_inflight(w, c, AB_ERR_READ);
		conn_close_and_reconnect(w, c, 0);
		return IO_CLOSED;
	case AB_HTTP_UPGRADED:
		if (c->state != CONN_HANDSHAKE ||
		    !ws_session_accepted(&c->ws, c->http.parser.status_code, c->http.capture_value)) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		w->stats.endpoints[0].status_counts[101]++;
		c->state = CONN_READY;
		refill(w, c);
		if (c->state != CONN_READY)
			return IO_CLOSED;
		return consumed < length ? ws_feed(w, c, (uint8_t *)data + consumed, length - consumed) : IO_OK;
	case AB_HTTP_INVALID:
	default:
		conn_fail(w, c, AB_ERR_PARSE);
		return IO_CLOSED;
	}
}

/* ---- the WebSocket session's callbacks (ws_session.h) ---- */

static int on_ws_echo(void *context, uint64_t seq)
{
	struct conn *c = context;
	struct worker *w = c->worker;

	/* The echo must be of the oldest message in flight on this connection. */
	if (c->inflight_count == 0 || c->inflight[c->inflight_head].seq != seq) {
		conn_fail(w, c, AB_ERR_PARSE);
		return 1;
	}
	record_completion(w, c, 0);
	refill(w, c);
	return c->state != CONN_READY;
}

static int on_ws_ping(void *context, const uint8_t *pong, size_t length)
{
	struct conn *c = context;

	c->worker->stats.pings_answered++;
	return conn_write(c->worker, c, pong, length) != IO_OK;
}

/* Answers the close, then reconnects: the run goes on. */
static void on_ws_close(void *context, const uint8_t *reply, size_t length)
{
	struct conn *c = context;
	struct worker *w = c->worker;

	w->stats.server_closes++;
	if (send(c->fd, reply, length, MSG_NOSIGNAL) > 0)
		w->stats.bytes_written += length;
	fail_inflight(w, c, AB_ERR_READ);
	conn_close_and_reconnect(w, c, 0);
}

static const struct ws_session_callbacks ws_callbacks = {
	.on_echo = on_ws_echo,
	.on_ping = on_ws_ping,
	.on_close = on_ws_close,
};

static void conn_peer_closed(struct worker *w, struct conn *c)
{
	int cut_off = 0;

	/* The close may end a response whose body runs to the close. */
	if (!w->plan->config.websocket && c->state == CONN_READY)
		cut_off = ab_http_response__eof(&c->http) == AB_HTTP_INVALID;
	if (cut_off || c->inflight_count > 0 || ws_session_midframe(&c->ws)) {
		conn_fail(w, c, AB_ERR_READ);
		return;
	}
	/* An idle keep-alive connection the server chose to close: just reconnect. */
	conn_close_and_reconnect(w, c, 0);
}

static void conn_readable(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, w->read_buffer, READ_BUFFER_BYTES);
		enum io_status status;

		if (n > 0) {
			w->stats.bytes_read += (uint64_t)n;
			if (w->plan->config.websocket && c->state == CONN_READY)
				status = ws_feed(w, c, (uint8_t *)w->read_buffer, (size_t)n);
			else
				status = http_feed(w, c, w->read_buffer, (size_t)n);
			/* A short read drained the socket: level-triggered epoll reports the next data, so
			 * no second read is spent to see EAGAIN. */
			if (status != IO_OK || n < READ_BUFFER_BYTES)
				return;
			continue;
		}
		if (n == 0) {
			conn_peer_closed(w, c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			conn_fail(w, c, AB_ERR_READ);
		return;
	}
}

static void send_handshake(struct worker *w, struct conn *c)
{
	size_t length = ws_session_handshake(&c->ws, w->plan->ws_handshake_prefix, (char *)w->write_buffer,
					     READ_BUFFER_BYTES);

	c->state = CONN_HANDSHAKE;
	c->state_since_ns = ab_monotonic_ns();
	c->stop_reason = STOP_NONE;
	conn_write(w, c, w->write_buffer, length);
}

static void conn_connected(struct worker *w, struct conn *c)
{
	int error = 0;
	socklen_t length = sizeof(error);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length) == -1 || error) {
		conn_fail(w, c, AB_ERR_CONNECT);
		return;
	}
	w->stats.connects++;
	conn_set_writable_interest(w, c, 0);
	ab_http_response__init(&c->http, &http_callbacks, c);
	if (w->plan->config.websocket) {
		send_handshake(w, c);
		return;
	}
	c->state = CONN_READY;
	refill(w, c);
}

static void handle_event(struct worker *w, const struct epoll_event *event)
{
	struct conn *c = &w->conns[event->data.u32];

	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_CONNECTING) {
		if (event->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			conn_connected(w, c);
		return;
	}
	if ((event->events & EPOLLOUT) && conn_flush(w, c) != IO_OK)
		return;
	if (event->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_readable(w, c);
}

/* ---- the loop's housekeeping ---- */

/* Time from `since` to `now`; 0 when `since` is later (stamped after `now` was read). */
static uint64_t elapsed(uint64_t now, uint64_t since)
{
	return now > since ? now - since : 0;
}

static void check_timeouts(struct worker *w, uint64_t now)
{
	uint64_t timeout = w->plan->timeout_ns;

	for (uint32_t i = 0; i < w->conn_count; i++) {
		struct conn *c = &w->conns[i];

		if (c->state == CONN_CONNECTING && elapsed(now, c->state_since_ns) > timeout) {
			conn_fail(w, c, AB_ERR_CONNECT);
		} else if (c->state == CONN_HANDSHAKE && elapsed(now, c->state_since_ns) > timeout) {
			conn_fail(w, c, AB_ERR_TIMEOUT);
		} else if (c->inflight_count && elapsed(now, c->inflight[c->inflight_head].sent_ns) > timeout) {
			/* Every request in flight on it has waited at least this long. */
			fail_inflight(w, c, AB_ERR_TIMEOUT);
			conn_close_and_reconnect(w, c, 0);
		}
	}
}

static void reconnect_due(struct worker *w, uint64_t now)
{
	if (!w->next_reconnect_ns || w->next_reconnect_ns > now)
		return;
	w->next_reconnect_ns = 0;
	for (uint32_t i = 0; i < w->conn_count; i++) {
		struct conn *c = &w->conns[i];

		if (!c->reconnect_at_ns)
			continue;
		if (c->reconnect_at_ns <= now)
			conn_open(w, c);
		else if (!w->next_reconnect_ns || c->reconnect_at_ns < w->next_reconnect_ns)
			w->next_reconnect_ns = c->reconnect_at_ns;
	}
}

/* The running p99 over every endpoint, recomputed once a window (off the per-response path). */
static void refresh_slow_threshold(struct worker *w)
{
	const struct ab_histogram *first = w->stats.endpoints[0].latency[AB_LATENCY_CORRECTED];
	size_t endpoints = w->plan->config.endpoint_count;
	uint64_t total = 0, wanted, seen = 0;

	for (size_t e = 0; e < endpoints; e++)
		total += w->stats.endpoints[e].latency[AB_LATENCY_CORRECTED]->total;
	if (total < SLOW_THRESHOLD_MIN_RESPONSES)
		return;
	wanted = ab_log_linear_rank(99, total);
	for (uint32_t i = 0; i < first->bucket_count; i++) {
		for (size_t e = 0; e < endpoints; e++)
			seen += w->stats.endpoints[e].latency[AB_LATENCY_CORRECTED]->counts[i];
		if (seen >= wanted) {
			w->slow_threshold_ns = ab_histogram__highest(first->bits, i);
			return;
		}
	}
}

/* Closes the windows that have ended; also refreshes the running p99 that marks slow requests. */
static void rotate_windows(struct worker *w, uint64_t now)
{
	uint64_t current = elapsed(now, w->plan->start_ns) / w->plan->window_ns;

	while (w->window_index < current) {
		records_push_window(&w->records, w->window_index, w->window_responses, w->window_errors,
				    w->window_histogram);
		if (w->window_histogram->total)
			ab_histogram__reset(w->window_histogram);
		w->window_responses = w->window_errors = 0;
		w->window_index++;
		refresh_slow_threshold(w);
	}
}

static uint64_t min_nonzero(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* WebSocket connections whose upgrade was sent and not yet answered: waited for at the end like
 * requests in flight, and counted as timeouts if the time runs out first. */
static uint32_t upgrades_in_flight(const struct worker *w)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < w->conn_count; i++)
		count += w->conns[i].state == CONN_HANDSHAKE;
	return count;
}

static void start_draining(struct worker *w, uint64_t now)
{
	uint64_t end = now < w->plan->deadline_ns ? now : w->plan->deadline_ns;

	w->draining = 1;
	w->stats.send_end_ns = end;
	w->idle_count = 0;
	/* Open loop: requests whose intended start came before the end but that were never sent. */
	if (w->interval_ns > 0 && end >= w->schedule_start_ns && w->sent < w->budget) {
		/* Intended starts strictly before the end: indexes 0 .. ceil(span / interval) - 1. */
		uint64_t due = (uint64_t)ceil((double)(end - w->schedule_start_ns) / w->interval_ns);

		if (due > w->budget)
			due = w->budget;
		if (due > w->scheduled)
			w->stats.dropped_sends = due - w->scheduled;
	}
}

/* When the loop must next wake up: the end of the window, the next timeout check, the deadline
 * (or the end of draining), the next reconnect, the next intended start. */
static uint64_t next_wake(const struct worker *w, uint64_t next_check, uint64_t drain_until)
{
	const struct load_plan *plan = w->plan;
	uint64_t wake = plan->start_ns + (w->window_index + 1) * plan->window_ns;

	wake = min_nonzero(wake, next_check);
	wake = min_nonzero(wake, w->draining ? drain_until : plan->deadline_ns);
	if (!w->draining) {
		wake = min_nonzero(wake, w->next_reconnect_ns);
		if (w->interval_ns > 0 && w->idle_count > 0 && w->sent < w->budget)
			wake = min_nonzero(wake, intended_start(w, w->scheduled));
	}
	return wake;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct load_plan *plan = w->plan;
	struct epoll_event events[MAX_EVENTS];
	uint64_t now = ab_monotonic_ns(), next_check = now + TIMEOUT_CHECK_NS, drain_until = 0;
	const struct timespec zero_timeout = { 0, 0 };
	int previous_count = 0, spin;

	/* The default 50 µs timer slack would blur the open-loop schedule. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	for (uint32_t i = 0; i < w->conn_count; i++)
		conn_open(w, &w->conns[i]);
	for (;;) {
		uint64_t wake;
		struct timespec timeout;
		int count;

		now = ab_monotonic_ns();
		if (!w->draining && (now >= plan->deadline_ns || stop_requested(w) || w->sent >= w->budget)) {
			/* A late wake-up must not cost the sends that were due before the end. */
			if (w->interval_ns > 0 && now >= plan->deadline_ns && !stop_requested(w))
				dispatch_due(w, plan->deadline_ns - 1);
			start_draining(w, now);
			drain_until = now + plan->timeout_ns;
		}
		if (w->draining && ((w->inflight_total == 0 && upgrades_in_flight(w) == 0) || now >= drain_until ||
				    stop_requested(w))) {
			/* What is still in flight when the time is up was never answered; after a stop
			 * request it was merely abandoned. */
			for (uint32_t i = 0; i < w->conn_count; i++) {
				struct conn *c = &w->conns[i];

				if (!stop_requested(w)) {
					fail_inflight(w, c, AB_ERR_TIMEOUT);
					if (c->state == CONN_HANDSHAKE)
						count_error(w, -1, AB_ERR_TIMEOUT, 1);
				}
				conn_close(w, c);
			}
			break;
		}
		rotate_windows(w, now);
		if (!w->draining) {
			reconnect_due(w, now);
			if (w->interval_ns > 0)
				dispatch_due(w, now);
		}
		if (now >= next_check) {
			check_timeouts(w, now);
			next_check = now + TIMEOUT_CHECK_NS;
		}
		wake = next_wake(w, next_check, drain_until);
		now = ab_monotonic_ns();
		wake = wake > now ? wake - now : 0;

		timeout.tv_sec = (time_t)(wake / 1000000000u);
		timeout.tv_nsec = (long)(wake % 1000000000u);
		/* While several responses are due and the last wait found some, look a few times without
		 * sleeping before blocking: on a VM a sleep and its wake-up cost more CPU than the polls
		 * that find the next response (see bench/load-vs-wrk.py; docs/benchmarks.md). With one
		 * request in flight it never spins, so a lone request's latency is measured as a sleeping
		 * client sees it, like wrk's. */
		spin = previous_count >= SPIN_WHEN_EVENTS && w->inflight_total >= 2 ? SPIN_POLLS : 0;
		count = 0;
		while (spin-- > 0 && count == 0)
			count = epoll_pwait2(w->epfd, events, MAX_EVENTS, &zero_timeout, NULL);
		if (count == 0)
			count = epoll_pwait2(w->epfd, events, MAX_EVENTS, &timeout, NULL);
		previous_count = count;
		for (int i = 0; i < count; i++)
			handle_event(w, &events[i]);
	}
	w->stats.end_ns = ab_monotonic_ns();
	rotate_windows(w, w->stats.end_ns + plan->window_ns);	/* flush the last, partial window */
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- setup and the run's view ---- */

static int worker_init(struct worker *w, const struct load_plan *plan, uint32_t index, uint32_t connections,
		       uint64_t budget)
{
	const struct ab_load_config *config = &plan->config;
	size_t endpoint_count = config->endpoint_count;
	size_t write_bytes = READ_BUFFER_BYTES + (size_t)config->message_bytes + AB_WS_MAX_HEADER;

	w->plan = plan;
	w->index = index;
	w->conn_count = connections;
	w->budget = budget;
	w->depth = config->pipeline_depth ? config->pipeline_depth : 1;
	w->rng = 0x9e3779b97f4a7c15ull ^ (plan->start_ns + index * 0x632be59bd9b4e019ull);
	if (config->rate > 0) {
		w->interval_ns = 1e9 * config->threads / config->rate;
		/* Stagger the threads' schedules so their sends interleave evenly. */
		w->schedule_start_ns = plan->start_ns + (uint64_t)(w->interval_ns * index / config->threads);
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->conns = calloc(connections ? connections : 1, sizeof(struct conn));
	for (uint32_t i = 0; w->conns && i < connections; i++)
		w->conns[i].fd = -1;	/* before anything can fail: worker_free closes what is >= 0 */
	w->idle = calloc(connections ? connections : 1, sizeof(uint32_t));
	w->stats.endpoints = calloc(endpoint_count, sizeof(struct endpoint_stats));
	w->read_buffer = malloc(READ_BUFFER_BYTES);
	w->write_buffer = malloc(write_bytes);
	w->message_buffer = malloc(config->message_bytes ? config->message_bytes : 1);
	w->window_histogram = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS);
	if (w->epfd == -1 || !w->conns || !w->idle || !w->stats.endpoints || !w->read_buffer || !w->write_buffer ||
	    !w->message_buffer || !w->window_histogram)
		return -ENOMEM;
	if (records_init(&w->records))
		return -ENOMEM;
	for (size_t e = 0; e < endpoint_count; e++)
		for (int k = 0; k < AB_LATENCY_KINDS; k++)
			if (!(w->stats.endpoints[e].latency[k] = ab_histogram__new(AB_HISTOGRAM_PRECISE_BITS)))
				return -ENOMEM;
	/* The message body after the stamp is constant filler. */
	memset(w->message_buffer, 'x', config->message_bytes);
	for (uint32_t i = 0; i < connections; i++) {
		struct conn *c = &w->conns[i];

		c->index = i;
		c->worker = w;
		c->http.capture_name = config->websocket ? "sec-websocket-accept" : NULL;
		if (config->websocket)
			ws_session_init(&c->ws, &ws_callbacks, c, config->websocket_text, config->message_bytes,
					next_random(w));
		c->inflight = calloc(w->depth, sizeof(struct inflight));
		if (!c->inflight)
			return -ENOMEM;
	}
	return 0;
}

struct worker *worker_new(const struct load_plan *plan, uint32_t index, uint32_t connections, uint64_t budget)
{
	struct worker *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return NULL;
	w->epfd = -1;
	rc = worker_init(w, plan, index, connections, budget);
	if (rc) {
		worker_free(w);
		errno = -rc;
		return NULL;
	}
	return w;
}

int worker_start(struct worker *w)
{
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

int worker_finished(const struct worker *w)
{
	return __atomic_load_n(&w->finished, __ATOMIC_ACQUIRE);
}

void worker_live_counts(const struct worker *w, struct worker_live *live)
{
	live->requests = __atomic_load_n(&w->live.requests, __ATOMIC_RELAXED);
	live->responses = __atomic_load_n(&w->live.responses, __ATOMIC_RELAXED);
	live->errors = __atomic_load_n(&w->live.errors, __ATOMIC_RELAXED);
}

struct records *worker_records(struct worker *w)
{
	return &w->records;
}

const struct worker_stats *worker_stats(const struct worker *w)
{
	return &w->stats;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->epfd >= 0)
		close(w->epfd);
	for (uint32_t i = 0; w->conns && i < w->conn_count; i++) {
		struct conn *c = &w->conns[i];

		if (c->fd >= 0)
			close(c->fd);
		free(c->inflight);
		free(c->pending);
		ws_session_free(&c->ws);
	}
	for (size_t e = 0; w->stats.endpoints && e < w->plan->config.endpoint_count; e++)
		for (int k = 0; k < AB_LATENCY_KINDS; k++)
			ab_histogram__free(w->stats.endpoints[e].latency[k]);
	records_free(&w->records);
	free(w->conns);
	free(w->idle);
	free(w->stats.endpoints);
	free(w->read_buffer);
	free(w->write_buffer);
	free(w->message_buffer);
	ab_histogram__free(w->window_histogram);
	free(w);
}
