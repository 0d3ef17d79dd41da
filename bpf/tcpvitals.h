/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user ABI of tcpvitals: every record that crosses the ring buffer.
 *
 * Rules: fixed-width types only, explicit padding, a common header on every
 * record, type numbers that are pinned and never reused, and a size assertion
 * on each record. Userspace checks hdr.size against what the ring buffer
 * handed it and rejects short records.
 */
#ifndef TCPVITALS_ABI_H
#define TCPVITALS_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TV_COMM_LEN 16
#define TV_RINGBUF_DEFAULT (4 << 20) /* bytes of the ring buffer without --ringbuf-size */

/* Record type numbers. Pinned: append only, never renumber or reuse. */
enum tv_rec_type {
	TV_REC_STATE = 1,
	TV_REC_OPEN = 2,
	TV_REC_RETRANSMIT = 3,
	TV_REC_OFO = 4,
	TV_REC_DUP = 5,
	TV_REC_DUPACK = 6,
	TV_REC_RESET = 7,
	TV_REC_DROP = 8,
	TV_REC_CLOSE = 9,
	TV_REC_TLS_HELLO = 10,
	TV_REC_CONN = 11, /* a connection's history, before its first live record */
	TV_REC_ERROR = 12, /* the kernel reported an error on the socket (sk_err) */
	TV_REC_WINDOW = 13, /* a zero window began or ended */
	TV_REC_TLS_ALERT = 14, /* a TLS alert record in the stream */
	TV_REC_TYPE_MAX, /* first unused number */
};

/* Run-wide counters the kernel side keeps in its .bss, which the collector
 * reads through the skeleton's mapping, without a system call (an agent
 * that gave up its privileges still can). One cache line per CPU slot;
 * CPUs past TV_CPU_SLOTS share slots, so the adds are atomic. */
#define TV_CPU_SLOTS 64
#define TV_AGAIN_SLOTS 2 /* hooks with a second program (hooks.h TV_AGAIN, bpf/nest.h) */
#define TV_AGAIN_STATE 0 /* their slots */
#define TV_AGAIN_DESTROY 1
struct tv_counters {
	__u64 lost;       /* records the ring buffer had no room for */
	__u64 opened_out; /* connections this host opened (SYN_SENT) */
	__u64 opened_in;  /* connections accepted (SYN_RECV to ESTABLISHED) */
	__u64 _pad[5];
};

enum tv_retrans_kind {
	TV_RETRANS_OTHER = 0,
	TV_RETRANS_SYN = 1,
	TV_RETRANS_RTO = 2,
	TV_RETRANS_FAST = 3,
	TV_RETRANS_TLP = 4,
	TV_RETRANS_SYNACK = 5,
};

enum tv_dir {
	TV_DIR_UNKNOWN = 0,
	TV_DIR_OUT = 1, /* this host sent the SYN */
	TV_DIR_IN = 2,  /* accepted from a listener */
};

/* tv_conn.owner_flags */
#define TV_OWNER_KNOWN 0x1 /* pid/comm were taken in the owner's process context */
#define TV_OWNER_MATCH 0x2 /* owner is a traced pid or a descendant (--pid, -- COMMAND) */

/* Who sent the first FIN. The collector decides closed_by from this, the
 * resets (including late ones) and whether the connection was established. */
enum tv_closer {
	TV_CLOSER_LOCAL = 0, /* also: no FIN seen (timeouts, connections older than tracing) */
	TV_CLOSER_REMOTE = 1,
};

enum tv_reset_side {
	TV_RESET_SENT = 0,
	TV_RESET_RECEIVED = 1,
};

#define TV_REASON_UNKNOWN 0xffffffffu

/* tv_rec_reset.flags */
/* after the connection's socket was gone: sent by its TIME_WAIT remainder
 * (found by the cookie it inherits), or for a segment that found no socket
 * (found by its addresses among connections that had a reset or an error
 * within TV_LATE_WINDOW_NS before) */
#define TV_RESET_AFTER_CLOSE 0x1
#define TV_LATE_WINDOW_NS 5000000000ULL

/* --raddr in the kernel: an LPM trie keyed by family and address, so that an
 * IPv4 prefix never matches an IPv6 (or IPv4-mapped) address, as in userspace.
 * prefixlen counts the family byte's 8 bits too. */
struct tv_raddr_key {
	__u32 prefixlen;
	__u8 family; /* 4 or 6 */
	__u8 addr[16];
} __attribute__((packed));
_Static_assert(sizeof(struct tv_raddr_key) == 21, "tv_raddr_key size");

/* On every record. */
struct tv_hdr {
	__u16 type;  /* enum tv_rec_type */
	__u16 size;  /* bytes of the whole record */
	__u32 count; /* events this record stands for (coalesced bursts), >= 1 */
	__u64 ts_ns; /* CLOCK_MONOTONIC: the first event of the record */
};
_Static_assert(sizeof(struct tv_hdr) == 16, "tv_hdr size");

