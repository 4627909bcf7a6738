#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_session.h"

#define DEFAULT_WINDOW_NS (100 * 1000000ull)
#define DEFAULT_TIMEOUT_S 2.0

int plan_resolve(const char *host, uint16_t port, struct sockaddr_storage *address, socklen_t *length)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *found;
	char service[8];
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &found);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	memcpy(address, found->ai_addr, found->ai_addrlen);
	*length = found->ai_addrlen;
	freeaddrinfo(found);
	return 0;
}

static char *build_template(const struct ab_load_config *config, const struct ab_load_endpoint *endpoint,
			    const char *host, size_t *length)
{
	const char *method = endpoint->method ? endpoint->method : "GET";
	int needs_length = endpoint->body_length > 0 || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
			   !strcmp(method, "PATCH");
	size_t capacity = strlen(method) + strlen(endpoint->path) + strlen(host) +
			  (endpoint->headers ? strlen(endpoint->headers) : 0) + endpoint->body_length + 128;
	char *bytes = malloc(capacity);
	int head;

	if (!bytes)
		return NULL;
	head = snprintf(bytes, capacity, "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, endpoint->path, host,
			endpoint->headers ? endpoint->headers : "");
	if (needs_length)
		head += snprintf(bytes + head, capacity - (size_t)head, "Content-Length: %zu\r\n", endpoint->body_length);
	if (config->close_each)
		head += snprintf(bytes + head, capacity - (size_t)head, "Connection: close\r\n");
	head += snprintf(bytes + head, capacity - (size_t)head, "\r\n");
	if (endpoint->body_length)
		memcpy(bytes + head, endpoint->body, endpoint->body_length);
	*length = (size_t)head + endpoint->body_length;
	return bytes;
}

int plan_build(struct load_plan *plan, const struct ab_load_config *config)
{
	char host[300];
	uint32_t total = 0;
	int rc;

	if (!config->threads || !config->connections || config->connections < config->threads ||
	    !config->endpoint_count || config->endpoint_count > AB_LOAD_MAX_ENDPOINTS || !config->host ||
	    config->duration_s <= 0 || config->rate < 0 || config->pipeline_depth > 1024 ||
	    (config->websocket && config->endpoint_count != 1))
		return -EINVAL;
	plan->config = *config;
	plan->config.endpoints = NULL;	/* the templates below are all the workers need */
	if (config->websocket) {
		uint32_t stamp = config->websocket_text ? WS_STAMP_TEXT_BYTES : WS_STAMP_BINARY_BYTES;

		if (plan->config.message_bytes < stamp)
			plan->config.message_bytes = stamp;
	}
	rc = plan_resolve(config->host, config->port, &plan->address, &plan->address_length);
	if (rc)
		return rc;
	if (config->host_header)
		snprintf(host, sizeof(host), "%s", config->host_header);
	else if (config->port == 80)
		snprintf(host, sizeof(host), "%s", config->host);
	else
		snprintf(host, sizeof(host), strchr(config->host, ':') ? "[%s]:%u" : "%s:%u", config->host, config->port);
	for (size_t i = 0; i < config->endpoint_count; i++) {
		const struct ab_load_endpoint *endpoint = &config->endpoints[i];

		if (!endpoint->path || endpoint->path[0] != '/')
			return -EINVAL;
		plan->templates[i].bytes = build_template(config, endpoint, host, &plan->templates[i].length);
		if (!plan->templates[i].bytes)
			return -ENOMEM;
		plan->templates[i].is_head = endpoint->method && !strcmp(endpoint->method, "HEAD");
		total += endpoint->weight ? endpoint->weight : 1;
		plan->cumulative_weight[i] = total;
	}
	plan->weight_total = total;
	if (config->websocket) {
		const char *path = config->endpoints[0].path;
		size_t capacity = strlen(path) + strlen(host) + 160;

		plan->ws_handshake_prefix = malloc(capacity);
		if (!plan->ws_handshake_prefix)
			return -ENOMEM;
		snprintf(plan->ws_handshake_prefix, capacity,
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Version: 13\r\n", path, host);
	}
	/* The caller's strings are not kept: everything the workers need was copied above. */
	plan->config.host = NULL;
	plan->config.host_header = NULL;
	plan->timeout_ns = (uint64_t)((config->timeout_s > 0 ? config->timeout_s : DEFAULT_TIMEOUT_S) * 1e9);
	plan->window_ns = config->window_ns ? config->window_ns : DEFAULT_WINDOW_NS;
	return 0;
}

void plan_free(struct load_plan *plan)
{
	for (size_t i = 0; i < AB_LOAD_MAX_ENDPOINTS; i++) {
		free(plan->templates[i].bytes);
		plan->templates[i].bytes = NULL;
	}
	free(plan->ws_handshake_prefix);
	plan->ws_handshake_prefix = NULL;
}
