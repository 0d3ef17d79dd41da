/* The verdict rules on facts made by hand: each threshold on both sides of
 * its line, and "healthy" alone when nothing is wrong. */
#include <errno.h>
#include <netinet/tcp.h>
#include "unit.h"
#include "verdict.h"

static const struct verdict_opts opts = { .tls_warn_days = 14, .now_unix = 1800000000 };

/* An established outgoing connection that closed normally after 5 MB each way. */
static void clean(struct conn_end *e, struct conn_ref *ref)
{
	memset(e, 0, sizeof(*e));
	memset(ref, 0, sizeof(*ref));
	ref->id.dir = TV_DIR_OUT;
	ref->id.dport = 443;
	e->closed = true;
	e->close.hist.established = 1;
	e->close.hist.start_ns = 1000;
	e->close.hdr.ts_ns = 1000 + 2000000000ULL;
	e->close.last_state = TCP_FIN_WAIT1;
	e->close.bytes_sent = 5000000;
	e->close.bytes_acked = 5000002; /* the SYN and the FIN count one each */
	e->close.bytes_received = 5000001;
	e->facts.established = true;
}

static uint32_t judge(struct conn_end *e, struct conn_ref *ref)
{
	verdict_judge(e, ref, false, &opts);
	return e->verdicts.set;
}

#define BIT(v) (1u << (v))

