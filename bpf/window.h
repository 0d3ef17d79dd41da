/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Zero windows, the peer's and this host's.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline void window_record(struct conn_state *st, __u8 side, __u8 open, __u64 ts, __u64 since,
					  __u32 probes, __u32 window)
{
	struct tv_rec_window *r;

	if (st->sel == SEL_NO || st->dead)
		return;
	burst_flush(st);
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_WINDOW, ts, 1, &st->conn);
	if (!r)
		return;
	r->side = side;
	r->open = open;
	r->_pad = 0;
	r->probes = probes;
	r->since_ns = since;
	r->window = window;
	r->_pad2 = 0;
	rec_submit(r);
}

/*
 * The peer's window. The kernel keeps what the peer last advertised in
 * snd_wnd; it is updated by tcp_ack(), which runs after this tracepoint. So
 * a segment that finds it 0 comes after one that closed the window: one
 * load per segment tells, and only then are the storage and the segment's
 * own window field read (a probe read). The closing is dated by
 * delivered_mstamp, the time (us of the clock bpf_ktime_get_ns reads) of
 * the last ACK that acknowledged data: the one that closed the window, as a
 * receiver closes it on data this side sent into it. The segment that
 * reopens it is seen too, since snd_wnd is still 0 then. Persist probes:
 * the kernel counts them in icsk_probes_out and clears that in tcp_ack(),
 * on every ACK it takes.
 */
/* A receiver that reads in small bites closes its window for microseconds
 * at a time, over and over: such an episode is counted, and becomes records
 * only once it lasts: it is seen still closed by a later segment (an answer
 * to a probe), or it reopens after ZW_RECORD_NS. */
#define ZW_RECORD_NS 10000000ULL

static __always_inline void peer_window(struct sock *sk, struct tcp_sock *tp, struct sk_buff *skb,
					struct tcp_skb_cb *cb, __u32 seq, __u16 flags, __u32 pred, bool typed)
{
	struct tcp_options_received *opt = &tp->rx_opt;
	struct conn_state *st;
	__u32 ack, una;
	__u16 raw = 0;
	__u64 now, since;

	/* With header prediction on, pred_flags holds the peer's window as the
	 * segment header carries it (tcp_fast_path_on: snd_wnd >> snd_wscale) in
	 * its low 16 bits, on the cache line of rcv_nxt, which this path reads
	 * anyway; snd_wnd's line costs a miss (about 80 ns a segment on the test
	 * VM, bulk). Off, snd_wnd tells. */
	if ((pred ? bpf_ntohl(pred) & 0xffff : RD(typed, tp, snd_wnd)) || (flags & (TCPHDR_SYN | TCPHDR_RST)))
		return;
	now = bpf_ktime_get_ns();
	st = state_for_anomaly(sk, typed);
	if (!st || !st->conn.cookie)
		return;
	if (!st->zw_peer_since) {
		since = RD(typed, tp, delivered_mstamp) * 1000;
		if (since > now || since < st->hist.start_ns)
			since = now;
		st->zw_peer_since = since;
		st->zw_peer++;
		st->zw_probes_start = st->zw_probes;
	}
	/* an old ACK: tcp_ack() ignores it, leaving the window and the probe
	 * count as they are (counting them now would count them twice) */
	ack = RD(typed, cb, ack_seq);
	una = RD(typed, tp, snd_una);
	if (after(una, ack))
		return;
	st->zw_probes += RD(typed, tp, inet_conn.icsk_probes_out);
	if (bpf_probe_read_kernel(&raw, sizeof(raw),
				  RD(typed, skb, data) + __builtin_offsetof(struct tcphdr, window)))
		return;
	since = st->zw_peer_since;
	if (!raw) { /* still closed: an answer to a probe, or data */
		if (!(st->zw_rec & TV_ZW_PEER)) {
			st->zw_rec |= TV_ZW_PEER;
			window_record(st, TV_WINDOW_PEER, 0, since, 0, 0, 0);
		}
		return;
	}
	/* reopened, if the kernel takes the window from this segment: one not
	 * older than the last that updated it (tcp_may_update_window) */
	if (!(after(ack, una) || !after(RD(typed, tp, snd_wl1), seq)))
		return;
	st->zw_peer_ns += now - since;
	st->zw_peer_since = 0;
	if ((st->zw_rec & TV_ZW_PEER) || now - since >= ZW_RECORD_NS)
		window_record(st, TV_WINDOW_PEER, 1, now, since, st->zw_probes - st->zw_probes_start,
			      (__u32)raw << RD_BITS(typed, opt, snd_wscale));
	st->zw_rec &= ~TV_ZW_PEER;
}

/*
 * This host's window: tcp_sock.rcv_wnd is the window it last advertised
 * (tcp_select_window), zero when the application left the receive buffer
 * full. Seen from the next segment to arrive: a persist probe, or data.
 * The closing is dated by tcp_mstamp, the time (in us of the clock
 * bpf_ktime_get_ns reads) of the last segment this host handled, the one
 * whose ACK closed the window.
 */
static __always_inline void local_window(struct sock *sk, struct tcp_sock *tp, __u32 pred, bool boundary, bool typed)
{
	struct tcp_options_received *opt = &tp->rx_opt;
	struct conn_state *st;
	__u32 rcv_wnd;
	__u64 now, since;
	bool closed;

	/* Header prediction is off while this host's window is zero
	 * (tcp_select_window clears pred_flags), and only the processing of a
	 * received segment turns it on again (tcp_fast_path_check, which needs
	 * rcv_wnd), after this tracepoint: so the segment that finds the window
	 * reopened finds prediction off, and with it on there is nothing to do.
	 * Only where that segment's run was skipped (README "Missed runs") would
	 * an episode stay open: a segment that crosses a 1 MB boundary of the
	 * sequence space (`boundary`) looks for that. On every segment, the
	 * global's read was a cache miss in bulk, about 28 ns. */
	if (pred && !(boundary && zw_local_open > 0))
		return;
	rcv_wnd = RD(typed, tp, rcv_wnd);
	/* zero once scaled: only a window below the largest scale's unit can be */
	closed = !rcv_wnd || (rcv_wnd < (1u << 14) && !(rcv_wnd >> RD_BITS(typed, opt, rcv_wscale)));
	if (!closed && zw_local_open <= 0)
		return;
	st = closed ? state_for_anomaly(sk, typed) : state_lookup(sk, typed);
	if (!st || !st->conn.cookie || closed == !!st->zw_local_since)
		return;
	now = bpf_ktime_get_ns();
	if (closed) {
		since = RD(typed, tp, tcp_mstamp) * 1000;
		if (since > now || since < st->hist.start_ns)
			since = now;
		st->zw_local_since = since;
		st->zw_local++;
		__sync_fetch_and_add(&zw_local_open, 1);
		window_record(st, TV_WINDOW_LOCAL, 0, since, 0, 0, 0);
	} else {
		since = st->zw_local_since;
		st->zw_local_since = 0;
		st->zw_local_ns += now - since;
		__sync_fetch_and_add(&zw_local_open, -1);
		window_record(st, TV_WINDOW_LOCAL, 1, now, since, 0, rcv_wnd);
	}
}
