#define _GNU_SOURCE
#include "worker.h"

#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ws_frame.h"
#include "ws_handshake.h"

#define READ_BUFFER_BYTES (64 * 1024)
#define MAX_EVENTS 256
#define TIMEOUT_CHECK_NS (20 * 1000000ull)
#define CONNECT_BACKOFF_NS (10 * 1000000ull)
#define LATE_SEND_NS 1000000ull
#define SPIN_POLLS 4		/* non-blocking epoll polls before a blocking one, when busy */
#define SPIN_WHEN_EVENTS 1	/* the last wait returned at least this many events */
#define WS_STAMP_BINARY 24
#define WS_STAMP_TEXT 48

enum io_status { IO_OK, IO_CLOSED };	/* IO_CLOSED: the connection was closed, stop using it */

static uint64_t now_ns(void)
{
	return ab_load_monotonic_ns();
}

static uint64_t next_random(struct worker *w)
{
	/* xorshift64*: the endpoint mix and WebSocket masks need speed, not secrecy. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ull;
}

static int stop_requested(const struct worker *w)
{
	return __atomic_load_n(&w->plan->stop_requested, __ATOMIC_RELAXED);
}

static void count_error(struct worker *w, int endpoint, enum ab_load_error_kind kind, uint64_t count)
{
	w->errors[kind] += count;
	w->window_errors += count;
	__atomic_store_n(&w->live_errors, w->live_errors + count, __ATOMIC_RELAXED);
	if (endpoint >= 0)
		w->endpoints[endpoint].errors[kind] += count;
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
	c->partial_length = 0;
	c->message_length = 0;
}

static void schedule_reconnect(struct worker *w, struct conn *c, uint64_t at_ns)
{
	c->reconnect_at_ns = at_ns ? at_ns : 1;
	if (w->next_reconnect_ns == 0 || c->reconnect_at_ns < w->next_reconnect_ns)
		w->next_reconnect_ns = c->reconnect_at_ns;
}

/* Counts the failure against the request at the head of the pipeline, if any, then reconnects. */
static void conn_fail(struct worker *w, struct conn *c, enum ab_load_error_kind kind)
{
	int endpoint = c->inflight_count ? (int)c->inflight[c->inflight_head].endpoint : -1;

	count_error(w, endpoint, kind, 1);
	conn_close(w, c);
	if (!w->draining)
		schedule_reconnect(w, c, kind == AB_ERR_CONNECT ? now_ns() + CONNECT_BACKOFF_NS : 0);
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
		schedule_reconnect(w, c, now_ns() + CONNECT_BACKOFF_NS);
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
	c->state_since_ns = now_ns();
}

static int grow(uint8_t **buffer, uint32_t *capacity, size_t needed)
{
	size_t size = *capacity ? *capacity : 256;
	uint8_t *grown;

	if (needed <= *capacity)
		return 0;
	while (size < needed)
		size *= 2;
	if (size > UINT32_MAX)
		return -ENOMEM;
	grown = realloc(*buffer, size);
	if (!grown)
		return -ENOMEM;
	*buffer = grown;
	*capacity = (uint32_t)size;
	return 0;
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
		w->bytes_written += (uint64_t)n;
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
				w->bytes_written += (uint64_t)n;
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
	if (grow(&c->pending, &c->pending_capacity, c->pending_length + length - written)) {
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
	w->endpoints[endpoint].requests++;
	__atomic_store_n(&w->live_requests, w->sent, __ATOMIC_RELAXED);
	if (w->interval_ns > 0) {
		uint64_t lag = sent_ns > intended_ns ? sent_ns - intended_ns : 0;

		ab_histogram__record(w->endpoints[endpoint].latency[AB_LATENCY_SEND_LAG], lag);
		if (lag > LATE_SEND_NS)
			w->late_sends++;
	}
}

static void encode_stamp(const struct worker *w, uint8_t *payload, uint64_t seq, uint64_t sent_ns,
			 uint64_t intended_ns)
{
	const struct ab_load_config *config = &w->plan->config;

	if (config->websocket_text) {
		char stamp[WS_STAMP_TEXT + 1];

		snprintf(stamp, sizeof(stamp), "%016llx%016llx%016llx", (unsigned long long)seq,
			 (unsigned long long)sent_ns, (unsigned long long)intended_ns);
		memcpy(payload, stamp, WS_STAMP_TEXT);
	} else {
		memcpy(payload, &seq, 8);
		memcpy(payload + 8, &sent_ns, 8);
		memcpy(payload + 16, &intended_ns, 8);
	}
}

/* Sends one request (or WebSocket message) intended to start at `intended_ns` (0: now). */
static enum io_status send_one(struct worker *w, struct conn *c, uint64_t intended_ns)
{
	const struct load_plan *plan = w->plan;
	uint64_t sent_ns = now_ns();
	struct inflight *slot;

	if (!intended_ns)
		intended_ns = sent_ns;
	slot = push_inflight(w, c);
	slot->intended_ns = intended_ns;
	slot->sent_ns = sent_ns;
	if (plan->config.websocket) {
		uint32_t size = plan->config.message_bytes;
		size_t length;

		slot->endpoint = 0;
		slot->is_head = 0;
		slot->seq = ++w->ws_seq;
		encode_stamp(w, w->message_buffer, slot->seq, sent_ns, intended_ns);
		length = ab_ws_frame__encode(w->write_buffer, plan->config.websocket_text ? AB_WS_TEXT : AB_WS_BINARY,
					     w->message_buffer, size, (uint32_t)next_random(w));
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
		uint64_t intended = intended_start(w, w->scheduled);
		struct conn *c;

		if (intended > now)
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
			uint64_t intended = intended_start(w, w->scheduled);

			if (intended > now_ns())
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
	struct endpoint_stats *stats = &w->endpoints[done->endpoint];
	uint64_t end = now_ns();
	uint64_t corrected = end - done->intended_ns;

	ab_histogram__record(stats->latency[AB_LATENCY_CORRECTED], corrected);
	/* Closed loop: every request starts when it is sent, so the uncorrected histogram would be a
	 * copy; the run copies it once at the end instead of recording every response twice. */
	if (w->interval_ns > 0)
		ab_histogram__record(stats->latency[AB_LATENCY_UNCORRECTED], end - done->sent_ns);
	ab_histogram__record(w->window_histogram, corrected);
	stats->responses++;
	w->window_responses++;
	__atomic_store_n(&w->live_responses, w->live_responses + 1, __ATOMIC_RELAXED);
	if (status) {
		stats->status_counts[status < AB_LOAD_MAX_STATUS ? status : 0]++;
		if (status >= 400)
			count_error(w, (int)done->endpoint, AB_ERR_STATUS, 1);
	}
	if (w->slow_threshold_ns && corrected > w->slow_threshold_ns) {
		if (w->slow_head - __atomic_load_n(&w->slow_tail, __ATOMIC_ACQUIRE) < AB_SLOW_RING) {
			struct ab_slow_request *slow = &w->slow_ring[w->slow_head % AB_SLOW_RING];

			slow->intended_ns = done->intended_ns;
			slow->sent_ns = done->sent_ns;
			slow->end_ns = end;
			slow->connection = w->index << 24 | c->index;
			slow->endpoint = (uint16_t)done->endpoint;
			slow->status = (uint16_t)status;
			__atomic_store_n(&w->slow_head, w->slow_head + 1, __ATOMIC_RELEASE);
		} else {
			w->slow_dropped++;
		}
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
		w->endpoints[0].status_counts[status < AB_LOAD_MAX_STATUS ? status : 0]++;
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

static enum io_status ws_feed(struct worker *w, struct conn *c, uint8_t *data, size_t length);

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
			conn_close(w, c);
			if (!w->draining)
				schedule_reconnect(w, c, now_ns() + CONNECT_BACKOFF_NS);
			return IO_CLOSED;
		}
		if (c->stop_reason == STOP_UNSOLICITED) {
			c->stop_reason = STOP_NONE;
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		/* Connection: close. Requests pipelined behind the last response will never be answered. */
		if (c->inflight_count)
			count_error(w, (int)c->inflight[c->inflight_head].endpoint, AB_ERR_READ, c->inflight_count);
		conn_close(w, c);
		if (!w->draining)
			schedule_reconnect(w, c, 0);
		return IO_CLOSED;
	case AB_HTTP_UPGRADED: {
		char expected[AB_WS_ACCEPT_BYTES];

		if (c->state != CONN_HANDSHAKE || c->http.parser.status_code != 101) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		ab_ws_handshake__accept(c->ws_key, expected);
		if (strcmp(expected, c->http.capture_value) != 0) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		w->endpoints[0].status_counts[101]++;
		c->state = CONN_READY;
		refill(w, c);
		if (c->state != CONN_READY)
			return IO_CLOSED;
		return consumed < length ? ws_feed(w, c, (uint8_t *)data + consumed, length - consumed) : IO_OK;
	}
	case AB_HTTP_INVALID:
	default:
		conn_fail(w, c, AB_ERR_PARSE);
		return IO_CLOSED;
	}
}

static int decode_stamp(const struct worker *w, const uint8_t *payload, size_t length, uint64_t *seq)
{
	if (w->plan->config.websocket_text) {
		char hex[17] = { 0 };

		if (length < WS_STAMP_TEXT)
			return -1;
		memcpy(hex, payload, 16);
		*seq = strtoull(hex, NULL, 16);
		return 0;
	}
	if (length < WS_STAMP_BINARY)
		return -1;
	memcpy(seq, payload, 8);
	return 0;
}

static enum io_status ws_control(struct worker *w, struct conn *c, const struct ab_ws_frame *frame,
				 const uint8_t *payload)
{
	size_t length;

	switch (frame->opcode) {
	case AB_WS_PING:
		w->pings_answered++;
		length = ab_ws_frame__encode(w->write_buffer, AB_WS_PONG, payload, frame->payload_length,
					     (uint32_t)next_random(w));
		return conn_write(w, c, w->write_buffer, length);
	case AB_WS_CLOSE:
		/* Answer with the same status code, then reconnect: the run goes on. */
		w->server_closes++;
		length = ab_ws_frame__encode(w->write_buffer, AB_WS_CLOSE, payload,
					     frame->payload_length >= 2 ? 2 : 0, (uint32_t)next_random(w));
		if (send(c->fd, w->write_buffer, length, MSG_NOSIGNAL) > 0)
			w->bytes_written += length;
		if (c->inflight_count)
			count_error(w, 0, AB_ERR_READ, c->inflight_count);
		conn_close(w, c);
		if (!w->draining)
			schedule_reconnect(w, c, 0);
		return IO_CLOSED;
	default:
		return IO_OK;	/* an unsolicited pong */
	}
}

static enum io_status ws_message(struct worker *w, struct conn *c, const uint8_t *payload, size_t length)
{
	uint64_t seq;

	/* The echo must be the oldest message in flight on this connection, stamp intact. */
	if (decode_stamp(w, payload, length, &seq) || c->inflight_count == 0 ||
	    c->inflight[c->inflight_head].seq != seq || length != w->plan->config.message_bytes) {
		conn_fail(w, c, AB_ERR_PARSE);
		return IO_CLOSED;
	}
	record_completion(w, c, 0);
	refill(w, c);
	return c->state == CONN_READY ? IO_OK : IO_CLOSED;
}

static enum io_status ws_frame(struct worker *w, struct conn *c, const struct ab_ws_frame *frame, uint8_t *payload)
{
	uint32_t length;

	if (frame->masked)
		ab_ws_frame__unmask(payload, frame->payload_length, frame->mask);
	if (frame->opcode >= AB_WS_CLOSE)
		return ws_control(w, c, frame, payload);
	if (frame->opcode != AB_WS_CONTINUATION && c->message_length == 0 && frame->fin)
		return ws_message(w, c, payload, frame->payload_length);
	/* A fragmented message: gather it until its final frame. */
	if ((frame->opcode == AB_WS_CONTINUATION) != (c->message_length > 0) ||
	    c->message_length + frame->payload_length > AB_WS_MAX_PAYLOAD ||
	    grow(&c->message, &c->message_capacity, c->message_length + frame->payload_length)) {
		conn_fail(w, c, AB_ERR_PARSE);
		return IO_CLOSED;
	}
	memcpy(c->message + c->message_length, payload, frame->payload_length);
	c->message_length += (uint32_t)frame->payload_length;
	if (!frame->fin)
		return IO_OK;
	length = c->message_length;
	c->message_length = 0;
	return ws_message(w, c, c->message, length);
}

static enum io_status ws_feed(struct worker *w, struct conn *c, uint8_t *data, size_t length)
{
	uint8_t *buffer = data;
	size_t offset = 0;

	if (c->partial_length) {
		if (grow(&c->partial, &c->partial_capacity, c->partial_length + length)) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		memcpy(c->partial + c->partial_length, data, length);
		length += c->partial_length;
		buffer = c->partial;
	}
	while (offset < length) {
		struct ab_ws_frame frame;
		enum ab_ws_parse_result result = ab_ws_frame__parse(buffer + offset, length - offset, &frame);

		if (result == AB_WS_NEED_MORE)
			break;
		if (result == AB_WS_INVALID) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		}
		if (ws_frame(w, c, &frame, buffer + offset + frame.header_length) != IO_OK)
			return IO_CLOSED;
		offset += frame.header_length + frame.payload_length;
	}
	/* Keep an incomplete frame for the next read. */
	if (offset < length) {
		if (buffer == c->partial) {
			memmove(c->partial, c->partial + offset, length - offset);
		} else if (grow(&c->partial, &c->partial_capacity, length - offset)) {
			conn_fail(w, c, AB_ERR_PARSE);
			return IO_CLOSED;
		} else {
			memcpy(c->partial, buffer + offset, length - offset);
		}
	}
	c->partial_length = (uint32_t)(length - offset);
	return IO_OK;
}

static void conn_peer_closed(struct worker *w, struct conn *c)
{
	int cut_off = 0;

	/* The close may end a response whose body runs to the close. */
	if (!w->plan->config.websocket && c->state == CONN_READY)
		cut_off = ab_http_response__eof(&c->http) == AB_HTTP_INVALID;
	if (cut_off || c->inflight_count > 0 || c->partial_length > 0) {
		conn_fail(w, c, AB_ERR_READ);
		return;
	}
	/* An idle keep-alive connection the server chose to close: just reconnect. */
	conn_close(w, c);
	if (!w->draining)
		schedule_reconnect(w, c, 0);
}

static void conn_readable(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, w->read_buffer, READ_BUFFER_BYTES);
		enum io_status status;

		if (n > 0) {
			w->bytes_read += (uint64_t)n;
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
	int length;

	ab_ws_handshake__key(next_random(w), next_random(w), c->ws_key);
	length = snprintf((char *)w->write_buffer, READ_BUFFER_BYTES, "%sSec-WebSocket-Key: %s\r\n\r\n",
			  w->plan->ws_handshake_prefix, c->ws_key);
	c->state = CONN_HANDSHAKE;
	c->state_since_ns = now_ns();
	c->stop_reason = STOP_NONE;
	conn_write(w, c, w->write_buffer, (size_t)length);
}

static void conn_connected(struct worker *w, struct conn *c)
{
	int error = 0;
	socklen_t length = sizeof(error);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length) == -1 || error) {
		conn_fail(w, c, AB_ERR_CONNECT);
		return;
	}
	w->connects++;
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
			count_error(w, (int)c->inflight[c->inflight_head].endpoint, AB_ERR_TIMEOUT, c->inflight_count);
			conn_close(w, c);
			if (!w->draining)
				schedule_reconnect(w, c, 0);
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
	const struct ab_histogram *first = w->endpoints[0].latency[AB_LATENCY_CORRECTED];
	uint64_t total = 0, wanted, seen = 0;

	for (size_t e = 0; e < w->plan->config.endpoint_count; e++)
		total += w->endpoints[e].latency[AB_LATENCY_CORRECTED]->total;
	if (total < 100)
		return;
	wanted = (uint64_t)(0.99 * (double)total);
	for (uint32_t i = 0; i < first->bucket_count; i++) {
		for (size_t e = 0; e < w->plan->config.endpoint_count; e++)
			seen += w->endpoints[e].latency[AB_LATENCY_CORRECTED]->counts[i];
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
		if (w->window_head - __atomic_load_n(&w->window_tail, __ATOMIC_ACQUIRE) < AB_WINDOW_RING) {
			struct window_record *record = &w->window_ring[w->window_head % AB_WINDOW_RING];
			struct ab_histogram *h = record->histogram;

			record->index = w->window_index;
			record->responses = w->window_responses;
			record->errors = w->window_errors;
			memcpy(h->counts, w->window_histogram->counts, h->bucket_count * sizeof(uint64_t));
			h->total = w->window_histogram->total;
			h->sum = w->window_histogram->sum;
			h->min = w->window_histogram->min;
			h->max = w->window_histogram->max;
			__atomic_store_n(&w->window_head, w->window_head + 1, __ATOMIC_RELEASE);
		} else {
			w->windows_dropped++;
		}
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

static void start_draining(struct worker *w, uint64_t now)
{
	uint64_t end = now < w->plan->deadline_ns ? now : w->plan->deadline_ns;

	w->draining = 1;
	w->send_end_ns = end;
	w->idle_count = 0;
	/* Open loop: requests whose intended start came before the end but that were never sent. */
	if (w->interval_ns > 0 && end >= w->schedule_start_ns && w->sent < w->budget) {
		/* Intended starts strictly before the end: indexes 0 .. ceil(span / interval) - 1. */
		uint64_t due = (uint64_t)ceil((double)(end - w->schedule_start_ns) / w->interval_ns);

		if (due > w->budget)
			due = w->budget;
		if (due > w->scheduled)
			w->dropped_sends = due - w->scheduled;
	}
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct load_plan *plan = w->plan;
	struct epoll_event events[MAX_EVENTS];
	uint64_t now = now_ns(), next_check = now + TIMEOUT_CHECK_NS, drain_until = 0;

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

		now = now_ns();
		if (!w->draining && (now >= plan->deadline_ns || stop_requested(w) || w->sent >= w->budget)) {
			/* A late wake-up must not cost the sends that were due before the end. */
			if (w->interval_ns > 0 && now >= plan->deadline_ns && !stop_requested(w))
				dispatch_due(w, plan->deadline_ns - 1);
			start_draining(w, now);
			drain_until = now + plan->timeout_ns;
		}
		if (w->draining && (w->inflight_total == 0 || now >= drain_until || stop_requested(w))) {
			/* What is still in flight when the time is up was never answered; after a stop
			 * request it was merely abandoned. */
			for (uint32_t i = 0; i < w->conn_count; i++) {
				struct conn *c = &w->conns[i];

				if (c->inflight_count && !stop_requested(w))
					count_error(w, (int)c->inflight[c->inflight_head].endpoint, AB_ERR_TIMEOUT,
						    c->inflight_count);
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
		wake = plan->start_ns + (w->window_index + 1) * plan->window_ns;
		wake = min_nonzero(wake, next_check);
		wake = min_nonzero(wake, w->draining ? drain_until : plan->deadline_ns);
		if (!w->draining) {
			wake = min_nonzero(wake, w->next_reconnect_ns);
			if (w->interval_ns > 0 && w->idle_count > 0 && w->sent < w->budget)
				wake = min_nonzero(wake, intended_start(w, w->scheduled));
		}
		now = now_ns();
		wake = wake > now ? wake - now : 0;

		timeout.tv_sec = (time_t)(wake / 1000000000u);
		timeout.tv_nsec = (long)(wake % 1000000000u);
		/* While several responses are due and the last wait found some, look a few times without
		 * sleeping before blocking: on a VM a sleep and its wake-up cost more CPU than the polls
		 * that find the next response (-t1 -c50 against nginx: about 10 instead of 12 CPU-s per
		 * million requests). With one request in flight (-c1) it never spins, so a lone
		 * request's latency is measured as a sleeping client sees it, like wrk's. */
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
	w->end_ns = now_ns();
	rotate_windows(w, w->end_ns + plan->window_ns);	/* flush the last, partial window */
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- setup ---- */

int worker_init(struct worker *w, const struct load_plan *plan, uint32_t index, uint32_t connections,
		uint64_t budget)
{
	const struct ab_load_config *config = &plan->config;
	size_t endpoint_count = config->endpoint_count;
	size_t write_bytes = READ_BUFFER_BYTES + (size_t)config->message_bytes + AB_WS_MAX_HEADER;

	memset(w, 0, sizeof(*w));
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
	w->idle = calloc(connections ? connections : 1, sizeof(uint32_t));
	w->endpoints = calloc(endpoint_count, sizeof(struct endpoint_stats));
	w->read_buffer = malloc(READ_BUFFER_BYTES);
	w->write_buffer = malloc(write_bytes);
	w->message_buffer = malloc(config->message_bytes ? config->message_bytes : 1);
	w->window_histogram = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS);
	if (w->epfd == -1 || !w->conns || !w->idle || !w->endpoints || !w->read_buffer || !w->write_buffer ||
	    !w->message_buffer || !w->window_histogram)
		return -ENOMEM;
	for (int i = 0; i < AB_WINDOW_RING; i++)
		if (!(w->window_ring[i].histogram = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS)))
			return -ENOMEM;
	for (size_t e = 0; e < endpoint_count; e++)
		for (int k = 0; k < AB_LATENCY_KINDS; k++)
			if (!(w->endpoints[e].latency[k] = ab_histogram__new(AB_HISTOGRAM_PRECISE_BITS)))
				return -ENOMEM;
	/* The message body after the stamp is constant filler. */
	memset(w->message_buffer, 'x', config->message_bytes);
	for (uint32_t i = 0; i < connections; i++) {
		struct conn *c = &w->conns[i];

		c->fd = -1;
		c->index = i;
		c->worker = w;
		c->http.capture_name = config->websocket ? "sec-websocket-accept" : NULL;
		c->inflight = calloc(w->depth, sizeof(struct inflight));
		if (!c->inflight)
			return -ENOMEM;
	}
	return 0;
}

void worker_free(struct worker *w)
{
	if (w->epfd > 0)
		close(w->epfd);
	for (uint32_t i = 0; w->conns && i < w->conn_count; i++) {
		struct conn *c = &w->conns[i];

		if (c->fd >= 0)
			close(c->fd);
		free(c->inflight);
		free(c->pending);
		free(c->partial);
		free(c->message);
	}
	for (size_t e = 0; w->endpoints && e < w->plan->config.endpoint_count; e++)
		for (int k = 0; k < AB_LATENCY_KINDS; k++)
			ab_histogram__free(w->endpoints[e].latency[k]);
	for (int i = 0; i < AB_WINDOW_RING; i++)
		ab_histogram__free(w->window_ring[i].histogram);
	free(w->conns);
	free(w->idle);
	free(w->endpoints);
	free(w->read_buffer);
	free(w->write_buffer);
	free(w->message_buffer);
	ab_histogram__free(w->window_histogram);
}
