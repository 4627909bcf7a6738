/* Starting a command so that it can be watched from its first instruction: the child is forked and
 * held before exec until the caller has registered its pid with the probes. Swift cannot fork (the
 * child of a multi-threaded runtime may only make async-signal-safe calls), hence this C. */
#ifndef ARCHBENCH_AB_PROCESS_H
#define ARCHBENCH_AB_PROCESS_H

#include <sys/types.h>

/* Which step of the child failed, as ab_held_child__release reports it. */
enum ab_held_child_step {
	AB_HELD_CHILD_EXEC = 0,
	AB_HELD_CHILD_IDENTITY = 1,	/* setgroups, setresgid or setresuid */
};

struct ab_held_child {
	pid_t pid;
	int release_fd;		/* write end: one byte lets the child exec */
	int exec_error_fd;	/* read end: the child writes {step, errno} here if it fails; EOF means it ran */
	int failed_step;	/* after a failed release: an enum ab_held_child_step */
};

/* Whom the child runs as instead of the caller (who must be root to switch). */
struct ab_identity {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* the supplementary groups, replacing the caller's */
	size_t group_count;
};

/* Forks a child that waits for ab_held_child__release, then execs `path` (already resolved: no PATH
 * search in the child) with `argv` and `envp` (NULL: the caller's environment), with signal
 * dispositions and mask reset to defaults. With `output_fd` >= 0 the child's stdout and stderr go
 * there; with `identity` the child sets its supplementary groups, then its real, effective and saved
 * gid, then uid, and checks that root cannot be regained; with `parent_death_signal` != 0 the child
 * gets that signal when the calling thread exits (however archbench dies: PR_SET_PDEATHSIG, kept
 * across exec), so call it from a thread that lives as long as the child should. All are set before
 * the child waits, so the probes do not count the calls against the command. Returns 0 or -errno. */
int ab_held_child__spawn(const char *path, char *const argv[], char *const envp[], int output_fd,
			 int parent_death_signal, const struct ab_identity *identity, struct ab_held_child *child);
/* Lets the child exec. Returns 0 once the exec succeeded, or the failed step's -errno, the step in
 * child->failed_step (the child has then exited with status 127). */
int ab_held_child__release(struct ab_held_child *child);
/* Gives up on a held child: it exits with status 127 without running anything. */
void ab_held_child__abandon(struct ab_held_child *child);

#endif
