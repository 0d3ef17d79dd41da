/* Text: one timeline block per connection, printed when the collector
 * reports it. The format keeps each connection's timeline and TLS line
 * itself, from the first event to conn_end. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cookie_map.h"
#include "output.h"

#define TIMELINE_MAX 256 /* events kept per connection; later ones are counted */

struct timeline {
	struct cookie_node node;
	union tv_record *events;
	uint32_t nevents, cap;
	uint32_t elided; /* events past TIMELINE_MAX */
	char *tls_line;
};

struct text_state {
	struct cookie_map timelines;
	uint32_t reported;     /* endpoint groups printed */
	uint32_t quiet_groups; /* groups left out: all healthy, and no --all */
};

/* --color: verdicts in red, healthy in green, headings in bold. */
#define PAINT_BAD "\033[31m"
#define PAINT_GOOD "\033[32m"
#define PAINT_BOLD "\033[1m"
#define PAINT_END "\033[0m"

static const char *paint(const struct output *o, const char *code)
{
	return o->color ? code : "";
}

static int text_init(struct output *o)
{
	struct text_state *ts = calloc(1, sizeof(*ts));

	if (!ts || cookie_map_init(&ts->timelines, 1024)) {
		free(ts);
		return -1;
	}
	o->priv = ts;
	return 0;
}

static void timeline_free(struct timeline *t)
{
	free(t->events);
	free(t->tls_line);
	free(t);
}

static void text_fini(struct output *o)
{
	struct text_state *ts = o->priv;

	if (!ts)
		return;
	/* the collector ends every connection first; anything left is freed */
	for (size_t i = 0; i <= ts->timelines.mask; i++)
		while (ts->timelines.buckets[i]) {
			struct cookie_node *n = ts->timelines.buckets[i];

			cookie_map_remove(&ts->timelines, n);
			timeline_free((struct timeline *)n);
		}
	cookie_map_free(&ts->timelines);
	free(ts);
	o->priv = NULL;
}

/* The connection's timeline; created on first use, NULL if out of memory. */
static struct timeline *timeline_of(struct output *o, uint64_t cookie, bool create)
{
	struct text_state *ts = o->priv;
	struct cookie_node *n = cookie_map_get(&ts->timelines, cookie);
	struct timeline *t;

	if (n || !create)
		return (struct timeline *)n;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->node.cookie = cookie;
	cookie_map_add(&ts->timelines, &t->node);
	return t;
}

static void timeline_append(struct timeline *t, const union tv_record *r)
{
	if (t->nevents == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 8;
		union tv_record *ev;

		if (t->nevents >= TIMELINE_MAX || !(ev = realloc(t->events, cap * sizeof(*ev)))) {
			t->elided++;
			return;
		}
		t->events = ev;
		t->cap = cap;
	}
	t->events[t->nevents++] = *r;
}

static void endpoint(const struct tv_conn *id, bool remote, char *buf, size_t len)
{
	char addr[64];

	format_addr(id, remote, addr, sizeof(addr));
	snprintf(buf, len, id->family == 6 ? "[%s]:%u" : "%s:%u", addr,
		 remote ? id->dport : id->sport);
}

static void human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[i]);
}

static void print_header(struct output *o, const struct conn_ref *c, const struct conn_end *e)
{
	const struct tv_conn *id = &c->id;
	char l[80], r[80];

	endpoint(id, false, l, sizeof(l));
	endpoint(id, true, r, sizeof(r));
	if (id->owner_flags & TV_OWNER_KNOWN)
		fprintf(o->f, "%.*s[%u]", (int)strnlen(id->comm, sizeof(id->comm)), id->comm, id->pid);
	else
		fputs("?[?]", o->f);
	fprintf(o->f, " %s %s %s  %s  conn %" PRIu64 " (sk:%" PRIx64 ")  netns %u%s\n", l,
		id->dir == TV_DIR_IN ? "<-" : "->", r, dir_name(id), c->cookie, c->cookie, id->netns,
		e->closed ? "" : e->evicted ? "  (still open; evicted from a full table)" : "  (still open)");
}

