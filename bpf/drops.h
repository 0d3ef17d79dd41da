/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drops of a connection's segments (kfree_skb), by the kernel's reason.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/* The TCP flags of a received segment, from its header. */
static __always_inline __u8 segment_flags(struct sk_buff *skb, bool typed)
{
	unsigned char *head = RD(typed, skb, head);
	__u16 th = RD(typed, skb, transport_header);
	__u8 flags = 0;

	bpf_probe_read_kernel(&flags, 1, head + th + TCPHDR_FLAGS_OFF);
	return flags;
}

static __always_inline int on_drop(struct sk_buff *skb, struct sock *rx_sk, __u32 reason, bool typed)
{
	struct sock *sk = rx_sk ? rx_sk : RD(typed, skb, sk);
	struct conn_state *st;
	__u64 now;

	if (!sk) {
		/* no socket for the segment (tcp_v4_rcv, tcp_v6_rcv): the
		 * connection may be one that just went */
		if (DROP_REASON_IS(reason, NO_SOCKET))
			late_segment(skb, false, reason, typed);
		return 0;
	}
	if (!is_full_tcp(sk, typed) || sk_state(sk, typed) == TCP_LISTEN)
		return 0;
	/* A segment the kernel was done with as the connection ended: kernels
	 * before QUEUE_PURGE (6.6) free the receive queue of a socket going
	 * away, and the last ACK of an orphaned socket moving to TIME_WAIT
	 * (tcp_rcv_state_process), with no reason (a plain HTTP exchange's
	 * server end on 6.1). Only the socket's state, CLOSE, tells. */
	if ((reason == TV_REASON_UNKNOWN || DROP_REASON_IS(reason, NOT_SPECIFIED)) &&
	    sk_state(sk, typed) == TCP_CLOSE)
		return 0;
	/* only connections already known: skb->sk is an RCU pointer that the
	 * cookie helper refuses, and every live connection has state by now */
	st = state_lookup(sk, typed);
	if (!st || !st->conn.cookie)
		return 0;
	now = bpf_ktime_get_ns();
	/* A reset for a socket a reset already closed: it was waiting in the
	 * socket's backlog while the application held the socket, behind the
	 * first one. Had it come a moment later, it would have found no socket:
	 * a reset after the close, not a drop. */
	if (DROP_REASON_IS(reason, TCP_CLOSE) && segment_flags(skb, typed) & TCPHDR_RST) {
		if (st->sel != SEL_NO)
			reset_record(&st->conn, now, TV_REASON_UNKNOWN, TV_RESET_RECEIVED, TCP_CLOSE,
				     TV_RESET_AFTER_CLOSE);
		return 0;
	}
	st->drops++;
	burst_add(st, TV_REC_DROP, reason, now, 0, 0, 0, sk_state(sk, typed), 0);
	return 0;
}

static __always_inline bool drop_reason_counts(__u32 reason)
{
	/* SKB_CONSUMED goes to consume_skb from 6.0 on; older kernels pass it here */
	if (DROP_REASON_IS_CONSUMED(reason))
		return false;
	/* a queue emptied as its socket goes (the reason came with the kernel's
	 * skb_queue_purge_reason()), e.g. the peer's FIN the application never
	 * read: housekeeping, not loss */
	if (DROP_REASON_IS(reason, QUEUE_PURGE))
		return false;
	return reason != 0; /* SKB_NOT_DROPPED_YET */
}