/* A cookie tcpvitals made for a socket the kernel gave none (raw_tp, hash
 * storage): bit 52 set, below 2^53, exact in a JSON reader's double. */
#define TV_COOKIE_SYNTHETIC (1ULL << 52)

/* The connection a record belongs to. cookie 0: no socket yet (SYN-ACK). */
struct tv_conn {
	__u64 cookie; /* bpf_get_socket_cookie(); the sk: value of ss -e */
	__u32 netns;  /* network namespace inode */
	__u32 pid;    /* owner tgid, 0 while unknown */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
	__u8 family; /* 4 or 6 */
	__u8 dir;    /* enum tv_dir */
	__u8 owner_flags;
	__u8 _pad0;
	char comm[TV_COMM_LEN];
};
_Static_assert(sizeof(struct tv_conn) == 72, "tv_conn size");

/*
 * What the kernel keeps of a connection's life in its storage. A healthy
 * connection crosses the ring buffer once: its close carries this. A
 * connection the collector must see while it is open (an anomaly, a reset,
 * a TLS port) is announced first by a TV_REC_CONN carrying this; from then
 * on its state changes come live.
 */
#define TV_MAX_TRANSITIONS 8

struct tv_transition {
	__u64 ts_ns;
	__u8 old_state; /* kernel TCP_* numbers */
	__u8 new_state;
	__u8 _pad[6];
};
_Static_assert(sizeof(struct tv_transition) == 16, "tv_transition size");

struct tv_history {
	__u64 start_ns;     /* first sight of the connection (connect or accept) */
	__u32 handshake_us; /* client: connect to established; server: the first RTT sample */
	__u32 syn_retrans;  /* retransmitted segments when it was established */
	__u8 established;   /* it reached ESTABLISHED */
	__u8 ntrans;        /* entries in trans */
	__u16 dropped;      /* transitions past TV_MAX_TRANSITIONS: the last entry is the latest */
	__u32 _pad;
	struct tv_transition trans[TV_MAX_TRANSITIONS];
};
_Static_assert(sizeof(struct tv_history) == 24 + 16 * TV_MAX_TRANSITIONS, "tv_history size");

struct tv_rec_conn {
	struct tv_hdr hdr;
	struct tv_conn conn;
	struct tv_history hist;
};
_Static_assert(sizeof(struct tv_rec_conn) == 88 + sizeof(struct tv_history), "tv_rec_conn size");

struct tv_rec_state {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u8 old_state; /* kernel TCP_* numbers */
	__u8 new_state;
	__u8 _pad[6];
};
_Static_assert(sizeof(struct tv_rec_state) == 96, "tv_rec_state size");

struct tv_rec_open {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 handshake_us;
	__u32 syn_retrans;
};
_Static_assert(sizeof(struct tv_rec_open) == 96, "tv_rec_open size");

/* tv_rec_retransmit.flags */
#define TV_RETRANS_TIMEOUT 0x1 /* the retransmission timer fired: the first segment is its retransmission */

struct tv_rec_retransmit {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 seq;   /* first retransmitted sequence number of the burst */
	__u32 segs;  /* segments, as the kernel counts them in TcpRetransSegs */
	__u8 kind;   /* enum tv_retrans_kind */
	__u8 state;  /* TCP state at the time */
	__u8 flags;  /* TV_RETRANS_* */
	__u8 backoff; /* timeouts before this one without progress (icsk_backoff) */
	__s32 err;   /* 0, or the transmit error (6.17+ tracepoint argument) */
	/* with TV_RETRANS_TIMEOUT, else 0: */
	__u32 len;   /* payload bytes of the segment the timer resent */
	__u16 mss;   /* the connection's MSS then (tcp_sock.mss_cache) */
	__u16 _pad;
	__u64 acked; /* bytes the peer had acknowledged then (tcp_sock.bytes_acked) */
};
_Static_assert(sizeof(struct tv_rec_retransmit) == 120, "tv_rec_retransmit size");

/* TV_REC_OFO, TV_REC_DUP, TV_REC_DUPACK */
struct tv_rec_segment {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 seq;      /* ofo/dup: first segment's seq; dupack: the ACK number */
	__u32 expected; /* rcv_nxt when the first segment arrived */
	__u32 len;      /* payload bytes over the burst */
	__u32 _pad;
};
_Static_assert(sizeof(struct tv_rec_segment) == 104, "tv_rec_segment size");

struct tv_rec_reset {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 reason; /* enum sk_rst_reason value, TV_REASON_UNKNOWN if none */
	__u8 side;    /* enum tv_reset_side */
	__u8 state;   /* TCP state when it happened (TCP_CLOSE with TV_RESET_AFTER_CLOSE) */
	__u8 flags;   /* TV_RESET_* */
	__u8 _pad;
};
_Static_assert(sizeof(struct tv_rec_reset) == 96, "tv_rec_reset size");

