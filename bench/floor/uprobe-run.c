/* Runs a command with empty programs on libc's malloc (entry and return) and free (entry, at
 * FREE_OFFSET bytes in, as archbench places it) for that process only: the smallest loader there
 * is, so the measurement shows the uprobes' cost and nothing of archbench's.
 *   uprobe-run OBJECT LIBC FREE_OFFSET COMMAND ARGS... */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int attach(struct bpf_object *obj, const char *program, pid_t pid, const char *libc, const char *function,
		  size_t offset, int retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = function, .retprobe = retprobe);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, program);

	return prog && bpf_program__attach_uprobe_opts(prog, pid, libc, offset, &opts) ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int go[2], status;
	pid_t pid;
	char byte = 0;

	if (argc < 5 || pipe(go) == -1)
		return 2;
	pid = fork();
	if (pid == 0) {	/* held until attached, as archbench holds a command */
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(126);
		execv(argv[4], argv + 4);
		_exit(127);
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj) ||
	    attach(obj, "floor_malloc_exit", pid, argv[2], "malloc", 0, 1) ||
	    attach(obj, "floor_malloc", pid, argv[2], "malloc", 0, 0) ||
	    attach(obj, "floor_free", pid, argv[2], "free", (size_t)atol(argv[3]), 0)) {
		perror("loading or attaching");
		return 1;
	}
	if (write(go[1], &byte, 1) != 1 || waitpid(pid, &status, 0) == -1)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
