/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records into the ring buffer, and a connection's history of states.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline void lost_inc(void)
{
	__sync_fetch_and_add(&counters_here()->lost, 1);
}

/*
 * Waking the collector for every record costs more than the record (a
 * wakeup is an interrupt, in a VM an exit): wake it when the unread data
 * reaches a quarter and a half of the ring, and let it poll every 100 ms
 * otherwise. The marks are bands, not exact crossings: with producers on
 * several CPUs, the record that crosses a mark need not see itself do it.
 */
#define WAKE_BAND 8192

static __always_inline void rec_submit(void *rec)
{
	__u64 quarter = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u32 bytes = (((struct tv_hdr *)rec)->size + 8 + 7) & ~7; /* with the ring's own header */
	bool wake = (avail >= quarter && avail - bytes < quarter + WAKE_BAND) ||
		    (avail >= 2 * quarter && avail - bytes < 2 * quarter + WAKE_BAND);

	bpf_ringbuf_submit(rec, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void *rec_reserve(__u32 size, __u16 type, __u64 ts, __u32 count,
					 const struct tv_conn *c)
{
	struct tv_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		lost_inc();
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->count = count;
	h->ts_ns = ts;
	*(struct tv_conn *)(h + 1) = *c;
	return h;
}


static __always_inline void history_add(struct tv_history *h, __u64 now, __u8 old, __u8 new)
{
	__u32 i = h->ntrans;

	if (i < TV_MAX_TRANSITIONS) {
		h->ntrans++;
	} else { /* keep the first ones and the latest */
		i = TV_MAX_TRANSITIONS - 1;
		h->dropped++;
	}
	i &= TV_MAX_TRANSITIONS - 1;
	h->trans[i].ts_ns = now;
	h->trans[i].old_state = old;
	h->trans[i].new_state = new;
}

/* The last change in the history is old -> new. A socket cannot make one
 * change twice in a row (it must leave `new` first), so this says that the
 * change was handled already (nest.h). */
static __always_inline bool history_last_is(const struct tv_history *h, __u8 old, __u8 new)
{
	__u32 i = h->ntrans;

	if (!i)
		return false;
	i = (i - 1) & (TV_MAX_TRANSITIONS - 1);
	return h->trans[i].old_state == old && h->trans[i].new_state == new;
}

/* The history's last change did not end in `state`: a change between them
 * was not seen (maps.h, unseen). */
static __always_inline void history_check_follows(const struct tv_history *h, __u8 state)
{
	__u32 i = h->ntrans;

	if (i && h->trans[(i - 1) & (TV_MAX_TRANSITIONS - 1)].new_state != state)
		__sync_fetch_and_add(&unseen[TV_AGAIN_STATE], 1);
}

/* Before a connection's first live record: its history so far. */
static __always_inline void conn_announce(struct conn_state *st)
{
	struct tv_rec_conn *r;

	if (st->announced || st->dead || st->sel == SEL_NO)
		return;
	r = rec_reserve(sizeof(*r), TV_REC_CONN, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return; /* lost, and counted: the close will carry the history */
	r->hist = st->hist;
	rec_submit(r);
	st->announced = 1;
}

/* An outgoing connection to a TLS port is announced once established: the
 * collector checks its server even if it never writes a ClientHello. */
static __always_inline bool live_from_start(const struct conn_state *st)
{
	return tls_capture && st->conn.dir == TV_DIR_OUT && tls_port(st->conn.dport);
}
