/* libFuzzer target: the WebSocket frame parser and encoder (CSources/CLoadGen/ws_frame.c) and the
 * session that feeds server frames through them (ws_session.c: partial frames kept across reads,
 * fragmented messages gathered, pings and closes answered, echoes checked).
 *
 * Input layout: 3 control bytes, then the bytes the server sent.
 *   [0] how the bytes are cut into reads for the session: 0 = one read; n = reads of 1..n bytes;
 *   [1] bit 0: text session (else binary); bits 1-4: the opcode for the encode round trip;
 *   [2] the session's message size past the stamp (its echoes must be exactly that long).
 * Checked, beyond AddressSanitizer and UBSan:
 *   - a frame parsed from the bytes is consistent (header length by length form, payload within
 *     the bytes, control frames final and short, no reserved bits, a known opcode), and every
 *     shorter prefix of it asks for more rather than parsing differently or failing;
 *   - what ab_ws_frame__encode writes parses back to the same opcode and payload;
 *   - the session reports the same echoes, pings, close and verdict whether the bytes come in one
 *     read or cut into many, and the pong and close replies it writes are valid frames. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ws_frame.h"
#include "ws_session.h"

#define MAX_EVENTS 256

static int known_opcode(unsigned opcode)
{
	return opcode <= AB_WS_BINARY || (opcode >= AB_WS_CLOSE && opcode <= AB_WS_PONG);
}

/* A frame the parser returned is what its bytes say. */
static void check_frame(const uint8_t *data, size_t length, const struct ab_ws_frame *frame)
{
	unsigned form = data[1] & 0x7f;
	size_t header = form == 126 ? 4 : form == 127 ? 10 : 2;

	CHECK(frame->fin == data[0] >> 7);
	CHECK(frame->opcode == (data[0] & 0x0f));
	CHECK(frame->masked == data[1] >> 7);
	CHECK(!(data[0] & 0x70));
	CHECK(known_opcode(frame->opcode));
	if (frame->masked) {
		CHECK(memcmp(frame->mask, data + header, 4) == 0);
		header += 4;
	}
	CHECK(frame->header_length == header);
	CHECK(frame->payload_length <= AB_WS_MAX_PAYLOAD);
	CHECK(form >= 126 || frame->payload_length == form);
	CHECK(frame->header_length + frame->payload_length <= length);
	if (frame->opcode >= AB_WS_CLOSE)
		CHECK(frame->fin && frame->payload_length <= 125);
}

/* Parses one frame at `data`, checks it and every prefix of it; returns its total size, or 0. */
static size_t parse_checked(const uint8_t *data, size_t length)
{
	struct ab_ws_frame frame, shorter;
	enum ab_ws_parse_result result = ab_ws_frame__parse(data, length, &frame);
	size_t total;

	if (result != AB_WS_FRAME) {
		/* Cut anywhere, a frame that needs more or is invalid stays so. */
		for (size_t cut = 0; cut < length; cut++) {
			enum ab_ws_parse_result prefix = ab_ws_frame__parse(data, cut, &shorter);

			CHECK(prefix != AB_WS_FRAME);
			if (result == AB_WS_NEED_MORE)
				CHECK(prefix == AB_WS_NEED_MORE);
		}
		return 0;
	}
	check_frame(data, length, &frame);
	total = frame.header_length + (size_t)frame.payload_length;
	for (size_t cut = 0; cut < total; cut++)
		CHECK(ab_ws_frame__parse(data, cut, &shorter) == AB_WS_NEED_MORE);
	return total;
}

static void round_trip(unsigned opcode, const uint8_t *payload, size_t length, uint32_t mask)
{
	size_t capacity = length + AB_WS_MAX_HEADER;
	uint8_t *out = malloc(capacity);
	struct ab_ws_frame frame;
	size_t written;

	CHECK(out);
	written = ab_ws_frame__encode(out, (enum ab_ws_opcode)opcode, payload, length, mask);
	CHECK(written <= capacity);
	switch (ab_ws_frame__parse(out, written, &frame)) {
	case AB_WS_FRAME:
		check_frame(out, written, &frame);
		CHECK(frame.fin && frame.masked && frame.opcode == opcode);
		CHECK(frame.payload_length == length && frame.header_length + length == written);
		ab_ws_frame__unmask(out + frame.header_length, frame.payload_length, frame.mask);
		CHECK(length == 0 || memcmp(out + frame.header_length, payload, length) == 0);
		break;
	case AB_WS_INVALID:
		/* Only what the protocol forbids: an unknown opcode, a long control frame. */
		CHECK(!known_opcode(opcode) || (opcode >= AB_WS_CLOSE && length > 125));
		break;
	default:
		CHECK(!"a whole encoded frame asked for more");
	}
	free(out);
}

