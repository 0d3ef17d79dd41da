/*
 * The verdict rules. Each reads the same few numbers (struct view), taken
 * from the kernel's close when there is one, else from the socket table's
 * view at the end and the records seen, and writes its evidence as one
 * sentence with the numbers behind it. README "Verdicts" gives each rule's
 * reason; keep the two in step.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "output.h"
#include "verdict.h"

/* Resets decide over FINs: a reset ends the connection whoever sent the
 * first FIN; late resets (after the kernel's destroy) are already counted. */
static enum tv_closed_by closed_by(const struct tv_rec_close *cl)
{
	if (!cl->hist.established)
		return TV_CLOSED_NEVER_ESTABLISHED;
	if (cl->resets_received)
		return TV_CLOSED_RESET_RECEIVED;
	if (cl->resets_sent)
		return TV_CLOSED_RESET_SENT;
	return cl->closer == TV_CLOSER_REMOTE ? TV_CLOSED_REMOTE : TV_CLOSED_LOCAL;
}

/* The numbers the rules read, whether the connection closed or not. */
struct view {
	bool closed, established;
	uint8_t state;        /* last state before CLOSE, or the state now */
	uint64_t duration_ns; /* first sight to close (or to the end of tracing); 0: unknown */
	uint32_t retrans;     /* segments, SYNs included */
	uint32_t syn_retrans; /* of them before the handshake completed */
	uint32_t dsack;       /* retransmissions the peer proved spurious */
	uint32_t ofo, dup, dupacks;
	uint32_t resets_sent, resets_received;
	uint32_t timeouts;    /* of data */
	uint64_t unacked;     /* data bytes sent and not acknowledged at the end */
	uint64_t bytes_sent, bytes_received;
	int error;            /* the errno it ended with, or the last one reported */
	struct {
		uint32_t n;          /* times it closed */
		uint64_t closed_ns;  /* in all, an episode still open counted until the end */
		bool still_closed;   /* at the close, or when tracing stopped */
		uint32_t probes;     /* peer: persist probes sent */
	} zw[2];              /* by enum tv_window_side */
};

/* Segments in so many bytes, at the MSS of an Ethernet path with timestamps:
 * only the thresholds below use it, and they need the order of magnitude. */
#define TYPICAL_MSS 1448
#define SEGS_OF(bytes) ((bytes) / TYPICAL_MSS)

/* bytes_acked counts the SYN and a FIN as one byte each (`ss -ti` shows it
 * too); bytes_sent counts retransmitted bytes again. */
static uint64_t unacked_bytes(uint64_t sent, uint64_t retrans, uint64_t acked)
{
	uint64_t unique = sent > retrans ? sent - retrans : 0;
	uint64_t acked_data = acked > 0 ? acked - 1 : 0;

	return unique > acked_data + 1 ? unique - acked_data - 1 : 0; /* the FIN may be acked or not */
}

