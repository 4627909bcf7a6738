/* A program whose kernel-visible behaviour is known exactly, for the probe tests.
 *   ab-testhelper getppid N             N getppid() calls
 *   ab-testhelper fork-tree K N         forks K children; each, and then the parent, makes N getppid()
 *   ab-testhelper wait-getppid N        waits for a line on stdin, then N getppid()
 *   ab-testhelper sleep SECONDS         sleeps
 *   ab-testhelper exit CODE             exits with CODE
 *   ab-testhelper nanosleep N US        N clock_nanosleep(US µs); prints its own timing of each:
 *                                       "nanosleep mean_ns p50_ns"
 *   ab-testhelper rss-steps N MIB       N steps of allocating and touching MIB MiB; after each, prints
 *                                       "rss CLOCK_MONOTONIC_ns VmRSS_bytes" from /proc/self/status
 *   ab-testhelper sleep-spin N MS       N rounds of sleeping MS ms then spinning MS ms; prints before and
 *                                       after them "sched-start|sched now_ns oncpu_ns run_delay_ns timeslices"
 *                                       from /proc/self/schedstat
 *   ab-testhelper alloc K S             waits for a line on stdin, then from distinct functions:
 *                                       keep_blocks: K malloc(S), kept; free_blocks: K malloc(S), all freed;
 *                                       calloc_blocks: K calloc(1, S), kept; realloc_blocks: K realloc(NULL,
 *                                       S/2) grown by realloc to S, kept; memalign_blocks: K posix_memalign(S)
 *                                       and K aligned_alloc(64, S), kept; prints "allocated", then waits for
 *                                       stdin to close (so a probe can read it alive) and exits
 *   ab-testhelper malloc-loop N S       N malloc(S)/free pairs; prints "malloc_free N seconds ops_per_s"
 *   ab-testhelper tcp-trouble N         prints "port P", reads the peer's port on stdin; then accepts N
 *                                       connections on P and resets each, connects N times to the peer
 *                                       and is reset each time, sends one SYN into its own full accept
 *                                       queue until it is retransmitted, and sends 64 KiB to itself past a
 *                                       shrunk receive buffer; prints "tcp retransmits R (all its
 *                                       connections' own) syn_retransmits R system_retransmits R
 *                                       system_overflows O system_resets S system_drops D" (tcp.c),
 *                                       then waits for stdin to close
 *   ab-testhelper tcp-resetter N        the peer: prints "port P", reads the target's port on stdin,
 *                                       connects N times to it and resets N connections to P; prints "done"
 *   ab-testhelper deny-bpf -- PROG ARGS execs PROG (a path) with every bpf() failing with EPERM, for it and
 *                                       everything it starts (a seccomp filter; deny_bpf.c)
 * getppid goes through syscall(2) so no libc caching can hide a call. Built with frame pointers
 * (Package.swift), so the allocation probes' stack walks see each function. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "deny_bpf.h"
#include "tcp.h"

static long parse_count(const char *text)
{
	char *end;
	long value = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || value < 0) {
		fprintf(stderr, "ab-testhelper: not a count: %s\n", text);
		exit(2);
	}
	return value;
}

static void call_getppid(long count)
{
	for (long i = 0; i < count; i++)
		syscall(SYS_getppid);
}

static int fork_tree(long children, long calls)
{
	int failed = 0;

	for (long i = 0; i < children; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			call_getppid(calls);
			_exit(0);
		}
	}
	call_getppid(calls);
	for (long i = 0; i < children; i++) {
		int status;

		if (wait(&status) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed;
}

/* One child exits with `code`, another is killed by `signal_number`; the parent reaps both and exits
 * 0, so only the kernel's record of each child's end can tell their statuses. Prints each child's
 * pid with its expected end. */
