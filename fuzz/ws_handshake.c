/* libFuzzer target: the WebSocket opening handshake as the client checks it — the key and accept
 * value (CSources/CLoadGen/ws_handshake.c), the server's response parsed by http_response.c with
 * its Sec-WebSocket-Accept header captured, and ws_session_accepted's verdict, as worker.c chains
 * them; then the bytes after the 101 go to the session as the first WebSocket frames.
 *
 * Input layout: 1 control byte, then the server's response.
 *   [0] how the response is cut into reads: 0 = one read; n = reads of 1..n bytes.
 * The session's key is RFC 6455's example ("dGhlIHNhbXBsZSBub25jZQ==", accept
 * "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), so seeds can carry a valid answer.
 * Checked, beyond AddressSanitizer and UBSan:
 *   - the accept value equals base64(SHA-1(key + GUID)) computed with OpenSSL, for the example key,
 *     for a key made from the input's first 16 bytes, and for the input's first line as a key;
 *   - a generated key is 24 base64 characters that decode to its 16 random bytes;
 *   - the verdict (accepted, refused with a status, invalid, incomplete) and the bytes the HTTP part
 *     took are the same whether the response comes in one read or cut into many;
 *   - an accepted response is a 101 with a Sec-WebSocket-Accept header holding exactly the accept
 *     value. */
/* The low-level SHA-1 calls, without OpenSSL 3 deprecation warnings. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "http_response.h"
#include "ws_handshake.h"
#include "ws_session.h"

static const char example_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char example_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/* The accept value by another implementation: OpenSSL's SHA-1 and base64. */
static void reference_accept(const char *key, size_t key_length, char out[AB_WS_ACCEPT_BYTES])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char digest[SHA_DIGEST_LENGTH];
	SHA_CTX sha;

	SHA1_Init(&sha);
	SHA1_Update(&sha, key, key_length);
	SHA1_Update(&sha, guid, sizeof(guid) - 1);
	SHA1_Final(digest, &sha);
	CHECK(EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH) == AB_WS_ACCEPT_BYTES - 1);
}

static void check_accept(const char *key)
{
	char ours[AB_WS_ACCEPT_BYTES], theirs[AB_WS_ACCEPT_BYTES];

	ab_ws_handshake__accept(key, ours);
	reference_accept(key, strlen(key), theirs);
	CHECK(strcmp(ours, theirs) == 0);
}

static void check_key(uint64_t a, uint64_t b)
{
	char key[AB_WS_KEY_BYTES];
	unsigned char decoded[20], nonce[16];

	memset(key, 'X', sizeof(key));
	ab_ws_handshake__key(a, b, key);
	CHECK(strlen(key) == AB_WS_KEY_BYTES - 1 && key[22] == '=' && key[23] == '=');
	/* EVP_DecodeBlock counts the padding as zero bytes: 24 characters decode to 18. */
	CHECK(EVP_DecodeBlock(decoded, (const unsigned char *)key, 24) == 18);
	memcpy(nonce, &a, 8);
	memcpy(nonce + 8, &b, 8);
	CHECK(memcmp(decoded, nonce, 16) == 0);
}

/* ---- the response, as worker.c checks it ---- */

enum verdict { INCOMPLETE, ACCEPTED, REJECTED, REFUSED, INVALID };

struct outcome {
	enum verdict verdict;
	unsigned status;
	size_t http_bytes;	/* bytes of the stream the HTTP part took */
	size_t ws_offset;	/* where the WebSocket bytes start, when upgraded */
};

static int answers_head(void *context)
{
	(void)context;
	return 0;	/* the upgrade is a GET */
}

static int on_complete(void *context, unsigned status, int keep_alive)
{
	(void)keep_alive;
	/* Any complete response to the upgrade request other than a 101 is a refusal. */
	*(unsigned *)context = status;
	return 1;
}

static const struct ab_http_response_callbacks http_callbacks = {
	.answers_head = answers_head,
	.on_complete = on_complete,
};

static int on_echo(void *context, uint64_t seq)
{
	(void)context, (void)seq;
	return 0;
}

static int on_ping(void *context, const uint8_t *pong, size_t length)
{
	(void)context, (void)pong, (void)length;
	return 0;
}

static void on_close(void *context, const uint8_t *reply, size_t length)
{
	(void)context, (void)reply, (void)length;
}

static const struct ws_session_callbacks ws_callbacks = {
	.on_echo = on_echo,
	.on_ping = on_ping,
	.on_close = on_close,
};

static struct outcome handshake(const uint8_t *data, size_t length, unsigned cut)
{
	struct outcome outcome = { INCOMPLETE, 0, 0, 0 };
	struct ab_http_response response;
	struct ws_session session;
	unsigned refused_status = 0;
	struct cuts cuts = cuts_start(cut, length);
	size_t offset = 0;