static void print_event(struct output *o, const struct conn_ref *c, const union tv_record *r)
{
	const struct tv_hdr *h = &r->hdr;
	double ms = h->ts_ns > c->first_ts_ns ? (double)(h->ts_ns - c->first_ts_ns) / 1e6 : 0;

	fprintf(o->f, "  %+12.3f ms  ", ms);
	switch (h->type) {
	case TV_REC_STATE:
		fprintf(o->f, "state %s -> %s\n", tcp_state_name(r->state.old_state),
			tcp_state_name(r->state.new_state));
		break;
	case TV_REC_OPEN:
		fprintf(o->f, "established, handshake %.3f ms", r->open.handshake_us / 1e3);
		if (r->open.syn_retrans)
			fprintf(o->f, " after %u SYN retransmit%s", r->open.syn_retrans,
				r->open.syn_retrans == 1 ? "" : "s");
		fputc('\n', o->f);
		break;
	case TV_REC_RETRANSMIT:
		fprintf(o->f, "retransmit (%s) %u seg%s from seq %u", retrans_kind_name(r->retransmit.kind),
			r->retransmit.segs, r->retransmit.segs == 1 ? "" : "s", r->retransmit.seq);
		if (h->count > 1)
			fprintf(o->f, ", %u times in a burst", h->count);
		if (r->retransmit.flags & TV_RETRANS_TIMEOUT)
			fprintf(o->f, ", timeout %u in a row", r->retransmit.backoff + 1);
		if (r->retransmit.err)
			fprintf(o->f, ", local send error %d", r->retransmit.err);
		fprintf(o->f, " in %s\n", tcp_state_name(r->retransmit.state));
		break;
	case TV_REC_OFO:
		fprintf(o->f, "out-of-order data: %u seg%s, %u bytes, first seq %u while expecting %u\n",
			h->count, h->count == 1 ? "" : "s", r->segment.len, r->segment.seq,
			r->segment.expected);
		break;
	case TV_REC_DUP:
		fprintf(o->f, "duplicate data: %u seg%s, %u bytes, first seq %u (already had up to %u)\n",
			h->count, h->count == 1 ? "" : "s", r->segment.len, r->segment.seq,
			r->segment.expected);
		break;
	case TV_REC_DUPACK:
		fprintf(o->f, "duplicate ACKs: %u for ack %u\n", h->count, r->segment.seq);
		break;
	case TV_REC_RESET:
		if (r->reset.flags & TV_RESET_AFTER_CLOSE)
			fprintf(o->f, "reset %s after the close, %s", r->reset.side == TV_RESET_SENT ? "sent" : "received",
				r->reset.side == TV_RESET_SENT ? "answering a segment for the connection"
							       : "for a segment the connection had sent");
		else
			fprintf(o->f, "reset %s in %s", r->reset.side == TV_RESET_SENT ? "sent" : "received",
				tcp_state_name(r->reset.state));
		if (r->reset.reason != TV_REASON_UNKNOWN)
			fprintf(o->f, " (reason %s)", reset_reason_name(o->names, r->reset.reason));
		fputc('\n', o->f);
		break;
	case TV_REC_WINDOW:
		if (!r->window.open)
			fprintf(o->f, "%s\n", r->window.side == TV_WINDOW_PEER ? "zero window from the peer"
										: "zero window advertised by this host");
		else
		{
			fprintf(o->f, "%s window reopened to %u bytes after %.3f ms",
				r->window.side == TV_WINDOW_PEER ? "the peer's" : "this host's", r->window.window,
				h->ts_ns > r->window.since_ns ? (h->ts_ns - r->window.since_ns) / 1e6 : 0);
			if (r->window.probes)
				fprintf(o->f, ", %u persist probe%s", r->window.probes, r->window.probes == 1 ? "" : "s");
			fputc('\n', o->f);
		}
		break;
	case TV_REC_TLS_ALERT:
		fprintf(o->f, "TLS alert %s: ", r->alert.side == TV_RESET_SENT ? "sent" : "received");
		if (r->alert.encrypted)
			fprintf(o->f, "encrypted (%u bytes; its level and description are not readable)\n",
				r->alert.length);
		else
			fprintf(o->f, "%s %s (%u)\n", r->alert.level == TV_TLS_FATAL ? "fatal" : "warning",
				tls_alert_name(r->alert.description) ? tls_alert_name(r->alert.description) : "unknown",
				r->alert.description);
		break;
	case TV_REC_ERROR:
		fprintf(o->f, "error %s (%s) in %s\n", errno_name(r->error.error), strerror(r->error.error),
			tcp_state_name(r->error.state));
		break;
	case TV_REC_DROP:
		fprintf(o->f, "kernel dropped %u segment%s: %s\n", h->count, h->count == 1 ? "" : "s",
			r->drop.reason == TV_REASON_UNKNOWN ? "unknown"
							    : drop_reason_name(o->names, r->drop.reason));
		break;
	default:
		fprintf(o->f, "%s\n", record_type_name(h->type));
	}
}