static void view_of(const struct conn_end *e, const struct conn_ref *ref, struct view *x)
{
	const struct conn_facts *f = &e->facts;
	struct conn_counts n;

	conn_end_counts(e, &n);
	memset(x, 0, sizeof(*x));
	x->closed = e->closed;
	x->timeouts = f->timeouts;
	x->ofo = n.ofo;
	x->dup = n.dup;
	x->dupacks = n.dupacks;
	x->resets_sent = n.resets_sent;
	x->resets_received = n.resets_received;
	x->syn_retrans = f->segs[TV_RETRANS_SYN] + f->segs[TV_RETRANS_SYNACK];
	x->retrans = n.retrans;
	x->bytes_sent = n.bytes_sent;
	x->bytes_received = n.bytes_received;
	x->established = f->established;
	x->error = f->error;
	if (e->closed) {
		const struct tv_rec_close *cl = &e->close;

		x->established = cl->hist.established;
		x->state = cl->last_state;
		x->duration_ns = cl->hdr.ts_ns > cl->hist.start_ns ? cl->hdr.ts_ns - cl->hist.start_ns : 0;
		if (cl->hist.established)
			x->syn_retrans = cl->hist.syn_retrans;
		x->dsack = cl->dsack;
		/* records lost on the way: the kernel's count of timeouts (SYNs included) */
		if (cl->rto > f->timeouts + f->syn_timeouts)
			x->timeouts = cl->rto - f->syn_timeouts;
		x->unacked = unacked_bytes(cl->bytes_sent, cl->bytes_retrans, cl->bytes_acked);
		/* the error it ended with: the report may have come with none, or
		 * not at all where the tracepoint is missing */
		if (cl->error)
			x->error = cl->error;
	} else if (e->has_snapshot) {
		const struct sock_snapshot *s = &e->snapshot;

		x->state = s->state;
		x->established |= s->state != TCP_SYN_SENT && s->state != TCP_SYN_RECV;
		x->unacked = s->send_queue;
	}
	if (!e->closed && e->end_ns > ref->first_ts_ns)
		x->duration_ns = e->end_ns - ref->first_ts_ns;
	for (int s = TV_WINDOW_PEER; s <= TV_WINDOW_LOCAL; s++) {
		const struct zero_windows *z = &f->zw[s];

		x->zw[s].n = n.zero_windows[s];
		x->zw[s].probes = z->probes;
		x->zw[s].still_closed = z->since_ns != 0;
		x->zw[s].closed_ns = zero_windows_closed_ns(z, e->end_ns);
	}
	if (e->closed) { /* the kernel's count: records may have been lost */
		const struct tv_rec_close *cl = &e->close;

		x->zw[TV_WINDOW_PEER].closed_ns = cl->zw_peer_ns;
		x->zw[TV_WINDOW_PEER].probes = cl->zw_probes;
		x->zw[TV_WINDOW_PEER].still_closed = cl->zw_closed & TV_ZW_PEER;
		x->zw[TV_WINDOW_LOCAL].closed_ns = cl->zw_local_ns;
		x->zw[TV_WINDOW_LOCAL].still_closed = cl->zw_closed & TV_ZW_LOCAL;
	}
}

/* ---- evidence ---- */

/* Appends to a verdict's evidence. */
static void add(struct verdicts *v, enum tv_verdict k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct verdicts *v, enum tv_verdict k, const char *fmt, ...)
{
	size_t n = strlen(v->evidence[k]);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->evidence[k] + n, sizeof(v->evidence[k]) - n, fmt, ap);
	va_end(ap);
}

/* Gives a verdict, its evidence to follow with add(). */
#define say(v, k, ...)                                \
	do {                                          \
		(v)->set |= 1u << (k);                \
		(v)->evidence[k][0] = '\0';           \
		add(v, k, __VA_ARGS__);               \
	} while (0)

static bool has(const struct verdicts *v, enum tv_verdict k)
{
	return v->set & (1u << k);
}

/* "850 ms", "3.2 s" */
static const char *dur(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000000000ULL)
		snprintf(buf, len, "%.0f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.1f s", ns / 1e9);
	return buf;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- the rules ---- */

/* Errors that an ICMP message (or a local route) turns into. */
static bool is_unreachable(int err)
{
	switch (err) {
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case ENONET:
	case EPROTO:
	case EMSGSIZE:
		return true;
	}
	return false;
}

static void judge_connect(struct verdicts *v, const struct view *x, const struct conn_facts *f,
			  const struct tv_conn *id)
{
	char d[32];

	bool reset = f->resets_received && f->reset_received_state == TCP_SYN_SENT;

	if (x->error == ECONNREFUSED || reset) {
		if (reset)
			say(v, TV_V_REFUSED, "the server answered the SYN with a reset: nothing listens on "
					     "port %u there, or a firewall rejects the connection", id->dport);
		else
			say(v, TV_V_REFUSED, "an ICMP port unreachable refused the connection (ECONNREFUSED) "
					     "without a reset: a firewall on the way rejects it");
		return;
	}
	if (is_unreachable(x->error)) {
		say(v, TV_V_UNREACHABLE, "an ICMP error ended the connection before it was established: "
					 "%s (%s)", errno_name(x->error), strerror(x->error));
		return;
	}
	if (x->error == ETIMEDOUT || x->retrans > 0 || f->syn_timeouts > 0) {
		uint32_t sent = 1 + (x->retrans > f->syn_timeouts ? x->retrans : f->syn_timeouts);

		say(v, TV_V_CONNECT_TIMEOUT, "no answer to the SYN: sent %u times over %s", sent,
		    dur(x->duration_ns, d, sizeof(d)));
		if (x->error == ETIMEDOUT)
			add(v, TV_V_CONNECT_TIMEOUT, "; the kernel gave up (ETIMEDOUT)");
		else if (x->closed)
			add(v, TV_V_CONNECT_TIMEOUT, "; the application gave up");
		else
			add(v, TV_V_CONNECT_TIMEOUT, "; still waiting when tracing stopped");
		return;
	}
	if (x->closed)
		say(v, TV_V_CONNECT_ABANDONED, "the application closed it %s after connect, before any "
					       "answer and before the SYN was due again",
		    dur(x->duration_ns, d, sizeof(d)));
}

