// SPDX-License-Identifier: GPL-2.0
/* Baselines for tools/bench.py: an empty tp_btf program on every tracepoint
 * tcpvitals uses, measured in the same run as tcpvitals' own programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define EMPTY(tp)                                  \
	SEC("tp_btf/" #tp) int empty_##tp(void *ctx) \
	{                                          \
		return 0;                          \
	}

EMPTY(tcp_probe)
EMPTY(tcp_retransmit_skb)
EMPTY(tcp_retransmit_synack)
EMPTY(inet_sock_set_state)
EMPTY(tcp_destroy_sock)
EMPTY(tcp_send_reset)
EMPTY(tcp_receive_reset)
EMPTY(inet_sk_error_report)
EMPTY(kfree_skb)
EMPTY(tcp_sendmsg_locked)

/* classic tracepoints (tracefs ids), as tcpvitals attaches them */
SEC("tracepoint/syscalls/sys_exit_accept4")
int empty_sys_exit_accept4(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int empty_sys_exit_accept(void *ctx)
{
	return 0;
}