static void print_close_line(struct output *o, const struct conn_ref *c, const struct conn_end *e)
{
	uint64_t ts = e->close.hdr.ts_ns;
	double ms = ts > c->first_ts_ns ? (double)(ts - c->first_ts_ns) / 1e6 : 0;

	fprintf(o->f, "  %+12.3f ms  close: %s, last state %s\n", ms, closed_by_name(e->closed_by),
		tcp_state_name(e->close.last_state));
}

/* The kernel's counters, with records that came after the close joined. */
static void print_counters(struct output *o, const struct tv_rec_close *cl)
{
	char sent[32], rcvd[32], rtx[32];

	human_bytes(cl->bytes_sent, sent, sizeof(sent));
	human_bytes(cl->bytes_received, rcvd, sizeof(rcvd));
	human_bytes(cl->bytes_retrans, rtx, sizeof(rtx));
	fprintf(o->f,
		"  %15s  sent %s, received %s; retransmitted %u segs (%s, %u RTO); out-of-order %u, "
		"duplicate %u, dupacks %u, dsack %u; resets %u sent, %u received; drops %u; "
		"rtt %.3f ms, rttvar %.3f ms\n",
		"", sent, rcvd, cl->retrans_segs, rtx, cl->rto, cl->ofo_segs, cl->dup_segs, cl->dupacks,
		cl->dsack, cl->resets_sent, cl->resets_received, cl->drops, cl->srtt_us / 1e3,
		cl->rttvar_us / 1e3);
}

/* Zero windows and resets after the close, where there were any. */
static void print_signals(struct output *o, const struct conn_end *e)
{
	const struct tv_rec_close *cl = &e->close;
	const struct conn_facts *f = &e->facts;

	if (cl->zw_peer || cl->zw_local)
		fprintf(o->f, "  %15s  zero windows: the peer's %u (%.3f ms, %u persist probes), this host's %u (%.3f ms)\n",
			"", cl->zw_peer, cl->zw_peer_ns / 1e6, cl->zw_probes, cl->zw_local, cl->zw_local_ns / 1e6);
	if (f->late_resets_sent || f->late_resets_received)
		fprintf(o->f, "  %15s  resets after the close: %u sent, %u received\n", "", f->late_resets_sent,
			f->late_resets_received);
}

/* A connection still open: what the kernel's socket table says of it now. */
static void print_snapshot(struct output *o, const struct sock_snapshot *s)
{
	char sent[32], rcvd[32];

	human_bytes(s->bytes_sent ? s->bytes_sent : s->bytes_acked, sent, sizeof(sent));
	human_bytes(s->bytes_received, rcvd, sizeof(rcvd));
	fprintf(o->f,
		"  %15s  now %s: sent %s, received %s; retransmitted %u segs; %u segs unacknowledged; "
		"send queue %u B, receive queue %u B; rtt %.3f ms, rttvar %.3f ms\n",
		"", tcp_state_name(s->state), sent, rcvd, s->total_retrans, s->unacked, s->send_queue,
		s->recv_queue, s->rtt_us / 1e3, s->rttvar_us / 1e3);
}

