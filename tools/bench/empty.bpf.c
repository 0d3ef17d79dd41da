// SPDX-License-Identifier: GPL-2.0
/* Baseline for tools/bench.sh: an empty program on the receive-path tracepoint,
 * measured in the same run as tcpvitals' own. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/tcp_probe")
int BPF_PROG(empty_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	return 0;
}