static void judge_timeouts(struct verdicts *v, const struct view *x, const struct conn_facts *f)
{
	const struct timeout_run *run = &f->longest;
	uint64_t acked_data = run->acked > 0 ? run->acked - 1 : 0; /* the SYN counts one */
	char d[32];

	/* small segments got through, then nothing of full size ever did */
	if (run->n >= 2 && run->full_size && run->mss && acked_data > 0 && acked_data < run->mss &&
	    x->unacked > 0) {
		say(v, TV_V_PATH_MTU_BLACKHOLE,
		    "%" PRIu64 " bytes got through in small segments, then %u timeouts in a row resent "
		    "full-size segments (MSS %u) over %s and none was acknowledged: a path MTU black hole "
		    "(packets of full size lost, and the ICMP that would say so too)",
		    acked_data, run->n, run->mss, dur(run->last_ns - run->first_ns, d, sizeof(d)));
		return;
	}
	if (!x->timeouts)
		return;
	say(v, TV_V_RTO_STALL, "%u retransmission timeout%s", x->timeouts, plural(x->timeouts));
	if (run->n >= 2)
		add(v, TV_V_RTO_STALL, "; the longest stall: %u in a row, %s from the first to the last",
		    run->n, dur(run->last_ns - run->first_ns, d, sizeof(d)));
	else if (run->n == 1)
		add(v, TV_V_RTO_STALL, ", each repaired by its first retransmission");
	if (x->error == ETIMEDOUT)
		add(v, TV_V_RTO_STALL, "; the kernel gave up on the connection (ETIMEDOUT)");
}

/*
 * Loss: retransmissions of data that the peer did not prove spurious, more
 * than 2% of the segments sent (one tail-loss probe forgiven: a probe is how
 * TCP asks after a quiet tail, and a delayed ACK is reason enough). Below 2%
 * fast retransmission repairs loss without a stall (timeouts are rto_stall),
 * and a busy host's own reordering reaches that far, D-SACK not proving
 * every case spurious. Or gaps in the incoming stream whose
 * out-of-order data passes 5% of the bytes received: a gap the original
 * fills late is reordering, which a receiver cannot tell from loss (the
 * sender can, by D-SACK), and a busy host reorders a little on its own.
 * Reordering: spurious retransmissions beyond 2% of the segments sent, with
 * no other sign of loss; below that it costs little, and RACK widens its
 * reordering window after each.
 */