/* The timeline ends with why: "verdict: loss, peer_reset", then the evidence. */
static void print_verdicts(struct output *o, const struct conn_end *e)
{
	const struct verdicts *v = &e->verdicts;
	const char *sep = "";

	fprintf(o->f, "  %15s  verdict%s: ", "", e->closed ? "" : " so far");
	if (!v->set)
		fprintf(o->f, "%shealthy%s", paint(o, PAINT_GOOD), paint(o, PAINT_END));
	for (int k = 0; k < TV_V_COUNT; k++) {
		if (v->set & (1u << k)) {
			fprintf(o->f, "%s%s%s%s", sep, paint(o, PAINT_BAD), verdict_name(k), paint(o, PAINT_END));
			sep = ", ";
		}
	}
	fputc('\n', o->f);
	for (int k = 0; k < TV_V_COUNT; k++)
		if (v->set & (1u << k))
			fprintf(o->f, "  %15s    %s: %s\n", "", verdict_name(k), v->evidence[k]);
}

/* The chain as sent often stops short of the root: only a self-signed one is a root. */
static const char *cert_role(const struct tls_cert *c, int depth)
{
	return depth == 0 ? "leaf" : c->self_signed ? "root" : "intermediate";
}

/* tls  NAME: chain verified; leaf expires 2027-04-20 (in 510 d), intermediate 2028-11-07, ... */
static void text_tls(struct output *o, const struct conn_ref *c, const struct tls_report *res,
		     enum tls_sni_source src, bool cached)
{
	struct timeline *t = timeline_of(o, c->cookie, true);
	const struct tls_cert *certs = res->has_verified ? res->verified : res->chain;
	int n = res->has_verified ? res->nverified : res->nchain;
	int64_t now = (int64_t)time(NULL), soonest = tls_earliest_expiry(res->chain, res->nchain);
	char line[1024], date[32], addr[64];
	size_t len = 0;

	format_addr(&c->id, true, addr, sizeof(addr));
#define ADD(...) len += (size_t)snprintf(line + len, len < sizeof(line) ? sizeof(line) - len : 0, __VA_ARGS__)
	if (!t)
		return;
	ADD("tls  %s: ", res->server_name[0] ? res->server_name : addr);
	switch (res->result) {
	case TLS_RESULT_OK:
		ADD("chain verified");
		break;
	case TLS_RESULT_VERIFY_FAILED:
		ADD("verification failed:");
		for (int i = 0; i < res->nerrors; i++)
			ADD("%s %s (depth %d)", i ? "," : "", res->errors[i].text, res->errors[i].depth);
		if (!res->hostname_match)
			ADD(", name does not match the certificate");
		break;
	default:
		ADD("%s: %s", tls_result_name(res->result), res->error);
	}
	for (int i = 0; i < n; i++) {
		int64_t days = (certs[i].not_after - now) / TV_DAY_S;

		format_date(certs[i].not_after, false, date, sizeof(date));
		if (certs[i].not_after < now)
			ADD("%s %s expired %s (%lld d ago)", i ? "," : ";", cert_role(&certs[i], i), date,
			    (long long)((now - certs[i].not_after) / TV_DAY_S));
		else if (i == 0)
			ADD("; leaf expires %s (in %lld d)", date, (long long)days);
		else
			ADD(", %s %s", cert_role(&certs[i], i), date);
		if (certs[i].not_before > now) {
			format_date(certs[i].not_before, false, date, sizeof(date));
			ADD(" (not valid before %s)", date);
		}
	}
	if (soonest > now && soonest - now < (int64_t)o->tls_warn_days * TV_DAY_S)
		ADD("  !! a certificate expires within %d days", o->tls_warn_days);
	if (cached)
		ADD(" (cached)");
#undef ADD
	free(t->tls_line);
	t->tls_line = strdup(line);
}

