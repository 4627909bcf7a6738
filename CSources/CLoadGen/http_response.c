#include "http_response.h"

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
	while (line && ++line < end) {
		size_t line_length;

		newline = memchr(line, '\n', (size_t)(end - line));
		if (!newline)
			return 0;	/* the headers go on in the next read */
		line_length = (size_t)(newline - line);
		if (line_length == 1 && line[0] == '\r') {
			size_t head_bytes = (size_t)(newline + 1 - data);

			if (body < 0)
				return 0;
			if (response->callbacks->answers_head && response->callbacks->answers_head(response->context))
				body = 0;
			return head_bytes + (size_t)body <= length ? head_bytes + (size_t)body : 0;
		}
		if (line_length < 2 || line[line_length - 1] != '\r' || line[0] == ' ' || line[0] == '\t' ||
		    !memchr(line, ':', line_length))
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
			if (*digit != '\r' && *digit != ' ' && *digit != '\t')
				return 0;
		} else if (header_is(line, line_length, "transfer-encoding:", 18)) {
			return 0;
		} else if (header_is(line, line_length, "connection:", 11)) {
			const char *value = line + 11;

			while (value < newline && (*value == ' ' || *value == '\t'))
				value++;
			if (newline - value >= 5 && strncasecmp(value, "close", 5) == 0)
				*keep_alive = 0;
			else if (!(newline - value >= 10 && strncasecmp(value, "keep-alive", 10) == 0))
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
	if (response->parser.upgrade)
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
