// SPDX-License-Identifier: GPL-2.0
/*
 * tcpvitals kernel side: per-connection health from the TCP tracepoints.
 *
 * Every hook exists twice: a tp_btf program (typed arguments, direct reads,
 * sk_storage) and a raw_tp program (probe reads, LRU hash keyed by the socket
 * pointer). Both expand the same __always_inline handler with a constant
 * `typed` argument, so the compiler keeps only the reads that variant may do.
 * Userspace picks one variant per hook at load time from BTF (see
 * user/loader.c); this file never looks at kernel version numbers.
 *
 * The receive path (tcp_probe) touches only the socket's own storage and
 * writes to the ring buffer only for anomalous segments; bursts of one
 * anomaly are coalesced into one record with a count.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpvitals.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_RST 0x04
#define TCPHDR_ACK 0x10
#define TCPHDR_FLAGS_OFF 13 /* the byte of the flags in struct tcphdr (bitfields there) */
#define ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */
#define CLOCK_MONOTONIC 1
/* tcp_sock keeps the smoothed RTT times 8 and its mean deviation times 4
 * (tcp_rtt_estimator(), net/ipv4/tcp_input.c); records carry microseconds */
#define TCP_SRTT_SHIFT 3
#define TCP_MDEV_SHIFT 2

/* Load-time settings, written by the loader through the skeleton. */
const volatile __u32 filter_netns = 0;     /* 0: every namespace */
const volatile bool filter_pids = false;   /* --pid / -- COMMAND */
const volatile bool use_hash_storage = false; /* no sk_storage/cookie helpers for tracing (< 5.11) */
const volatile __u64 burst_ns = 100000000; /* a burst never spans more than this */
const volatile __u64 ringbuf_size = TV_RINGBUF_DEFAULT; /* bytes, as the loader sized events */
const volatile bool tls_capture = false;  /* hand over the first write to TLS ports */
const volatile bool burst_timer = false;  /* the flusher timer runs (tp_btf, 5.15) */
const volatile bool accept_owner = false; /* the accept syscall tracepoints are attached */
/* tcp_send_reset fires for resets sent without a socket (6.10, commit
 * 19822a980e19 "trace: tcp: fully support trace_tcp_send_reset"); before,
 * those are known by the drop of the segment they answer */
const volatile bool reset_nosock_traced = false;
/* The user's selection, so that an unselected connection moves no records:
 * --port as bits, --comm as a name (first 15 bytes), --raddr in raddr_filter;
 * --pid and -- COMMAND through traced_tgids; --netns above. */
const volatile bool filter_ports = false;
const volatile __u8 port_filter_bits[65536 / 8] = {};
const volatile bool filter_raddrs = false;
const volatile char filter_comm[TV_COMM_LEN] = {};
/* Destination ports whose connections are TLS, one bit each: the ClientHello
 * hook, which runs on every TCP write, decides from this before anything else. */
const volatile __u8 tls_port_bits[65536 / 8] = {};

/* A run of one anomaly kind on one connection, written as one record. */
struct burst {
	__u64 ts;       /* the first event */
	__u32 count;    /* events; 0: none pending */
	__u16 type;     /* TV_REC_* */
	__u8 state;     /* TCP state at the first event */
	__u8 _pad;
	__u32 key;      /* retransmit kind or drop reason: a new key starts a new burst */
	__u32 seq;
	__u32 expected;
	__u32 len;      /* bytes, or segments for retransmits */
	__s32 err;
	/* retransmits: the first one's details (struct tv_rec_retransmit) */
	__u32 seg_len;
	__u16 mss;
	__u8 flags;
	__u8 backoff;
	__u64 acked;
};

/* Per-connection state; zeroed on creation, filled on first sight. */
struct conn_state {
	struct tv_conn conn; /* conn.cookie != 0 once initialised */
	struct tv_history hist; /* what the close, or an announcement, carries */
	__u32 last_total_retrans;
	__u32 ofo;
	__u32 dup;
	__u32 dupacks;
	__u32 drops;
	__u32 rto_events;
	__u16 resets_sent;
	__u16 resets_received;
	__u8 announced; /* a TV_REC_CONN went out: state changes now go live */
	__u8 last_state;
	__u8 closer; /* enum tv_closer: who sent the first FIN */
	__u8 first_write_seen;
	__u8 dead; /* tcp_destroy_sock has run: only late events of this socket follow */
	__u8 has_burst; /* an entry in `bursts` may exist */
	__u8 sel; /* enum conn_sel: the user's selection, once it can be decided */
	__u8 error; /* the socket's error when it entered CLOSE: an errno */
	__u8 zw_rec; /* TV_ZW_*: the closing of the current episode went out as a record */
	__u8 _pad[3];
	/* zero windows: since when the window is closed (0: open), episodes, time closed */
	__u64 zw_peer_since;
	__u64 zw_local_since;
	__u64 zw_peer_ns;
	__u64 zw_local_ns;
	__u32 zw_peer;
	__u32 zw_local;
	__u32 zw_probes;
	__u32 zw_probes_start; /* zw_probes when the peer's window last closed */
};