static void text_start(struct output *o, const struct start_info *si)
{
	int i;

	fprintf(stderr, "tcpvitals %s: tracing TCP on %s with %s programs and %s", si->version,
		si->kernel, si->attach, si->storage);
	if (si->nmissing) {
		fputs("; not available here:", stderr);
		for (i = 0; i < si->nmissing; i++)
			fprintf(stderr, " %s", si->missing[i]);
	}
	fputs(". Ctrl-C to stop.\n", stderr);
}

/* No socket yet: only SYN-ACK retransmits come this way. */
static void text_orphan(struct output *o, const union tv_record *r)
{
	char l[80], rem[80], ts[40];

	endpoint(&r->retransmit.conn, false, l, sizeof(l));
	endpoint(&r->retransmit.conn, true, rem, sizeof(rem));
	clock_format_rfc3339(&o->clk, r->hdr.ts_ns, ts, sizeof(ts));
	fprintf(o->f, "%s  SYN-ACK retransmitted by listener %s to %s  netns %u\n\n", ts, l, rem,
		r->retransmit.conn.netns);
}

static void text_event(struct output *o, const struct conn_ref *c, const union tv_record *r)
{
	struct timeline *t = timeline_of(o, c->cookie, true);

	if (t)
		timeline_append(t, r);
}

struct block_events {
	union tv_record *v;
	uint32_t n;
};

static void collect_event(void *arg, const union tv_record *r)
{
	struct block_events *b = arg;

	b->v[b->n++] = *r;
}

/* In time, keeping the order of equal times (a state change before its open
 * line): insertion sort, the events arrive nearly sorted. */