static int children_end(long code, long signal_number)
{
	pid_t exiting = fork(), killed;
	int status, failed = 0;

	if (exiting == -1)
		return 1;
	if (exiting == 0)
		_exit((int)code);
	killed = fork();
	if (killed == -1)
		return 1;
	if (killed == 0) {
		raise((int)signal_number);
		_exit(0);
	}
	printf("exit %d %ld\nsignal %d %ld\n", (int)exiting, code, (int)killed, signal_number);
	fflush(stdout);
	if (waitpid(exiting, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != code)
		failed = 1;
	if (waitpid(killed, &status, 0) == -1 || !WIFSIGNALED(status) || WTERMSIG(status) != signal_number)
		failed = 1;
	return failed;
}

static uint64_t monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int timed_nanosleep(long count, long micros)
{
	struct timespec pause = { micros / 1000000, (micros % 1000000) * 1000 };
	uint64_t *took = calloc((size_t)count, sizeof(uint64_t)), total = 0;

	if (!took || count == 0)
		return 1;
	for (long i = 0; i < count; i++) {
		uint64_t start = monotonic_ns();

		clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);
		took[i] = monotonic_ns() - start;
		total += took[i];
	}
	qsort(took, (size_t)count, sizeof(uint64_t), compare_u64);
	printf("nanosleep %llu %llu\n", (unsigned long long)(total / (uint64_t)count),
	       (unsigned long long)took[count / 2]);
	return 0;
}

static unsigned long long vm_rss_bytes(void)
{
	char line[256];
	unsigned long long kib = 0;
	FILE *status = fopen("/proc/self/status", "r");

	while (status && fgets(line, sizeof(line), status))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			break;
	if (status)
		fclose(status);
	return kib * 1024;
}

/* The kernel's own count of this process's page faults (/proc/self/stat: minflt, majflt), the
 * reference for the probe's. */