enum conn_sel { SEL_UNDECIDED = 0, SEL_YES, SEL_NO };

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64); /* TV_MAX_FILTERS */
	__type(key, struct tv_raddr_key);
	__type(value, __u8);
} raddr_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn_state);
} sk_states SEC(".maps");

/* Fallback storage where sk_storage is not usable (raw_tp, or tracing
 * programs before 5.11): keyed by socket address, moved to dead_states at
 * tcp_destroy_sock. The loader shrinks both to one entry when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn_state);
} hash_states SEC(".maps");

/* Hash storage: destroyed connections, for the events the kernel emits for a
 * socket after its destroy (the reset answering data after close). A new
 * socket at the same address starts from hash_states and never sees these;
 * the oldest are evicted first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct conn_state);
} dead_states SEC(".maps");

/* A burst per connection, from its first event until it is written: keyed by
 * cookie, so that the flusher timer can reach it (it cannot reach sk_storage).
 * Preallocated (raw_tp programs need that before 6.1); when it is full, an
 * anomaly is written on its own, never lost. */
struct burst_entry {
	__u64 lock;          /* held while the burst is read or changed; see burst_trylock */
	struct tv_conn conn; /* as the record carries it */
	struct burst b;
	__u8 gone;           /* written and being deleted: the next event starts a new entry */
	__u8 _pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct burst_entry);
} bursts SEC(".maps");

/* The flusher: one timer, every burst_ns, writes the bursts older than
 * burst_ns, so a burst on a connection that went quiet does not wait for its
 * close. Only the flusher's own programs use this map: a raw_tp program may
 * not use a map holding a timer. bpf_timer: 5.15, commit b00628b1c7d5. */
struct flusher {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flusher);
} flusher SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TV_RINGBUF_DEFAULT); /* --ringbuf-size */
} events SEC(".maps");

struct tv_counters counters[TV_CPU_SLOTS];

/* tgids being traced (--pid, -- COMMAND) and their descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/* Connections that had a reset or an error, by their addresses, for the
 * resets that come after the socket is gone (no socket to find them by):
 * the segment's addresses find the connection. IPv4 as IPv4-mapped IPv6,
 * so that a dual-stack socket and its IPv4 segments meet. */
struct late_key {
	__u32 netns;
	__u16 lport, rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct late_conn {
	struct tv_conn conn;
	__u64 ts; /* the reset or error that put it here */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct late_key);
	__type(value, struct late_conn);
} late_conns SEC(".maps");

/* The last time something entered late_conns: a segment without a socket
 * is parsed only within TV_LATE_WINDOW_NS of it. */
__u64 late_last_ns;

static const struct conn_state zero_state;
/* Connections with an unwritten burst: while there are none, which is the
 * usual case, normal segments skip the storage lookup altogether. */
__s64 pending_bursts;
/* Connections whose window this host advertised is closed: while there are
 * none, the receive path never looks for the reopening. Read on every
 * segment, so on a cache line of its own, away from pending_bursts, which
 * every burst writes. */
__s64 zw_local_open __attribute__((aligned(64)));

/* Read a field directly (tp_btf) or through bpf_probe_read_kernel (raw_tp). */
#define RD(typed, p, f) ((typed) ? (p)->f : BPF_CORE_READ(p, f))
#define RD_BITS(typed, p, f) ((typed) ? BPF_CORE_READ_BITFIELD(p, f) : BPF_CORE_READ_BITFIELD_PROBED(p, f))

static __always_inline bool after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

static __always_inline struct tv_counters *counters_here(void)
{
	return &counters[bpf_get_smp_processor_id() & (TV_CPU_SLOTS - 1)];
}

static __always_inline void lost_inc(void)
{
	__sync_fetch_and_add(&counters_here()->lost, 1);
}

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

