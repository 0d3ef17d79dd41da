/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Retransmissions, by kind, and the listener's SYN-ACK retransmissions.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline __u8 retrans_kind(struct sock *sk, struct tcp_sock *tp, bool typed)
{
	__u8 state = sk_state(sk, typed);
	struct inet_connection_sock *icsk = &tp->inet_conn; /* a variable: CO-RE offsets start here */
	__u8 ca = RD_BITS(typed, icsk, icsk_ca_state);

	if (state == TCP_SYN_SENT || state == TCP_SYN_RECV)
		return TV_RETRANS_SYN;
	if (ca == TCP_CA_Loss)
		return TV_RETRANS_RTO;
	if (ca == TCP_CA_Recovery || ca == TCP_CA_Disorder || ca == TCP_CA_CWR)
		return TV_RETRANS_FAST;
	/* a tail loss probe is sent from the timer while icsk_pending says so */
	if (RD(typed, tp, inet_conn.icsk_pending) == ICSK_TIME_LOSS_PROBE)
		return TV_RETRANS_TLP;
	return TV_RETRANS_OTHER;
}

/*
 * Segments are counted as the difference of tcp_sock.total_retrans, the
 * per-socket twin of TcpRetransSegs: from 6.17 (commit "tcp: add the err
 * argument to tcp_retransmit_skb") the tracepoint also fires for attempts
 * that failed before anything was counted (delta 0, skipped) and for ones
 * that failed after (counted by the kernel too, so by us, with err set).
 */
static __always_inline int on_retransmit(struct sock *sk, struct sk_buff *skb, int err, bool typed)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	struct conn_state *st;
	struct tcp_sock *tp;
	__u32 total, segs, seq;
	__u64 now = bpf_ktime_get_ns();
	struct burst one;
	bool created;
	__u8 kind;

	st = state_lookup_or_create(sk, typed, now, TV_DIR_UNKNOWN, false, &created);
	if (!st)
		return 0;
	tp = tcp_of(sk, typed);
	if (!tp)
		return 0;
	total = RD(typed, tp, total_retrans);
	if (created && !err) /* a connection older than the tracer: count this skb only */
		st->last_total_retrans = total - RD(typed, cb, tcp_gso_segs);
	segs = total - st->last_total_retrans;
	st->last_total_retrans = total;
	if (!segs)
		return 0;
	kind = retrans_kind(sk, tp, typed);
	seq = RD(typed, cb, seq);
	one = (struct burst){ .ts = now, .count = 1, .type = TV_REC_RETRANSMIT, .state = sk_state(sk, typed),
			      .seq = seq, .len = segs, .err = err };
	/* The retransmission timer's own: tcp_write_timer_handler() clears
	 * icsk_pending before tcp_retransmit_timer() resends the queue's head;
	 * CA_Loss retransmissions that ACKs clock out later find it armed. What
	 * a stall (and a path MTU black hole) is judged by comes with it. */
	if ((kind == TV_RETRANS_RTO || kind == TV_RETRANS_SYN) && !RD(typed, tp, inet_conn.icsk_pending)) {
		one.flags = TV_RETRANS_TIMEOUT;
		one.backoff = RD(typed, tp, inet_conn.icsk_backoff);
		one.seg_len = RD(typed, cb, end_seq) - seq;
		one.mss = RD(typed, tp, mss_cache);
		one.acked = RD(typed, tp, bytes_acked);
		st->rto_events++; /* as total_rto counts them: SYN timeouts too */
	}
	/* a timeout starts a record of its own */
	one.key = kind | (err ? 0x100 : 0) | (one.flags << 9);
	burst_add_one(st, &one);
	return 0;
}

/* The listener resent a SYN-ACK: no connection socket exists yet. */
static __always_inline int on_retransmit_synack(struct sock *sk, struct request_sock *req, bool typed)
{
	struct tv_rec_retransmit *r;
	struct tv_conn c = {};

	if (!netns_wanted(&sk->__sk_common, typed))
		return 0;
	conn_fill(&c, &req->__req_common, typed);
	c.dir = TV_DIR_IN;
	/* no socket, no owner yet: an owner filter cannot select it */
	if (filter_pids || filter_comm[0] || !addrs_selected(&c))
		return 0;
	r = rec_reserve(sizeof(*r), TV_REC_RETRANSMIT, bpf_ktime_get_ns(), 1, &c);
	if (!r)
		return 0;
	/* the verifier types req as request_sock only: read the tcp part by probe */
	r->seq = BPF_CORE_READ((struct tcp_request_sock *)req, snt_isn);
	r->segs = 1;
	r->kind = TV_RETRANS_SYNACK;
	r->state = TCP_SYN_RECV;
	r->flags = 0;
	r->backoff = 0;
	r->err = 0;
	r->len = 0;
	r->mss = 0;
	r->_pad = 0;
	r->acked = 0;
	rec_submit(r);
	return 0;
}
