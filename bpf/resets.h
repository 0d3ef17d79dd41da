/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resets, and the resets and segments that come after the socket is gone.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline void addr_mapped(__u8 dst[16], const __u8 *src, __u8 family)
{
	if (family == 4) {
		__builtin_memset(dst, 0, 10);
		dst[10] = dst[11] = 0xff;
		__builtin_memcpy(dst + 12, src, 4);
	} else {
		__builtin_memcpy(dst, src, 16);
	}
}

/* A connection that had a reset or an error: segments may still come for
 * it after its socket is gone, and be reset. */
static __always_inline void late_remember(struct conn_state *st, __u64 now)
{
	struct late_key k = { .netns = st->conn.netns, .lport = st->conn.sport, .rport = st->conn.dport };
	struct late_conn v = { .conn = st->conn, .ts = now };

	if (st->sel == SEL_NO)
		return;
	addr_mapped(k.laddr, st->conn.saddr, st->conn.family);
	addr_mapped(k.raddr, st->conn.daddr, st->conn.family);
	bpf_map_update_elem(&late_conns, &k, &v, BPF_ANY);
	late_last_ns = now;
}

#define IPPROTO_IPV6_HDR_NEXT 6 /* offset of the next header in an IPv6 header */

static __always_inline struct late_conn *late_lookup(const struct late_key *k, __u64 now)
{
	struct late_conn *v = bpf_map_lookup_elem(&late_conns, k);

	return v && now - v->ts <= TV_LATE_WINDOW_NS ? v : NULL;
}

/* The connection a segment without a socket was for: its destination is
 * this host's end. Reads the headers the stack already parsed. */
static __always_inline struct late_conn *late_find(struct sk_buff *skb, __u8 *tcp_flags, __u64 now, bool typed)
{
	unsigned char *head = RD(typed, skb, head);
	__u16 nh = RD(typed, skb, network_header), th = RD(typed, skb, transport_header);
	struct net_device *dev = RD(typed, skb, dev);
	struct late_key k = {};
	__u8 ip[40];

	/* TCP reuses skb->dev's space on its way in: the route's device then */
	if (!dev) {
		struct dst_entry *dst = (struct dst_entry *)(RD(typed, skb, _skb_refdst) & ~1UL);

		dev = BPF_CORE_READ(dst, dev);
	}
	__u16 ports[2];

	if (!head || !dev || bpf_probe_read_kernel(ip, sizeof(ip), head + nh))
		return NULL;
	if (ip[0] >> 4 == 4) {
		if (ip[9] != IPPROTO_TCP)
			return NULL;
		addr_mapped(k.raddr, ip + 12, 4);
		addr_mapped(k.laddr, ip + 16, 4);
	} else if (ip[0] >> 4 == 6) {
		if (ip[IPPROTO_IPV6_HDR_NEXT] != IPPROTO_TCP)
			return NULL;
		__builtin_memcpy(k.raddr, ip + 8, 16);
		__builtin_memcpy(k.laddr, ip + 24, 16);
	} else {
		return NULL;
	}
	if (bpf_probe_read_kernel(ports, sizeof(ports), head + th) ||
	    bpf_probe_read_kernel(tcp_flags, 1, head + th + 13))
		return NULL;
	k.rport = bpf_ntohs(ports[0]);
	k.lport = bpf_ntohs(ports[1]);
	k.netns = netns_of_dev(dev);
	return late_lookup(&k, now);
}

static __always_inline void reset_record(const struct tv_conn *c, __u64 now, __u32 reason, __u8 side,
					 __u8 state, __u8 flags)
{
	struct tv_rec_reset *r = rec_reserve(sizeof(*r), TV_REC_RESET, now, 1, c);

	if (!r)
		return;
	r->reason = reason;
	r->side = side;
	r->state = state;
	r->flags = flags;
	r->_pad = 0;
	rec_submit(r);
}