struct tv_rec_drop {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 reason; /* enum skb_drop_reason value of the running kernel */
	__u8 state;   /* TCP state when it happened */
	__u8 _pad[3];
};
_Static_assert(sizeof(struct tv_rec_drop) == 96, "tv_rec_drop size");

struct tv_rec_close {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u64 bytes_sent;
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 bytes_retrans;
	__u32 retrans_segs; /* tcp_sock.total_retrans */
	__u32 rto;          /* tcp_sock.total_rto (6.7+), else RTO retransmit events seen */
	__u32 ofo_segs;
	__u32 dup_segs;
	__u32 dupacks;
	__u32 dsack;
	__u32 drops;
	__u32 srtt_us;
	__u32 rttvar_us;
	__u16 resets_sent;
	__u16 resets_received;
	__u8 last_state; /* state before CLOSE */
	__u8 closer;     /* enum tv_closer */
	__u8 announced;  /* a TV_REC_CONN went out: the collector has the history already */
	__u8 error;      /* sk_err when it entered CLOSE (or at the destroy): an errno, 0: none */
	__u8 zw_closed;  /* TV_ZW_* of the windows still closed at the close */
	__u8 _pad[3];
	/* zero windows (struct tv_rec_window): episodes, and their time closed,
	 * an episode still open counted until the close */
	__u32 zw_peer;
	__u32 zw_local;
	__u64 zw_peer_ns;
	__u64 zw_local_ns;
	__u32 zw_probes; /* persist probes this side sent into the peer's zero window */
	__u32 _pad2;
	struct tv_history hist;
};
_Static_assert(sizeof(struct tv_rec_close) == 200 + sizeof(struct tv_history), "tv_rec_close size");

/* The kernel reported an error on the socket (sock:inet_sk_error_report):
 * what a later SO_ERROR or failing call would return, kept because reading
 * SO_ERROR clears it before the close. */
struct tv_rec_error {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__s32 error; /* positive errno: ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT, ... */
	__u8 state;  /* TCP state when it was reported */
	__u8 _pad[3];
};
_Static_assert(sizeof(struct tv_rec_error) == 96, "tv_rec_error size");

/* A window reached zero (open 0), or reopened (open 1). The peer's: the
 * window field of a segment it sent. This host's: the last window it
 * advertised (tcp_sock.rcv_wnd), as the next segment to arrive finds it. */
enum tv_window_side {
	TV_WINDOW_PEER = 0,
	TV_WINDOW_LOCAL = 1,
};
#define TV_ZW_PEER (1 << TV_WINDOW_PEER)
#define TV_ZW_LOCAL (1 << TV_WINDOW_LOCAL)

struct tv_rec_window {
	struct tv_hdr hdr; /* ts: when it closed, or when it reopened */
	struct tv_conn conn;
	__u8 side;      /* enum tv_window_side */
	__u8 open;      /* 0: closed, 1: reopened */
	__u16 _pad;
	__u32 probes;   /* reopened, peer: persist probes this side sent while it was closed */
	__u64 since_ns; /* reopened: when it closed */
	__u32 window;   /* reopened: the window now, bytes */
	__u32 _pad2;
};
_Static_assert(sizeof(struct tv_rec_window) == 112, "tv_rec_window size");

/* TLS alert levels (RFC 8446 6) */
#define TV_TLS_WARNING 1
#define TV_TLS_FATAL 2

struct tv_rec_tls_alert {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u8 side;        /* enum tv_reset_side: TV_RESET_SENT by this host, or received */
	__u8 encrypted;   /* 1: only the record type is readable */
	__u8 level;       /* plaintext: TV_TLS_WARNING or TV_TLS_FATAL */
	__u8 description; /* plaintext: the alert (RFC 8446 6) */
	__u16 version;    /* the record's version field, e.g. 0x0303 */
	__u16 length;     /* the record's length field */
};
_Static_assert(sizeof(struct tv_rec_tls_alert) == 96, "tv_rec_tls_alert size");

/* The first bytes a client wrote on a new connection to a TLS port: enough
 * to reach the server_name extension behind a large key share. */
#define TV_HELLO_MAX 2048

struct tv_rec_tls_hello {
	struct tv_hdr hdr;
	struct tv_conn conn;
	__u32 len;   /* bytes in data */
	__u32 total; /* bytes the write carried */
	__u8 data[TV_HELLO_MAX];
};
_Static_assert(sizeof(struct tv_rec_tls_hello) == 96 + TV_HELLO_MAX, "tv_rec_tls_hello size");

#endif /* TCPVITALS_ABI_H */