/* A port as an index the verifier can bound: the compiler, which knows a
 * __u16 is below 65536, may load it as part of a wider word, and drop any
 * mask that says so; older verifiers (6.1) then see an unbounded index. */
static __always_inline __u32 port_index(__u16 port)
{
	__u32 i = port;

	asm volatile("" : "+r"(i));
	return i & 0xffff;
}

static __always_inline bool port_selected(__u16 port)
{
	__u32 i = port_index(port);

	return port_filter_bits[i >> 3] & (1 << (i & 7));
}

static __always_inline bool tls_port(__u16 port)
{
	__u32 i = port_index(port);

	return tls_port_bits[i >> 3] & (1 << (i & 7));
}

static __always_inline bool raddr_selected(const struct tv_conn *c)
{
	struct tv_raddr_key key = { .prefixlen = 8 + (c->family == 4 ? 32 : 128), .family = c->family };

	__builtin_memcpy(key.addr, c->daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&raddr_filter, &key);
}

static __always_inline bool comm_selected(const struct tv_conn *c)
{
	for (int i = 0; i < TV_COMM_LEN - 1; i++) {
		if (filter_comm[i] != c->comm[i])
			return false;
		if (!filter_comm[i])
			break;
	}
	return true;
}

/* The selection by ports and addresses alone, for what has no owner to ask. */
static __always_inline bool addrs_selected(const struct tv_conn *c)
{
	return (!filter_ports || port_selected(c->sport) || port_selected(c->dport)) &&
	       (!filter_raddrs || raddr_selected(c));
}

/*
 * Decides the user's selection for a connection as soon as what it depends
 * on is known (the local port after connect() picks it, the owner at connect
 * or accept); the collector applies the same selection again. Until then the
 * connection is undecided and its records go out for the collector to decide.
 */
static __always_inline void conn_decide(struct conn_state *st)
{
	const struct tv_conn *c = &st->conn;
	bool undecided = false;

	if (st->sel != SEL_UNDECIDED)
		return;
	if (filter_ports && !port_selected(c->dport) && !(c->sport && port_selected(c->sport))) {
		if (c->sport) {
			st->sel = SEL_NO;
			return;
		}
		undecided = true;
	}
	if (filter_raddrs && !raddr_selected(c)) {
		st->sel = SEL_NO;
		return;
	}
	if (filter_pids || filter_comm[0]) {
		if (!(c->owner_flags & TV_OWNER_KNOWN)) {
			undecided = true;
		} else if ((filter_pids && !(c->owner_flags & TV_OWNER_MATCH)) ||
			   (filter_comm[0] && !comm_selected(c))) {
			st->sel = SEL_NO;
			return;
		}
	}
	if (!undecided)
		st->sel = SEL_YES;
}

/* The owner of an accepted connection, noted by the accept syscall's exit in
 * the accepting process (right for prefork servers, socket activation and
 * SO_REUSEPORT groups, where the listener's owner is not), keyed by socket
 * address: a classic tracepoint cannot reach sk_storage. The connection's
 * next hook moves it into its state. */
struct accepted_owner {
	__u32 tgid;
	__u8 flags; /* TV_OWNER_* */
	__u8 _pad[3];
	char comm[TV_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct accepted_owner);
} accepted SEC(".maps");

static __always_inline void owner_of_accepted(struct conn_state *st, struct sock *sk)
{
	struct accepted_owner *o;
	__u64 key = (__u64)sk;

	if (!accept_owner || st->conn.dir != TV_DIR_IN || (st->conn.owner_flags & TV_OWNER_KNOWN))
		return;
	o = bpf_map_lookup_elem(&accepted, &key);
	if (!o)
		return;
	st->conn.pid = o->tgid;
	__builtin_memcpy(st->conn.comm, o->comm, sizeof(st->conn.comm));
	st->conn.owner_flags = o->flags;
	bpf_map_delete_elem(&accepted, &key);
	conn_decide(st);
}

/* Record the owner: called only where `current` is the process using sk. */
static __always_inline void owner_capture(struct conn_state *st)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 flags = TV_OWNER_KNOWN;

	if (filter_pids && bpf_map_lookup_elem(&traced_tgids, &tgid))
		flags |= TV_OWNER_MATCH;
	st->conn.pid = tgid;
	bpf_get_current_comm(st->conn.comm, sizeof(st->conn.comm));
	st->conn.owner_flags = flags;
	conn_decide(st);
}

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
	__u64 quarter = ringbuf_size / 4, avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
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

