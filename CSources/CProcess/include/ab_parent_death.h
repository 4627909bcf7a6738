/* Child processes that cannot outlive their parent: the microservices gateway of `archbench serve`
 * starts its services with these, so that even a SIGKILL of the gateway leaves no service behind.
 * prctl is variadic, which Swift cannot call, and Swift cannot fork safely; hence this C. */
#ifndef ARCHBENCH_AB_PARENT_DEATH_H
#define ARCHBENCH_AB_PARENT_DEATH_H

#include <sys/types.h>

/* Forks a child that is sent SIGKILL when the calling *thread* exits (PR_SET_PDEATHSIG: the kernel ties
 * it to the forking thread, not the process, so call this from a thread that lives as long as the
 * process, e.g. the main thread), then execs `path` (already resolved: no PATH search) with `argv` and
 * the caller's environment. If the parent died between fork and prctl the child exits at once with
 * status 127 instead of running orphaned. In the child, the signal mask is emptied, SIGINT, SIGTERM,
 * SIGPIPE and SIGCHLD are reset to their defaults, and `pass_fd` (if >= 0) becomes descriptor 3,
 * every other descriptor keeping its close-on-exec flag.
 * Returns 0 once the exec succeeded, or -errno: fork's (no child), or the child's own (prctl, dup2
 * or execve failed; the child has exited with status 127). *pid is set whenever a child was forked,
 * so that the caller can reap it. */
int ab_parent_death__spawn(const char *path, char *const argv[], int pass_fd, pid_t *pid);

/* Arms PR_SET_PDEATHSIG(signal) for the calling thread and checks that the parent is still
 * `expected_parent`. Returns 0, -ESRCH if the parent already changed (it died: this process is
 * orphaned), or prctl's -errno. */
int ab_parent_death__arm(int signal, pid_t expected_parent);

#endif
