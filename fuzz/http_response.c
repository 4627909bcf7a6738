/* libFuzzer target: CSources/CLoadGen/http_response.c, both of its parsers at once.
 *
 * Every input goes through two ab_http_response instances fed the same reads:
 *   - "fast": as the load generator parses plain HTTP (no header captured), so whole responses
 *     go through the hand-written fast path and the rest through http-parser;
 *   - "reference": with a header to capture, which makes ab_http_response__feed skip the fast path,
 *     so every byte goes through http-parser.
 * The fast path exists only to be quicker: for every input, both must report the same responses
 * (status, keep-alive), in the same order, with the same result and the same bytes consumed for
 * every read, the same "in a message" state after it, and the same verdict at EOF. Anything else
 * is a disagreement and abort()s, so libFuzzer keeps the input.
 *
 * Input layout: 3 control bytes, then the bytes the server sent.
 *   [0] how the bytes are cut into reads: 0 = one read; n = reads of 1..n bytes (pseudo-random,
 *       from n and the length, so the same input always cuts the same way);
 *   [1] bit i: response i answers a HEAD request (no body), as worker.c's answers_head says;
 *   [2] bit i: the callback stops the parse after response i (worker.c does on "Connection: close",
 *       a refused upgrade, an unsolicited response).
 * Each read is copied into a buffer of exactly its size, so AddressSanitizer sees any read past it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http_response.h"

#define MAX_EVENTS 64
#define MAX_FEEDS 4096

struct run {
	struct ab_http_response response;
	const uint8_t *control;
	unsigned events;
	struct {
		unsigned status;
		int keep_alive;
	} event[MAX_EVENTS];
	unsigned overflow;	/* events past MAX_EVENTS, still counted */
	unsigned feeds;
	struct {
		int result;
		size_t consumed;
		int in_message;
	} feed[MAX_FEEDS];
	int eof_result;
	int ended;		/* stopped, upgraded or invalid: the worker drops the connection */
};

static unsigned event_count(const struct run *run)
{
	return run->events + run->overflow;
}

static int answers_head(void *context)
{
	struct run *run = context;
	unsigned index = event_count(run);

	return index < 8 && (run->control[1] >> index & 1);
}

static int on_complete(void *context, unsigned status, int keep_alive)
{
	struct run *run = context;
	unsigned index = event_count(run);

	if (run->events < MAX_EVENTS) {
		run->event[run->events].status = status;
		run->event[run->events].keep_alive = keep_alive;
		run->events++;
	} else {
		run->overflow++;
	}
	return index < 8 && (run->control[2] >> index & 1);
}

static const struct ab_http_response_callbacks callbacks = {
	.answers_head = answers_head,
	.on_complete = on_complete,
};

static void run_input(struct run *run, const uint8_t *control, const uint8_t *data, size_t length, int capture)
{
	struct cuts cuts = cuts_start(control[0], length);
	size_t offset = 0;

	/* The arrays are written before they are read: only the counts start again. */
	run->events = run->overflow = run->feeds = 0;
	run->ended = 0;
	memset(&run->response, 0, sizeof(run->response));
	run->control = control;
	run->response.capture_name = capture ? "sec-websocket-accept" : NULL;
	ab_http_response__init(&run->response, &callbacks, run);
	while (offset < length && !run->ended && run->feeds < MAX_FEEDS) {
		size_t piece = cuts_next(&cuts, length - offset);
		char *copy;
		size_t consumed = 0;
		enum ab_http_feed_result result;

		copy = malloc(piece);
		CHECK(copy);
		memcpy(copy, data + offset, piece);
		result = ab_http_response__feed(&run->response, copy, piece, &consumed);
		free(copy);
		if (consumed > piece) {
			fprintf(stderr, "feed consumed %zu of %zu bytes\n", consumed, piece);
			abort();
		}
		run->feed[run->feeds].result = result;
		run->feed[run->feeds].consumed = consumed;
		run->feed[run->feeds].in_message = ab_http_response__in_message(&run->response);
		run->feeds++;
		offset += piece;
		if (result != AB_HTTP_OK)
			run->ended = 1;
		else if (consumed != piece) {
			fprintf(stderr, "AB_HTTP_OK but consumed %zu of %zu bytes\n", consumed, piece);
			abort();
		}
	}
	/* The peer closing: worker.c asks for the EOF verdict only on a connection still reading HTTP. */
	run->eof_result = run->ended ? 99 : ab_http_response__eof(&run->response);
}

static void disagree(const char *what, const struct run *fast, const struct run *reference)
{
	fprintf(stderr, "fast path and http-parser disagree: %s\n", what);
	fprintf(stderr, "  fast:      %u responses, %u reads, eof %d\n", event_count(fast), fast->feeds, fast->eof_result);
	fprintf(stderr, "  reference: %u responses, %u reads, eof %d\n", event_count(reference), reference->feeds,
		reference->eof_result);
	for (unsigned i = 0; i < fast->events || i < reference->events; i++)
		fprintf(stderr, "  response %u: fast %u/%d, reference %u/%d\n", i,
			i < fast->events ? fast->event[i].status : 0, i < fast->events ? fast->event[i].keep_alive : -1,
			i < reference->events ? reference->event[i].status : 0,
			i < reference->events ? reference->event[i].keep_alive : -1);
	for (unsigned i = 0; i < fast->feeds || i < reference->feeds; i++)
		fprintf(stderr, "  read %u: fast result %d consumed %zu in_message %d, reference result %d consumed %zu in_message %d\n",
			i, i < fast->feeds ? fast->feed[i].result : 9, i < fast->feeds ? fast->feed[i].consumed : 0,
			i < fast->feeds ? fast->feed[i].in_message : -1, i < reference->feeds ? reference->feed[i].result : 9,
			i < reference->feeds ? reference->feed[i].consumed : 0,
			i < reference->feeds ? reference->feed[i].in_message : -1);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run fast, reference;

	if (size < 3)
		return 0;
	run_input(&fast, data, data + 3, size - 3, 0);
	run_input(&reference, data, data + 3, size - 3, 1);
	if (event_count(&fast) != event_count(&reference))
		disagree("number of responses", &fast, &reference);
	for (unsigned i = 0; i < fast.events; i++)
		if (fast.event[i].status != reference.event[i].status ||
		    fast.event[i].keep_alive != reference.event[i].keep_alive)
			disagree("a response's status or keep-alive", &fast, &reference);
	if (fast.feeds != reference.feeds)
		disagree("number of reads taken", &fast, &reference);
	for (unsigned i = 0; i < fast.feeds; i++)
		if (fast.feed[i].result != reference.feed[i].result || fast.feed[i].consumed != reference.feed[i].consumed ||
		    fast.feed[i].in_message != reference.feed[i].in_message)
			disagree("a read's result, bytes consumed or message state", &fast, &reference);
	if (fast.eof_result != reference.eof_result)
		disagree("the verdict at EOF", &fast, &reference);
	return 0;
}