/* ---- a connection's history, and its announcement ---- */

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

/* ---- connections that may get resets after their socket is gone ---- */

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

/* ---- state changes: open, handshake, who closed ---- */

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
	st = conn_get_new(sk, typed, now, dir, old == TCP_CLOSE, &(bool){ false });
	if (!st)
		return 0;
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

/* ---- close: final snapshot of the kernel's own counters ---- */

static __always_inline int on_destroy(struct sock *sk, bool typed)
{
	struct conn_state *st = state_get(sk, typed, false);
	struct tv_rec_close *r;
	struct tcp_sock *tp;

	__u64 now = bpf_ktime_get_ns();
	__u8 zw_closed = 0;

	if (!st || !st->conn.cookie || st->dead)
		return 0;
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
	r->bytes_sent = bpf_core_field_exists(tp->bytes_sent) ? RD(typed, tp, bytes_sent) : 0;
	r->bytes_acked = RD(typed, tp, bytes_acked);
	r->bytes_received = RD(typed, tp, bytes_received);
	r->bytes_retrans = bpf_core_field_exists(tp->bytes_retrans) ? RD(typed, tp, bytes_retrans) : 0;
	r->retrans_segs = RD(typed, tp, total_retrans);
	/* total_rto: 6.7, commit 3868ab0f1925 ("tcp: add tcpi_total_rto...") */
	r->rto = bpf_core_field_exists(tp->total_rto) ? RD(typed, tp, total_rto) : st->rto_events;
	r->ofo_segs = st->ofo;
	r->dup_segs = st->dup;
	r->dupacks = st->dupacks;
	r->dsack = bpf_core_field_exists(tp->dsack_dups) ? RD(typed, tp, dsack_dups) : 0;
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

/* ---- retransmissions ---- */

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

	st = conn_get_new(sk, typed, now, TV_DIR_UNKNOWN, false, &created);
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

/* ---- zero windows ---- */

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
	st = state_get(sk, typed, false);
	if (!st)
		st = conn_get(sk, typed, now, TV_DIR_UNKNOWN);
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
static __always_inline void local_window(struct sock *sk, struct tcp_sock *tp, __u32 pred, bool typed)
{
	struct tcp_options_received *opt = &tp->rx_opt;
	struct conn_state *st;
	__u32 rcv_wnd;
	__u64 now, since;
	bool closed;

	/* header prediction is off while this host's window is zero
	 * (tcp_select_window clears pred_flags, tcp_fast_path_check needs
	 * rcv_wnd): on, and no window of this host closed, nothing to do */
	if (pred && zw_local_open <= 0)
		return;
	rcv_wnd = RD(typed, tp, rcv_wnd);
	/* zero once scaled: only a window below the largest scale's unit can be */
	closed = !rcv_wnd || (rcv_wnd < (1u << 14) && !(rcv_wnd >> RD_BITS(typed, opt, rcv_wscale)));
	if (!closed && zw_local_open <= 0)
		return;
	st = state_get(sk, typed, false);
	if (!st && closed)
		st = conn_get(sk, typed, bpf_ktime_get_ns(), TV_DIR_UNKNOWN);
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

/* ---- TLS alerts ---- */

/*
 * TLS records: a 5-byte header (content type, version, length). An alert is
 * content type 21 with a 2-byte body (level, description) in plaintext, or
 * a longer encrypted one (TLS 1.2 and earlier after ChangeCipherSpec);
 * TLS 1.3 sends every alert after its ServerHello as application data (23),
 * which cannot be told from data. A write that carries an alert is small:
 * 7 bytes, or about 30 encrypted, maybe behind another record or two.
 */
#define TLS_HDR 5
#define TLS_CONTENT_ALERT 21
#define TLS_ALERT_WRITE_MAX 64
#define TLS_RECORDS_SCANNED 4

static __always_inline void alert_record(struct conn_state *st, __u8 side, const __u8 *h)
{
	struct tv_rec_tls_alert *r;
	__u16 len = (__u16)h[3] << 8 | h[4];

	burst_flush(st);
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_TLS_ALERT, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return;
	r->side = side;
	r->encrypted = len != 2;
	r->level = len == 2 ? h[5] : 0;
	r->description = len == 2 ? h[6] : 0;
	r->version = (__u16)h[1] << 8 | h[2];
	r->length = len;
	rec_submit(r);
}

/*
 * A received alert. The payload of a received segment is where the driver
 * put it: in the linear area (a NIC's small packets are often copied there),
 * or in page fragments (loopback and veth hand over the sender's pages),
 * which a tracing program reaches through the kernel's direct map: x86-64
 * only, from vmemmap_base and page_offset_base (CONFIG_DYNAMIC_MEMORY_LAYOUT;
 * without them, fragments are not read). Only a small in-order segment that
 * is one whole alert record is taken: the record boundaries of the stream are
 * not tracked, so an alert behind data in the same segment is not seen.
 */
extern const void vmemmap_base __ksym __weak;
extern const void page_offset_base __ksym __weak;
#define TV_PAGE_SHIFT 12

/* skb_frag_t from 5.4 on: the page (6.12: netmem_ref), then len, then offset */
struct frag_raw {
	__u64 page;
	__u32 len;
	__u32 offset;
};

static __always_inline bool segment_bytes(struct sk_buff *skb, __u32 off, __u8 *out, __u32 n, bool typed)
{
	unsigned char *head = RD(typed, skb, head), *data = RD(typed, skb, data);
	__u32 headlen = RD(typed, skb, len) - RD(typed, skb, data_len);
	struct skb_shared_info *shi;
	struct frag_raw f;
	__u64 vmemmap = 0, direct = 0, pfn;

	if (off + n <= headlen)
		return !bpf_probe_read_kernel(out, n & 63, data + off);
	if (off < headlen || !&vmemmap_base || !&page_offset_base)
		return false;
	shi = (struct skb_shared_info *)(head + RD(typed, skb, end));
	if (bpf_probe_read_kernel(&f, sizeof(f), (void *)shi + bpf_core_field_offset(struct skb_shared_info, frags)))
		return false;
	off -= headlen;
	if ((f.page & 1) || off + n > f.len) /* a net_iov (device memory), or past the first fragment */
		return false;
	if (bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), &vmemmap_base) ||
	    bpf_probe_read_kernel(&direct, sizeof(direct), &page_offset_base) || f.page < vmemmap)
		return false;
	pfn = (f.page - vmemmap) / bpf_core_type_size(struct page);
	return !bpf_probe_read_kernel(out, n & 63, (void *)(direct + (pfn << TV_PAGE_SHIFT) + f.offset + off));
}

