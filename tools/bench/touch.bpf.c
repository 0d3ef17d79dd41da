// SPDX-License-Identifier: GPL-2.0
/* An experiment for tools/bench.py: on the receive-path tracepoint, only the
 * reads tcpvitals' program makes of every segment (the tcp_sock; the segment's
 * sequence numbers and flags; rcv_nxt and pred_flags; the ACK and snd_una for a
 * pure ACK), and none of its logic.
 * Its cost over an empty program is what touching those cache lines costs:
 * lines TCP itself reads right after the tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 sink;

SEC("tp_btf/tcp_probe")
int BPF_PROG(touch_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return 0;
	sink += cb->seq ^ cb->end_seq ^ cb->tcp_flags ^ tp->rcv_nxt ^ tp->pred_flags;
	if (cb->seq == cb->end_seq)
		sink += cb->ack_seq ^ tp->snd_una;
	return 0;
}
