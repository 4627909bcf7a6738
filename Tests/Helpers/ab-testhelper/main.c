/* A program whose kernel-visible behaviour is known exactly, for the probe tests.
 *   ab-testhelper getppid N             N getppid() calls
 *   ab-testhelper fork-tree K N         forks K children; each, and then the parent, makes N getppid()
 *   ab-testhelper wait-getppid N        waits for a line on stdin, then N getppid()
 *   ab-testhelper sleep SECONDS         sleeps
 *   ab-testhelper exit CODE             exits with CODE
 * getppid goes through syscall(2) so no libc caching can hide a call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
	fprintf(stderr, "usage: ab-testhelper getppid N | fork-tree K N | wait-getppid N | sleep S | exit CODE\n");
	return 2;
}