static __always_inline void received_alert(struct sock *sk, struct sk_buff *skb, __u32 len, bool typed)
{
	unsigned char *data = RD(typed, skb, data);
	struct conn_state *st;
	__u8 doff = 0, h[TLS_HDR + 2];

	if (bpf_probe_read_kernel(&doff, 1, data + 12))
		return;
	if (!segment_bytes(skb, (doff >> 4) * 4, h, sizeof(h), typed))
		return;
	/* one whole record: type alert, version 3.x, length the rest */
	if (h[0] != TLS_CONTENT_ALERT || h[1] != 3 || ((__u32)h[3] << 8 | h[4]) != len - TLS_HDR)
		return;
	st = state_get(sk, typed, false);
	if (!st || !st->conn.cookie || st->dead || st->sel == SEL_NO)
		return;
	alert_record(st, TV_RESET_RECEIVED, h);
}

/* ---- receive path: once per received segment, keep it lean ---- */

/*
 * The per-segment path reads the segment and the socket and returns; the
 * connection's storage is looked up only for an anomalous segment, or when
 * the sequence (or ACK) number crosses a 1 MB boundary while some burst is
 * pending, which is when that burst is closed: a burst ends after at most
 * 1 MB of normal traffic (a loss episode's out-of-order segments interleave
 * with in-order ones), without reading the clock or the storage on every
 * segment.
 */
#define SEQ_FLUSH_SHIFT 20

static __always_inline struct conn_state *rcv_state(struct sock *sk, bool typed)
{
	struct conn_state *st = state_get(sk, typed, false);

	return st ? st : conn_get(sk, typed, bpf_ktime_get_ns(), TV_DIR_UNKNOWN);
}

