/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errors the kernel reports on a socket (refused, unreachable, timed out).
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

#define SO_EE_ORIGIN_ICMP 2
#define SO_EE_ORIGIN_ICMP6 3

/* An ICMP error for a socket with IP_RECVERR (curl's) is queued on its
 * error queue and reported before tcp_v4_err() sets anything: while
 * connect() holds the socket it then goes to sk_err_soft, which the
 * application's SO_ERROR clears before the close. The queued one tells. */
static __always_inline int queued_icmp_error(struct sock *sk)
{
	struct sk_buff_head *q = &sk->sk_error_queue;
	struct sk_buff *skb = BPF_CORE_READ(q, prev);
	struct sock_exterr_skb *serr;
	__u8 origin;

	if (!skb || (void *)skb == (void *)q)
		return 0;
	serr = (struct sock_exterr_skb *)&skb->cb[0];
	origin = BPF_CORE_READ(serr, ee.ee_origin);
	if (origin != SO_EE_ORIGIN_ICMP && origin != SO_EE_ORIGIN_ICMP6)
		return 0;
	return BPF_CORE_READ(serr, ee.ee_errno);
}

/* sk_err as sk_error_report() publishes it: a refused or timed-out connect,
 * an ICMP error, a reset. Rare, so every one is written. */
static __always_inline int on_error(struct sock *sk, bool typed)
{
	struct tv_rec_error *r;
	struct conn_state *st;
	int err;

	if (!is_full_tcp(sk, typed) || sk_state(sk, typed) == TCP_LISTEN)
		return 0;
	st = state_lookup_or_create(sk, typed, bpf_ktime_get_ns(), TV_DIR_UNKNOWN, false, NULL);
	if (!st || !st->conn.cookie || st->sel == SEL_NO)
		return 0;
	err = sock_error(sk, typed);
	if (!err)
		err = RD(typed, sk, sk_err_soft);
	if (!err)
		err = queued_icmp_error(sk);
	if (!err)
		return 0;
	burst_flush(st);
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_ERROR, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return 0;
	r->error = err;
	r->state = sk_state(sk, typed);
	r->_pad[0] = r->_pad[1] = r->_pad[2] = 0;
	rec_submit(r);
	return 0;
}
