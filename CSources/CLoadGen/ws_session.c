#include "ws_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "rng.h"
#include "ws_frame.h"

_Static_assert(WS_STAMP_BINARY_BYTES == 3 * sizeof(uint64_t), "a binary stamp is three uint64_t");
_Static_assert(WS_STAMP_TEXT_BYTES == 3 * 16, "a text stamp is three 16-digit hex numbers");

/* The largest control frame: its payload is at most 125 bytes. */
#define CONTROL_FRAME_BYTES (AB_WS_MAX_HEADER + 125)

void ws_session_init(struct ws_session *session, const struct ws_session_callbacks *callbacks, void *context,
		     int text, uint32_t message_bytes, uint64_t seed)
{
	memset(session, 0, sizeof(*session));
	session->callbacks = callbacks;
	session->context = context;
	session->rng = seed | 1;	/* xorshift stays at 0 once there */
	session->text = text;
	session->message_bytes = message_bytes;
}

void ws_session_reset(struct ws_session *session)
{
	session->partial_length = 0;
	session->message_length = 0;
}

void ws_session_free(struct ws_session *session)
{
	free(session->partial);
	free(session->message);
	session->partial = session->message = NULL;
	session->partial_capacity = session->message_capacity = 0;
	ws_session_reset(session);
}

/* ---- sending ---- */

size_t ws_session_handshake(struct ws_session *session, const char *prefix, char *out, size_t capacity)
{
	uint64_t random_a = rng_next(&session->rng), random_b = rng_next(&session->rng);
	int length;

	ab_ws_handshake__key(random_a, random_b, session->key);
	length = snprintf(out, capacity, "%sSec-WebSocket-Key: %s\r\n\r\n", prefix, session->key);
	if (length < 0)
		return 0;
	return (size_t)length < capacity ? (size_t)length : capacity - 1;
}

int ws_session_accepted(const struct ws_session *session, unsigned status, const char *accept)
{
	char expected[AB_WS_ACCEPT_BYTES];

	if (status != 101)
		return 0;
	ab_ws_handshake__accept(session->key, expected);
	return strcmp(expected, accept) == 0;
}

static void encode_stamp(const struct ws_session *session, uint8_t *payload, uint64_t seq, uint64_t sent_ns,
			 uint64_t intended_ns)
{
	if (session->text) {
		char stamp[WS_STAMP_TEXT_BYTES + 1];

		snprintf(stamp, sizeof(stamp), "%016llx%016llx%016llx", (unsigned long long)seq,
			 (unsigned long long)sent_ns, (unsigned long long)intended_ns);
		memcpy(payload, stamp, WS_STAMP_TEXT_BYTES);
	} else {
		memcpy(payload, &seq, 8);
		memcpy(payload + 8, &sent_ns, 8);
		memcpy(payload + 16, &intended_ns, 8);
	}
}

size_t ws_session_message(struct ws_session *session, uint8_t *payload, uint8_t *out, uint64_t sent_ns,
			  uint64_t intended_ns, uint64_t *seq)
{
	*seq = ++session->seq;
	encode_stamp(session, payload, *seq, sent_ns, intended_ns);
	return ab_ws_frame__encode(out, session->text ? AB_WS_TEXT : AB_WS_BINARY, payload, session->message_bytes,
				   (uint32_t)rng_next(&session->rng));
}

/* ---- receiving ---- */

static int decode_stamp(const struct ws_session *session, const uint8_t *payload, size_t length, uint64_t *seq)
{
	if (session->text) {
		char hex[17] = { 0 };

		if (length < WS_STAMP_TEXT_BYTES)
			return -1;
		memcpy(hex, payload, 16);
		*seq = strtoull(hex, NULL, 16);
		return 0;
	}
	if (length < WS_STAMP_BINARY_BYTES)
		return -1;
	memcpy(seq, payload, 8);
	return 0;
}