/* ---- the session, fed whole and cut ---- */

struct events {
	unsigned count;
	uint64_t value[MAX_EVENTS];	/* echo: seq; ping: 1 << 62 | pong length; close: 2 << 62 | reply length */
	int result;			/* the first feed result that is not OK, or OK */
	uint32_t partial;		/* bytes of a frame still waiting */
};

static void record(struct events *events, uint64_t value)
{
	if (events->count < MAX_EVENTS)
		events->value[events->count] = value;
	events->count++;
}

/* A reply the session wrote is one whole, valid, masked client frame of that opcode. */
static void check_reply(const uint8_t *reply, size_t length, unsigned opcode)
{
	struct ab_ws_frame frame;

	CHECK(ab_ws_frame__parse(reply, length, &frame) == AB_WS_FRAME);
	check_frame(reply, length, &frame);
	CHECK(frame.opcode == opcode && frame.masked && frame.fin);
	CHECK(frame.header_length + frame.payload_length == length);
	if (opcode == AB_WS_CLOSE)
		CHECK(frame.payload_length == 0 || frame.payload_length == 2);
}

static int on_echo(void *context, uint64_t seq)
{
	record(context, seq);
	return 0;
}

static int on_ping(void *context, const uint8_t *pong, size_t length)
{
	check_reply(pong, length, AB_WS_PONG);
	record(context, 1ull << 62 | length);
	return 0;
}

static void on_close(void *context, const uint8_t *reply, size_t length)
{
	check_reply(reply, length, AB_WS_CLOSE);
	record(context, 2ull << 62 | length);
}

static const struct ws_session_callbacks session_callbacks = {
	.on_echo = on_echo,
	.on_ping = on_ping,
	.on_close = on_close,
};

static void run_session(struct events *events, const uint8_t *control, const uint8_t *data, size_t length, int cut)
{
	struct ws_session session;
	int text = control[1] & 1;
	uint32_t message_bytes = (text ? WS_STAMP_TEXT_BYTES : WS_STAMP_BINARY_BYTES) + control[2];
	struct cuts cuts = cuts_start(cut ? control[0] : 0, length);
	size_t offset = 0;

	memset(events, 0, sizeof(*events));
	ws_session_init(&session, &session_callbacks, events, text, message_bytes, 42);
	while (offset < length) {
		size_t piece = cuts_next(&cuts, length - offset);
		uint8_t *copy;
		enum ws_feed_result result;

		copy = malloc(piece);
		CHECK(copy);
		memcpy(copy, data + offset, piece);
		result = ws_session_feed(&session, copy, piece);
		free(copy);
		offset += piece;
		if (result != WS_FEED_OK) {
			events->result = result;
			break;
		}
	}
	events->partial = events->result == WS_FEED_OK ? session.partial_length : 0;
	CHECK(!!ws_session_midframe(&session) == (session.partial_length > 0));
	ws_session_free(&session);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct events whole, cut;
	const uint8_t *control = data;
	uint8_t *bytes;
	size_t length, offset = 0, frame;

	if (size < 3)
		return 0;
	length = size - 3;
	bytes = malloc(length ? length : 1);
	CHECK(bytes);
	memcpy(bytes, data + 3, length);

	/* Frame by frame through the parser, as the session walks a read. */
	while (offset < length && (frame = parse_checked(bytes + offset, length - offset)))
		offset += frame;

	round_trip(control[1] >> 1 & 0x0f, bytes, length, (uint32_t)length * 2654435761u);

	run_session(&whole, control, bytes, length, 0);
	run_session(&cut, control, bytes, length, 1);
	CHECK(whole.count == cut.count);
	for (unsigned i = 0; i < whole.count && i < MAX_EVENTS; i++)
		CHECK(whole.value[i] == cut.value[i]);
	CHECK(whole.result == cut.result);
	CHECK(whole.partial == cut.partial);
	free(bytes);
	return 0;
}
