/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-connection state: sk_storage where the kernel allows it, a hash keyed
 * by the socket's address otherwise.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline struct conn_state *state_get(struct sock *sk, bool typed, bool create)
{
	struct conn_state *st;
	__u64 key = (__u64)sk;

	if (typed && !use_hash_storage)
		return bpf_sk_storage_get(&sk_states, sk, NULL,
					  create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	st = bpf_map_lookup_elem(&hash_states, &key);
	if (st || !create)
		return st;
	bpf_map_update_elem(&hash_states, &key, &zero_state, BPF_NOEXIST);
	return bpf_map_lookup_elem(&hash_states, &key);
}

/* The connection is destroyed. sk_storage lives until the socket is freed;
 * hash storage moves to dead_states, so that no later socket at this address
 * can find it. */
static __always_inline void state_bury(struct sock *sk, struct conn_state *st, bool typed)
{
	__u64 key = (__u64)sk;

	st->dead = 1;
	if (typed && !use_hash_storage)
		return;
	bpf_map_update_elem(&dead_states, &key, st, BPF_ANY);
	bpf_map_delete_elem(&hash_states, &key);
}

/* The state of a socket that is going away (state CLOSE): its own, or in
 * hash storage the buried one. Never created: late events of a dying socket
 * must not make a connection. */
static __always_inline struct conn_state *state_of_dying(struct sock *sk, bool typed)
{
	struct conn_state *st = state_get(sk, typed, false);
	__u64 key = (__u64)sk;

	if (st || (typed && !use_hash_storage))
		return st;
	return bpf_map_lookup_elem(&dead_states, &key);
}

/*
 * The state of a connection we want, created on first sight; NULL for other
 * namespaces, non-TCP or non-full sockets, and dying sockets. `fresh`: the
 * socket is leaving CLOSE (connect), so state CLOSE does not mean dying.
 */
static __always_inline struct conn_state *conn_get_new(struct sock *sk, bool typed, __u64 now,
						      __u8 dir, bool fresh, bool *created)
{
	struct conn_state *st;

	*created = false;
	if (!fresh && sk_state(sk, typed) == TCP_CLOSE)
		return state_of_dying(sk, typed);
	st = state_get(sk, typed, false);
	if (st) {
		/* connect() picks the local port after entering SYN_SENT */
		if (!st->conn.sport && st->conn.cookie) {
			conn_fill(&st->conn, &sk->__sk_common, typed);
			conn_decide(st);
		}
		owner_of_accepted(st, sk);
		return st;
	}
	if (!is_full_tcp(sk, typed) || !netns_wanted(&sk->__sk_common, typed))
		return NULL;
	st = state_get(sk, typed, true);
	if (!st || st->conn.cookie)
		return st;
	conn_fill(&st->conn, &sk->__sk_common, typed);
	st->conn.cookie = cookie_of(sk, typed);
	st->conn.dir = dir;
	st->hist.start_ns = now;
	/* by probe read: sk may come from skb->sk, which the verifier will not
	 * convert to a tcp_sock; this runs once per connection */
	st->last_total_retrans = BPF_CORE_READ((struct tcp_sock *)sk, total_retrans);
	conn_decide(st);
	*created = true;
	return st;
}

/* Lookup only: the live state, or a dying socket's. */
static __always_inline struct conn_state *state_find(struct sock *sk, bool typed)
{
	return sk_state(sk, typed) == TCP_CLOSE ? state_of_dying(sk, typed) : state_get(sk, typed, false);
}

static __always_inline struct conn_state *conn_get(struct sock *sk, bool typed, __u64 now, __u8 dir)
{
	bool created;

	return conn_get_new(sk, typed, now, dir, false, &created);
}
