/* One connection's WebSocket echo session (RFC 6455, client side): the opening handshake and its
 * check, messages stamped with a sequence number and their send times, and what the server sends
 * back (echoes, pings, closes), parsed frame by frame and gathered when fragmented. It owns no
 * socket: it writes into the caller's buffers and reports what arrived through callbacks, as
 * http_response does for HTTP, so the connection and every count stay with worker.c. */
#ifndef AB_WS_SESSION_H
#define AB_WS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "ws_handshake.h"

/* A message starts with its stamp: sequence number, send time and intended start, 8 bytes each in
 * a binary message, 16 hex digits each in a text one. The rest of the message is filler. */
#define WS_STAMP_BINARY_BYTES 24
#define WS_STAMP_TEXT_BYTES 48

/* Each may send messages on the session (ws_session_message) before it returns. */
struct ws_session_callbacks {
	/* The echo of message `seq` came back whole, its stamp intact. Return nonzero if the connection
	 * was closed: the feed stops there. */
	int (*on_echo)(void *context, uint64_t seq);
	/* A ping came; `pong` is the frame that answers it. Nonzero: the connection was closed. */
	int (*on_ping)(void *context, const uint8_t *pong, size_t length);
	/* The server closed the session; `reply` is the close frame that answers it. The feed stops:
	 * the connection is done with. */
	void (*on_close)(void *context, const uint8_t *reply, size_t length);
};

struct ws_session {
	const struct ws_session_callbacks *callbacks;
	void *context;
	uint64_t rng;			/* the handshake keys and the frames' masks */
	uint64_t seq;			/* the last message's sequence number */
	uint32_t message_bytes;		/* every message's size, stamp included */
	int text;			/* text frames with hex stamps, else binary */
	uint8_t *partial;		/* a frame split across reads */
	uint32_t partial_length, partial_capacity;
	uint8_t *message;		/* a fragmented message being gathered */
	uint32_t message_length, message_capacity;
	char key[AB_WS_KEY_BYTES];	/* the handshake's, for checking the server's accept value */
};

enum ws_feed_result {
	WS_FEED_OK = 0,		/* all taken; an incomplete frame waits for the next feed */
	WS_FEED_STOPPED = 1,	/* a callback closed the connection */
	WS_FEED_INVALID = -1,	/* not what the protocol allows, or not an echo of what was sent */
};

/* `message_bytes` is at least the stamp; `seed` starts the session's random numbers. */
void ws_session_init(struct ws_session *session, const struct ws_session_callbacks *callbacks, void *context,
		     int text, uint32_t message_bytes, uint64_t seed);
/* The connection closed: forgets frames and messages in progress (the buffers are kept). */
void ws_session_reset(struct ws_session *session);
void ws_session_free(struct ws_session *session);

/* Writes the upgrade request into `out`: `prefix` (request line and headers up to the key) and a
 * fresh key. Returns its length. */
size_t ws_session_handshake(struct ws_session *session, const char *prefix, char *out, size_t capacity);
/* 1 if the response to the upgrade accepts it: a 101 with the accept value this key asks for. */
int ws_session_accepted(const struct ws_session *session, unsigned status, const char *accept);
/* Writes the next message, stamped, as a masked frame into `out` (room for message_bytes +
 * AB_WS_MAX_HEADER); `payload` is message_bytes of scratch whose bytes past the stamp are the filler
 * sent. Returns the frame's length; `seq` gets the message's sequence number. */
size_t ws_session_message(struct ws_session *session, uint8_t *payload, uint8_t *out, uint64_t sent_ns,
			  uint64_t intended_ns, uint64_t *seq);
/* Takes `length` bytes the server sent (unmasking them in place if need be). */
enum ws_feed_result ws_session_feed(struct ws_session *session, uint8_t *data, size_t length);
/* 1 while part of a frame waits for the rest: a close now would cut it off. */
int ws_session_midframe(const struct ws_session *session);

#endif