static __always_inline int on_rcv_segment(struct sock *sk, struct sk_buff *skb, bool typed)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	struct conn_state *st;
	struct tcp_sock *tp = tcp_of(sk, typed);
	__u32 seq, end_seq, rcv_nxt, mark, pred;
	__u16 flags;

	if (!tp)
		return 0;
	seq = RD(typed, cb, seq);
	end_seq = RD(typed, cb, end_seq);
	flags = RD(typed, cb, tcp_flags);
	rcv_nxt = RD(typed, tp, rcv_nxt);
	pred = RD(typed, tp, pred_flags);
	peer_window(sk, tp, skb, cb, seq, flags, pred, typed);
	local_window(sk, tp, pred, typed);
	/* a segment that may be one TLS alert record, in order, on a TLS port */
	if (seq == rcv_nxt && end_seq - seq - (flags & TCPHDR_FIN) - (TLS_HDR + 2) <= TLS_ALERT_WRITE_MAX - (TLS_HDR + 2) &&
	    (tls_port(bpf_ntohs(RD(typed, sk, __sk_common.skc_dport))) || tls_port(RD(typed, sk, __sk_common.skc_num))))
		received_alert(sk, skb, end_seq - seq - (flags & TCPHDR_FIN), typed);

	/* a SYN takes sequence space but carries no data: a late SYN-ACK copy is no duplicate */
	if (seq != end_seq && !(flags & TCPHDR_SYN)) {
		if (after(seq, rcv_nxt)) {
			st = rcv_state(sk, typed);
			if (st) {
				st->ofo++;
				burst_add(st, TV_REC_OFO, 0, bpf_ktime_get_ns(), seq, rcv_nxt,
					  end_seq - seq, TCP_ESTABLISHED, 0);
			}
			return 0;
		}
		if (!after(end_seq, rcv_nxt)) {
			st = rcv_state(sk, typed);
			if (st) {
				st->dup++;
				burst_add(st, TV_REC_DUP, 0, bpf_ktime_get_ns(), seq, rcv_nxt,
					  end_seq - seq, TCP_ESTABLISHED, 0);
			}
			return 0;
		}
		mark = seq ^ end_seq;
	} else {
		__u32 ack = RD(typed, cb, ack_seq), una = RD(typed, tp, snd_una);

		/* RFC 5681 duplicate ACK: no data, ACK == snd_una, data in
		 * flight, window unchanged, no SYN/FIN/RST */
		if ((flags & (TCPHDR_ACK | TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST)) == TCPHDR_ACK &&
		    ack == una && RD(typed, tp, snd_nxt) != una) {
			struct tcp_options_received *opt = &tp->rx_opt;
			unsigned char *data = RD(typed, skb, data);
			__u16 raw_win = 0;
			__u32 win;

			bpf_probe_read_kernel(&raw_win, sizeof(raw_win), data + __builtin_offsetof(struct tcphdr, window));
			win = (__u32)bpf_ntohs(raw_win) << RD_BITS(typed, opt, snd_wscale);
			if (win == RD(typed, tp, snd_wnd)) {
				st = rcv_state(sk, typed);
				if (st) {
					st->dupacks++;
					burst_add(st, TV_REC_DUPACK, 0, bpf_ktime_get_ns(), ack, una, 0,
						  TCP_ESTABLISHED, 0);
				}
				return 0;
			}
		}
		mark = ack ^ una;
	}
	if ((mark >> SEQ_FLUSH_SHIFT) && pending_bursts > 0) {
		st = state_get(sk, typed, false);
		if (st)
			burst_flush(st);
	}
	return 0;
}

/* ---- resets, and the resets after the socket is gone ---- */

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
	st = conn_get(sk, typed, now, TV_DIR_UNKNOWN);
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

/* ---- errors the kernel reports on a socket ---- */

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
	st = conn_get(sk, typed, bpf_ktime_get_ns(), TV_DIR_UNKNOWN);
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

/* ---- drops of a connection's segments ---- */

/* The TCP flags of a received segment, from its header. */
static __always_inline __u8 segment_flags(struct sk_buff *skb, bool typed)
{
	unsigned char *head = RD(typed, skb, head);
	__u16 th = RD(typed, skb, transport_header);
	__u8 flags = 0;

	bpf_probe_read_kernel(&flags, 1, head + th + TCPHDR_FLAGS_OFF);
	return flags;
}

