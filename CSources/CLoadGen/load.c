#define _GNU_SOURCE
#include "ab_load.h"

#include <ab_clock.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "histogram.h"
#include "plan.h"
#include "records.h"
#include "windows.h"
#include "worker.h"

#define DEFAULT_SLOW_CAPACITY 100000u
#define SLOW_GROWTH 4096u	/* slow requests the list grows by */

struct ab_load_run {
	struct load_plan plan;
	struct worker **workers;
	uint32_t worker_count;
	uint32_t started;
	int waited;
	pthread_mutex_t lock;		/* guards what the poller drains into */

	struct windows windows;		/* merged across threads as their records arrive */

	struct ab_slow_request *slow;
	size_t slow_count, slow_limit;
	uint64_t slow_dropped;

	/* After wait: per endpoint (index endpoint_count is "all"), merged over threads. */
	struct ab_histogram **merged;		/* [(endpoint_count + 1) * AB_LATENCY_KINDS] */
	struct ab_load_totals *totals;		/* [endpoint_count + 1] */
};

int ab_load_check_target(const char *host, uint16_t port, double timeout_s)
{
	struct sockaddr_storage address;
	socklen_t length;
	struct pollfd waiter;
	int fd, rc, error = 0;
	socklen_t error_length = sizeof(error);

	rc = plan_resolve(host, port, &address, &length);
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
		worker_free(run->workers[i]);
	free(run->workers);
	plan_free(&run->plan);
	windows_free(&run->windows);
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
	rc = plan_build(&run->plan, config);
	if (rc)
		goto fail;
	threads = config->threads;
	run->slow_limit = config->slow_capacity ? config->slow_capacity : DEFAULT_SLOW_CAPACITY;
	run->workers = calloc(threads, sizeof(*run->workers));
	if (!run->workers) {
		rc = -ENOMEM;
		goto fail;
	}
	run->worker_count = threads;
	run->plan.start_ns = ab_monotonic_ns();
	run->plan.deadline_ns = run->plan.start_ns + (uint64_t)(config->duration_s * 1e9);
	windows_init(&run->windows, threads, run->plan.start_ns, run->plan.window_ns);
	for (uint32_t i = 0; i < threads; i++) {
		uint32_t connections = config->connections / threads + (i < config->connections % threads);
		uint64_t budget = UINT64_MAX;

		if (config->max_requests)
			budget = config->max_requests / threads + (i < config->max_requests % threads);
		run->workers[i] = worker_new(&run->plan, i, connections, budget);
		if (!run->workers[i]) {
			rc = -errno;
			goto fail;
		}
	}
	for (uint32_t i = 0; i < threads; i++) {
		rc = worker_start(run->workers[i]);
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
		if (!worker_finished(run->workers[i]))
			return 0;
	return 1;
}

/* ---- draining windows and slow requests (the poller's thread, the lock held) ---- */

struct drain {
	struct ab_load_run *run;
	uint32_t worker;
};

static void take_window(void *context, const struct window_record *record)
{
	const struct drain *drain = context;

	windows_add(&drain->run->windows, record, drain->worker == 0);
}

static void take_slow(void *context, const struct ab_slow_request *request)
{
	struct ab_load_run *run = ((const struct drain *)context)->run;

	if (run->slow_count == run->slow_limit) {
		run->slow_dropped++;
		return;
	}
	if (run->slow_count % SLOW_GROWTH == 0) {
		void *grown = realloc(run->slow, (run->slow_count + SLOW_GROWTH) * sizeof(*run->slow));

		if (!grown) {
			run->slow_dropped++;
			return;
		}
		run->slow = grown;
	}
	run->slow[run->slow_count++] = *request;
}

void ab_load_run__poll(struct ab_load_run *run, struct ab_load_progress *progress)
{
	struct ab_load_progress sum = { 0 };

	pthread_mutex_lock(&run->lock);
	for (uint32_t i = 0; i < run->started; i++) {
		struct drain drain = { .run = run, .worker = i };
		const struct records_sink sink = { .window = take_window, .slow = take_slow, .context = &drain };
		struct worker_live live;

		worker_live_counts(run->workers[i], &live);
		sum.requests += live.requests;
		sum.responses += live.responses;
		sum.errors += live.errors;
		records_drain(worker_records(run->workers[i]), &sink);
	}
	pthread_mutex_unlock(&run->lock);
	sum.elapsed_ns = ab_monotonic_ns() - run->plan.start_ns;
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

/* Adds one finished worker's statistics into the run's. */
static void merge_worker(struct ab_load_run *run, struct worker *worker)
{
	size_t endpoints = run->plan.config.endpoint_count;
	const struct worker_stats *stats = worker_stats(worker);
	struct records *records = worker_records(worker);
	struct ab_load_totals *all = &run->totals[endpoints];

	for (size_t e = 0; e < endpoints; e++) {
		add_totals(&run->totals[e], &stats->endpoints[e], 1);
		/* The thread's own error counts below include those no request can own (a failed
		 * connect), so the endpoints' are not added to "all" again. */
		add_totals(all, &stats->endpoints[e], 0);
		for (int k = 0; k < AB_LATENCY_KINDS; k++) {
			if (run->merged[e * AB_LATENCY_KINDS + k])
				ab_histogram__merge(run->merged[e * AB_LATENCY_KINDS + k], stats->endpoints[e].latency[k]);
			if (run->merged[endpoints * AB_LATENCY_KINDS + k])
				ab_histogram__merge(run->merged[endpoints * AB_LATENCY_KINDS + k],
						    stats->endpoints[e].latency[k]);
		}
	}
	for (int k = 0; k < AB_ERR_KINDS; k++)
		all->errors[k] += stats->errors[k];
	all->bytes_read += stats->bytes_read;
	all->bytes_written += stats->bytes_written;
	all->connects += stats->connects;
	all->late_sends += stats->late_sends;
	all->dropped_sends += stats->dropped_sends;
	all->pings_answered += stats->pings_answered;
	all->server_closes += stats->server_closes;
	all->windows_dropped += records_windows_dropped(records);
	all->slow_dropped += records_slow_dropped(records);
}

void ab_load_run__wait(struct ab_load_run *run)
{
	size_t endpoints = run->plan.config.endpoint_count;
	struct ab_load_totals *all;
	uint64_t end_ns = 0, send_end_ns = 0;

	if (run->waited)
		return;
	for (uint32_t i = 0; i < run->started; i++)
		worker_join(run->workers[i]);
	run->waited = 1;
	ab_load_run__poll(run, NULL);
	windows_finish(&run->windows);	/* windows some thread never reported (it had ended) */
	run->merged = calloc((endpoints + 1) * AB_LATENCY_KINDS, sizeof(*run->merged));
	run->totals = calloc(endpoints + 1, sizeof(*run->totals));
	if (!run->merged || !run->totals)
		return;
	for (size_t i = 0; i < (endpoints + 1) * AB_LATENCY_KINDS; i++)
		run->merged[i] = ab_histogram__new(AB_HISTOGRAM_PRECISE_BITS);
	all = &run->totals[endpoints];
	for (uint32_t t = 0; t < run->started; t++) {
		const struct worker_stats *stats = worker_stats(run->workers[t]);

		merge_worker(run, run->workers[t]);
		if (stats->end_ns > end_ns)
			end_ns = stats->end_ns;
		if (stats->send_end_ns > send_end_ns)
			send_end_ns = stats->send_end_ns;
	}
	all->slow_dropped += run->slow_dropped;
	all->windows_dropped += run->windows.dropped;
	all->start_ns = run->plan.start_ns;
	all->end_ns = end_ns;
	all->send_window_ns = send_end_ns > run->plan.start_ns ? send_end_ns - run->plan.start_ns : 0;
	/* Closed loop: latency from the send is latency from the intended start (see record_completion
	 * in worker.c). */
	if (run->plan.config.rate <= 0) {
		for (size_t e = 0; e <= endpoints; e++) {
			struct ab_histogram *corrected = run->merged[e * AB_LATENCY_KINDS + AB_LATENCY_CORRECTED];
			struct ab_histogram *uncorrected = run->merged[e * AB_LATENCY_KINDS + AB_LATENCY_UNCORRECTED];

			if (corrected && uncorrected)
				ab_histogram__copy(uncorrected, corrected);
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

long ab_load_run__histogram(struct ab_load_run *run, int endpoint, enum ab_latency_kind kind, uint32_t *bits,
			    uint64_t *sum_ns, uint64_t *max_ns, uint64_t *pairs, size_t capacity)
{
	const struct ab_histogram *h = merged(run, endpoint, kind);
	size_t found = 0;

	if (!h)
		return -EINVAL;
	*bits = h->bits;
	*sum_ns = h->sum;
	*max_ns = h->total ? h->max : 0;
	for (uint32_t i = 0; i < h->bucket_count; i++) {
		if (!h->counts[i])
			continue;
		if (found < capacity) {
			pairs[2 * found] = i;
			pairs[2 * found + 1] = h->counts[i];
		}
		found++;
	}
	return (long)found;
}

size_t ab_load_run__window_count(struct ab_load_run *run)
{
	return run->windows.count;
}

size_t ab_load_run__windows(struct ab_load_run *run, struct ab_load_window *out, size_t capacity)
{
	size_t count;

	pthread_mutex_lock(&run->lock);
	count = windows_copy(&run->windows, out, capacity);
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
	/* `slow` is NULL until a slow request is kept, and memcpy from NULL is undefined even for 0
	 * bytes (UBSan, under make sanitize). */
	if (count)
		memcpy(out, run->slow, count * sizeof(*out));
	pthread_mutex_unlock(&run->lock);
	return count;
}
