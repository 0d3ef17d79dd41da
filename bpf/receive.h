/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The receive path: once per received segment, so kept lean.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/*
 * The per-segment path reads the segment and the socket and returns; the
 * connection's storage is looked up only for an anomalous segment, or when
 * the sequence (or ACK) number crosses a 1 MB boundary while some burst is
 * pending, which is when that burst is closed: a burst ends after at most
 * 1 MB of normal traffic (a loss episode's out-of-order segments interleave
 * with in-order ones), without reading the clock or the storage on every
 * segment.
 */
#define SEQ_FLUSH_SHIFT 20 /* also when an episode of this host's zero window may be left open (window.h) */

static __always_inline int on_rcv_segment(struct sock *sk, struct sk_buff *skb, bool typed)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	struct conn_state *st;
	struct tcp_sock *tp = tcp_of(sk, typed);
	__u32 seq, end_seq, rcv_nxt, mark, pred;
	__u16 flags;

	if (!tp)
		return 0;
	seq = RD(typed, cb, seq);
	end_seq = RD(typed, cb, end_seq);
	flags = RD(typed, cb, tcp_flags);
	rcv_nxt = RD(typed, tp, rcv_nxt);
	pred = RD(typed, tp, pred_flags);
	peer_window(sk, tp, skb, cb, seq, flags, pred, typed);
	local_window(sk, tp, pred, (seq ^ end_seq) >> SEQ_FLUSH_SHIFT, typed);
	/* a segment that may be one TLS alert record, in order, on a TLS port */
	if (seq == rcv_nxt && end_seq - seq - (flags & TCPHDR_FIN) - (TLS_HDR + 2) <= TLS_ALERT_WRITE_MAX - (TLS_HDR + 2) &&
	    (tls_port(bpf_ntohs(RD(typed, sk, __sk_common.skc_dport))) || tls_port(RD(typed, sk, __sk_common.skc_num))))
		received_alert(sk, skb, end_seq - seq - (flags & TCPHDR_FIN), typed);

	/* a SYN takes sequence space but carries no data: a late SYN-ACK copy is no duplicate */
	if (seq != end_seq && !(flags & TCPHDR_SYN)) {
		if (after(seq, rcv_nxt)) {
			st = state_for_anomaly(sk, typed);
			if (st) {
				st->ofo++;
				burst_add(st, TV_REC_OFO, 0, bpf_ktime_get_ns(), seq, rcv_nxt,
					  end_seq - seq, TCP_ESTABLISHED, 0);
			}
			return 0;
		}
		if (!after(end_seq, rcv_nxt)) {
			st = state_for_anomaly(sk, typed);
			if (st) {
				st->dup++;
				burst_add(st, TV_REC_DUP, 0, bpf_ktime_get_ns(), seq, rcv_nxt,
					  end_seq - seq, TCP_ESTABLISHED, 0);
			}
			return 0;
		}
		mark = seq ^ end_seq;
	} else {
		__u32 ack = RD(typed, cb, ack_seq), una = RD(typed, tp, snd_una);

		/* RFC 5681 duplicate ACK: no data, ACK == snd_una, data in
		 * flight, window unchanged, no SYN/FIN/RST */
		if ((flags & (TCPHDR_ACK | TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST)) == TCPHDR_ACK &&
		    ack == una && RD(typed, tp, snd_nxt) != una) {
			struct tcp_options_received *opt = &tp->rx_opt;
			unsigned char *data = RD(typed, skb, data);
			__u16 raw_win = 0;
			__u32 win;

			bpf_probe_read_kernel(&raw_win, sizeof(raw_win), data + __builtin_offsetof(struct tcphdr, window));
			win = (__u32)bpf_ntohs(raw_win) << RD_BITS(typed, opt, snd_wscale);
			if (win == RD(typed, tp, snd_wnd)) {
				st = state_for_anomaly(sk, typed);
				if (st) {
					st->dupacks++;
					burst_add(st, TV_REC_DUPACK, 0, bpf_ktime_get_ns(), ack, una, 0,
						  TCP_ESTABLISHED, 0);
				}
				return 0;
			}
		}
		mark = ack ^ una;
	}
	if ((mark >> SEQ_FLUSH_SHIFT) && pending_bursts > 0) {
		st = state_lookup(sk, typed);
		if (st)
			burst_flush(st);
	}
	return 0;
}