#define LOSS_PERCENT 2
#define GAPS_PERCENT 5
#define SPURIOUS_PERCENT 2
#define SPURIOUS_MIN 3 /* a segment or two reordered is routine on any path */
static void judge_loss(struct verdicts *v, const struct view *x, const struct conn_facts *f)
{
	uint32_t data = x->retrans > x->syn_retrans ? x->retrans - x->syn_retrans : 0;
	uint32_t spurious = x->dsack < data ? x->dsack : data;
	uint32_t unproven = data - spurious;
	uint32_t forgiven = f->segs[TV_RETRANS_TLP] ? 1 : 0;

	if (has(v, TV_V_PATH_MTU_BLACKHOLE))
		return; /* its retransmissions are the black hole's */
	if (unproven > forgiven && unproven > SEGS_OF(x->bytes_sent) * LOSS_PERCENT / 100) {
		say(v, TV_V_LOSS, "this side retransmitted %u segment%s (%u fast, %u after timeouts, %u tail "
				  "probes)", data, plural(data), f->segs[TV_RETRANS_FAST],
		    f->segs[TV_RETRANS_RTO], f->segs[TV_RETRANS_TLP]);
		if (spurious)
			add(v, TV_V_LOSS, ", %u proven spurious by D-SACK", spurious);
		if (x->dupacks)
			add(v, TV_V_LOSS, "; %u duplicate ACK%s received", x->dupacks, plural(x->dupacks));
	}
	if (x->ofo && f->ofo_bytes * 100 > x->bytes_received * GAPS_PERCENT) {
		if (!has(v, TV_V_LOSS))
			say(v, TV_V_LOSS, "the incoming stream had gaps: %u segment%s arrived out of order", x->ofo,
			    plural(x->ofo));
		else
			add(v, TV_V_LOSS, "; the incoming stream had gaps: %u segment%s out of order", x->ofo,
			    plural(x->ofo));
		if (x->dup)
			add(v, TV_V_LOSS, ", %u arrived twice", x->dup);
	}
	/* the forgiven probe may be the spurious one: a delayed ACK, not reordering */
	if (!has(v, TV_V_LOSS) && spurious >= forgiven + SPURIOUS_MIN &&
	    spurious - forgiven > SEGS_OF(x->bytes_sent) * SPURIOUS_PERCENT / 100)
		say(v, TV_V_REORDERING, "all %u retransmitted segment%s were proven spurious by the peer's "
					"D-SACK: segments were reordered or delayed on the way, not lost",
		    data, plural(data));
}