static enum ws_feed_result control(struct ws_session *session, const struct ab_ws_frame *frame,
				   const uint8_t *payload)
{
	uint8_t reply[CONTROL_FRAME_BYTES];
	size_t length;

	switch (frame->opcode) {
	case AB_WS_PING:
		length = ab_ws_frame__encode(reply, AB_WS_PONG, payload, frame->payload_length,
					     (uint32_t)rng_next(&session->rng));
		return session->callbacks->on_ping(session->context, reply, length) ? WS_FEED_STOPPED : WS_FEED_OK;
	case AB_WS_CLOSE:
		/* Answered with the same status code (its first two bytes). */
		length = ab_ws_frame__encode(reply, AB_WS_CLOSE, payload, frame->payload_length >= 2 ? 2 : 0,
					     (uint32_t)rng_next(&session->rng));
		session->callbacks->on_close(session->context, reply, length);
		return WS_FEED_STOPPED;
	default:
		return WS_FEED_OK;	/* an unsolicited pong */
	}
}

static enum ws_feed_result message(struct ws_session *session, const uint8_t *payload, size_t length)
{
	uint64_t seq;

	/* An echo is exactly what was sent: the stamp readable, the size unchanged. */
	if (decode_stamp(session, payload, length, &seq) || length != session->message_bytes)
		return WS_FEED_INVALID;
	return session->callbacks->on_echo(session->context, seq) ? WS_FEED_STOPPED : WS_FEED_OK;
}

static enum ws_feed_result data_or_control(struct ws_session *session, const struct ab_ws_frame *frame,
					   uint8_t *payload)
{
	uint32_t length;

	if (frame->masked)
		ab_ws_frame__unmask(payload, frame->payload_length, frame->mask);
	if (frame->opcode >= AB_WS_CLOSE)
		return control(session, frame, payload);
	if (frame->opcode != AB_WS_CONTINUATION && session->message_length == 0 && frame->fin)
		return message(session, payload, frame->payload_length);
	/* A fragmented message: gathered until its final frame. */
	if ((frame->opcode == AB_WS_CONTINUATION) != (session->message_length > 0) ||
	    session->message_length + frame->payload_length > AB_WS_MAX_PAYLOAD ||
	    buffer_reserve(&session->message, &session->message_capacity,
			   session->message_length + frame->payload_length))
		return WS_FEED_INVALID;
	/* An empty fragment may come before anything is gathered, when `message` is still NULL, and
	 * memcpy from or to NULL is undefined even for 0 bytes (UBSan, under fuzz/ws_frame.c). */
	if (frame->payload_length)
		memcpy(session->message + session->message_length, payload, frame->payload_length);
	session->message_length += (uint32_t)frame->payload_length;
	if (!frame->fin)
		return WS_FEED_OK;
	length = session->message_length;
	session->message_length = 0;
	return message(session, session->message, length);
}

enum ws_feed_result ws_session_feed(struct ws_session *session, uint8_t *data, size_t length)
{
	uint8_t *buffer = data;
	size_t offset = 0;

	if (session->partial_length) {
		if (buffer_reserve(&session->partial, &session->partial_capacity, session->partial_length + length))
			return WS_FEED_INVALID;
		memcpy(session->partial + session->partial_length, data, length);
		length += session->partial_length;
		buffer = session->partial;
	}
	while (offset < length) {
		struct ab_ws_frame frame;
		enum ab_ws_parse_result parsed = ab_ws_frame__parse(buffer + offset, length - offset, &frame);
		enum ws_feed_result result;

		if (parsed == AB_WS_NEED_MORE)
			break;
		if (parsed == AB_WS_INVALID)
			return WS_FEED_INVALID;
		/* On anything but OK the connection is closed or about to be: `session` is left as is. */
		result = data_or_control(session, &frame, buffer + offset + frame.header_length);
		if (result != WS_FEED_OK)
			return result;
		offset += frame.header_length + frame.payload_length;
	}
	/* Keep an incomplete frame for the next read. */
	if (offset < length) {
		if (buffer == session->partial)
			memmove(session->partial, session->partial + offset, length - offset);
		else if (buffer_reserve(&session->partial, &session->partial_capacity, length - offset))
			return WS_FEED_INVALID;
		else
			memcpy(session->partial, buffer + offset, length - offset);
	}
	session->partial_length = (uint32_t)(length - offset);
	return WS_FEED_OK;
}

int ws_session_midframe(const struct ws_session *session)
{
	return session->partial_length > 0;
}
