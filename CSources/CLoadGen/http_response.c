#include "http_response.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static int on_message_begin(http_parser *parser)
{
	struct ab_http_response *response = parser->data;

	response->in_message = 1;
	response->capture_value[0] = '\0';
	response->field_length = 0;
	response->last_was_value = 0;
	return 0;
}

/* Header names and values can arrive split across reads: gather the name, and the value only of the
 * one header asked for. */
static int on_header_field(http_parser *parser, const char *at, size_t length)
{
	struct ab_http_response *response = parser->data;

	if (!response->capture_name)
		return 0;
	if (response->last_was_value) {
		response->field_length = 0;
		response->last_was_value = 0;
	}
	if (response->field_length + length < sizeof(response->field)) {
		memcpy(response->field + response->field_length, at, length);
		response->field_length += (unsigned)length;
	} else {
		/* Too long to be the name asked for. Dropping just this piece would keep the pieces
		 * before it, which may spell that name (fuzz/ws_handshake.c): clear the name and take no
		 * more of it. */
		response->field[0] = '\0';
		response->field_length = sizeof(response->field) - 1;
	}
	return 0;
}

static int on_header_value(http_parser *parser, const char *at, size_t length)
{
	struct ab_http_response *response = parser->data;

	if (!response->capture_name)
		return 0;
	if (!response->last_was_value) {
		response->field[response->field_length] = '\0';
		response->capturing = strcasecmp(response->field, response->capture_name) == 0;
		response->value_length = 0;
		response->last_was_value = 1;
	}
	if (response->capturing && response->value_length + length < sizeof(response->capture_value)) {
		memcpy(response->capture_value + response->value_length, at, length);
		response->value_length += (unsigned)length;
		response->capture_value[response->value_length] = '\0';
	} else if (response->capturing) {
		/* Too long to hold: captured as empty, whatever reads it came in (keeping the pieces
		 * that fit, or an earlier header's value, made the verdict depend on them). */
		response->capture_value[0] = '\0';
		response->value_length = sizeof(response->capture_value);
	}
	return 0;
}

static int on_headers_complete(http_parser *parser)
{
	struct ab_http_response *response = parser->data;

	/* 1 tells http-parser the response has no body. */
	return response->callbacks->answers_head && response->callbacks->answers_head(response->context) ? 1 : 0;
}

static int on_message_complete(http_parser *parser)
{
	struct ab_http_response *response = parser->data;

	response->in_message = 0;
	if (parser->upgrade)
		return 0;	/* reported as AB_HTTP_UPGRADED once execute returns */
	if (response->callbacks->on_complete(response->context, parser->status_code, http_should_keep_alive(parser))) {
		response->stopped = 1;
		http_parser_pause(parser, 1);
	}
	return 0;
}

/* Header callbacks cost a call per header line: only the WebSocket handshake, which captures one
 * header, gets them. */
