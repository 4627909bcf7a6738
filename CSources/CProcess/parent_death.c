#define _GNU_SOURCE /* pipe2 */
#include "ab_parent_death.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

int ab_parent_death__arm(int signal, pid_t expected_parent)
{
	if (prctl(PR_SET_PDEATHSIG, signal) == -1)
		return -errno;
	/* The parent may have died before prctl: then no signal will ever come, and we are reparented. */
	if (getppid() != expected_parent)
		return -ESRCH;
	return 0;
}

/* Runs in the forked child: only async-signal-safe calls from here to exec. */
static void arm_then_exec(const char *path, char *const argv[], int pass_fd, pid_t parent, int error_write)
{
	static const int reset[] = { SIGINT, SIGTERM, SIGPIPE, SIGCHLD };
	struct sigaction default_action = { .sa_handler = SIG_DFL };
	sigset_t none;
	int err;

	err = ab_parent_death__arm(SIGKILL, parent);
	if (err != 0)
		goto fail;
	/* Ignored dispositions and the mask survive exec; the parent blocks and ignores these itself. */
	for (unsigned i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaction(reset[i], &default_action, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pass_fd >= 0) {
		/* dup2 onto itself would keep O_CLOEXEC; dup2 onto another number clears it. */
		if (pass_fd == 3) {
			if (fcntl(3, F_SETFD, 0) == -1) {
				err = -errno;
				goto fail;
			}
		} else if (dup2(pass_fd, 3) == -1) {
			err = -errno;
			goto fail;
		}
	}
	execve(path, argv, environ);
	err = -errno;
fail:
	(void)!write(error_write, &err, sizeof(err));
	_exit(127);
}

int ab_parent_death__spawn(const char *path, char *const argv[], int pass_fd, pid_t *pid)
{
	pid_t parent = getpid();
	int exec_error[2];
	int child_errno = 0;
	ssize_t got;
	pid_t child;
	int err;

	/* The pipe's write end closes on exec: EOF tells the parent the exec succeeded. */
	if (pipe2(exec_error, O_CLOEXEC) == -1)
		return -errno;
	/* The error pipe must not land on descriptor 3, where the passed one goes. */
	if (exec_error[1] == 3 && pass_fd >= 0) {
		int moved = fcntl(exec_error[1], F_DUPFD_CLOEXEC, 4);

		if (moved == -1) {
			err = -errno;
			close(exec_error[0]);
			close(exec_error[1]);
			return err;
		}
		close(exec_error[1]);
		exec_error[1] = moved;
	}
	child = fork();
	if (child == -1) {
		err = -errno;
		close(exec_error[0]);
		close(exec_error[1]);
		return err;
	}
	if (child == 0)
		arm_then_exec(path, argv, pass_fd, parent, exec_error[1]);
	close(exec_error[1]);
	do
		got = read(exec_error[0], &child_errno, sizeof(child_errno));
	while (got == -1 && errno == EINTR);
	close(exec_error[0]);
	*pid = child;
	if (got == (ssize_t)sizeof(child_errno))
		return child_errno;
	return 0;
}