static __always_inline int on_drop(struct sk_buff *skb, struct sock *rx_sk, __u32 reason, bool typed)
{
	struct sock *sk = rx_sk ? rx_sk : RD(typed, skb, sk);
	struct conn_state *st;
	__u64 now;

	if (!sk) {
		/* no socket for the segment (tcp_v4_rcv, tcp_v6_rcv): the
		 * connection may be one that just went */
		if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET) &&
		    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET))
			late_segment(skb, false, reason, typed);
		return 0;
	}
	if (!is_full_tcp(sk, typed) || sk_state(sk, typed) == TCP_LISTEN)
		return 0;
	/* only connections already known: skb->sk is an RCU pointer that the
	 * cookie helper refuses, and every live connection has state by now */
	st = state_find(sk, typed);
	if (!st || !st->conn.cookie)
		return 0;
	now = bpf_ktime_get_ns();
	/* A reset for a socket a reset already closed: it was waiting in the
	 * socket's backlog while the application held the socket, behind the
	 * first one. Had it come a moment later, it would have found no socket:
	 * a reset after the close, not a drop. */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_CLOSE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_CLOSE) &&
	    segment_flags(skb, typed) & TCPHDR_RST) {
		if (st->sel != SEL_NO)
			reset_record(&st->conn, now, TV_REASON_UNKNOWN, TV_RESET_RECEIVED, TCP_CLOSE,
				     TV_RESET_AFTER_CLOSE);
		return 0;
	}
	st->drops++;
	burst_add(st, TV_REC_DROP, reason, now, 0, 0, 0, sk_state(sk, typed), 0);
	return 0;
}

static __always_inline bool drop_reason_counts(__u32 reason)
{
	/* SKB_CONSUMED goes to consume_skb from 6.0 on; older kernels pass it here */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return false;
	/* a queue emptied as its socket goes (the reason came with the kernel's
	 * skb_queue_purge_reason()), e.g. the peer's FIN the application never
	 * read: housekeeping, not loss */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return false;
	return reason != 0; /* SKB_NOT_DROPPED_YET */
}

/* ---- the owner of an accepted connection ---- */

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* The socket behind file descriptor fd of the current process, or NULL. */
static __always_inline struct sock *sock_of_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

static __always_inline int on_accept(long fd)
{
	struct accepted_owner o = { .flags = TV_OWNER_KNOWN };
	struct sock *sk = sock_of_fd(fd);
	__u64 key = (__u64)sk;

	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP ||
	    !netns_wanted(&sk->__sk_common, false))
		return 0;
	o.tgid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pids && bpf_map_lookup_elem(&traced_tgids, &o.tgid))
		o.flags |= TV_OWNER_MATCH;
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&accepted, &key, &o, BPF_ANY);
	return 0;
}

/* Classic tracepoints, attached through tracefs ids: syscalls have no BTF
 * variants. Both accept(2) and accept4(2). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child, bool typed)
{
	__u32 ptgid = RD(typed, parent, tgid), ctgid = RD(typed, child, tgid);
	__u8 one = 1;

	if (ptgid != ctgid && bpf_map_lookup_elem(&traced_tgids, &ptgid))
		bpf_map_update_elem(&traced_tgids, &ctgid, &one, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(struct task_struct *task, bool typed)
{
	__u32 pid = RD(typed, task, pid), tgid = RD(typed, task, tgid);

	if (pid == tgid) /* the whole process is going; a reused pid must not inherit tracing */
		bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}

/* ---- the first write on a new outgoing connection to a TLS port ---- */

/* struct iov_iter as older kernels lay it out, for CO-RE: `iter_type` came in
 * 5.14 (before, `type` held ITER_* bits with the direction); `iov` became
 * `__iov` in 6.4. */
struct iov_iter___pre514 {
	unsigned int type;
};

struct iov_iter___pre64 {
	const struct iovec *iov;
};

/* The first user buffer of a write and its length; false for kernel-internal
 * writes (sendfile, splice), which have none. */
static __always_inline bool write_buffer(struct msghdr *msg, const void **base, __u64 *count)
{
	struct iov_iter *it = &msg->msg_iter;
	const struct iovec *iov;
	__u64 first;

	*count = BPF_CORE_READ(it, count);
	if (bpf_core_field_exists(it->iter_type)) {
		__u8 type = BPF_CORE_READ(it, iter_type);

		/* ITER_UBUF: 6.0, a single user buffer */
		if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) &&
		    type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
			*base = BPF_CORE_READ(it, ubuf);
			return true;
		}
		if (type != bpf_core_enum_value(enum iter_type, ITER_IOVEC))
			return false;
	} else if (!(BPF_CORE_READ((struct iov_iter___pre514 *)it, type) &
		     bpf_core_enum_value(enum iter_type, ITER_IOVEC))) {
		return false;
	}
	if (bpf_core_field_exists(it->__iov))
		iov = BPF_CORE_READ(it, __iov);
	else
		iov = BPF_CORE_READ((struct iov_iter___pre64 *)it, iov);
	*base = BPF_CORE_READ(iov, iov_base);
	first = BPF_CORE_READ(iov, iov_len);
	if (first < *count)
		*count = first;
	return true;
}

