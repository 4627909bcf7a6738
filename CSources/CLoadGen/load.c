#define _GNU_SOURCE
#include "ab_load.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "histogram.h"
#include "worker.h"

#define DEFAULT_WINDOW_NS (100 * 1000000ull)
#define DEFAULT_SLOW_CAPACITY 100000u
/* Per-window records kept: one hour of 100 ms windows, 216 bytes each (7.8 MiB at most). Later
 * windows are counted as dropped, so memory stays bounded however long the run. */
#define MAX_WINDOWS 36000u

struct ab_load_run {
	struct load_plan plan;
	struct worker *workers;
	uint32_t worker_count;
	uint32_t started;
	int waited;
	pthread_mutex_t lock;		/* guards what the poller drains into */

	/* Windows, merged across threads as their records arrive. */
	struct ab_load_window *windows;
	struct ab_histogram **window_merge;	/* per window until every thread reported it */
	uint32_t *window_reports;
	size_t window_count, window_capacity;

	uint64_t windows_dropped;

	struct ab_slow_request *slow;
	size_t slow_count, slow_limit;
	uint64_t slow_dropped;

	/* After wait: per endpoint (index endpoint_count is "all"), merged over threads. */
	struct ab_histogram **merged;		/* [(endpoint_count + 1) * AB_LATENCY_KINDS] */
	struct ab_load_totals *totals;		/* [endpoint_count + 1] */
};

uint64_t ab_load_monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *address, socklen_t *length)
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

int ab_load_check_target(const char *host, uint16_t port, double timeout_s)
{
	struct sockaddr_storage address;
	socklen_t length;
	struct pollfd waiter;
	int fd, rc, error = 0;
	socklen_t error_length = sizeof(error);

	rc = resolve(host, port, &address, &length);
	if (rc)
		return rc;
	fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&address, length) == 0) {
		close(fd);
		return 0;
	}
	if (errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	waiter.fd = fd;
	waiter.events = POLLOUT;
	rc = poll(&waiter, 1, (int)(timeout_s * 1000));
	if (rc == 0)
		error = ETIMEDOUT;
	else if (rc == -1)
		error = errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) == -1)
		error = errno;
	close(fd);
	return -error;
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

static int build_plan(struct load_plan *plan, const struct ab_load_config *config)
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
		uint32_t stamp = config->websocket_text ? 48 : 24;

		if (plan->config.message_bytes < stamp)
			plan->config.message_bytes = stamp;
	}
	rc = resolve(config->host, config->port, &plan->address, &plan->address_length);
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
	plan->timeout_ns = (uint64_t)((config->timeout_s > 0 ? config->timeout_s : 2.0) * 1e9);
	plan->window_ns = config->window_ns ? config->window_ns : DEFAULT_WINDOW_NS;
	return 0;
}

void ab_load_run__destroy(struct ab_load_run *run)
{
	size_t endpoints;

	if (!run)
		return;
	if (run->started && !run->waited) {
		ab_load_run__stop(run);
		ab_load_run__wait(run);
	}
	endpoints = run->plan.config.endpoint_count;
	for (uint32_t i = 0; run->workers && i < run->worker_count; i++)
		worker_free(&run->workers[i]);
	free(run->workers);
	for (size_t i = 0; i < AB_LOAD_MAX_ENDPOINTS; i++)
		free(run->plan.templates[i].bytes);
	free(run->plan.ws_handshake_prefix);
	for (size_t i = 0; i < run->window_count; i++)
		ab_histogram__free(run->window_merge[i]);
	free(run->window_merge);
	free(run->window_reports);
	free(run->windows);
	free(run->slow);
	for (size_t i = 0; run->merged && i < (endpoints + 1) * AB_LATENCY_KINDS; i++)
		ab_histogram__free(run->merged[i]);
	free(run->merged);
	free(run->totals);
	pthread_mutex_destroy(&run->lock);
	free(run);
}

struct ab_load_run *ab_load_run__start(const struct ab_load_config *config)
{
	struct ab_load_run *run = calloc(1, sizeof(*run));
	uint32_t threads;
	int rc;

