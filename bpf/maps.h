/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel side's data: load-time settings, the per-connection state and
 * its bursts, every map, and the globals the programs share.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/* Load-time settings, written by the loader through the skeleton. */
const volatile __u32 filter_netns = 0;     /* 0: every namespace */
const volatile bool filter_pids = false;   /* --pid / -- COMMAND */
const volatile bool use_hash_storage = false; /* no sk_storage/cookie helpers for tracing (< 5.11) */
const volatile __u64 burst_ns = 100000000; /* a burst never spans more than this */
const volatile bool tls_capture = false;  /* hand over the first write to TLS ports */
const volatile bool burst_timer = false;  /* the flusher timer runs (tp_btf, 5.15) */
const volatile bool accept_owner = false; /* the accept syscall tracepoints are attached */
/* tcp_send_reset fires for resets sent without a socket (6.10, commit
 * 19822a980e19 "trace: tcp: fully support trace_tcp_send_reset"); before,
 * those are known by the drop of the segment they answer */
const volatile bool reset_nosock_traced = false;
/* For tests (--test-nest-forget): the first programs note no event, so the
 * second ones see every event as skipped and must still do nothing twice. */
const volatile bool nest_forget = false;
/* For tests (--test-destroy-forget): the destroy of one socket in 8 (by its
 * ports) is not handled, as when the kernel does not run the programs at all
 * (storage.h's state_outlived). */
const volatile bool destroy_forget = false;
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

/* Runs of the state and destroy hooks that the kernel did not make, and did
 * not count either (storage.h, state_outlived), found afterwards: a history
 * whose next change does not follow its last, a socket destroyed whose last
 * change was not to CLOSE, a hash entry an unburied socket left. The loader
 * adds them to those hooks' missed runs. */
__u64 unseen[TV_AGAIN_SLOTS];
/* Connections with an unwritten burst: while there are none, which is the
 * usual case, normal segments skip the storage lookup altogether. */
__s64 pending_bursts;
/* Connections whose window this host advertised is closed: while there are
 * none, the receive path never looks for the reopening. Read on every
 * segment, so on a cache line of its own, away from pending_bursts, which
 * every burst writes. */
__s64 zw_local_open __attribute__((aligned(64)));

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

static __always_inline struct tv_counters *counters_here(void)
{
	return &counters[bpf_get_smp_processor_id() & (TV_CPU_SLOTS - 1)];
}
