/* Loads and attaches a benchmark object (tools/bench/empty.bpf.o: one empty
 * program per tracepoint that exists on this kernel; touch.bpf.o) until stdin
 * closes. Programs are named PREFIX_TRACEPOINT. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argc > 1 ? argv[1] : "empty.bpf.o", NULL);
	struct btf *btf = btf__load_vmlinux_btf();
	struct bpf_program *prog;
	char name[128], c;

	if (!obj || !btf) {
		fprintf(stderr, "attach_empty: cannot open the empty programs or the kernel's BTF\n");
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		/* empty_TRACEPOINT: skip tracepoints this kernel does not have */
		const char *tp = strchr(bpf_program__name(prog), '_') + 1;

		if (!strncmp(bpf_program__section_name(prog), "tracepoint/", 11)) {
			snprintf(name, sizeof(name), "/sys/kernel/tracing/events/syscalls/%s/id", tp);
			if (access(name, R_OK))
				bpf_program__set_autoload(prog, false);
			continue;
		}
		snprintf(name, sizeof(name), "btf_trace_%s", tp);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) < 0)
			bpf_program__set_autoload(prog, false);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "attach_empty: cannot load the empty programs\n");
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		if (bpf_program__autoload(prog) && !bpf_program__attach(prog)) {
			fprintf(stderr, "attach_empty: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