	if (!run)
		return NULL;
	pthread_mutex_init(&run->lock, NULL);
	rc = build_plan(&run->plan, config);
	if (rc)
		goto fail;
	threads = config->threads;
	run->slow_limit = config->slow_capacity ? config->slow_capacity : DEFAULT_SLOW_CAPACITY;
	run->workers = calloc(threads, sizeof(struct worker));
	if (!run->workers) {
		rc = -ENOMEM;
		goto fail;
	}
	run->worker_count = threads;
	run->plan.start_ns = ab_load_monotonic_ns();
	run->plan.deadline_ns = run->plan.start_ns + (uint64_t)(config->duration_s * 1e9);
	for (uint32_t i = 0; i < threads; i++) {
		uint32_t connections = config->connections / threads + (i < config->connections % threads);
		uint64_t budget = UINT64_MAX;

		if (config->max_requests)
			budget = config->max_requests / threads + (i < config->max_requests % threads);
		rc = worker_init(&run->workers[i], &run->plan, i, connections, budget);
		if (rc)
			goto fail;
	}
	for (uint32_t i = 0; i < threads; i++) {
		rc = -pthread_create(&run->workers[i].thread, NULL, worker_main, &run->workers[i]);
		if (rc) {
			ab_load_run__stop(run);
			goto fail;
		}
		run->started++;
	}
	return run;
fail:
	/* Threads already started are stopped and joined by destroy. */
	ab_load_run__destroy(run);
	errno = -rc;
	return NULL;
}

void ab_load_run__stop(struct ab_load_run *run)
{
	__atomic_store_n(&run->plan.stop_requested, 1, __ATOMIC_RELAXED);
}

