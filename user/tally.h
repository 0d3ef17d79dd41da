/*
 * Running totals over the connections the collector reports, for the agent's
 * summaries and the metrics. Every counter is a uint64_t that only grows, so
 * a period's figures are the difference of two copies (tally_diff).
 *
 * A connection is counted once, when it is reported (closed, evicted, or
 * still open when tracing stops), from the same values its close record
 * carries: the summaries add up to the close records of their period.
 */
#ifndef TV_TALLY_H
#define TV_TALLY_H

#include <stdint.h>
#include "report.h"

#define TV_TALLY_REASONS 256 /* drop reasons counted by number; higher ones as other */
#define TV_TLS_ENDS_MAX 64   /* TLS endpoints whose certificate expiry is kept */

struct tally {
	uint64_t closed[3];     /* connections reported, by enum tv_dir */
	uint64_t still_open;    /* of those, still open (tracing stopped, or evicted) */
	uint64_t troubled;      /* with an anomaly or a verdict */
	uint64_t verdicts[TV_V_COUNT];
	uint64_t retrans_segs;  /* the kernel's totals, from the closes */
	uint64_t retrans_kind[TV_RETRANS_SYNACK + 2]; /* by enum tv_retrans_kind; the last: no record said */
	uint64_t ofo_segs, dup_segs, dupacks;
	uint64_t resets_sent, resets_received;
	uint64_t late_resets_sent, late_resets_received;
	uint64_t drops;         /* every drop the kernel counted for a connection */
	uint64_t drop_reason[TV_TALLY_REASONS + 1]; /* by reason, from the records; the last: other */
	uint64_t zero_windows[2]; /* by enum tv_window_side */
	uint64_t tls_alerts[2];   /* sent, received */
	uint64_t errors;          /* connections that ended with an error */
	uint64_t bytes_sent, bytes_received;
	uint64_t tls_checks[TLS_RESULT_ERROR + 1]; /* checks made, by result */
	uint64_t tls_cached;      /* connections that reused a check's result */
};

/* The certificate expiry of the TLS servers checked most recently. */
struct tls_end {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	char server_name[TV_SNI_MAX + 1];
	int64_t earliest_expiry; /* Unix seconds; 0: no certificate */
	enum tls_result_kind result;
	uint64_t seen_ns;
};

struct tls_ends {
	struct tls_end v[TV_TLS_ENDS_MAX];
	uint32_t n;
	uint64_t replaced; /* endpoints pushed out by newer ones */
};

void tally_conn(struct tally *t, const struct conn_end *e, uint8_t dir);
/* out = now - then, counter by counter */
void tally_diff(const struct tally *now, const struct tally *then, struct tally *out);
/* A check's result for the server at id's far end; the oldest endpoint makes room. */
void tls_ends_update(struct tls_ends *te, const struct tv_conn *id, const struct tls_report *r, uint64_t now_ns);

#endif
