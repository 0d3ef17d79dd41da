/* What the collector hands to the output formats: a connection's keys, its
 * TLS check, and its end (the kernel's close with late records joined, and
 * the verdict stage's conclusions). The formats see these types only. */
#ifndef TV_REPORT_H
#define TV_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "record.h"
#include "tls_hello.h"

/* A connection as the formats see it. */
struct conn_ref {
	uint64_t cookie;
	struct tv_conn id;    /* latest: pid and comm arrive once the owner is known */
	uint64_t first_ts_ns; /* first sight; timelines count from here */
};

enum tv_closed_by {
	TV_CLOSED_LOCAL = 0,
	TV_CLOSED_REMOTE,
	TV_CLOSED_RESET_SENT,
	TV_CLOSED_RESET_RECEIVED,
	TV_CLOSED_NEVER_ESTABLISHED,
};

/* ---- TLS checks ---- */

#define TV_DAY_S 86400 /* seconds a day: certificate ages and expiries */
#define TLS_MAX_CHAIN 10
#define TLS_MAX_ERRORS 16

enum tls_sni_source { TLS_SNI_CLIENT_HELLO = 0, TLS_SNI_OPTION, TLS_SNI_NONE };

enum tls_result_kind {
	TLS_RESULT_OK = 0,
	TLS_RESULT_VERIFY_FAILED,
	TLS_RESULT_HANDSHAKE_FAILED,
	TLS_RESULT_TIMEOUT,
	TLS_RESULT_REFUSED,
	TLS_RESULT_NOT_TLS,
	TLS_RESULT_ERROR, /* could not check: namespace gone, no memory, ... */
};

struct tls_cert {
	char subject[256];
	char issuer[256];
	char serial[80];
	int64_t not_before, not_after; /* Unix seconds */
	char sha256[65];
	bool self_signed;
};

struct tls_verify_error {
	int depth;
	int code; /* OpenSSL's X509_V_ERR_* */
	char text[128];
};

/* One check of a server, as an expert would run it by hand. */
struct tls_report {
	char server_name[TV_SNI_MAX + 1]; /* the name sent and verified; empty: none */
	enum tls_result_kind result;
	char version[16];
	char cipher[64];
	struct tls_verify_error errors[TLS_MAX_ERRORS];
	int nerrors;
	bool hostname_match;
	struct tls_cert chain[TLS_MAX_CHAIN]; /* as the server sent it */
	int nchain;
	struct tls_cert verified[TLS_MAX_CHAIN];
	int nverified; /* 0 and has_verified false unless verification succeeded */
	bool has_verified;
	bool has_alert;
	char alert_side[12]; /* "received" (from the server) or "sent" */
	char alert[64];
	char error[200];
	double duration_ms;
};

/* What a connection's close says about its TLS server. */
struct tls_summary {
	bool present;
	enum tls_result_kind result;
	char server_name[TV_SNI_MAX + 1]; /* empty: none */
	int64_t earliest_expiry;          /* Unix seconds over the sent chain; 0: none */
	/* the verification errors, by what they mean (tls_report_classify) */
	bool expired, not_yet_valid, hostname_mismatch, untrusted;
	char first_error[128]; /* the first error that is none of those, as OpenSSL says it */
	char alert[64];        /* a handshake failure's alert, if any */
};

/* What the kernel's socket table (sock_diag) says about an open connection now. */
struct sock_snapshot {
	uint8_t state;          /* kernel TCP_* number */
	uint64_t bytes_sent;    /* 0 where the kernel has no such counter */
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint32_t total_retrans;
	uint32_t rtt_us, rttvar_us;
	uint32_t unacked;       /* segments sent and not acknowledged */
	uint32_t send_queue;    /* bytes not yet acknowledged by the peer */
	uint32_t recv_queue;    /* bytes received and not yet read by the application */
	uint32_t inode;
};

/* ---- what happened to a connection, as the collector saw it ---- */

/* Facts gathered from a connection's records as they pass: the close carries
 * the kernel's totals, these say how they came about. */
#define TV_FACT_DROPS 4

struct timeout_run {
	uint32_t n;           /* timeouts in a row without progress */
	uint64_t first_ns, last_ns;
	bool full_size;       /* every one resent a segment of a full MSS */
	uint64_t acked;       /* bytes the peer had acknowledged when it began */
	uint32_t mss;
};

