/* Incremental HTTP/1.1 response parsing over nodejs/http-parser (Debian's libhttp-parser, the parser
 * wrk uses): Content-Length, chunked and close-delimited bodies, pipelined responses, and the
 * 101 of a WebSocket upgrade. A unit of its own so it can be fuzzed without sockets. */
#ifndef AB_HTTP_RESPONSE_H
#define AB_HTTP_RESPONSE_H

#include <http_parser.h>
#include <stddef.h>

struct ab_http_response;

struct ab_http_response_callbacks {
	/* Whether the response now starting answers a HEAD request (and so has no body). */
	int (*answers_head)(void *context);
	/* One response is complete; return nonzero to stop parsing (the rest is not for us). */
	int (*on_complete)(void *context, unsigned status, int keep_alive);
};

#define AB_HTTP_CAPTURE_BYTES 64

struct ab_http_response {
	http_parser parser;
	const struct ab_http_response_callbacks *callbacks;
	void *context;
	/* One header value to capture (lower-case name), for the WebSocket accept key. */
	const char *capture_name;
	char capture_value[AB_HTTP_CAPTURE_BYTES];
	char field[AB_HTTP_CAPTURE_BYTES];
	unsigned field_length, value_length;
	unsigned char capturing, last_was_value, stopped, in_message;
};

enum ab_http_feed_result {
	AB_HTTP_OK = 0,		/* everything consumed */
	AB_HTTP_STOPPED = 1,	/* a callback stopped the parse */
	AB_HTTP_UPGRADED = 2,	/* a 101 ended the HTTP part; `consumed` says where the new protocol starts */
	AB_HTTP_INVALID = -1,
};

void ab_http_response__init(struct ab_http_response *response, const struct ab_http_response_callbacks *callbacks,
			    void *context);
/* Parses `length` more bytes; `consumed` gets how many were HTTP. */
enum ab_http_feed_result ab_http_response__feed(struct ab_http_response *response, const char *data, size_t length,
						size_t *consumed);
/* The peer closed: completes a close-delimited body. Returns AB_HTTP_INVALID if a response was cut off. */
enum ab_http_feed_result ab_http_response__eof(struct ab_http_response *response);
/* True between the first byte of a response and its end. */
int ab_http_response__in_message(const struct ab_http_response *response);

#endif