	ws_session_init(&session, &ws_callbacks, NULL, 0, WS_STAMP_BINARY_BYTES, 7);
	memcpy(session.key, example_key, sizeof(example_key));
	memset(&response, 0, sizeof(response));
	response.capture_name = "sec-websocket-accept";
	ab_http_response__init(&response, &http_callbacks, &refused_status);
	while (offset < length && outcome.verdict == INCOMPLETE) {
		size_t piece = cuts_next(&cuts, length - offset);
		size_t consumed = 0;
		char *copy;

		copy = malloc(piece);
		CHECK(copy);
		memcpy(copy, data + offset, piece);
		switch (ab_http_response__feed(&response, copy, piece, &consumed)) {
		case AB_HTTP_OK:
			CHECK(consumed == piece);
			break;
		case AB_HTTP_STOPPED:
			outcome.verdict = REFUSED;
			outcome.status = refused_status;
			break;
		case AB_HTTP_UPGRADED:
			outcome.status = response.parser.status_code;
			CHECK(strlen(response.capture_value) < AB_HTTP_CAPTURE_BYTES);
			outcome.verdict = ws_session_accepted(&session, response.parser.status_code, response.capture_value)
						  ? ACCEPTED : REJECTED;
			outcome.ws_offset = offset + consumed;
			/* The rest of this read is the first WebSocket bytes (worker.c feeds them on). */
			if (outcome.verdict == ACCEPTED && consumed < piece)
				(void)ws_session_feed(&session, (uint8_t *)copy + consumed, piece - consumed);
			break;
		case AB_HTTP_INVALID:
		default:
			outcome.verdict = INVALID;
			break;
		}
		CHECK(consumed <= piece);
		free(copy);
		outcome.http_bytes = offset + consumed;
		offset += piece;
	}
	ws_session_free(&session);
	return outcome;
}

/* Whitespace before a header value, as http-parser skips it: spaces and tabs, and line breaks
 * followed by one (obsolete line folding, which RFC 7230 reads as a space; lenient http-parser
 * takes any byte after a CR for its LF). */
static size_t skip_folded_space(const uint8_t *data, size_t at, size_t end)
{
	for (;;) {
		if (at < end && (data[at] == ' ' || data[at] == '\t'))
			at++;
		else if (at + 2 < end && data[at] == '\r' && (data[at + 2] == ' ' || data[at + 2] == '\t'))
			at += 2;
		else if (at + 1 < end && data[at] == '\n' && (data[at + 1] == ' ' || data[at + 1] == '\t'))
			at++;
		else
			return at;
	}
}

/* A line "Sec-WebSocket-Accept:", whitespace, exactly the accept value, spaces or tabs, a line
 * break, before `end`. A line starts after an LF, or two bytes after a CR: lenient http-parser
 * takes any byte after the CR that ends a status line for its LF. */
static int has_accept_line(const uint8_t *data, size_t end)
{
	static const char name[] = "sec-websocket-accept:";
	size_t name_length = sizeof(name) - 1, accept_length = sizeof(example_accept) - 1;

	for (size_t line = 0; line < end; line++) {
		size_t at;

		if (line > 0 && data[line - 1] != '\n' && !(line > 1 && data[line - 2] == '\r'))
			continue;
		if (end - line < name_length || strncasecmp((const char *)data + line, name, name_length) != 0)
			continue;
		at = skip_folded_space(data, line + name_length, end);
		if (end - at >= accept_length && memcmp(data + at, example_accept, accept_length) == 0) {
			at += accept_length;
			while (at < end && (data[at] == ' ' || data[at] == '\t'))
				at++;
			if (at < end && (data[at] == '\r' || data[at] == '\n'))
				return 1;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	uint64_t a = 0, b = 0;
	const uint8_t *response;
	size_t length, line = 0;
	char *key;

	check_accept(example_key);
	{
		char accept[AB_WS_ACCEPT_BYTES];

		ab_ws_handshake__accept(example_key, accept);
		CHECK(strcmp(accept, example_accept) == 0);
	}
	if (size < 1)
		return 0;
	response = data + 1;
	length = size - 1;

	memcpy(&a, response, length < 8 ? length : 8);
	if (length > 8)
		memcpy(&b, response + 8, length - 8 < 8 ? length - 8 : 8);
	check_key(a, b);

	while (line < length && response[line] != '\n' && response[line] != '\0')
		line++;
	key = malloc(line + 1);
	CHECK(key);
	memcpy(key, response, line);
	key[line] = '\0';
	check_accept(key);
	free(key);

	whole = handshake(response, length, 0);
	pieces = handshake(response, length, data[0]);
	if (whole.verdict != pieces.verdict || whole.status != pieces.status || whole.http_bytes != pieces.http_bytes) {
		fprintf(stderr, "one read: verdict %d status %u http bytes %zu; cut: verdict %d status %u http bytes %zu\n",
			whole.verdict, whole.status, whole.http_bytes, pieces.verdict, pieces.status, pieces.http_bytes);
		abort();
	}
	if (whole.verdict == ACCEPTED)
		CHECK(whole.status == 101 && has_accept_line(response, whole.ws_offset));
	return 0;
}