struct conn_facts {
	uint32_t segs[TV_RETRANS_SYNACK + 1]; /* retransmitted segments by enum tv_retrans_kind */
	uint32_t timeouts;     /* retransmission timeouts of data */
	uint32_t syn_timeouts; /* of the SYN */
	struct timeout_run run, longest; /* the current run, and the longest one */
	bool established;      /* an open record or a state change said so */
	int error;             /* the last error the kernel reported (positive errno), 0: none */
	uint32_t resets_sent, resets_received;
	/* the first reset each way: valid while its count is not 0 */
	uint8_t reset_received_state;
	uint8_t reset_sent_state;
	uint32_t reset_sent_reason; /* TV_REASON_UNKNOWN if the kernel gives none */
	uint32_t late_resets_sent, late_resets_received; /* after the close */
	uint32_t ofo, dup, dupacks; /* segments, as the records count them */
	uint64_t ofo_bytes;         /* payload of the out-of-order segments */
	struct {
		uint32_t reason;
		uint32_t count;
	} drops[TV_FACT_DROPS];
	uint32_t ndrops;       /* entries in drops */
	uint32_t drops_other;  /* drops of further reasons */
	/* zero windows by enum tv_window_side, as their records tell them */
	struct zero_windows {
		uint32_t n;          /* times it closed */
		uint64_t closed_ns;  /* time closed, of the episodes that ended */
		uint64_t longest_ns; /* the longest that ended */
		uint64_t since_ns;   /* closed now, since then; 0: open */
		uint32_t probes;     /* peer: persist probes sent into it */
	} zw[2];
	/* TLS alerts by enum tv_reset_side (sent 0, received 1) */
	uint32_t alerts[2], alerts_encrypted[2];
	bool has_alert;          /* the first plaintext alert that is not close_notify: */
	uint8_t alert_side, alert_level, alert_description;
};

/* ---- verdicts: why a connection went wrong ---- */

/* In the order they are written: causes first, consequences after. */
enum tv_verdict {
	TV_V_REFUSED = 0,
	TV_V_UNREACHABLE,
	TV_V_CONNECT_TIMEOUT,
	TV_V_CONNECT_ABANDONED,
	TV_V_SYN_LOSS,
	TV_V_PATH_MTU_BLACKHOLE,
	TV_V_RTO_STALL,
	TV_V_LOSS,
	TV_V_REORDERING,
	TV_V_ZERO_WINDOW,
	TV_V_RECEIVER_STALL,
	TV_V_TLS_ALERT,
	TV_V_PEER_ABORT_MID_TRANSFER,
	TV_V_PEER_RESET,
	TV_V_LOCAL_RESET,
	TV_V_KERNEL_DROP,
	TV_V_TLS_EXPIRED,
	TV_V_TLS_NOT_YET_VALID,
	TV_V_TLS_EXPIRING_SOON,
	TV_V_TLS_UNTRUSTED,
	TV_V_TLS_HOSTNAME_MISMATCH,
	TV_V_TLS_HANDSHAKE_FAILED,
	TV_V_TLS_TIMEOUT,
	TV_V_COUNT,
};
_Static_assert(TV_V_COUNT <= 32, "verdicts are bits of a uint32_t");

#define TV_EVIDENCE_MAX 240

/* No bit set: healthy. */
struct verdicts {
	uint32_t set; /* 1 << enum tv_verdict */
	char evidence[TV_V_COUNT][TV_EVIDENCE_MAX];
};

const char *verdict_name(enum tv_verdict v);
/* Retransmitted segments and drops, as the records counted them. */
uint32_t conn_facts_retrans(const struct conn_facts *f);
uint32_t conn_facts_drops(const struct conn_facts *f);
/* Time a window was closed, an episode still open at end_ns counted until then. */
uint64_t zero_windows_closed_ns(const struct zero_windows *z, uint64_t end_ns);
#define VERDICT_HEALTHY_TEXT "no loss, stall, reset, drop or TLS problem seen"

/* ---- the end of a connection ---- */

struct conn_end {
	bool closed;   /* the kernel closed it; false: still open when tracing stopped, or evicted */
	bool evicted;  /* reported early: the connection table was full */
	bool anomalous;
	enum tv_closed_by closed_by;  /* when closed */
	struct tv_rec_close close;    /* when closed: the kernel's counters with late records joined,
				       * and its history (close.hist) */
	bool history_live;            /* that history already came as state and open events */
	struct tls_summary tls;
	bool has_snapshot;            /* still open: the socket table's view at the end */
	struct sock_snapshot snapshot;
	uint64_t end_ns;              /* still open: when tracing stopped */
	struct conn_facts facts;
	int error;                    /* the errno it ended with (or the last reported), 0: none */
	struct verdicts verdicts;     /* last: conn_end_build leaves the evidence unzeroed */
};

/*
 * A connection's counts as its record reports them: when closed, the close
 * record's (the kernel's counters, with late records joined); still open,
 * the records' so far, and the socket table's view at the end where it has
 * one (its retransmissions, where higher, and its bytes). The record, the
 * verdict, the summaries and metrics, and the endpoints all count from these.
 */
struct conn_counts {
	uint32_t retrans, ofo, dup, dupacks, resets_sent, resets_received, drops;
	uint32_t zero_windows[2]; /* TV_WINDOW_PEER, TV_WINDOW_LOCAL */
	bool has_bytes;           /* closed, or a socket table's view */
	uint64_t bytes_sent, bytes_received;
};
void conn_end_counts(const struct conn_end *e, struct conn_counts *c);
const char *closed_by_name(enum tv_closed_by c);
const char *tls_result_name(enum tls_result_kind r);
const char *tls_sni_source_name(enum tls_sni_source s);
/* What a check's verification errors mean, for the connection's summary:
 * expired, not yet valid, the wrong name, or not trusted for another reason. */
void tls_report_classify(const struct tls_report *r, struct tls_summary *s);
/* Earliest not_after over n certificates, 0 if none. */
int64_t tls_earliest_expiry(const struct tls_cert *certs, int n);

#endif
