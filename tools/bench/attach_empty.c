/* Loads and attaches tools/bench/empty.bpf.o until stdin closes. */
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argc > 1 ? argv[1] : "empty.bpf.o", NULL);
	struct bpf_program *prog;
	char c;

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "attach_empty: cannot load the empty program\n");
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "attach_empty: cannot attach\n");
			return 1;
		}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
