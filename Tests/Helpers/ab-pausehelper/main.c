/* Stops its worker threads on a known schedule, as a stop-the-world garbage collector does, so that the
 * pause detector has a truth to be scored against.
 *
 *   ab-pausehelper --threads N --every-ms P --pause-ms M --duration-ms D [--out FILE]
 *
 * N workers serve fake requests: a CPU burst of BURST_US with a safepoint check every CHECK_US, then an
 * idle wait of IDLE_MS in epoll_wait on an empty epoll fd (an idle syscall: idle must not look paused).
 * A collector thread sleeps, and every P ms from the start raises the pause flag; each worker blocks at
 * its next safepoint on a condition variable (futex). As a JVM does, the collector waits until every
 * worker is safe — parked, or idle in epoll_wait, which counts as stopped already (a JVM thread in
 * native code) and blocks only if it comes back while the flag is up — then churns memory (malloc,
 * memset, free) until M ms after the flag, clears the flag and broadcasts. Without that wait a worker
 * whose vCPU the host stopped running mid-burst would stay "on CPU" through the whole pause, and the
 * schedule would claim a stopped world that the kernel never saw. Exits after D ms.
 *
 * Prints to stdout (or FILE), one line each, times in CLOCK_MONOTONIC ns:
 *   pid PID collector TID workers TID...    once every thread runs
 *   pause START END CPU                     per pause: START when the flag went up, END at the broadcast,
 *                                           CPU the collector's CPU time from when every worker was
 *                                           safe to the broadcast (ns)
 *   done pauses COUNT skipped SKIPPED       at exit
 * START is the flag, not the moment the last worker stopped, so a pause includes the time to reach a
 * safepoint (at most CHECK_US of work, plus scheduling), as a runtime's own pause log does; a pause
 * whose time to safepoint is longer than M lasts that long. Pauses
 * are due at P, 2P, ... ms and every one ends by D: COUNT + SKIPPED = (D - M) / P. A start already
 * past when a pause ends is skipped, as the reference backend does, so that a late collector (on a
 * starved machine) never queues pauses back to back. A pause lasts M, or longer by the time the
 * collector was kept off the CPU as M ran out: END - START - CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define BURST_US 1000		/* one fake request's CPU time */
#define CHECK_US 50		/* work between two safepoint checks */
#define IDLE_MS 2		/* the idle wait between requests: above the 1 ms off-CPU threshold */
/* Below glibc's mmap threshold (128 KiB): a larger block is mmapped and unmapped each time, and an
 * unmap's TLB shootdown waits for the other vCPU, which a VM's host may not be running, so one step
 * can take milliseconds and the collector overrun its pause (docs/accuracy.md). */
#define CHURN_MAX_BYTES (64 * 1024)

static long workers_wanted, every_ms, pause_ms, duration_ms;
static FILE *out;
static int idle_fd;
static uint64_t run_start_ns;
static pthread_barrier_t started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resume = PTHREAD_COND_INITIALIZER;
static atomic_int pause_requested, stopping;
/* Per worker: 1 while parked or idle (safe for the collector), 0 while it runs between safepoints.
 * A worker stores 0 and then reads the flag; the collector stores the flag and then reads these
 * (all sequentially consistent): either the worker sees the flag or the collector sees it running. */