static const char *reset_reason_text(const char *reason)
{
	static const struct {
		const char *name, *text;
	} texts[] = {
		{ "tcp_abort_on_close", "the application closed it with received data unread" },
		{ "tcp_abort_on_data", "data arrived after the application had closed it" },
		{ "tcp_abort_on_linger", "the application closed it with SO_LINGER set to 0" },
		{ "tcp_abort_on_memory", "the host ran out of TCP memory" },
		{ "tcp_keepalive_timeout", "keepalive probes went unanswered" },
		{ "tcp_disconnect_with_data", "the application disconnected it with data unsent" },
		{ "no_socket", "a segment arrived for a connection this host no longer has" },
		{ "tcp_timewait_socket", "a segment arrived for a connection in TIME_WAIT" },
		{ "tcp_state", "a segment arrived that its state does not allow" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!strcmp(reason, texts[i].name))
			return texts[i].text;
	return NULL;
}

static void judge_ends(struct verdicts *v, const struct view *x, const struct conn_facts *f,
		       const struct conn_end *e, const struct verdict_opts *o)
{
	bool peer_ended = e->closed ? e->closed_by == TV_CLOSED_REMOTE || e->closed_by == TV_CLOSED_RESET_RECEIVED
				    : f->resets_received || x->state == TCP_CLOSE_WAIT;
	/* this side's data after the peer's FIN, answered with resets */
	bool sending_after_fin = f->resets_received &&
				 (f->reset_received_state == TCP_CLOSE_WAIT || f->reset_received_state == TCP_LAST_ACK ||
				  f->reset_received_state == TCP_CLOSE);
	char d[32];

	if (peer_ended && (x->unacked > 0 || sending_after_fin)) {
		say(v, TV_V_PEER_ABORT_MID_TRANSFER, "the peer %s",
		    e->closed_by == TV_CLOSED_RESET_RECEIVED || f->resets_received ? "reset the connection"
										 : "closed the connection");
		if (x->unacked > 0)
			add(v, TV_V_PEER_ABORT_MID_TRANSFER, " with %" PRIu64 " bytes from this side unacknowledged",
			    x->unacked);
		if (sending_after_fin)
			add(v, TV_V_PEER_ABORT_MID_TRANSFER, "%s this side still sending after its FIN",
			    x->unacked > 0 ? " and" : " while");
	}
	if (x->resets_received) {
		say(v, TV_V_PEER_RESET, "the peer reset the connection");
		if (f->resets_received)
			add(v, TV_V_PEER_RESET, " in %s", tcp_state_name(f->reset_received_state));
		if (x->duration_ns)
			add(v, TV_V_PEER_RESET, ", %s after it began", dur(x->duration_ns, d, sizeof(d)));
		if (x->resets_received > 1)
			add(v, TV_V_PEER_RESET, "; %u resets in all", x->resets_received);
		if (f->late_resets_received)
			add(v, TV_V_PEER_RESET, "; the peer answered %u more segment%s with resets after this side's "
						"socket was gone", f->late_resets_received, plural(f->late_resets_received));
	}
	if (x->resets_sent) {
		const char *reason = f->resets_sent && f->reset_sent_reason != TV_REASON_UNKNOWN && o->names
					     ? reset_reason_name(o->names, f->reset_sent_reason)
					     : NULL;
		const char *why = reason ? reset_reason_text(reason) : NULL;

		say(v, TV_V_LOCAL_RESET, "this host reset the connection");
		if (f->resets_sent)
			add(v, TV_V_LOCAL_RESET, " in %s", tcp_state_name(f->reset_sent_state));
		if (reason)
			add(v, TV_V_LOCAL_RESET, " (reason %s%s%s)", reason, why ? ": " : "", why ? why : "");
		if (x->resets_sent > 1)
			add(v, TV_V_LOCAL_RESET, "; %u resets in all", x->resets_sent);
		if (f->late_resets_sent)
			add(v, TV_V_LOCAL_RESET, "; this host answered %u more segment%s for it with resets after its "
						 "socket was gone", f->late_resets_sent, plural(f->late_resets_sent));
	}
	if (x->established && is_unreachable(x->error))
		say(v, TV_V_UNREACHABLE, "an ICMP error ended the connection: %s (%s)", errno_name(x->error),
		    strerror(x->error));
}

/*
 * Zero windows. A window closed for less than TCP's minimum retransmission
 * timeout (200 ms) is flow control at work: the sender never had to probe.
 * Longer, or still closed at the end, the receiving application is what
 * holds the connection up. This host's side also shows in drops for a full
 * receive buffer, which the peer's data met.
 */
#define ZW_STALL_NS 200000000ULL

static bool drop_is_full_receiver(const char *reason)
{
	return !strcmp(reason, "tcp_zerowindow") || !strcmp(reason, "socket_rcvbuff") ||
	       !strcmp(reason, "socket_backlog") || !strcmp(reason, "proto_mem");
}

static const char *drop_name(const struct verdict_opts *o, uint32_t reason)
{
	return reason == TV_REASON_UNKNOWN || !o->names ? "unknown" : drop_reason_name(o->names, reason);
}

static void judge_windows(struct verdicts *v, const struct view *x, const struct conn_facts *f,
			  const struct verdict_opts *o)
{
	uint32_t full = 0;
	char d[32], list[120] = "";
	size_t n = 0;

	for (int s = TV_WINDOW_PEER; s <= TV_WINDOW_LOCAL; s++) {
		enum tv_verdict k = s == TV_WINDOW_PEER ? TV_V_ZERO_WINDOW : TV_V_RECEIVER_STALL;
		uint64_t longest = f->zw[s].longest_ns;

		if (!x->zw[s].n || (x->zw[s].closed_ns < ZW_STALL_NS && !x->zw[s].still_closed))
			continue;
		if (x->zw[s].still_closed && f->zw[s].since_ns && x->duration_ns)
			longest = 0; /* the open one may be the longest: say only the total */
		say(v, k, "%s %u time%s, %s in all", s == TV_WINDOW_PEER ? "the peer's receive window was zero"
									 : "this host advertised a zero window",
		    x->zw[s].n, plural(x->zw[s].n), dur(x->zw[s].closed_ns, d, sizeof(d)));
		if (x->zw[s].n > 1 && longest)
			add(v, k, " (the longest %s)", dur(longest, d, sizeof(d)));
		if (x->zw[s].still_closed)
			add(v, k, ", still zero %s", x->closed ? "at the close" : "when tracing stopped");
		if (s == TV_WINDOW_PEER && x->zw[s].probes)
			add(v, k, "; this side sent %u persist probe%s", x->zw[s].probes, plural(x->zw[s].probes));
		add(v, k, s == TV_WINDOW_PEER ? ": the peer's application did not read what this side sent"
					      : ": the application on this host did not read what arrived");
	}
	for (uint32_t i = 0; i < f->ndrops; i++) {
		const char *name = drop_name(o, f->drops[i].reason);

		if (!drop_is_full_receiver(name))
			continue;
		full += f->drops[i].count;
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s %u", n ? ", " : "",
				      name, f->drops[i].count);
	}
	if (!full)
		return;
	if (!has(v, TV_V_RECEIVER_STALL))
		say(v, TV_V_RECEIVER_STALL, "the kernel dropped %u arriving segment%s for a full receive buffer (%s): "
					    "the application on this host did not read fast enough", full, plural(full), list);
	else
		add(v, TV_V_RECEIVER_STALL, "; the kernel dropped %u arriving segment%s for a full receive buffer (%s)",
		    full, plural(full), list);
}