int ab_load_run__finished(struct ab_load_run *run)
{
	for (uint32_t i = 0; i < run->started; i++)
		if (!__atomic_load_n(&run->workers[i].finished, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* ---- draining windows and slow requests (the poller's thread) ---- */

static void finalize_window(struct ab_load_run *run, size_t index)
{
	struct ab_load_window *window = &run->windows[index];
	struct ab_histogram *h = run->window_merge[index];

	if (!h)
		return;
	window->start_ns = run->plan.start_ns + index * run->plan.window_ns;
	window->p50_ns = ab_histogram__percentile(h, 50);
	window->p90_ns = ab_histogram__percentile(h, 90);
	window->p99_ns = ab_histogram__percentile(h, 99);
	window->max_ns = h->max;
	for (uint32_t b = 0; b < h->bucket_count; b++) {
		uint64_t micros;
		uint32_t slot = 0;

		if (!h->counts[b])
			continue;
		micros = ab_histogram__lowest(h->bits, b) / 1000;
		while (micros >= 2 && slot < 39) {
			micros >>= 1;
			slot++;
		}
		window->log2_counts[slot] += (uint32_t)h->counts[b];
	}
	ab_histogram__free(h);
	run->window_merge[index] = NULL;
}

static int ensure_window(struct ab_load_run *run, size_t index)
{
	if (index >= MAX_WINDOWS)
		return -E2BIG;
	if (index >= run->window_capacity) {
		size_t capacity = run->window_capacity ? run->window_capacity * 2 : 256;
		void *windows, *merge, *reports;

		while (capacity <= index)
			capacity *= 2;
		windows = realloc(run->windows, capacity * sizeof(*run->windows));
		if (windows)
			run->windows = windows;
		merge = realloc(run->window_merge, capacity * sizeof(*run->window_merge));
		if (merge)
			run->window_merge = merge;
		reports = realloc(run->window_reports, capacity * sizeof(*run->window_reports));
		if (reports)
			run->window_reports = reports;
		if (!windows || !merge || !reports)
			return -ENOMEM;
		memset(run->windows + run->window_capacity, 0, (capacity - run->window_capacity) * sizeof(*run->windows));
		memset(run->window_merge + run->window_capacity, 0,
		       (capacity - run->window_capacity) * sizeof(*run->window_merge));
		memset(run->window_reports + run->window_capacity, 0,
		       (capacity - run->window_capacity) * sizeof(*run->window_reports));
		run->window_capacity = capacity;
	}
	if (index >= run->window_count)
		run->window_count = index + 1;
	return 0;
}

static void drain_worker(struct ab_load_run *run, struct worker *w)
{
	uint64_t head = __atomic_load_n(&w->window_head, __ATOMIC_ACQUIRE);

	for (uint64_t tail = w->window_tail; tail < head; tail++) {
		struct window_record *record = &w->window_ring[tail % AB_WINDOW_RING];
		size_t index = record->index;

		if (ensure_window(run, index) == 0) {
			if (!run->window_merge[index] && run->window_reports[index] < run->worker_count)
				run->window_merge[index] = ab_histogram__new(AB_HISTOGRAM_COARSE_BITS);
			if (run->window_merge[index])
				ab_histogram__merge(run->window_merge[index], record->histogram);
			run->windows[index].responses += record->responses;
			run->windows[index].errors += record->errors;
			if (++run->window_reports[index] == run->worker_count)
				finalize_window(run, index);
		} else if (w->index == 0) {
			run->windows_dropped++;	/* once per window, not once per thread */
		}
	}
	__atomic_store_n(&w->window_tail, head, __ATOMIC_RELEASE);

	head = __atomic_load_n(&w->slow_head, __ATOMIC_ACQUIRE);
	for (uint64_t tail = w->slow_tail; tail < head; tail++) {
		if (run->slow_count == run->slow_limit) {
			run->slow_dropped++;
			continue;
		}
		if (run->slow_count % 4096 == 0) {
			void *grown = realloc(run->slow, (run->slow_count + 4096) * sizeof(*run->slow));

			if (!grown) {
				run->slow_dropped++;
				continue;
			}
			run->slow = grown;
		}
		run->slow[run->slow_count++] = w->slow_ring[tail % AB_SLOW_RING];
	}
	__atomic_store_n(&w->slow_tail, head, __ATOMIC_RELEASE);
}

void ab_load_run__poll(struct ab_load_run *run, struct ab_load_progress *progress)
{
	struct ab_load_progress sum = { 0 };

	pthread_mutex_lock(&run->lock);
	for (uint32_t i = 0; i < run->started; i++) {
		struct worker *w = &run->workers[i];

		sum.requests += __atomic_load_n(&w->live_requests, __ATOMIC_RELAXED);
		sum.responses += __atomic_load_n(&w->live_responses, __ATOMIC_RELAXED);
		sum.errors += __atomic_load_n(&w->live_errors, __ATOMIC_RELAXED);
		drain_worker(run, w);
	}
	pthread_mutex_unlock(&run->lock);
	sum.elapsed_ns = ab_load_monotonic_ns() - run->plan.start_ns;
	if (progress)
		*progress = sum;
}

/* ---- results ---- */

static void add_totals(struct ab_load_totals *into, const struct endpoint_stats *stats, int with_errors)
{
	into->requests += stats->requests;
	into->responses += stats->responses;
	for (int k = 0; with_errors && k < AB_ERR_KINDS; k++)
		into->errors[k] += stats->errors[k];
	for (int s = 0; s < AB_LOAD_MAX_STATUS; s++)
		into->status_counts[s] += stats->status_counts[s];
}

void ab_load_run__wait(struct ab_load_run *run)
{
	size_t endpoints = run->plan.config.endpoint_count;
	struct ab_load_totals *all;
	uint64_t end_ns = 0, send_end_ns = 0;

	if (run->waited)
		return;
	for (uint32_t i = 0; i < run->started; i++)
		pthread_join(run->workers[i].thread, NULL);
	run->waited = 1;
	ab_load_run__poll(run, NULL);
	for (size_t i = 0; i < run->window_count; i++)
		finalize_window(run, i);	/* windows some thread never reported (it had ended) */
	run->merged = calloc((endpoints + 1) * AB_LATENCY_KINDS, sizeof(*run->merged));
	run->totals = calloc(endpoints + 1, sizeof(*run->totals));
	if (!run->merged || !run->totals)
		return;
	for (size_t i = 0; i < (endpoints + 1) * AB_LATENCY_KINDS; i++)
		run->merged[i] = ab_histogram__new(AB_HISTOGRAM_PRECISE_BITS);
	all = &run->totals[endpoints];
	for (uint32_t t = 0; t < run->started; t++) {
		struct worker *w = &run->workers[t];

		for (size_t e = 0; e < endpoints; e++) {
			add_totals(&run->totals[e], &w->endpoints[e], 1);
			/* The thread's own error counts below include those no request can own (a failed
			 * connect), so the endpoints' are not added to "all" again. */
			add_totals(all, &w->endpoints[e], 0);
			for (int k = 0; k < AB_LATENCY_KINDS; k++) {
				if (run->merged[e * AB_LATENCY_KINDS + k])
					ab_histogram__merge(run->merged[e * AB_LATENCY_KINDS + k], w->endpoints[e].latency[k]);
				if (run->merged[endpoints * AB_LATENCY_KINDS + k])
					ab_histogram__merge(run->merged[endpoints * AB_LATENCY_KINDS + k],
							    w->endpoints[e].latency[k]);
			}
		}
		for (int k = 0; k < AB_ERR_KINDS; k++)
			all->errors[k] += w->errors[k];
		all->bytes_read += w->bytes_read;
		all->bytes_written += w->bytes_written;
		all->connects += w->connects;
		all->late_sends += w->late_sends;
		all->dropped_sends += w->dropped_sends;
		all->pings_answered += w->pings_answered;
		all->server_closes += w->server_closes;
		all->windows_dropped += w->windows_dropped;
		all->slow_dropped += w->slow_dropped;
		if (w->end_ns > end_ns)
			end_ns = w->end_ns;
		if (w->send_end_ns > send_end_ns)
			send_end_ns = w->send_end_ns;
	}
	all->slow_dropped += run->slow_dropped;
	all->windows_dropped += run->windows_dropped;
	all->start_ns = run->plan.start_ns;
	all->end_ns = end_ns;
	all->send_window_ns = send_end_ns > run->plan.start_ns ? send_end_ns - run->plan.start_ns : 0;
	/* Closed loop: latency from the send is latency from the intended start (see record_completion). */
	if (run->plan.config.rate <= 0) {
		for (size_t e = 0; e <= endpoints; e++) {
			struct ab_histogram *corrected = run->merged[e * AB_LATENCY_KINDS + AB_LATENCY_CORRECTED];
			struct ab_histogram *uncorrected = run->merged[e * AB_LATENCY_KINDS + AB_LATENCY_UNCORRECTED];

			if (corrected && uncorrected)
				memcpy(uncorrected, corrected, ab_histogram__bytes(corrected->bits));
		}
	}
	for (size_t e = 0; e < endpoints; e++) {
		run->totals[e].start_ns = all->start_ns;
		run->totals[e].end_ns = all->end_ns;
		run->totals[e].send_window_ns = all->send_window_ns;
	}
}

static size_t endpoint_slot(const struct ab_load_run *run, int endpoint)
{
	size_t endpoints = run->plan.config.endpoint_count;

	return endpoint < 0 || (size_t)endpoint >= endpoints ? endpoints : (size_t)endpoint;
}

int ab_load_run__totals(struct ab_load_run *run, int endpoint, struct ab_load_totals *totals)
{
	if (!run->waited || !run->totals)
		return -EINVAL;
	*totals = run->totals[endpoint_slot(run, endpoint)];
	return 0;
}

static const struct ab_histogram *merged(const struct ab_load_run *run, int endpoint, enum ab_latency_kind kind)
{
	if (!run->waited || !run->merged || kind >= AB_LATENCY_KINDS)
		return NULL;
	return run->merged[endpoint_slot(run, endpoint) * AB_LATENCY_KINDS + kind];
}

uint64_t ab_load_run__latency(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind, double percentile)
{
	const struct ab_histogram *h = merged(run, endpoint, kind);

	return h ? ab_histogram__percentile(h, percentile) : 0;
}

double ab_load_run__latency_mean(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind)
{
	const struct ab_histogram *h = merged(run, endpoint, kind);

	return h && h->total ? (double)h->sum / (double)h->total : 0;
}

size_t ab_load_run__window_count(struct ab_load_run *run)
{
	return run->window_count;
}

size_t ab_load_run__windows(struct ab_load_run *run, struct ab_load_window *out, size_t capacity)
{
	size_t count;

	pthread_mutex_lock(&run->lock);
	count = run->window_count < capacity ? run->window_count : capacity;
	for (size_t i = 0; i < count; i++) {
		out[i] = run->windows[i];
		out[i].start_ns = run->plan.start_ns + i * run->plan.window_ns;
	}
	pthread_mutex_unlock(&run->lock);
	return count;
}

size_t ab_load_run__slow_count(struct ab_load_run *run)
{
	return run->slow_count;
}

size_t ab_load_run__slow_requests(struct ab_load_run *run, struct ab_slow_request *out, size_t capacity)
{
	size_t count;

	pthread_mutex_lock(&run->lock);
	count = run->slow_count < capacity ? run->slow_count : capacity;
	memcpy(out, run->slow, count * sizeof(*out));
	pthread_mutex_unlock(&run->lock);
	return count;
}