int main(void)
{
	struct conn_end e;
	struct conn_ref ref;

	clean(&e, &ref);
	CHECK(judge(&e, &ref) == 0, "a clean close is healthy");
	CHECK(!e.anomalous, "and not anomalous");

	clean(&e, &ref);
	e.close.bytes_sent = 20000; /* 13 segments */
	e.close.retrans_segs = 1;
	e.facts.segs[TV_RETRANS_TLP] = 1;
	CHECK(judge(&e, &ref) == 0, "one tail-loss probe is not loss");
	e.close.retrans_segs = 2;
	e.facts.segs[TV_RETRANS_FAST] = 1;
	CHECK(judge(&e, &ref) == BIT(TV_V_LOSS), "a probe and a fast retransmission of 13 segments are loss");
	e.close.dsack = 1;
	CHECK(judge(&e, &ref) == 0, "unless D-SACK proved one spurious");
	e.close.retrans_segs = e.close.dsack = 2;
	e.facts.segs[TV_RETRANS_TLP] = 0;
	e.facts.segs[TV_RETRANS_FAST] = 2;
	CHECK(judge(&e, &ref) == 0, "two spurious retransmissions on a short connection: healthy, not reordering");
	e.close.retrans_segs = e.close.dsack = 3;
	e.facts.segs[TV_RETRANS_FAST] = 3;
	CHECK(judge(&e, &ref) == BIT(TV_V_REORDERING), "three: reordering");

	clean(&e, &ref);
	e.close.retrans_segs = 90; /* of 3453 segments sent, 45 proven spurious: 1.3% unproven */
	e.close.dsack = 45;
	e.facts.segs[TV_RETRANS_FAST] = 90;
	CHECK(judge(&e, &ref) == 0, "1.3% of the segments retransmitted, unproven: healthy");
	e.close.dsack = 0; /* 2.6% */
	CHECK(judge(&e, &ref) == BIT(TV_V_LOSS), "2.6%: loss");

	clean(&e, &ref);
	e.close.retrans_segs = e.close.dsack = 45; /* 1.3% of 3453 segments */
	e.facts.segs[TV_RETRANS_FAST] = 45;
	CHECK(judge(&e, &ref) == 0, "spurious retransmissions of 1.3% of the segments: healthy");
	e.close.retrans_segs = e.close.dsack = 80; /* 2.3% */
	e.facts.segs[TV_RETRANS_FAST] = 80;
	CHECK(judge(&e, &ref) == BIT(TV_V_REORDERING), "of 2.3%: reordering");

	clean(&e, &ref);
	e.close.ofo_segs = e.facts.ofo = 2;
	e.facts.ofo_bytes = 130000; /* 2.6% of what arrived */
	CHECK(judge(&e, &ref) == 0, "out-of-order data of 2.6% of the bytes: healthy");
	e.facts.ofo_bytes = 300000; /* 6% */
	CHECK(judge(&e, &ref) == BIT(TV_V_LOSS), "of 6%: loss");

	clean(&e, &ref);
	e.close.hist.established = 0;
	e.facts.established = false;
	e.facts.resets_received = 1;
	e.facts.reset_received_state = TCP_SYN_SENT;
	e.close.resets_received = 1;
	CHECK(judge(&e, &ref) == BIT(TV_V_REFUSED), "a reset answering the SYN: refused alone");
	CHECK(e.closed_by == TV_CLOSED_NEVER_ESTABLISHED, "never established");

	clean(&e, &ref);
	e.close.hist.established = 0;
	e.facts.established = false;
	e.close.error = EHOSTUNREACH;
	CHECK(judge(&e, &ref) == BIT(TV_V_UNREACHABLE), "EHOSTUNREACH at the close: unreachable");

	clean(&e, &ref);
	e.close.hist.established = 0;
	e.facts.established = false;
	CHECK(judge(&e, &ref) == BIT(TV_V_CONNECT_ABANDONED), "closed in SYN_SENT before a retry: abandoned");
	e.close.retrans_segs = 2;
	CHECK(judge(&e, &ref) == BIT(TV_V_CONNECT_TIMEOUT), "after two SYN retransmissions: connect_timeout");

	clean(&e, &ref);
	e.close.bytes_sent = 300000;
	e.close.bytes_acked = 109;
	e.close.retrans_segs = 4;
	e.close.rto = 4;
	e.facts.timeouts = 4;
	e.facts.longest = (struct timeout_run){ .n = 4, .first_ns = 0, .last_ns = 2900000000ULL,
						 .full_size = true, .acked = 109, .mss = 1448 };
	CHECK(judge(&e, &ref) == BIT(TV_V_PATH_MTU_BLACKHOLE), "full-size timeouts after small data: black hole alone");
	e.facts.longest.acked = 50000; /* full-size segments got through before */
	e.close.retrans_segs = 8;      /* 4% of the 207 segments sent */
	CHECK(judge(&e, &ref) == (BIT(TV_V_RTO_STALL) | BIT(TV_V_LOSS)), "after 50 kB acknowledged: a stall with loss");

	clean(&e, &ref);
	e.close.bytes_acked = 1000001; /* 4 MB unacknowledged */
	e.close.closer = TV_CLOSER_REMOTE;
	e.close.resets_received = 1;
	e.facts.resets_received = 1;
	e.facts.reset_received_state = TCP_ESTABLISHED;
	CHECK(judge(&e, &ref) == (BIT(TV_V_PEER_ABORT_MID_TRANSFER) | BIT(TV_V_PEER_RESET)),
	      "a reset with data unacknowledged: peer_abort_mid_transfer and peer_reset");

	clean(&e, &ref);
	e.tls.present = true;
	e.tls.result = TLS_RESULT_OK;
	e.tls.earliest_expiry = opts.now_unix + 10 * 86400;
	CHECK(judge(&e, &ref) == BIT(TV_V_TLS_EXPIRING_SOON), "a chain expiring in 10 days: tls_expiring_soon");
	e.tls.earliest_expiry = opts.now_unix + 20 * 86400;
	CHECK(judge(&e, &ref) == 0, "in 20 days, warning from 14: healthy");
	e.tls.result = TLS_RESULT_REFUSED;
	CHECK(judge(&e, &ref) == 0, "a check that was refused says nothing about the certificate");

	/* zero windows: the kernel's totals in the close decide, 200 ms the line */
	clean(&e, &ref);
	e.close.zw_peer = 40;
	e.close.zw_peer_ns = 150000000ULL;
	CHECK(judge(&e, &ref) == 0, "the peer's window closed 40 times for 150 ms in all: flow control, healthy");
	e.close.zw_peer_ns = 250000000ULL;
	e.close.zw_probes = 2;
	CHECK(judge(&e, &ref) == BIT(TV_V_ZERO_WINDOW), "for 250 ms: zero_window");
	CHECK_STR(e.verdicts.evidence[TV_V_ZERO_WINDOW],
		  "the peer's receive window was zero 40 times, 250 ms in all; this side sent 2 persist probes: "
		  "the peer's application did not read what this side sent", "zero_window: evidence");
	e.close.zw_peer_ns = 1000000ULL;
	e.close.zw_closed = TV_ZW_PEER;
	CHECK(judge(&e, &ref) == BIT(TV_V_ZERO_WINDOW), "for 1 ms, but still closed at the close: zero_window");
	clean(&e, &ref);
	e.close.zw_local = 1;
	e.close.zw_local_ns = 199000000ULL;
	CHECK(judge(&e, &ref) == 0, "this host's window closed for 199 ms: healthy");
	e.close.zw_local_ns = 1500000000ULL;
	CHECK(judge(&e, &ref) == BIT(TV_V_RECEIVER_STALL), "for 1.5 s: receiver_stall");
	CHECK(strstr(e.verdicts.evidence[TV_V_RECEIVER_STALL], "did not read what arrived") != NULL,
	      "receiver_stall: evidence names the reader");
	clean(&e, &ref);
	e.closed = false;
	e.end_ns = 3000000000ULL;
	e.facts.zw[TV_WINDOW_PEER] = (struct zero_windows){ .n = 1, .since_ns = 2900000000ULL };
	CHECK(judge(&e, &ref) == BIT(TV_V_ZERO_WINDOW), "still open, closed 100 ms before tracing stopped: zero_window");
	CHECK(strstr(e.verdicts.evidence[TV_V_ZERO_WINDOW], "still zero when tracing stopped") != NULL,
	      "and says so");

	/* TLS alerts */
	clean(&e, &ref);
	e.facts.alerts[0] = 1;
	e.facts.has_alert = true;
	e.facts.alert_side = 0;
	e.facts.alert_level = TV_TLS_FATAL;
	e.facts.alert_description = 48;
	CHECK(judge(&e, &ref) == BIT(TV_V_TLS_ALERT), "a fatal alert sent: tls_alert");
	CHECK_STR(e.verdicts.evidence[TV_V_TLS_ALERT],
		  "this side sent the fatal TLS alert unknown_ca (48): it rejected the peer's certificate",
		  "tls_alert: the certificate rejected");
	e.facts.alert_level = TV_TLS_WARNING;
	e.facts.alert_description = 90;
	CHECK(judge(&e, &ref) == 0, "a warning (user_canceled): healthy");
	clean(&e, &ref);
	e.facts.alerts[1] = e.facts.alerts_encrypted[1] = 1;
	CHECK(judge(&e, &ref) == 0, "an encrypted alert from the peer at an orderly end: a close_notify, healthy");
	e.close.bytes_acked = 1000001; /* 4 MB unacknowledged */
	e.close.closer = TV_CLOSER_REMOTE;
	e.close.resets_received = 1;
	e.facts.resets_received = 1;
	e.facts.reset_received_state = TCP_ESTABLISHED;
	CHECK(judge(&e, &ref) == (BIT(TV_V_TLS_ALERT) | BIT(TV_V_PEER_ABORT_MID_TRANSFER) | BIT(TV_V_PEER_RESET)),
	      "followed by the peer's abort mid-transfer: tls_alert too");
	e.close.bytes_acked = 5000002; /* nothing unacknowledged: the reset alone */
	CHECK(judge(&e, &ref) == (BIT(TV_V_TLS_ALERT) | BIT(TV_V_PEER_RESET)),
	      "followed by the peer's reset with nothing unacknowledged: tls_alert too");
	UNIT_EXIT();
}
