#include "ws_frame.h"

#include <string.h>

static int known_opcode(uint8_t opcode)
{
	return opcode <= AB_WS_BINARY || (opcode >= AB_WS_CLOSE && opcode <= AB_WS_PONG);
}

enum ab_ws_parse_result ab_ws_frame__parse(const uint8_t *data, size_t length, struct ab_ws_frame *frame)
{
	size_t header = 2;
	uint64_t payload;

	if (length < 2)
		return AB_WS_NEED_MORE;
	frame->fin = data[0] >> 7;
	frame->opcode = data[0] & 0x0f;
	frame->masked = data[1] >> 7;
	if ((data[0] & 0x70) || !known_opcode(frame->opcode))
		return AB_WS_INVALID;
	payload = data[1] & 0x7f;
	if (payload == 126) {
		if (length < 4)
			return AB_WS_NEED_MORE;
		payload = (uint64_t)data[2] << 8 | data[3];
		header = 4;
	} else if (payload == 127) {
		if (length < 10)
			return AB_WS_NEED_MORE;
		payload = 0;
		for (int i = 2; i < 10; i++)
			payload = payload << 8 | data[i];
		header = 10;
	}
	/* Control frames are short and never fragmented. */
	if (frame->opcode >= AB_WS_CLOSE && (payload > 125 || !frame->fin))
		return AB_WS_INVALID;
	if (payload > AB_WS_MAX_PAYLOAD)
		return AB_WS_INVALID;
	if (frame->masked) {
		if (length < header + 4)
			return AB_WS_NEED_MORE;
		memcpy(frame->mask, data + header, 4);
		header += 4;
	}
	frame->header_length = header;
	frame->payload_length = payload;
	return length - header < payload ? AB_WS_NEED_MORE : AB_WS_FRAME;
}

void ab_ws_frame__unmask(uint8_t *payload, uint64_t length, const uint8_t mask[4])
{
	for (uint64_t i = 0; i < length; i++)
		payload[i] ^= mask[i & 3];
}

size_t ab_ws_frame__encode(uint8_t *out, enum ab_ws_opcode opcode, const uint8_t *payload, size_t payload_length,
			   uint32_t mask)
{
	uint8_t key[4] = { mask >> 24, mask >> 16, mask >> 8, mask };
	size_t header;

	out[0] = 0x80 | (uint8_t)opcode;
	if (payload_length < 126) {
		out[1] = 0x80 | (uint8_t)payload_length;
		header = 2;
	} else if (payload_length <= 0xffff) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(payload_length >> 8);
		out[3] = (uint8_t)payload_length;
		header = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)payload_length >> (56 - 8 * i));
		header = 10;
	}
	memcpy(out + header, key, 4);
	header += 4;
	for (size_t i = 0; i < payload_length; i++)
		out[header + i] = payload[i] ^ key[i & 3];
	return header + payload_length;
}
