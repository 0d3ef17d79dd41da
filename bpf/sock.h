/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a socket: its TCP view, state, namespace, addresses and cookie.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline struct tcp_sock *tcp_of(struct sock *sk, bool typed)
{
	if (typed)
		return bpf_skc_to_tcp_sock(sk);
	return (struct tcp_sock *)sk;
}

static __always_inline bool is_tcp(struct sock *sk, bool typed)
{
	return RD_BITS(typed, sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline __u8 sk_state(struct sock *sk, bool typed)
{
	return RD(typed, sk, __sk_common.skc_state);
}

/* A socket with a tcp_sock behind it: not a request or time-wait socket. */
static __always_inline bool is_full_tcp(struct sock *sk, bool typed)
{
	__u8 st;

	if (!sk)
		return false;
	st = sk_state(sk, typed);
	if (st == TCP_TIME_WAIT || st == TCP_NEW_SYN_RECV)
		return false;
	return is_tcp(sk, typed);
}

static __always_inline __u32 netns_of(struct sock_common *skc, bool typed)
{
	struct net *net = RD(typed, skc, skc_net.net);

	return RD(typed, net, ns.inum);
}

/* By probe read: dev may come from a route's pointer, which is no typed pointer. */
static __always_inline __u32 netns_of_dev(struct net_device *dev)
{
	return BPF_CORE_READ(dev, nd_net.net, ns.inum);
}

static __always_inline bool netns_wanted(struct sock_common *skc, bool typed)
{
	return !filter_netns || netns_of(skc, typed) == filter_netns;
}

static __always_inline void conn_fill(struct tv_conn *c, struct sock_common *skc, bool typed)
{
	c->family = RD(typed, skc, skc_family) == AF_INET6 ? 6 : 4;
	if (c->family == 4) {
		__u32 s = RD(typed, skc, skc_rcv_saddr), d = RD(typed, skc, skc_daddr);

		__builtin_memcpy(c->saddr, &s, 4);
		__builtin_memcpy(c->daddr, &d, 4);
	} else if (typed) {
		__builtin_memcpy(c->saddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(c->daddr, &skc->skc_v6_daddr, 16);
	} else {
		BPF_CORE_READ_INTO(c->saddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(c->daddr, skc, skc_v6_daddr);
	}
	c->sport = RD(typed, skc, skc_num);
	c->dport = bpf_ntohs(RD(typed, skc, skc_dport));
	c->netns = netns_of(skc, typed);
}

static __always_inline __u64 cookie_of(struct sock *sk, bool typed)
{
	__u64 cookie = 0;

	if (typed && !use_hash_storage)
		return bpf_get_socket_cookie(sk);
	/* Without the helper the cookie exists only if someone asked for it
	 * (ss -e, sock_diag). Otherwise one of ours: bit 52 set, below 2^53 so
	 * that a JSON reader's double keeps it exact, made from the time, the
	 * CPU and the ports (an atomic counter's fetch-and-add would need 5.12:
	 * 5.10 refuses the program before looking at it; and no arithmetic on a
	 * typed socket pointer is allowed). */
	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie) {
		__u64 x = bpf_ktime_get_ns() ^ ((__u64)bpf_get_smp_processor_id() << 44) ^
			  ((__u64)BPF_CORE_READ(sk, __sk_common.skc_portpair) << 20);

		x *= 0x9e3779b97f4a7c15ULL; /* spread the bits before cutting to 52 */
		cookie = TV_COOKIE_SYNTHETIC | (x >> 12);
	}
	return cookie;
}