static void sort_by_time(union tv_record *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		union tv_record x = v[i];
		uint32_t j = i;

		for (; j > 0 && v[j - 1].hdr.ts_ns > x.hdr.ts_ns; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* The block: events up to the close (a healthy connection's come from the
 * history its close carries), the TLS line, the close, records that came
 * after it (a reset answering data after close), the counters. */
static void text_conn_end(struct output *o, const struct conn_ref *c, const struct conn_end *e)
{
	struct timeline *t = timeline_of(o, c->cookie, false);
	static union tv_record ev[TIMELINE_MAX + 2 * TV_MAX_TRANSITIONS];
	struct block_events b = { .v = ev };
	uint32_t i = 0;

	if (o->all || e->anomalous) {
		if (e->closed && !e->history_live)
			history_records(&c->id, &e->close.hist, collect_event, &b);
		for (uint32_t k = 0; t && k < t->nevents; k++)
			ev[b.n++] = t->events[k];
		sort_by_time(ev, b.n); /* the history, live and late events, in time */
		print_header(o, c, e);
		for (; i < b.n && (!e->closed || ev[i].hdr.ts_ns <= e->close.hdr.ts_ns); i++)
			print_event(o, c, &ev[i]);
		if (t && t->elided)
			fprintf(o->f, "  %15s  ... %u more events not kept\n", "", t->elided);
		if (e->closed && e->close.hist.dropped)
			fprintf(o->f, "  %15s  ... %u state changes not kept\n", "", e->close.hist.dropped);
		if (t && t->tls_line)
			fprintf(o->f, "  %15s  %s\n", "", t->tls_line);
		if (e->closed) {
			print_close_line(o, c, e);
			for (; i < b.n; i++)
				print_event(o, c, &ev[i]);
			print_counters(o, &e->close);
			print_signals(o, e);
		} else if (e->has_snapshot) {
			print_snapshot(o, &e->snapshot);
		}
		print_verdicts(o, e);
		fputc('\n', o->f);
	}
	if (t) {
		cookie_map_remove(&((struct text_state *)o->priv)->timelines, &t->node);
		timeline_free(t);
	}
}

static void text_lost(struct output *o, uint64_t ts_ns, uint64_t records)
{
	fprintf(o->f, "!! %" PRIu64 " records lost: the ring buffer was full; raise --ringbuf-size\n\n",
		records);
}

static void text_missed(struct output *o, uint64_t ts_ns, uint64_t events, const struct hook_count *hooks, int n)
{
	(void)ts_ns;
	fprintf(o->f, "!! %" PRIu64 " event%s missed: the kernel did not run tcpvitals' program, where it was "
		      "already running on that CPU or where it runs none (", events, events == 1 ? "" : "s");
	for (int i = 0; i < n; i++)
		fprintf(o->f, "%s%s %" PRIu64, i ? ", " : "", hooks[i].hook, hooks[i].n);
	fprintf(o->f, "); a connection may lack a state change, a count or its close\n\n");
}

/* Prints text as lines of at most width columns, each indented. */
static void print_wrapped(FILE *f, const char *text, int indent, int width)
{
	while (*text) {
		int n = (int)strlen(text), cut = n;

		if (n > width - indent) {
			for (cut = width - indent; cut > 0 && text[cut] != ' '; cut--)
				;
			if (cut == 0) /* one word longer than the line */
				for (cut = width - indent; text[cut] && text[cut] != ' '; cut++)
					;
		}
		fprintf(f, "%*s%.*s\n", indent, "", cut, text);
		text += cut;
		while (*text == ' ')
			text++;
	}
}

/* The endpoint report, after the timelines: the groups with trouble (all of
 * them with --all), each a heading and its diagnosis. */
static void text_report(struct output *o, const struct endpoint *ep)
{
	struct text_state *ts = o->priv;
	char label[TV_SNI_MAX + 96], text[1024];
	const char *sep = "";

	if (ep->healthy == ep->conns && !o->all) {
		ts->quiet_groups++;
		return;
	}
	if (!ts->reported++)
		fprintf(o->f, "%sEndpoints%s\n\n", paint(o, PAINT_BOLD), paint(o, PAINT_END));
	endpoint_label(ep, label, sizeof(label));
	fprintf(o->f, "%s%s%s: %u connection%s, ", paint(o, PAINT_BOLD), label, paint(o, PAINT_END),
		ep->conns, ep->conns == 1 ? "" : "s");
	if (ep->healthy) {
		fprintf(o->f, "%s%u healthy%s", paint(o, PAINT_GOOD), ep->healthy, paint(o, PAINT_END));
		sep = ", ";
	}
	for (int v = 0; v < TV_V_COUNT; v++) {
		if (ep->verdicts[v]) {
			fprintf(o->f, "%s%s%s %u%s", sep, paint(o, PAINT_BAD), verdict_name(v), ep->verdicts[v],
				paint(o, PAINT_END));
			sep = ", ";
		}
	}
	fputc('\n', o->f);
	endpoint_diagnosis(ep, text, sizeof(text));
	print_wrapped(o->f, text, 2, 92);
	fputc('\n', o->f);
}

static void text_stop(struct output *o, uint64_t ts_ns, const struct stop_info *si)
{
	struct text_state *ts = o->priv;

	if (ts->quiet_groups)
		fprintf(o->f, "%s%u endpoint%s with only healthy connections not shown (--all shows them)\n\n",
			ts->reported ? "" : "Endpoints: ", ts->quiet_groups, ts->quiet_groups == 1 ? "" : "s");
	fprintf(o->f, "-- %" PRIu64 " connections, %" PRIu64 " records, %" PRIu64 " lost", si->connections,
		si->records, si->lost);
	if (si->missed)
		fprintf(o->f, ", %" PRIu64 " events missed", si->missed);
	if (si->rejected)
		fprintf(o->f, ", %" PRIu64 " malformed", si->rejected);
	if (si->evicted)
		fprintf(o->f, ", %" PRIu64 " evicted from a full table", si->evicted);
	fputc('\n', o->f);
}

const struct output_ops output_text_ops = {
	.init = text_init,
	.fini = text_fini,
	.start = text_start,
	.event = text_event,
	.orphan = text_orphan,
	.conn_end = text_conn_end,
	.tls = text_tls,
	.lost = text_lost,
	.missed = text_missed,
	.report = text_report,
	.stop = text_stop,
};