/* Alerts whose description says a certificate was refused. */
static bool alert_rejects_certificate(uint8_t d)
{
	return (d >= 42 && d <= 46) || d == 48 || d == 116;
}

/*
 * TLS alerts: a plaintext fatal alert either way (in the handshake, or any
 * alert before encryption); or an encrypted alert (TLS 1.2 and earlier) from
 * the peer that then reset the connection, or ended it while this side was
 * still sending or had data unacknowledged: alone, an encrypted alert is
 * most often the close_notify of an orderly end, and its level cannot be read.
 */
static void judge_alert(struct verdicts *v, const struct conn_facts *f)
{
	if (f->has_alert && f->alert_level == TV_TLS_FATAL) {
		const char *name = tls_alert_name(f->alert_description);

		say(v, TV_V_TLS_ALERT, "%s the fatal TLS alert %s (%u)", f->alert_side == 0 ? "this side sent" : "the peer sent",
		    name ? name : "unknown", f->alert_description);
		if (f->alert_side == 0 && alert_rejects_certificate(f->alert_description))
			add(v, TV_V_TLS_ALERT, ": it rejected the peer's certificate");
		else if (f->alert_side == 1 && alert_rejects_certificate(f->alert_description))
			add(v, TV_V_TLS_ALERT, ": the peer rejected this side's certificate, or its lack of one");
		return;
	}
	if (f->alerts_encrypted[1] && has(v, TV_V_PEER_ABORT_MID_TRANSFER))
		say(v, TV_V_TLS_ALERT, "the peer sent an encrypted TLS alert (its level and description are not "
				       "readable) and ended the connection while this side was still sending");
	else if (f->alerts_encrypted[1] && has(v, TV_V_PEER_RESET))
		say(v, TV_V_TLS_ALERT, "the peer sent an encrypted TLS alert (its level and description are not "
				       "readable) and then reset the connection");
	else if (f->alerts_encrypted[0] && f->resets_sent)
		say(v, TV_V_TLS_ALERT, "this side sent an encrypted TLS alert (its level and description are not "
				       "readable), then reset the connection");
}

bool verdict_drop_counts(const char *reason)
{
	static const char *const normal[] = {
		/* a duplicate the peer resent (counted as dup_segs, or already
		 * waiting in the out-of-order queue) */
		"tcp_old_data", "tcp_old_sequence", "tcp_ofomerge",
		/* what a reset does: the segment that made this host reset, and
		 * those that reach a socket the reset closed (the reset verdicts) */
		"tcp_abort_on_data", "tcp_close",
	};

	if (drop_is_full_receiver(reason)) /* receiver_stall says so */
		return false;

	for (size_t i = 0; i < sizeof(normal) / sizeof(normal[0]); i++)
		if (!strcmp(reason, normal[i]))
			return false;
	return true;
}

static void judge_drops(struct verdicts *v, const struct conn_facts *f, const struct verdict_opts *o)
{
	uint32_t total = f->drops_other;
	char list[160] = "";
	size_t n = 0;

	for (uint32_t i = 0; i < f->ndrops; i++) {
		const char *name = drop_name(o, f->drops[i].reason);

		if (!verdict_drop_counts(name))
			continue;
		total += f->drops[i].count;
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s %u",
				      n ? ", " : "", name, f->drops[i].count);
	}
	if (!total)
		return;
	say(v, TV_V_KERNEL_DROP, "the kernel dropped %u segment%s of this connection: %s%s", total, plural(total), list,
	    f->drops_other ? ", other reasons" : "");
}

