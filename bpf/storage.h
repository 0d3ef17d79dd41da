/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-connection state: sk_storage where the kernel allows it, a hash keyed
 * by the socket's address otherwise.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/*
 * Two ways in: state_lookup (a connection already known, never created) and
 * state_lookup_or_create (made on first sight). storage_entry is the storage
 * itself, for those two and the burial only.
 */

static __always_inline struct conn_state *storage_entry(struct sock *sk, bool typed, bool create)
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

/* The state of a connection already known, or NULL; never created. A socket
 * in CLOSE may be one tcp_destroy_sock buried already (st->dead): in hash
 * storage its state is then found in dead_states. */
static __always_inline struct conn_state *state_lookup(struct sock *sk, bool typed)
{
	struct conn_state *st = storage_entry(sk, typed, false);
	__u64 key = (__u64)sk;

	if (st || (typed && !use_hash_storage) || sk_state(sk, typed) != TCP_CLOSE)
		return st;
	return bpf_map_lookup_elem(&dead_states, &key);
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

/* A new state, filled from its socket. */
static __always_inline void state_init(struct conn_state *st, struct sock *sk, bool typed, __u64 now, __u8 dir)
{
	conn_fill(&st->conn, &sk->__sk_common, typed);
	st->conn.cookie = cookie_of(sk, typed);
	st->conn.dir = dir;
	st->hist.start_ns = now;
	/* by probe read: sk may come from skb->sk, which the verifier will not
	 * convert to a tcp_sock; this runs once per connection */
	st->last_total_retrans = BPF_CORE_READ((struct tcp_sock *)sk, total_retrans);
	conn_decide(st);
}

/*
 * The state of a connection we want, created on first sight; NULL for other
 * namespaces, non-TCP or non-full sockets, and dying sockets never seen
 * (late events of a dying socket must not make a connection). `fresh`: the
 * socket is leaving CLOSE (connect), so state CLOSE does not mean dying.
 * *created, where asked for, says whether the state is new.
 */
static __always_inline struct conn_state *state_lookup_or_create(struct sock *sk, bool typed, __u64 now,
								 __u8 dir, bool fresh, bool *created)
{
	struct conn_state *st;

	if (created)
		*created = false;
	if (!fresh && sk_state(sk, typed) == TCP_CLOSE)
		return state_lookup(sk, typed);
	st = storage_entry(sk, typed, false);
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
	st = storage_entry(sk, typed, true);
	if (!st || st->conn.cookie)
		return st;
	state_init(st, sk, typed, now, dir);
	if (created)
		*created = true;
	return st;
}

/*
 * Hash storage: is this entry an earlier socket's, at the same address? The
 * kernel may not run a program at all, and count no miss: on the development
 * VM, it runs none in a softirq that runs on its agent's thread (README,
 * "Limits you should know"). A socket whose destroy was not seen is never
 * buried, and the next socket at its address would carry on in its history.
 * A socket's own first change tells: an accepted socket's first change
 * (leaving SYN_RECV) finds no history of its own, and a connect finds none
 * that got further than a failed connect of the same socket. A change that
 * is already last in the history (a double run) is the caller's to rule out.
 */
static __always_inline bool state_outlived(const struct conn_state *st, int old, int new, bool typed)
{
	__u32 last;

	if ((typed && !use_hash_storage) || !st->hist.ntrans)
		return false;
	if (old == TCP_SYN_RECV)
		return true;
	if (old != TCP_CLOSE || new != TCP_SYN_SENT)
		return false;
	last = (st->hist.ntrans - 1) & (TV_MAX_TRANSITIONS - 1);
	return st->hist.established || st->hist.trans[last].new_state != TCP_CLOSE;
}

/* Hash storage: the socket starts afresh where an earlier socket's entry was
 * (state_outlived). That connection's destroy was never seen: it has no close
 * record, and is counted as a missed run of the destroy. */
static __always_inline struct conn_state *state_renew(struct sock *sk, bool typed, __u64 now, __u8 dir)
{
	__u64 key = (__u64)sk;
	struct conn_state *st;

	__sync_fetch_and_add(&unseen[TV_AGAIN_DESTROY], 1);
	if (bpf_map_update_elem(&hash_states, &key, &zero_state, BPF_ANY))
		return NULL;
	st = bpf_map_lookup_elem(&hash_states, &key);
	if (st)
		state_init(st, sk, typed, now, dir);
	return st;
}

/* The state of a connection with an anomalous segment: a known one costs
 * one lookup (no clock, no owner or port fix-ups, which its state changes
 * did); a connection older than the tracer is made here. */
static __always_inline struct conn_state *state_for_anomaly(struct sock *sk, bool typed)
{
	struct conn_state *st = state_lookup(sk, typed);

	return st ? st : state_lookup_or_create(sk, typed, bpf_ktime_get_ns(), TV_DIR_UNKNOWN, false, NULL);
}
