/* WebSocket (RFC 6455) framing for a client: masked frames out, server frames in. Hand-written
 * rather than libwslay because frames are parsed in place in the thread's read buffer and encoded
 * straight into its write buffer; wslay's event API owns the socket I/O through callbacks and copies
 * every message into allocations of its own. A unit of its own so it can be fuzzed. */
#ifndef AB_WS_FRAME_H
#define AB_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum ab_ws_opcode {
	AB_WS_CONTINUATION = 0x0,
	AB_WS_TEXT = 0x1,
	AB_WS_BINARY = 0x2,
	AB_WS_CLOSE = 0x8,
	AB_WS_PING = 0x9,
	AB_WS_PONG = 0xA,
};

enum ab_ws_parse_result {
	AB_WS_FRAME = 0,	/* a whole frame is in the buffer */
	AB_WS_NEED_MORE = 1,
	AB_WS_INVALID = -1,	/* reserved bits, unknown opcode, bad control frame, oversize */
};

struct ab_ws_frame {
	uint8_t fin;
	uint8_t opcode;
	uint8_t masked;
	uint8_t mask[4];
	size_t header_length;
	uint64_t payload_length;
};

/* The largest header: 2 bytes, 8 of length, 4 of mask. */
#define AB_WS_MAX_HEADER 14
/* Frames larger than this are refused (the echo payloads archbench sends are small). */
#define AB_WS_MAX_PAYLOAD (16u << 20)

enum ab_ws_parse_result ab_ws_frame__parse(const uint8_t *data, size_t length, struct ab_ws_frame *frame);
/* Unmasks a payload in place (servers should not mask, but a lenient client accepts it). */
void ab_ws_frame__unmask(uint8_t *payload, uint64_t length, const uint8_t mask[4]);
/* Writes a final, masked client frame; `out` needs payload_length + AB_WS_MAX_HEADER bytes. */
size_t ab_ws_frame__encode(uint8_t *out, enum ab_ws_opcode opcode, const uint8_t *payload, size_t payload_length,
			   uint32_t mask);

#endif