static void judge_tls(struct verdicts *v, const struct tls_summary *t, const struct verdict_opts *o)
{
	const char *name = t->server_name[0] ? t->server_name : "the server's address";
	char date[32];

	if (!t->present)
		return;
	switch (t->result) {
	case TLS_RESULT_HANDSHAKE_FAILED:
		say(v, TV_V_TLS_HANDSHAKE_FAILED, "the TLS handshake with %s failed", name);
		if (t->alert[0])
			add(v, TV_V_TLS_HANDSHAKE_FAILED, ": alert %s", t->alert);
		return;
	case TLS_RESULT_TIMEOUT:
		say(v, TV_V_TLS_TIMEOUT, "the TLS check of %s got no answer in time", name);
		return;
	case TLS_RESULT_OK:
	case TLS_RESULT_VERIFY_FAILED:
		break;
	default:
		return; /* refused, not TLS, or no check could run: nothing to say of the certificate */
	}
	if (t->expired) {
		format_date(t->earliest_expiry, false, date, sizeof(date));
		say(v, TV_V_TLS_EXPIRED, "a certificate %s sent has expired (the earliest on %s)", name, date);
	}
	if (t->not_yet_valid)
		say(v, TV_V_TLS_NOT_YET_VALID, "a certificate %s sent is not valid yet (or this host's clock is "
					       "behind)", name);
	if (t->hostname_mismatch)
		say(v, TV_V_TLS_HOSTNAME_MISMATCH, "the certificate does not name %s", name);
	if (t->untrusted)
		say(v, TV_V_TLS_UNTRUSTED, "the chain %s sent does not verify: %s", name, t->first_error);
	if (t->result == TLS_RESULT_OK && t->earliest_expiry > o->now_unix &&
	    t->earliest_expiry - o->now_unix < (int64_t)o->tls_warn_days * TV_DAY_S) {
		int64_t days = (t->earliest_expiry - o->now_unix) / TV_DAY_S;

		format_date(t->earliest_expiry, false, date, sizeof(date));
		say(v, TV_V_TLS_EXPIRING_SOON, "a certificate %s sent expires on %s, in %" PRId64 " day%s "
					       "(warning from %d days)",
		    name, date, days, plural((uint64_t)days), o->tls_warn_days);
	}
}

void verdict_judge(struct conn_end *e, const struct conn_ref *ref, bool saw_anomaly,
		   const struct verdict_opts *o)
{
	struct verdicts *v = &e->verdicts;
	const struct conn_facts *f = &e->facts;
	struct view x;
	char d[32];

	if (e->closed)
		e->closed_by = closed_by(&e->close);
	view_of(e, ref, &x);
	v->set = 0; /* evidence is read for the verdicts set only */
	e->error = x.error;
	if (!x.established) {
		if (ref->id.dir != TV_DIR_IN)
			judge_connect(v, &x, f, &ref->id);
	} else {
		if (x.syn_retrans)
			say(v, TV_V_SYN_LOSS, "the handshake needed %u %s retransmission%s", x.syn_retrans,
			    ref->id.dir == TV_DIR_IN ? "SYN-ACK" : "SYN", plural(x.syn_retrans));
		if (x.syn_retrans && e->closed && e->close.hist.handshake_us)
			add(v, TV_V_SYN_LOSS, " and took %s", dur(e->close.hist.handshake_us * 1000ULL, d, sizeof(d)));
		judge_timeouts(v, &x, f);
		judge_loss(v, &x, f);
		judge_ends(v, &x, f, e, o);
		judge_windows(v, &x, f, o);
		judge_alert(v, f);
	}
	judge_drops(v, f, o);
	judge_tls(v, &e->tls, o);
	e->anomalous = saw_anomaly || v->set || (e->closed && e->closed_by != TV_CLOSED_LOCAL &&
						 e->closed_by != TV_CLOSED_REMOTE);
}