static atomic_int worker_safe[MAX_WORKERS];
static pid_t worker_tids[MAX_WORKERS], collector_tid;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
			       .tv_nsec = (long)(deadline_ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Blocks while the collector holds the world stopped. */
static void safepoint(atomic_int *safe)
{
	if (!atomic_load(&pause_requested))
		return;
	pthread_mutex_lock(&lock);
	atomic_store(safe, 1);
	while (atomic_load_explicit(&pause_requested, memory_order_relaxed))
		pthread_cond_wait(&resume, &lock);
	atomic_store(safe, 0);
	pthread_mutex_unlock(&lock);
}

/* Waits, without holding a CPU the workers need, until no worker runs between safepoints. The polls
 * sleep far less than the probe's 1 ms off-CPU threshold, so the collector still looks busy. */
static void wait_until_workers_safe(void)
{
	const struct timespec poll = { .tv_sec = 0, .tv_nsec = 20000 };

	for (long i = 0; i < workers_wanted; i++)
		while (!atomic_load(&worker_safe[i]))
			nanosleep(&poll, NULL);
}

static void *worker(void *arg)
{
	long index = (long)(intptr_t)arg;
	atomic_int *safe = &worker_safe[index];
	struct epoll_event event;

	worker_tids[index] = gettid();
	pthread_barrier_wait(&started);
	while (!atomic_load(&stopping)) {
		for (int i = 0; i < BURST_US / CHECK_US; i++) {
			uint64_t until = now_ns() + CHECK_US * 1000u;

			while (now_ns() < until)
				;
			safepoint(safe);
		}
		atomic_store(safe, 1);
		epoll_wait(idle_fd, &event, 1, IDLE_MS);
		atomic_store(safe, 0);
		safepoint(safe);
	}
	atomic_store(safe, 1);	/* gone: never waited for again */
	return NULL;
}

/* Allocates, touches and frees blocks of growing size until the deadline: the collector's work. */
static void churn_until(uint64_t deadline_ns)
{
	size_t size = 4096;

	while (now_ns() < deadline_ns) {
		char *block = malloc(size);

		if (block) {
			memset(block, (int)(size >> 12), size);
			free(block);
		}
		size = size >= CHURN_MAX_BYTES ? 4096 : size * 2;
	}
}

struct schedule_counts {
	long pauses, skipped;
};

static void *collector(void *arg)
{
	struct schedule_counts *counts = arg;
	uint64_t every_ns = (uint64_t)every_ms * 1000000u, pause_ns = (uint64_t)pause_ms * 1000000u, end_ns;

	collector_tid = gettid();
	pthread_barrier_wait(&started);	/* run_start_ns is set from here on */
	end_ns = run_start_ns + (uint64_t)duration_ms * 1000000u;
	for (uint64_t next = run_start_ns + every_ns; next + pause_ns <= end_ns; next += every_ns) {
		uint64_t start, end, cpu, now;

		sleep_until(next);
		pthread_mutex_lock(&lock);
		atomic_store(&pause_requested, 1);	/* sequentially consistent: see worker_safe */
		start = now_ns();
		pthread_mutex_unlock(&lock);

		wait_until_workers_safe();
		cpu = thread_cpu_ns();	/* the work, not the polls while waiting */
		churn_until(start + pause_ns);

		/* Broadcast after unlocking, so that the woken workers do not wake into a held mutex
		 * (waking them preempts the collector on a busy machine). From clearing the flag to the
		 * broadcast's futex wake there is no syscall (the thread CPU clock is one, the monotonic
		 * clock is not): a collector overdue for preemption loses the CPU at its next syscall,
		 * which must come after the release. */
		pthread_mutex_lock(&lock);
		atomic_store_explicit(&pause_requested, 0, memory_order_release);
		pthread_mutex_unlock(&lock);
		end = now_ns();
		pthread_cond_broadcast(&resume);
		cpu = thread_cpu_ns() - cpu;
		fprintf(out, "pause %llu %llu %llu\n", (unsigned long long)start, (unsigned long long)end,
			(unsigned long long)cpu);
		counts->pauses++;
		for (now = now_ns(); next + every_ns < now && next + every_ns + pause_ns <= end_ns; next += every_ns)
			counts->skipped++;
	}
	return NULL;
}

static long parse_option(const char *name, const char *text, long min, long max)
{
	char *end;
	long value = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || value < min || value > max) {
		fprintf(stderr, "ab-pausehelper: %s must be a number from %ld to %ld: %s\n", name, min, max, text);
		exit(2);
	}
	return value;
}

static void usage(void)
{
	fprintf(stderr, "usage: ab-pausehelper --threads N --every-ms P --pause-ms M --duration-ms D [--out FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL;
	pthread_t threads[MAX_WORKERS + 1];
	struct schedule_counts counts = { 0, 0 };

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--threads") == 0)
			workers_wanted = parse_option("--threads", argv[i + 1], 1, MAX_WORKERS);
		else if (strcmp(argv[i], "--every-ms") == 0)
			every_ms = parse_option("--every-ms", argv[i + 1], 1, 3600000);
		else if (strcmp(argv[i], "--pause-ms") == 0)
			pause_ms = parse_option("--pause-ms", argv[i + 1], 1, 3600000);
		else if (strcmp(argv[i], "--duration-ms") == 0)
			duration_ms = parse_option("--duration-ms", argv[i + 1], 1, 86400000);
		else if (strcmp(argv[i], "--out") == 0)
			out_path = argv[i + 1];
		else
			usage();
	}
	if (!workers_wanted || !every_ms || !pause_ms || !duration_ms)
		usage();
	if (pause_ms >= every_ms) {
		fprintf(stderr, "ab-pausehelper: --pause-ms must be shorter than --every-ms\n");
		return 2;
	}
	out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		return 2;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	idle_fd = epoll_create1(0);
	if (idle_fd == -1) {
		perror("epoll_create1");
		return 1;
	}

	/* Start every thread, then release them together once the schedule's origin is set. */
	pthread_barrier_init(&started, NULL, (unsigned)workers_wanted + 2);
	for (long i = 0; i < workers_wanted; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
	pthread_create(&threads[workers_wanted], NULL, collector, &counts);
	run_start_ns = now_ns();
	pthread_barrier_wait(&started);

	fprintf(out, "pid %d collector %d workers", getpid(), collector_tid);
	for (long i = 0; i < workers_wanted; i++)
		fprintf(out, " %d", worker_tids[i]);
	fprintf(out, "\n");

	sleep_until(run_start_ns + (uint64_t)duration_ms * 1000000u);
	atomic_store(&stopping, 1);
	for (long i = 0; i <= workers_wanted; i++)
		pthread_join(threads[i], NULL);
	fprintf(out, "done pauses %ld skipped %ld\n", counts.pauses, counts.skipped);
	return fclose(out) == 0 ? 0 : 1;
}
