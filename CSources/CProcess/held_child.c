#define _GNU_SOURCE /* pipe2 */
#include "ab_process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* Tells the parent which step failed and why; it reads this once it has released the child. */
static void report(int error_write, int step, int err)
{
	int message[2] = { step, err };

	(void)!write(error_write, message, sizeof(message));
}

/* Becomes `identity` for good. Raw syscalls: glibc's wrappers broadcast the change to every thread
 * of the process through a signal, machinery a forked child of a threaded parent must not rely on;
 * the child has one thread, so the syscall alone changes the whole process. Groups first, then the
 * gid, then the uid: each later step gives up the privilege the earlier ones need. Returns 0 or errno. */
static int become(const struct ab_identity *identity)
{
	const long gid = identity->gid, uid = identity->uid, keep = (long)(uid_t)-1;

	if (syscall(SYS_setgroups, (long)identity->group_count, identity->groups) == -1)
		return errno;
	if (syscall(SYS_setresgid, gid, gid, gid) == -1)
		return errno;
	if (syscall(SYS_setresuid, uid, uid, uid) == -1)
		return errno;
	/* Dropped for good only if root cannot be taken back (nor group 0, unless it is the target's). */
	if (uid != 0 && syscall(SYS_setresuid, keep, 0L, keep) != -1)
		return EPERM;
	if (uid != 0 && gid != 0 && syscall(SYS_setresgid, keep, 0L, keep) != -1)
		return EPERM;
	return 0;
}

/* Runs in the forked child: only async-signal-safe calls from here to exec. */
static void wait_then_exec(const char *path, char *const argv[], char *const envp[], int output_fd,
			   int parent_death_signal, const struct ab_identity *identity, pid_t parent,
			   int release_read, int error_write, const sigset_t *to_reset)
{
	struct sigaction default_action = { .sa_handler = SIG_DFL };
	sigset_t none;
	char go;
	ssize_t got;
	int identity_err = 0;

	if (output_fd >= 0 && (dup2(output_fd, STDOUT_FILENO) == -1 || dup2(output_fd, STDERR_FILENO) == -1))
		_exit(127);
	/* The command gets its standard descriptors and nothing else of archbench's (its files, what it
	 * was itself given without close-on-exec): all others close at exec, the two pipes to the parent
	 * still open until then. Done before the release, so the probes do not count it. A kernel older
	 * than 5.11 refuses the flag: the command then inherits what archbench did not mark itself. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	/* Before the prctl: the kernel clears the parent-death signal when the credentials change. A
	 * failure is reported after the release, so the parent's release write finds a reader. */
	if (identity)
		identity_err = become(identity);
	/* If the parent died between the fork and the prctl, nobody will release or reap this child. */
	if (parent_death_signal && (prctl(PR_SET_PDEATHSIG, parent_death_signal) == -1 || getppid() != parent))
		_exit(127);
	do
		got = read(release_read, &go, 1);
	while (got == -1 && errno == EINTR);
	if (got != 1)
		_exit(127);
	if (identity_err) {
		report(error_write, AB_HELD_CHILD_IDENTITY, identity_err);
		_exit(127);
	}
	/* The parent ignores SIGINT/SIGTERM to handle them itself, and ignored dispositions survive
	 * exec. Only those are reset: every call here is counted against the command by the probes. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(to_reset, sig) == 1)
			sigaction(sig, &default_action, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp ? envp : environ);
	report(error_write, AB_HELD_CHILD_EXEC, errno);
	_exit(127);
}

/* The signals whose disposition is "ignore" now, found in the parent where the calls cost the command
 * nothing. Handled signals need no reset: exec resets them to the default itself. */
static void ignored_signals(sigset_t *ignored)
{
	sigemptyset(ignored);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction current;

		if (sigaction(sig, NULL, &current) == 0 && current.sa_handler == SIG_IGN)
			sigaddset(ignored, sig);
	}
}

int ab_held_child__spawn(const char *path, char *const argv[], char *const envp[], int output_fd,
			 int parent_death_signal, const struct ab_identity *identity, struct ab_held_child *child)
{
	int release[2], exec_error[2];
	sigset_t to_reset;
	pid_t pid, parent = getpid();
	int err;

	ignored_signals(&to_reset);
	if (pipe2(release, O_CLOEXEC) == -1)
		return -errno;
	if (pipe2(exec_error, O_CLOEXEC) == -1) {
		err = -errno;
		close(release[0]);
		close(release[1]);
		return err;
	}
	pid = fork();
	if (pid == -1) {
		err = -errno;
		close(release[0]);
		close(release[1]);
		close(exec_error[0]);
		close(exec_error[1]);
		return err;
	}
	if (pid == 0)
		wait_then_exec(path, argv, envp, output_fd, parent_death_signal, identity, parent, release[0], exec_error[1],
			       &to_reset);
	close(release[0]);
	close(exec_error[1]);
	child->pid = pid;
	child->release_fd = release[1];
	child->exec_error_fd = exec_error[0];
	child->failed_step = AB_HELD_CHILD_EXEC;
	return 0;
}

int ab_held_child__release(struct ab_held_child *child)
{
	char go = 'x';
	int message[2] = { AB_HELD_CHILD_EXEC, 0 };
	ssize_t got;

	if (write(child->release_fd, &go, 1) == -1) {
		int err = -errno;

		close(child->release_fd);
		close(child->exec_error_fd);
		return err;
	}
	close(child->release_fd);
	do
		got = read(child->exec_error_fd, message, sizeof(message));
	while (got == -1 && errno == EINTR);
	close(child->exec_error_fd);
	if (got != (ssize_t)sizeof(message))
		return 0;
	child->failed_step = message[0];
	return -message[1];
}

void ab_held_child__abandon(struct ab_held_child *child)
{
	close(child->release_fd);
	close(child->exec_error_fd);
}