/*
 * A segment for a connection that is gone, or the reset this host sends
 * for it: recorded on the connection, when the segment's addresses and
 * ports are those of one that had a reset or an error within
 * TV_LATE_WINDOW_NS. `side` is the reset's: received (the segment is a
 * reset), or sent (this host answers the segment with one).
 */
static __always_inline void late_segment(struct sk_buff *skb, bool answer, __u32 reason, bool typed)
{
	__u64 now = bpf_ktime_get_ns();
	struct late_conn *v;
	__u8 flags = 0;

	if (!late_last_ns || now - late_last_ns > TV_LATE_WINDOW_NS)
		return;
	v = late_find(skb, &flags, now, typed);
	if (!v || (flags & TCPHDR_SYN))
		return;
	if (answer)
		reset_record(&v->conn, now, reason, TV_RESET_SENT, TCP_CLOSE, TV_RESET_AFTER_CLOSE);
	else if (flags & TCPHDR_RST)
		reset_record(&v->conn, now, TV_REASON_UNKNOWN, TV_RESET_RECEIVED, TCP_CLOSE, TV_RESET_AFTER_CLOSE);
	else if (!reset_nosock_traced) /* tcp_v4_send_reset answers it, untraced here */
		reset_record(&v->conn, now, TV_REASON_UNKNOWN, TV_RESET_SENT, TCP_CLOSE, TV_RESET_AFTER_CLOSE);
}

/*
 * A reset from what is left of a closed connection: its TIME_WAIT socket
 * (also the one an orphan in FIN_WAIT2 becomes) answering a segment. It
 * carries the connection's cookie (inet_twsk_alloc copies it) when the
 * cookie was made, which sk_storage mode always does; else the addresses
 * find it, if it had a reset or an error before.
 */
static __always_inline void late_timewait(struct sock *sk, __u32 reason, bool typed)
{
	struct tv_conn c = {};
	__u64 now = bpf_ktime_get_ns();

	if (!netns_wanted(&sk->__sk_common, typed))
		return;
	conn_fill(&c, &sk->__sk_common, typed);
	if (!addrs_selected(&c))
		return;
	c.cookie = RD(typed, sk, __sk_common.skc_cookie.counter);
	if (!c.cookie) {
		struct late_key k = { .netns = c.netns, .lport = c.sport, .rport = c.dport };
		struct late_conn *v;

		addr_mapped(k.laddr, c.saddr, c.family);
		addr_mapped(k.raddr, c.daddr, c.family);
		v = late_lookup(&k, now);
		if (!v)
			return;
		c = v->conn;
	}
	reset_record(&c, now, reason, TV_RESET_SENT, TCP_CLOSE, TV_RESET_AFTER_CLOSE);
}

static __always_inline int on_reset(struct sock *sk, struct sk_buff *skb, __u8 side, __u32 reason, bool typed)
{
	struct conn_state *st;
	__u64 now;

	/* no socket for the segment (6.10 traces that), or only its listener */
	if (!sk || (side == TV_RESET_SENT && sk_state(sk, typed) == TCP_LISTEN)) {
		if (skb && side == TV_RESET_SENT && (sk || reset_nosock_traced))
			late_segment(skb, true, reason, typed);
		return 0;
	}
	if (side == TV_RESET_SENT && sk_state(sk, typed) == TCP_TIME_WAIT) {
		late_timewait(sk, reason, typed);
		return 0;
	}
	if (!is_full_tcp(sk, typed) || sk_state(sk, typed) == TCP_LISTEN)
		return 0;
	now = bpf_ktime_get_ns();
	st = state_lookup_or_create(sk, typed, now, TV_DIR_UNKNOWN, false, NULL);
	if (!st)
		return 0;
	if (side == TV_RESET_SENT)
		st->resets_sent++;
	else
		st->resets_received++;
	if (st->sel == SEL_NO)
		return 0;
	burst_flush(st);
	conn_announce(st);
	late_remember(st, now);
	reset_record(&st->conn, now, reason, side, sk_state(sk, typed), 0);
	return 0;
}