/* The ClientHello: the first write of an outgoing connection to a TLS port. */
static __always_inline void sent_hello(struct conn_state *st, struct msghdr *msg)
{
	struct tv_rec_tls_hello *r;
	const void *base;
	__u64 count;
	__u32 n;

	if (!write_buffer(msg, &base, &count))
		return;
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_TLS_HELLO, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return;
	n = count < TV_HELLO_MAX ? count : TV_HELLO_MAX;
	r->total = count > 0xffffffff ? 0xffffffff : count;
	r->len = 0;
	/* bounded read of the caller's buffer; fails only if it is unmapped */
	if (n && !bpf_probe_read_user(r->data, n, base))
		r->len = n;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void sent_alert(struct conn_state *st, struct msghdr *msg)
{
	__u8 buf[TLS_ALERT_WRITE_MAX * 2] = {};
	const void *base;
	__u32 off = 0;
	__u64 count;

	__u32 n;

	if (!write_buffer(msg, &base, &count) || count < TLS_HDR + 2 || count > TLS_ALERT_WRITE_MAX)
		return;
	/* a bound the verifier sees (6.1's cannot follow the compiler's range checks) */
	n = count;
	asm volatile("" : "+r"(n));
	if (bpf_probe_read_user(buf, n & (TLS_ALERT_WRITE_MAX * 2 - 1), base))
		return;
	for (int i = 0; i < TLS_RECORDS_SCANNED; i++) {
		__u8 *h;

		if (off + TLS_HDR + 2 > count)
			return;
		h = &buf[off & (TLS_ALERT_WRITE_MAX - 1)];
		if (h[1] != 3) /* SSL 3.0 to TLS 1.3 all say 3.x */
			return;
		if (h[0] == TLS_CONTENT_ALERT) {
			alert_record(st, TV_RESET_SENT, h);
			return;
		}
		off += TLS_HDR + ((__u32)h[3] << 8 | h[4]);
	}
}

static __always_inline int on_sendmsg(struct sock *sk, struct msghdr *msg, bool typed)
{
	struct conn_state *st;
	__u16 dport;

	/* every TCP write comes here: the ports decide first */
	dport = bpf_ntohs(RD(typed, sk, __sk_common.skc_dport));
	if (!tls_port(dport) && !tls_port(RD(typed, sk, __sk_common.skc_num)))
		return 0;
	st = state_get(sk, typed, false);
	if (!st || st->dead || st->sel == SEL_NO)
		return 0;
	if (!st->first_write_seen && st->conn.dir == TV_DIR_OUT && tls_port(dport)) {
		st->first_write_seen = 1;
		if (tls_capture)
			sent_hello(st, msg);
		return 0;
	}
	if (BPF_CORE_READ(msg, msg_iter.count) <= TLS_ALERT_WRITE_MAX)
		sent_alert(st, msg);
	return 0;
}

/*
 * One tp_btf and one raw_tp program per hook and argument list. Variants
 * named *_err, *_reason, *_rxsk take the arguments that later kernels added;
 * the loader enables the one that matches the running kernel's BTF.
 */
#define HOOK(name, tp, call, ...)                                         \
	SEC("tp_btf/" tp) int BPF_PROG(btf_##name, __VA_ARGS__)            \
	{                                                                 \
		const bool typed = true;                                  \
		return call;                                              \
	}                                                                 \
	SEC("raw_tp/" tp) int BPF_PROG(raw_##name, __VA_ARGS__)            \
	{                                                                 \
		const bool typed = false;                                 \
		return call;                                              \
	}

/* Kernels without the tcp_sendmsg_locked tracepoint (6.1 and older): the same
 * handler at the entry of tcp_sendmsg, where the kernel allows fentry (5.5). */
SEC("fentry/tcp_sendmsg")
int BPF_PROG(fentry_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	return on_sendmsg(sk, msg, true);
}
#define TV_HOOK(name, tp, need, call, ...) HOOK(name, tp, call, __VA_ARGS__)
#define TV_CLASSIC(name, category, tp, need) /* written out above */
#include "hooks.h"
#undef TV_HOOK
#undef TV_CLASSIC

/* ---- the flusher timer ---- */

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
