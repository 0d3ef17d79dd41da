// SPDX-License-Identifier: GPL-2.0
/* The floor for tools/bench.py: one empty program for each program that
 * `tcpvitals --json` keeps attached (bpf/hooks.h; the state and destroy
 * tracepoints have two, bpf/nest.h), on the same tracepoints. A load's rate
 * under these is the most any tracer on those tracepoints could keep: what
 * it loses is the kernel's dispatch of the programs, not their work.
 * Programs are named PREFIX_TRACEPOINT (tools/bench/attach_empty.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define EMPTY(prefix, tp)                            \
	SEC("tp_btf/" #tp) int prefix##_##tp(void *ctx) \
	{                                            \
		return 0;                            \
	}

EMPTY(floor, inet_sock_set_state)
EMPTY(again, inet_sock_set_state)
EMPTY(floor, tcp_destroy_sock)
EMPTY(again, tcp_destroy_sock)
EMPTY(floor, tcp_retransmit_skb)
EMPTY(floor, tcp_retransmit_synack)
EMPTY(floor, tcp_probe)
EMPTY(floor, tcp_send_reset)
EMPTY(floor, tcp_receive_reset)
EMPTY(floor, inet_sk_error_report)
EMPTY(floor, kfree_skb)
EMPTY(floor, tcp_sendmsg_locked)

SEC("tracepoint/syscalls/sys_exit_accept4")
int floor_sys_exit_accept4(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int floor_sys_exit_accept(void *ctx)
{
	return 0;
}
