// SPDX-License-Identifier: GPL-2.0
/* For tools/blindspot.sh: how many times the kernel ran a BPF program on
 * three tracepoints, per thread, to set beside what ftrace records of the
 * same tracepoints. Nothing of tcpvitals is in here: a thread where the two
 * differ is one where the kernel runs no BPF program at all. Programs are
 * named PREFIX_TRACEPOINT (tools/bench/attach_empty.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct blind_key {
	__u32 tid;
	__u32 tp; /* 0 softirq_entry, 1 inet_sock_set_state, 2 tcp_destroy_sock */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct blind_key);
	__type(value, __u64);
} blind_runs SEC(".maps");

static __always_inline int count(__u32 tp)
{
	struct blind_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .tp = tp };
	__u64 one = 1, *n = bpf_map_lookup_elem(&blind_runs, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&blind_runs, &k, &one, BPF_NOEXIST);
	return 0;
}

SEC("raw_tp/softirq_entry") int blind_softirq_entry(void *ctx) { return count(0); }
SEC("raw_tp/inet_sock_set_state") int blind_inet_sock_set_state(void *ctx) { return count(1); }
SEC("raw_tp/tcp_destroy_sock") int blind_tcp_destroy_sock(void *ctx) { return count(2); }
