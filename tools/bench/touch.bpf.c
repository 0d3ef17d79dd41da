// SPDX-License-Identifier: GPL-2.0
/* An experiment for tools/bench.py: on the receive-path tracepoint, only the
 * reads tcpvitals' program makes of every segment, and none of its logic.
 * Built three ways, each adding one part, so that the cost over an empty
 * program splits into its parts:
 *   TOUCH_LEVEL 1 (touch1.bpf.o): the segment's sequence numbers and flags
 *                 (its control block, which TCP has just written);
 *   TOUCH_LEVEL 2 (touch2.bpf.o): and the socket made a tcp_sock
 *                 (bpf_skc_to_tcp_sock, a helper call);
 *   TOUCH_LEVEL 3 (touch.bpf.o):  and rcv_nxt and pred_flags (the ACK and
 *                 snd_una for a pure ACK): the tcp_sock's lines that TCP
 *                 itself reads right after the tracepoint.
 * Nothing is written to the object's own memory: a global counter's page
 * costs a TLB miss of its own on this VM. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef TOUCH_LEVEL
#define TOUCH_LEVEL 3
#endif

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/tcp_probe")
int BPF_PROG(touch_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	__u32 x = cb->seq ^ cb->end_seq ^ cb->tcp_flags;
#if TOUCH_LEVEL >= 2
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return 0;
#endif
#if TOUCH_LEVEL >= 3
	x ^= tp->rcv_nxt ^ tp->pred_flags;
	if (cb->seq == cb->end_seq)
		x += cb->ack_seq ^ tp->snd_una;
#endif
	asm volatile("" ::"r"(x)); /* the reads stay */
	return 0;
}
