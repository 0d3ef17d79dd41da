/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State changes and the close: open, handshake, who closed, and the final
 * snapshot of the kernel's own counters.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/* The socket's error (sk_err). Not sk_err_soft: a soft error outlives the
 * trouble it reported, and the kernel moves it to sk_err if it ends the
 * connection (tcp_write_err). */
static __always_inline int sock_error(struct sock *sk, bool typed)
{
	return RD(typed, sk, sk_err);
}

static __always_inline int on_state(struct sock *sk, int old, int new, bool typed)
{
	struct conn_state *st;
	struct tcp_sock *tp = NULL;
	bool opened;
	__u64 now;
	__u8 dir;

	if (!is_tcp(sk, typed) || old == TCP_LISTEN || new == TCP_LISTEN)
		return 0;
	now = bpf_ktime_get_ns();
	/* an accepted socket is first seen leaving SYN_RECV */
	dir = new == TCP_SYN_SENT ? TV_DIR_OUT
	      : (new == TCP_SYN_RECV || old == TCP_SYN_RECV) ? TV_DIR_IN : TV_DIR_UNKNOWN;
	st = state_lookup_or_create(sk, typed, now, dir, old == TCP_CLOSE, NULL);
	if (!st)
		return 0;
	if (history_last_is(&st->hist, old, new))
		return NEST_SEEN;
	if (state_outlived(st, old, new, typed) && !(st = state_renew(sk, typed, now, dir)))
		return 0;
	history_check_follows(&st->hist, old);
	/* connect() runs in the owner's context; later changes may be softirq */
	if (new == TCP_SYN_SENT) {
		owner_capture(st);
		__sync_fetch_and_add(&counters_here()->opened_out, 1);
	} else if (old == TCP_SYN_RECV && new == TCP_ESTABLISHED) {
		__sync_fetch_and_add(&counters_here()->opened_in, 1);
	}
	burst_flush(st);
	history_add(&st->hist, now, old, new);
	opened = new == TCP_ESTABLISHED && !st->hist.established && (tp = tcp_of(sk, typed));
	if (opened) {
		st->hist.established = 1;
		/* passive side: the SYN-ACK to ACK time is the child's first RTT sample */
		st->hist.handshake_us = st->conn.dir == TV_DIR_OUT ? (now - st->hist.start_ns) / 1000
								   : RD(typed, tp, srtt_us) >> TCP_SRTT_SHIFT;
		st->hist.syn_retrans = RD(typed, tp, total_retrans);
	}
	if (st->announced) {
		struct tv_rec_state *r = rec_reserve(sizeof(*r), TV_REC_STATE, now, 1, &st->conn);

		if (r) {
			r->old_state = old;
			r->new_state = new;
			__builtin_memset(r->_pad, 0, sizeof(r->_pad));
			rec_submit(r);
		}
		if (opened) {
			struct tv_rec_open *o = rec_reserve(sizeof(*o), TV_REC_OPEN, now, 1, &st->conn);

			if (o) {
				o->handshake_us = st->hist.handshake_us;
				o->syn_retrans = st->hist.syn_retrans;
				rec_submit(o);
			}
		}
	} else if (opened && live_from_start(st)) {
		conn_announce(st);
	}
	if (old == TCP_ESTABLISHED && new == TCP_FIN_WAIT1) {
		st->closer = TV_CLOSER_LOCAL;
	} else if (old == TCP_ESTABLISHED && new == TCP_CLOSE_WAIT) {
		st->closer = TV_CLOSER_REMOTE;
	}
	if (new == TCP_CLOSE) {
		st->last_state = old;
		/* the error that ended it is set just before (tcp_done_with_error,
		 * tcp_reset, tcp_write_err); the application may read it (SO_ERROR
		 * clears it) long before the destroy */
		st->error = sock_error(sk, typed);
		/* an ICMP error that came while connect() held the socket stays
		 * soft (tcp_v4_err), and SO_ERROR returns it from there */
		if (!st->error && old == TCP_SYN_SENT)
			st->error = RD(typed, sk, sk_err_soft);
		if (st->error && old != TCP_SYN_SENT)
			late_remember(st, now);
	}
	return 0;
}