static int print_faults(void)
{
	unsigned long minflt = 0, majflt = 0;
	char line[1024], *after;
	FILE *stat = fopen("/proc/self/stat", "r");

	if (!stat || !fgets(line, sizeof(line), stat))
		return 1;
	fclose(stat);
	after = strrchr(line, ')');
	/* After the comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt. */
	if (!after || sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %lu", &minflt, &majflt) != 2)
		return 1;
	printf("faults %lu %lu\n", minflt, majflt);
	return 0;
}

static int rss_steps(long steps, long mib)
{
	struct timespec settle = { 0, 50 * 1000000 };

	for (long i = 0; i < steps; i++) {
		char *block = malloc((size_t)mib << 20);

		if (!block)
			return 1;
		memset(block, 1, (size_t)mib << 20);	/* touched, so resident; never freed */
		nanosleep(&settle, NULL);
		printf("rss %llu %llu\n", (unsigned long long)monotonic_ns(), vm_rss_bytes());
		fflush(stdout);
	}
	return print_faults();
}

/* Prints "LABEL now_ns oncpu_ns run_delay_ns timeslices" from /proc/self/schedstat; 0 on success. */
static int print_schedstat(const char *label)
{
	unsigned long long oncpu = 0, run_delay = 0, timeslices = 0;
	FILE *schedstat = fopen("/proc/self/schedstat", "r");

	if (!schedstat || fscanf(schedstat, "%llu %llu %llu", &oncpu, &run_delay, &timeslices) != 3)
		return 1;
	fclose(schedstat);
	printf("%s %llu %llu %llu %llu\n", label, (unsigned long long)monotonic_ns(), oncpu, run_delay, timeslices);
	return 0;
}

static int sleep_spin(long rounds, long millis)
{
	struct timespec pause = { millis / 1000, (millis % 1000) * 1000000 };

	/* The kernel's figures also cover the life before this program: the fork, the hold until the
	 * probes attach, the exec (and a taskset's move to its CPU); this marks where the rounds begin. */
	if (print_schedstat("sched-start"))
		return 1;
	for (long i = 0; i < rounds; i++) {
		uint64_t until;

		nanosleep(&pause, NULL);
		until = monotonic_ns() + (uint64_t)millis * 1000000;
		while (monotonic_ns() < until)
			;
	}
	return print_schedstat("sched");
}

/* Called through volatile pointers, so the compiler can neither elide nor merge the calls. */
static void *(*volatile call_malloc)(size_t) = malloc;
static void *(*volatile call_calloc)(size_t, size_t) = calloc;
static void *(*volatile call_realloc)(void *, size_t) = realloc;
static void *(*volatile call_aligned_alloc)(size_t, size_t) = aligned_alloc;
static int (*volatile call_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static void (*volatile call_free)(void *) = free;

static void **kept;
static size_t kept_count;

static __attribute__((noinline)) int keep(void *block)
{
	if (!block)
		return 1;
	kept[kept_count++] = block;
	return 0;
}

static __attribute__((noinline)) int keep_blocks(long count, size_t size)
{
	int failed = 0;

	for (long i = 0; i < count; i++)
		failed |= keep(call_malloc(size));
	return failed;
}

static __attribute__((noinline)) int free_blocks(long count, size_t size)
{
	void **blocks = call_calloc((size_t)count + 1, sizeof(void *));

	if (!blocks)
		return 1;
	for (long i = 0; i < count; i++)
		blocks[i] = call_malloc(size);
	for (long i = 0; i < count; i++)
		call_free(blocks[i]);
	call_free(blocks);
	return 0;
}

static __attribute__((noinline)) int calloc_blocks(long count, size_t size)
{
	int failed = 0;

	for (long i = 0; i < count; i++)
		failed |= keep(call_calloc(1, size));
	return failed;
}

/* realloc(NULL, n) is glibc's malloc called from realloc: counted once, as realloc's. */
static __attribute__((noinline)) int realloc_blocks(long count, size_t size)
{
	int failed = 0;

	for (long i = 0; i < count; i++) {
		void *block = call_realloc(NULL, size / 2);

		failed |= keep(block ? call_realloc(block, size) : NULL);
	}
	return failed;
}

static __attribute__((noinline)) int memalign_blocks(long count, size_t size)
{
	int failed = 0;

	for (long i = 0; i < count; i++) {
		void *block = NULL;

		failed |= call_posix_memalign(&block, 64, size) != 0;
		failed |= keep(block);
		failed |= keep(call_aligned_alloc(64, (size + 63) & ~(size_t)63));
	}
	return failed;
}

static int alloc_pattern(long count, long size)
{
	char line[64];
	int failed;

	kept = malloc(sizeof(void *) * (size_t)count * 5);
	if (!kept || !fgets(line, sizeof(line), stdin))
		return 1;
	failed = keep_blocks(count, (size_t)size) | free_blocks(count, (size_t)size) |
		 calloc_blocks(count, (size_t)size) | realloc_blocks(count, (size_t)size) |
		 memalign_blocks(count, (size_t)size);
	printf("allocated\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	return failed;
}

static int malloc_loop(long count, long size)
{
	uint64_t start = monotonic_ns(), took;

	for (long i = 0; i < count; i++)
		call_free(call_malloc((size_t)size));
	took = monotonic_ns() - start;
	printf("malloc_free %ld %.6f %.0f\n", count, took / 1e9, count / (took / 1e9));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		call_getppid(parse_count(argv[2]));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "fork-tree") == 0)
		return fork_tree(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 3 && strcmp(argv[1], "wait-getppid") == 0) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 1;
		call_getppid(parse_count(argv[2]));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
		sleep((unsigned)parse_count(argv[2]));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "exit") == 0)
		return (int)parse_count(argv[2]);
	if (argc == 4 && strcmp(argv[1], "children-end") == 0)
		return children_end(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 4 && strcmp(argv[1], "nanosleep") == 0)
		return timed_nanosleep(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 4 && strcmp(argv[1], "rss-steps") == 0)
		return rss_steps(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 4 && strcmp(argv[1], "sleep-spin") == 0)
		return sleep_spin(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 4 && strcmp(argv[1], "alloc") == 0)
		return alloc_pattern(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 4 && strcmp(argv[1], "malloc-loop") == 0)
		return malloc_loop(parse_count(argv[2]), parse_count(argv[3]));
	if (argc == 3 && strcmp(argv[1], "tcp-trouble") == 0)
		return tcp_trouble(parse_count(argv[2]));
	if (argc == 3 && strcmp(argv[1], "tcp-resetter") == 0)
		return tcp_resetter(parse_count(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "deny-bpf") == 0 && strcmp(argv[2], "--") == 0)
		return deny_bpf_exec(argv + 3);
	fprintf(stderr, "usage: ab-testhelper getppid N | fork-tree K N | wait-getppid N | sleep S | exit CODE |"
			" children-end CODE SIG | nanosleep N US | rss-steps N MIB | sleep-spin N MS | alloc K S | malloc-loop N S |"
			" tcp-trouble N | tcp-resetter N | deny-bpf -- PROGRAM ARGS...\n");
	return 2;
}
