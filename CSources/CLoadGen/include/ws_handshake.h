/* The WebSocket opening handshake's keys (RFC 6455 section 4): the client's random key and the
 * accept value the server must answer with (base64 of SHA-1 of key + GUID, SHA-1 from libmd). */
#ifndef AB_WS_HANDSHAKE_H
#define AB_WS_HANDSHAKE_H

#include <stdint.h>

#define AB_WS_KEY_BYTES 25	/* 24 base64 characters and a NUL */
#define AB_WS_ACCEPT_BYTES 29	/* 28 base64 characters and a NUL */

void ab_ws_handshake__key(uint64_t random_a, uint64_t random_b, char key[AB_WS_KEY_BYTES]);
void ab_ws_handshake__accept(const char *key, char accept[AB_WS_ACCEPT_BYTES]);

#endif
