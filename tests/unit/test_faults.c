/* Failures the code must not ignore, injected at link time (-Wl,--wrap):
 * a BPF map that refuses an update, a thread that cannot start. */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "exitcodes.h"
#include "loader.h"
#include "tcpvitals.skel.h"
#include "tls_check.h"
#include "unit.h"

static int map_updates, fail_map_update_at = -1;

int __wrap_bpf_map__update_elem(const struct bpf_map *map, const void *key, size_t key_sz,
				const void *value, size_t value_sz, __u64 flags)
{
	return map_updates++ == fail_map_update_at ? -E2BIG : 0;
}

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_pthread_join(pthread_t t, void **ret);
static int thread_starts, fail_thread_mask; /* bit i: the i-th start fails */
static pthread_t started[8];
static int nstarted, joins_of_started, joins_of_others;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (fail_thread_mask & (1 << thread_starts++))
		return EAGAIN;
	int e = __real_pthread_create(t, a, fn, arg);

	if (!e && nstarted < 8)
		started[nstarted++] = *t;
	return e;
}

int __wrap_pthread_join(pthread_t t, void **ret)
{
	for (int i = 0; i < nstarted; i++)
		if (pthread_equal(started[i], t)) {
			joins_of_started++;
			return __real_pthread_join(t, ret);
		}
	joins_of_others++;
	return ESRCH;
}

int main(void)
{
	struct tcpvitals_bpf skel = { 0 }; /* never loaded: the map calls are wrapped */
	struct loader ld = { .skel = &skel };
	struct tls_options opt = { .timeout_ms = 100, .workers = 4, .queue = 8 };
	struct tls_checker *tc;
	char err[256];

	CHECK(loader_trace_tree(&ld, getpid()) == 0, "marking a process tree");
	map_updates = 0;
	fail_map_update_at = 0;
	CHECK(loader_trace_tree(&ld, getpid()) == -E2BIG, "a refused --pid seed is an error, not silence");

	thread_starts = 0;
	fail_thread_mask = 0xf;
	CHECK(tls_checker_new(&tc, &opt, err, sizeof(err)) == 0 &&
		      tls_checker_start(tc, err, sizeof(err)) == TV_EXIT_RUNTIME &&
		      strstr(err, "cannot start a TLS check thread"),
	      "no TLS check thread: exit 1 with one line, no checker that never checks");
	tls_checker_free(tc);
	thread_starts = 0;
	fail_thread_mask = 0x1; /* the first fails, the other three start */
	joins_of_started = joins_of_others = 0;
	CHECK(tls_checker_new(&tc, &opt, err, sizeof(err)) == 0 && tc && tls_checker_start(tc, err, sizeof(err)) == 0,
	      "three of four threads: the checker runs");
	tls_checker_free(tc);
	CHECK(joins_of_started == 3 && joins_of_others == 0,
	      "stopping joins exactly the three threads that started");

	/* a program the verifier refused, as libbpf 1.1 warns of it */
	struct loader_refusal r = { 0 };
	char log[2048];

	loader_refusal_note(&r, "libbpf: map 'events': created successfully, fd=4\n");
	CHECK(!r.prog[0], "a warning about no program names none");
	loader_refusal_note(&r, "libbpf: prog 'btf_state': BPF program load failed: Invalid argument\n");
	snprintf(log, sizeof(log),
		 "libbpf: prog 'btf_state': -- BEGIN PROG LOAD LOG --\n"
		 "reg type unsupported for arg#0 function btf_state#123\n0: R1=ctx() R10=fp0\n"
		 "; int BPF_PROG(btf_state)\n1: (79) r6 = *(u64 *)(r1 +0)\n"
		 "2: (85) call bpf_sk_storage_get#107\nhelper call is not allowed in probe\n"
		 "processed 2 insns (limit 1000000)\n-- END PROG LOAD LOG --\n");
	loader_refusal_note(&r, log);
	CHECK_STR(r.prog, "btf_state", "the refused program is named");
	CHECK(!strncmp(r.log_tail, "1: (79)", 7) && strstr(r.log_tail, "helper call is not allowed in probe\n") &&
		      !strstr(r.log_tail, "END") && !strstr(r.log_tail, "BEGIN"),
	      "the verifier's last four lines are kept, without libbpf's marks");
	memset(log, 'x', sizeof(log));
	memcpy(log, "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n", 44);
	strcpy(log + 1500, "\nthe reason\n-- END PROG LOAD LOG --\n");
	loader_refusal_note(&r, log);
	CHECK(strlen(r.log_tail) == sizeof(r.log_tail) - 1 && strstr(r.log_tail, "the reason\n"),
	      "a long last line keeps its end, where the verifier says why");
	UNIT_EXIT();
}
