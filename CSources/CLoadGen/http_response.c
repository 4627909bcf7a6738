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

enum ab_http_feed_result ab_http_response__feed(struct ab_http_response *response, const char *data, size_t length,
						size_t *consumed)
{
	size_t parsed = http_parser_execute(&response->parser,
					    response->capture_name ? &capturing_settings : &plain_settings, data, length);

	*consumed = parsed;
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
