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
};

const char *closed_by_name(enum tv_closed_by c);
const char *tls_result_name(enum tls_result_kind r);
const char *tls_sni_source_name(enum tls_sni_source s);
/* Earliest not_after over n certificates, 0 if none. */
int64_t tls_earliest_expiry(const struct tls_cert *certs, int n);

#endif