static const http_parser_settings capturing_settings = {
	.on_message_begin = on_message_begin,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

static const http_parser_settings plain_settings = {
	.on_message_begin = on_message_begin,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void ab_http_response__init(struct ab_http_response *response, const struct ab_http_response_callbacks *callbacks,
			    void *context)
{
	const char *capture_name = response->capture_name;

	memset(response, 0, sizeof(*response));
	http_parser_init(&response->parser, HTTP_RESPONSE);
	response->parser.data = response;
	response->callbacks = callbacks;
	response->context = context;
	response->capture_name = capture_name;
}

static int header_is(const char *line, size_t length, const char *name, size_t name_length)
{
	return length > name_length && strncasecmp(line, name, name_length) == 0;
}

/* The fast path must answer exactly as http-parser would; fuzz/http_response.c checks that and
 * found lines it took that http-parser refuses or reads otherwise (Debian builds http-parser
 * lenient). It now hands any such line to http-parser. Per byte: TOKEN, a header name may have it
 * (RFC 7230's tchar, http-parser's token table; lenient http-parser also takes a space, and then
 * still reads "Content-Length :" as the length); VALUE, http-parser takes it in a value (a CR
 * mid-line makes it want an LF next and fail; other control bytes but tab it refuses). One table
 * lookup per header byte, and the CR that ends a line stops both scans. */
#define TOKEN 1
#define VALUE 2
#define TV (TOKEN | VALUE)
static const uint8_t header_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, VALUE, 0, 0, 0, 0, 0, 0,				/* 0x00: tab */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,					/* 0x10 */
	VALUE, TV, VALUE, TV, TV, TV, TV, TV, VALUE, VALUE, TV, TV, VALUE, TV, TV, VALUE,	/*  !"#$%&'()*+,-./ */
	TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,	/* 0-9 :;<=>? */
	VALUE, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV,		/* @A-O */
	TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, VALUE, VALUE, VALUE, TV, TV,	/* P-Z [\]^_ */
	TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV,			/* `a-o */
	TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, TV, VALUE, TV, VALUE, TV, 0,		/* p-z {|}~ DEL */
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
	VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE,
};

/* The fast path, hand-written because it is the load generator's hottest user-space code: http-parser
 * walks every byte of every header through its state machine, a cost paid on every response (see
 * bench/load-vs-wrk.py; docs/benchmarks.md). This finds lines with memchr instead, for the common
 * response only — a whole "HTTP/1.1" response with one Content-Length — and returns its size, or 0
 * for anything else (chunked or close-delimited bodies, HTTP/1.0, 1xx/204/304, a response split
 * across reads, folded or odd header lines), which http-parser then parses. */
static size_t fast_response(struct ab_http_response *response, const char *data, size_t length, unsigned *status,
			    int *keep_alive)
{
	const char *end = data + length, *line, *newline;
	long long body = -1;

	if (length < 16 || memcmp(data, "HTTP/1.1 ", 9) != 0 || data[9] < '1' || data[9] > '5' ||
	    data[10] < '0' || data[10] > '9' || data[11] < '0' || data[11] > '9' || (data[12] != ' ' && data[12] != '\r'))
		return 0;
	*status = (unsigned)((data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0'));
	if (*status < 200 || *status == 204 || *status == 304)
		return 0;
	*keep_alive = 1;
	line = memchr(data, '\n', length);
	/* A CR inside the status line ends it for http-parser, which takes the byte after it for the LF. */
	if (line) {
		const char *cr = memchr(data + 12, '\r', (size_t)(line - (data + 12)));

		if (cr && cr != line - 1)
			return 0;
	}
	while (line && ++line < end) {
		const char *colon, *value;
		size_t line_length;

		newline = memchr(line, '\n', (size_t)(end - line));
		if (!newline)
			return 0;	/* the headers go on in the next read */
		line_length = (size_t)(newline - line);
		if (line_length == 1 && line[0] == '\r') {
			size_t head_bytes = (size_t)(newline + 1 - data);

			/* http-parser refuses a head past HTTP_MAX_HEADER_SIZE (counted its own way): leave
			 * long ones to it. */
			if (body < 0 || head_bytes > HTTP_MAX_HEADER_SIZE / 2)
				return 0;
			if (response->callbacks->answers_head && response->callbacks->answers_head(response->context))
				body = 0;
			return head_bytes + (size_t)body <= length ? head_bytes + (size_t)body : 0;
		}
		if (line_length < 2 || line[line_length - 1] != '\r')
			return 0;
		for (colon = line; header_byte[(uint8_t)*colon] & TOKEN; colon++)
			;
		if (colon == line || *colon != ':')
			return 0;
		for (value = colon + 1; header_byte[(uint8_t)*value] & VALUE; value++)
			;
		if (value != line + line_length - 1)
			return 0;
		if (header_is(line, line_length, "content-length:", 15)) {
			const char *digit = line + 15;

			if (body >= 0)
				return 0;	/* twice: let http-parser judge */
			while (*digit == ' ' || *digit == '\t')
				digit++;
			if (*digit < '0' || *digit > '9')
				return 0;
			for (body = 0; *digit >= '0' && *digit <= '9'; digit++) {
				body = body * 10 + (*digit - '0');
				if (body > (1ll << 40))
					return 0;
			}
			/* Spaces only: anything else after the digits is an invalid length to http-parser. */
			while (*digit == ' ')
				digit++;
			if (*digit != '\r')
				return 0;
		} else if (header_is(line, line_length, "transfer-encoding", 17) ||
			   header_is(line, line_length, "proxy-connection:", 17)) {
			/* http-parser 2.9 counts any name that starts with "transfer-encoding" as one (and
			 * then refuses a Content-Length beside it), and reads Proxy-Connection as Connection. */
			return 0;
		} else if (header_is(line, line_length, "connection:", 11)) {
			value = line + 11;
			while (value < newline && (*value == ' ' || *value == '\t'))
				value++;
			if (newline - value >= 5 && strncasecmp(value, "close", 5) == 0) {
				value += 5;
				*keep_alive = 0;
			} else if (newline - value >= 10 && strncasecmp(value, "keep-alive", 10) == 0) {
				value += 10;
			} else {
				return 0;
			}
			/* One option alone: http-parser reads a list ("keep-alive, close" closes) and takes
			 * "closed" or "close" and a tab for another option, keeping the connection. */
			while (*value == ' ')
				value++;
			if (*value != '\r')
				return 0;
		}
		line = newline;
	}
	return 0;
}

enum ab_http_feed_result ab_http_response__feed(struct ab_http_response *response, const char *data, size_t length,
						size_t *consumed)
{
	size_t offset = 0, parsed;

	/* Whole plain responses first, while http-parser stands between messages (it then still does). */
	while (!response->capture_name && !response->in_message && offset < length) {
		unsigned status;
		int keep_alive;
		size_t size = fast_response(response, data + offset, length - offset, &status, &keep_alive);

		if (!size)
			break;
		offset += size;
		if (response->callbacks->on_complete(response->context, status, keep_alive)) {
			*consumed = offset;
			return AB_HTTP_STOPPED;
		}
	}
	if (offset == length && length > 0) {
		*consumed = length;
		return AB_HTTP_OK;
	}
	parsed = http_parser_execute(&response->parser, response->capture_name ? &capturing_settings : &plain_settings,
				     data + offset, length - offset);
	*consumed = offset + parsed;
	parsed += offset;
	if (response->stopped) {
		response->stopped = 0;
		http_parser_pause(&response->parser, 0);
		return AB_HTTP_STOPPED;
	}
	/* http-parser sets `upgrade` when the headers end, but reads a body first if the 101 gives a
	 * length: until that body is whole the HTTP part goes on, or the 101's cut would depend on how
	 * the reads fell (fuzz/ws_handshake.c). */
	if (response->parser.upgrade && !response->in_message)
		return AB_HTTP_UPGRADED;
	if (HTTP_PARSER_ERRNO(&response->parser) != HPE_OK || parsed != length)
		return AB_HTTP_INVALID;
	return AB_HTTP_OK;
}

enum ab_http_feed_result ab_http_response__eof(struct ab_http_response *response)
{
	size_t consumed;

	/* A zero-length execute signals EOF: it completes a body that runs to the close. */
	if (ab_http_response__feed(response, NULL, 0, &consumed) == AB_HTTP_INVALID)
		return AB_HTTP_INVALID;
	return ab_http_response__in_message(response) ? AB_HTTP_INVALID : AB_HTTP_OK;
}

int ab_http_response__in_message(const struct ab_http_response *response)
{
	return response->in_message;
}