static __always_inline int on_destroy(struct sock *sk, bool typed)
{
	struct conn_state *st = state_lookup(sk, typed);
	struct tv_rec_close *r;
	struct tcp_sock *tp;

	__u64 now = bpf_ktime_get_ns();
	__u8 zw_closed = 0;

	if (!st || !st->conn.cookie)
		return 0;
	if (st->dead)
		return NEST_SEEN;
	if (destroy_forget && !((RD(typed, sk, __sk_common.skc_num) ^ RD(typed, sk, __sk_common.skc_dport)) & 7))
		return 0;
	history_check_follows(&st->hist, TCP_CLOSE);
	owner_of_accepted(st, sk);
	tp = tcp_of(sk, typed);
	/* a window still closed: its time counts until now */
	if (st->zw_peer_since) {
		st->zw_peer_ns += now - st->zw_peer_since;
		st->zw_peer_since = 0;
		/* reopened where no tracepoint saw it (after ESTABLISHED): counted until now */
		if (!tp || !RD(typed, tp, snd_wnd))
			zw_closed |= TV_ZW_PEER;
		if (tp)
			st->zw_probes += RD(typed, tp, inet_conn.icsk_probes_out);
	}
	if (st->zw_local_since) {
		st->zw_local_ns += now - st->zw_local_since;
		st->zw_local_since = 0;
		zw_closed |= TV_ZW_LOCAL;
		__sync_fetch_and_add(&zw_local_open, -1);
	}
	if (!tp)
		goto out;
	if (st->sel == SEL_NO)
		goto out;
	/* the flusher holds a burst for a few instructions at most */
	for (int i = 0; i < 16 && st->has_burst; i++)
		burst_flush(st);
	r = rec_reserve(sizeof(*r), TV_REC_CLOSE, now, 1, &st->conn);
	if (!r)
		goto out;
	r->bytes_sent = HAS_BYTES_SENT ? RD(typed, tp, bytes_sent) : 0;
	r->bytes_acked = RD(typed, tp, bytes_acked);
	r->bytes_received = RD(typed, tp, bytes_received);
	r->bytes_retrans = HAS_BYTES_RETRANS ? RD(typed, tp, bytes_retrans) : 0;
	r->retrans_segs = RD(typed, tp, total_retrans);
	r->rto = HAS_TOTAL_RTO ? RD(typed, tp, total_rto) : st->rto_events;
	r->ofo_segs = st->ofo;
	r->dup_segs = st->dup;
	r->dupacks = st->dupacks;
	r->dsack = HAS_DSACK_DUPS ? RD(typed, tp, dsack_dups) : 0;
	r->drops = st->drops;
	r->srtt_us = RD(typed, tp, srtt_us) >> TCP_SRTT_SHIFT;
	r->rttvar_us = RD(typed, tp, mdev_us) >> TCP_MDEV_SHIFT;
	r->resets_sent = st->resets_sent;
	r->resets_received = st->resets_received;
	r->last_state = st->last_state ? st->last_state : sk_state(sk, typed);
	r->closer = st->closer;
	r->announced = st->announced;
	r->error = st->error ? st->error : sock_error(sk, typed);
	r->zw_closed = zw_closed;
	__builtin_memset(r->_pad, 0, sizeof(r->_pad));
	r->zw_peer = st->zw_peer;
	r->zw_local = st->zw_local;
	r->zw_peer_ns = st->zw_peer_ns;
	r->zw_local_ns = st->zw_local_ns;
	r->zw_probes = st->zw_probes;
	r->_pad2 = 0;
	r->hist = st->hist;
	rec_submit(r);
out:
	state_bury(sk, st, typed);
	return 0;
}
