/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bursts: a run of one anomaly on one connection written as one record,
 * and the timer that writes the bursts of connections that went quiet.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline void burst_write(const struct burst *b, const struct tv_conn *c)
{
	if (b->type == TV_REC_RETRANSMIT) {
		struct tv_rec_retransmit *r = rec_reserve(sizeof(*r), TV_REC_RETRANSMIT, b->ts, b->count, c);

		if (!r)
			return;
		r->seq = b->seq;
		r->segs = b->len;
		r->kind = b->key & 0xff;
		r->state = b->state;
		r->flags = b->flags;
		r->backoff = b->backoff;
		r->err = b->err;
		r->len = b->seg_len;
		r->mss = b->mss;
		r->_pad = 0;
		r->acked = b->acked;
		rec_submit(r);
	} else if (b->type == TV_REC_DROP) {
		struct tv_rec_drop *r = rec_reserve(sizeof(*r), TV_REC_DROP, b->ts, b->count, c);

		if (!r)
			return;
		r->reason = b->key;
		r->state = b->state;
		r->_pad[0] = r->_pad[1] = r->_pad[2] = 0;
		rec_submit(r);
	} else {
		struct tv_rec_segment *r = rec_reserve(sizeof(*r), b->type, b->ts, b->count, c);

		if (!r)
			return;
		r->seq = b->seq;
		r->expected = b->expected;
		r->len = b->len;
		r->_pad = 0;
		rec_submit(r);
	}
}

/*
 * The burst lock: the hooks run under the socket's lock, the flusher timer
 * does not. Nobody ever waits for it: a hook that finds it taken writes its
 * anomaly on its own, the flusher comes back next time. It exists only with
 * the flusher.
 */
#define READ_ONCE_U64(x) (*(volatile __u64 *)&(x))

static __always_inline bool burst_trylock(struct burst_entry *e)
{
	if (!burst_timer)
		return true;
	/* add one, then look: whoever sees 1 holds it; anyone else takes its one
	 * back. Two at once can both back off, never both hold it. A plain atomic
	 * add: compare-and-exchange (5.12) makes 5.10 refuse every program. */
	__sync_fetch_and_add(&e->lock, 1);
	if (READ_ONCE_U64(e->lock) == 1)
		return true;
	__sync_fetch_and_add(&e->lock, -1);
	return false;
}

static __always_inline void burst_unlock(struct burst_entry *e)
{
	if (burst_timer)
		__sync_fetch_and_add(&e->lock, -1);
}

/* Writes the burst and deletes its entry; the caller holds the lock. */
static __always_inline void burst_take(struct burst_entry *e, __u64 cookie)
{
	if (e->b.count) {
		burst_write(&e->b, &e->conn);
		e->b.count = 0;
		__sync_fetch_and_add(&pending_bursts, -1);
	}
	e->gone = 1;
	burst_unlock(e);
	bpf_map_delete_elem(&bursts, &cookie);
}

/* Writes the connection's pending burst now, unless the flusher holds it
 * this instant (then the flusher writes it). */
static __always_inline void burst_flush(struct conn_state *st)
{
	__u64 cookie = st->conn.cookie;
	struct burst_entry *e;

	if (!st->has_burst)
		return;
	e = bpf_map_lookup_elem(&bursts, &cookie);
	if (!e) {
		st->has_burst = 0; /* the flusher wrote it */
		return;
	}
	if (!burst_trylock(e))
		return;
	if (e->gone) {
		burst_unlock(e);
		return;
	}
	st->has_burst = 0;
	burst_take(e, cookie);
}

static const struct burst_entry zero_entry;

/* Add one anomaly to the connection's pending burst, writing the old one
 * first if it is of another kind or older than the window. An anomaly that
 * cannot join a burst (no room, the flusher busy with it, a destroyed
 * socket) is written on its own: never lost, never waited for. */
static __always_inline void burst_add_one(struct conn_state *st, const struct burst *first)
{
	__u64 cookie = st->conn.cookie;
	__u64 now = first->ts;
	__u16 type = first->type;
	__u32 key = first->key;
	struct burst_entry *e;
	struct burst *b;

	if (st->sel == SEL_NO)
		return;
	if (st->dead)
		goto alone;
	conn_announce(st);
	e = bpf_map_lookup_elem(&bursts, &cookie);
	if (!e) {
		bpf_map_update_elem(&bursts, &cookie, &zero_entry, BPF_NOEXIST);
		e = bpf_map_lookup_elem(&bursts, &cookie);
		if (!e)
			goto alone;
	}
	if (!burst_trylock(e))
		goto alone;
	if (e->gone) {
		burst_unlock(e);
		goto alone;
	}
	b = &e->b;
	if (b->count && (b->type != type || b->key != key || now - b->ts > burst_ns)) {
		burst_write(b, &e->conn);
		b->count = 0;
		__sync_fetch_and_add(&pending_bursts, -1);
	}
	if (!b->count) {
		__sync_fetch_and_add(&pending_bursts, 1);
		*b = *first;
		b->count = 0;
		b->len = 0;
		e->conn = st->conn;
		st->has_burst = 1;
	}
	b->count++;
	b->len += first->len;
	burst_unlock(e);
	return;
alone:
	burst_write(first, &st->conn);
}

static __always_inline void burst_add(struct conn_state *st, __u16 type, __u32 key, __u64 now,
				      __u32 seq, __u32 expected, __u32 len, __u8 state, __s32 err)
{
	struct burst one = { .ts = now, .count = 1, .type = type, .state = state, .key = key,
			     .seq = seq, .expected = expected, .len = len, .err = err };

	burst_add_one(st, &one);
}

static long flush_if_old(struct bpf_map *map, __u64 *cookie, struct burst_entry *e, __u64 *now)
{
	if (!e->b.count || e->gone || *now - e->b.ts <= burst_ns)
		return 0;
	if (!burst_trylock(e))
		return 0; /* a hook is changing it right now: next time */
	if (e->gone || !e->b.count || *now - e->b.ts <= burst_ns) {
		burst_unlock(e);
		return 0;
	}
	burst_take(e, *cookie);
	return 0;
}

static int flusher_fired(void *map, __u32 *key, struct flusher *f)
{
	__u64 now = bpf_ktime_get_ns();

	if (pending_bursts > 0)
		bpf_for_each_map_elem(&bursts, flush_if_old, &now, 0);
	bpf_timer_start(&f->timer, burst_ns, 0);
	return 0;
}

bool flusher_started;

/* Starts the flusher at the first state change after attach. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(start_flusher)
{
	__u32 zero = 0;
	struct flusher *f;

	if (flusher_started)
		return 0;
	f = bpf_map_lookup_elem(&flusher, &zero);
	if (!f)
		return 0;
	flusher_started = true;
	if (bpf_timer_init(&f->timer, &flusher, CLOCK_MONOTONIC))
		return 0; /* another CPU got there first */
	bpf_timer_set_callback(&f->timer, flusher_fired);
	bpf_timer_start(&f->timer, burst_ns, 0);
	return 0;
}
