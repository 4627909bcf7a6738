#include "ws_handshake.h"

#include <sha1.h>
#include <string.h>

static const char base64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const uint8_t *in, size_t length, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < length; i += 3) {
		uint32_t chunk = (uint32_t)in[i] << 16;

		if (i + 1 < length)
			chunk |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < length)
			chunk |= in[i + 2];
		out[o++] = base64_digits[chunk >> 18 & 63];
		out[o++] = base64_digits[chunk >> 12 & 63];
		out[o++] = i + 1 < length ? base64_digits[chunk >> 6 & 63] : '=';
		out[o++] = i + 2 < length ? base64_digits[chunk & 63] : '=';
	}
	out[o] = '\0';
}

void ab_ws_handshake__key(uint64_t random_a, uint64_t random_b, char key[AB_WS_KEY_BYTES])
{
	uint8_t nonce[16];

	memcpy(nonce, &random_a, 8);
	memcpy(nonce + 8, &random_b, 8);
	base64(nonce, sizeof(nonce), key);
}

void ab_ws_handshake__accept(const char *key, char accept[AB_WS_ACCEPT_BYTES])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t digest[SHA1_DIGEST_LENGTH];
	SHA1_CTX sha;

	SHA1Init(&sha);
	SHA1Update(&sha, (const uint8_t *)key, strlen(key));
	SHA1Update(&sha, (const uint8_t *)guid, sizeof(guid) - 1);
	SHA1Final(digest, &sha);
	base64(digest, sizeof(digest), accept);
}
