/* Loads a BPF object, attaches all its programs, and holds them for SECONDS: the smallest loader
 * there is, so the measurement shows the tracepoints' cost and nothing of archbench's.
 *   attach OBJECT SECONDS */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 3)
		return 2;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		perror("loading");
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			perror("attaching");
			return 1;
		}
	}
	puts("attached");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;
}
