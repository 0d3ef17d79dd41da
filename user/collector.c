/*
 * A record's way through the collector is one straight line (collector_record):
 * find the connection, learn and select, update its facts, hand the record to
 * the format (or hold it back), and settle: decide whether the connection is
 * finished. TLS results and timers come in through collector_tick and end in
 * the same settle step.
 */
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "collector.h"
#include "clock.h"
#include "log.h"
#include "verdict.h"

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   struct tls_track *tls, size_t max_conns)
{
	memset(col, 0, sizeof(*col));
	col->cfg = cfg;
	col->out = out;
	col->tls = tls;
	col->by_owner_pid = cfg->npids > 0 || cfg->command;
	col->agent = cfg->agent;
	col->self_pid = (uint32_t)getpid();
	dlist_init(&col->hello_waits);
	dlist_init(&col->holds);
	col->endpoints = malloc(sizeof(*col->endpoints));
	if (!col->endpoints)
		return -1;
	endpoints_init(col->endpoints);
	return conn_table_init(&col->table, max_conns);
}

void collector_free(struct collector *col)
{
	struct conn *c;

	while ((c = conn_table_oldest(&col->table))) {
		tls_track_cancel(&c->tls_waiter);
		dlink_remove(&c->hello);
		dlink_remove(&c->hold);
		conn_table_remove(&col->table, c);
	}
	conn_table_free(&col->table);
	free(col->endpoints);
}

/* ---- selection ---- */

enum tv_sel collector_filter(const struct tv_config *cfg, bool by_owner_pid, const struct tv_conn *id)
{
	int i;

	/* --netns is applied in the kernel (filter_netns), before any state exists */
	if (cfg->nports) {
		for (i = 0; i < cfg->nports; i++)
			if (cfg->ports[i] == id->sport || cfg->ports[i] == id->dport)
				break;
		if (i == cfg->nports)
			return TV_SEL_NO;
	}
	if (cfg->nraddrs) {
		for (i = 0; i < cfg->nraddrs; i++)
			if (prefix_match(&cfg->raddrs[i], id->family, id->daddr))
				break;
		if (i == cfg->nraddrs)
			return TV_SEL_NO;
	}
	if (by_owner_pid || cfg->comm[0]) {
		if (!(id->owner_flags & TV_OWNER_KNOWN))
			return TV_SEL_UNKNOWN;
		if (by_owner_pid && !(id->owner_flags & TV_OWNER_MATCH))
			return TV_SEL_NO;
		if (cfg->comm[0] && strncmp(cfg->comm, id->comm, TV_COMM_LEN - 1) != 0)
			return TV_SEL_NO;
	}
	return TV_SEL_YES;
}

/* The same address, an IPv4-mapped IPv6 one (a dual-stack socket) equal to its IPv4 form. */
static bool same_addr(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (fa == fb)
		return !memcmp(a, b, fa == 6 ? 16 : 4);
	if (fa == 6)
		return !memcmp(a, mapped, 12) && !memcmp(a + 12, b, 4);
	return !memcmp(b, mapped, 12) && !memcmp(b + 12, a, 4);
}

/* The TLS checker's own connections, and a local server's end of them. */
static bool is_own_check(struct collector *col, const struct tv_conn *id)
{
	if (!col->nself && id->pid != col->self_pid)
		return false; /* no check has run yet: the common case */
	if ((id->owner_flags & TV_OWNER_KNOWN) && id->pid == col->self_pid) {
		bool known = false;

		for (unsigned i = 0; i < TV_SELF_ENDS && i < col->nself; i++)
			known |= col->self_ends[i].cookie == id->cookie;
		if (id->sport && !known) /* once connect() has picked the port */
			col->self_ends[col->nself++ % TV_SELF_ENDS] = *id;
		return true;
	}
	for (unsigned i = 0; i < TV_SELF_ENDS && i < col->nself; i++) {
		const struct tv_conn *s = &col->self_ends[i];

		if (s->netns == id->netns && s->sport == id->dport && s->dport == id->sport &&
		    same_addr(s->family, s->saddr, id->family, id->daddr) &&
		    same_addr(s->family, s->daddr, id->family, id->saddr))
			return true;
	}
	return false;
}

/* What the record says about the connection's owner, direction and port. */
static void conn_learn(struct conn *c, const struct tv_conn *id)
{
	if (!(c->id.owner_flags & TV_OWNER_KNOWN) && (id->owner_flags & TV_OWNER_KNOWN)) {
		c->id.pid = id->pid;
		memcpy(c->id.comm, id->comm, sizeof(c->id.comm));
		c->id.owner_flags = id->owner_flags;
	}
	if (c->id.dir == TV_DIR_UNKNOWN)
		c->id.dir = id->dir;
	if (!c->id.sport && id->sport) { /* the kernel fills the addresses and ports together */
		memcpy(c->id.saddr, id->saddr, sizeof(id->saddr));
		memcpy(c->id.daddr, id->daddr, sizeof(id->daddr));
		c->id.sport = id->sport;
		c->id.dport = id->dport;
	}
}

static void conn_select(struct collector *col, struct conn *c)
{
	/* our own end keeps being looked at until its local port is known */
	if ((c->sel != TV_SEL_NO || c->id.pid == col->self_pid) && is_own_check(col, &c->id))
		c->sel = TV_SEL_NO;
	if (c->sel == TV_SEL_UNKNOWN)
		c->sel = collector_filter(col->cfg, col->by_owner_pid, &c->id);
	if (c->sel == TV_SEL_NO) {
		rec_queue_clear(&c->held);
		c->suspect = 0;
	}
}

/* ---- handing records to the format ---- */

static struct conn_ref conn_ref_of(const struct conn *c)
{
	return (struct conn_ref){ .cookie = c->node.cookie, .id = c->id, .first_ts_ns = c->first_ts_ns };
}

/* Records go out once the connection is selected, connect() has picked its
 * local port, and no received reset waits to be told apart from our own abort;
 * for --agent, once it is in trouble. */
static bool conn_ready(const struct collector *col, const struct conn *c)
{
	return c->sel == TV_SEL_YES && c->id.sport && !c->suspect && (c->trouble || !col->agent);
}

static void conn_flush(struct collector *col, struct conn *c)
{
	struct conn_ref ref;

	if (!c->held.n || c->sel != TV_SEL_YES)
		return;
	ref = conn_ref_of(c);
	for (uint32_t i = 0; i < c->held.n; i++)
		col->out->ops->event(col->out, &ref, &c->held.recs[i]);
	rec_queue_clear(&c->held);
	c->suspect = 0;
}

static void conn_deliver(struct collector *col, struct conn *c, const union tv_record *r)
{
	struct conn_ref ref;

	if (c->sel == TV_SEL_NO)
		return;
	if (!conn_ready(col, c) || c->held.n) {
		rec_queue_push(&c->held, r);
		if (conn_ready(col, c))
			conn_flush(col, c);
		return;
	}
	ref = conn_ref_of(c);
	col->out->ops->event(col->out, &ref, r);
}

/* ---- holds and the one decision: report or wait ---- */

/* Keeps c on the hold list, ordered by until (nearly always the last). */
static void hold_until(struct collector *col, struct conn *c, uint64_t until)
{
	struct dlink *at;

	if (until > c->hold_until_ns)
		c->hold_until_ns = until;
	dlink_remove(&c->hold);
	for (at = col->holds.head.prev; at != &col->holds.head; at = at->prev)
		if (container_of(at, struct conn, hold)->hold_until_ns <= c->hold_until_ns)
			break;
	dlink_insert_after(at, &c->hold);
}

static void conn_forget(struct collector *col, struct conn *c)
{
	if (c->tls_pending)
		col->tls_pending--;
	tls_track_cancel(&c->tls_waiter);
	dlink_remove(&c->hello);
	dlink_remove(&c->hold);
	conn_table_remove(&col->table, c);
}

/* The close as reported: the kernel's counters with what came later. */
static void conn_end_build(const struct collector *col, const struct conn *c, bool evicted,
			   struct conn_end *e)
{
	struct verdict_opts vo = { .tls_warn_days = col->cfg->tls_warn_days, .now_unix = time(NULL),
				   .names = col->out->names };

	/* the verdicts' evidence (most of the struct) is written where it is set */
	memset(e, 0, offsetof(struct conn_end, verdicts));
	e->facts = c->facts;
	e->end_ns = c->end_ns;
	e->closed = c->phase == CONN_CLOSED;
	e->evicted = evicted;
	if (c->tls) /* else zero, as memset left it */
		e->tls = *c->tls;
	e->history_live = c->close.announced;
	e->has_snapshot = !e->closed && c->has_snapshot;
	e->snapshot = c->snapshot;
	if (e->closed) {
		int32_t rx = (int32_t)c->close.resets_received + c->add_resets_received;

		e->close = c->close;
		e->close.resets_sent = (uint16_t)(c->close.resets_sent + c->add_resets_sent);
		e->close.resets_received = (uint16_t)(rx > 0 ? rx : 0);
		e->close.drops += (uint32_t)c->add_drops;
	}
	struct conn_ref ref = conn_ref_of(c);

	verdict_judge(e, &ref, c->saw_anomaly, &vo);
}

static void conn_report(struct collector *col, struct conn *c, bool evicted)
{
	if (c->sel == TV_SEL_UNKNOWN)
		c->sel = collector_filter(col->cfg, col->by_owner_pid, &c->id);
	if (c->sel == TV_SEL_YES) {
		struct conn_end end;
		struct conn_ref ref = conn_ref_of(c);

		conn_end_build(col, c, evicted, &end);
		c->trouble |= end.anomalous || end.verdicts.set;
		if (c->trouble || !col->agent) {
			c->trouble = true; /* its held records go out now */
			conn_flush(col, c);
		}
		if (c->trouble || col->cfg->all || !col->agent)
			col->out->ops->conn_end(col->out, &ref, &end);
		endpoints_add(col->endpoints, &ref, &end);
		tally_conn(&col->tally, &end, c->id.dir);
		col->stats.connections++;
	}
	col->stats.unkept += c->held.overflow;
	conn_forget(col, c);
}

/* The one place that decides whether a connection is finished: closed by the
 * kernel, its TLS check over, and its hold run out. */
static void conn_settle(struct collector *col, struct conn *c, uint64_t now)
{
	if (c->phase != CONN_CLOSED || c->tls_pending)
		return;
	if (now < c->hold_until_ns) {
		if (!dlink_linked(&c->hold))
			hold_until(col, c, c->hold_until_ns);
		return;
	}
	conn_report(col, c, false);
}

/* ---- TLS ---- */

static void conn_tls_result(struct collector *col, struct conn *c, const struct tls_report *res,
			    bool cached)
{
	if (c->tls_pending) {
		c->tls_pending = false;
		col->tls_pending--;
	}
	if (!c->tls && !(c->tls = calloc(1, sizeof(*c->tls)))) {
		pr_warn("out of memory for a TLS result; its connection's close goes without it\n");
	} else {
		c->tls->present = true;
		c->tls->result = res->result;
		snprintf(c->tls->server_name, sizeof(c->tls->server_name), "%s", res->server_name);
		c->tls->earliest_expiry = tls_earliest_expiry(res->chain, res->nchain);
		tls_report_classify(res, c->tls);
	}
	if (c->sel == TV_SEL_YES) {
		struct conn_ref ref = conn_ref_of(c);

		if (cached) {
			col->tally.tls_cached++;
		} else {
			col->tally.tls_checks[res->result <= TLS_RESULT_ERROR ? res->result : TLS_RESULT_ERROR]++;
			tls_ends_update(&col->tls_ends, &c->id, res, clock_mono_now_ns());
		}
		c->trouble |= res->result != TLS_RESULT_OK || res->nerrors > 0;
		if (conn_ready(col, c))
			conn_flush(col, c);
		if (c->trouble || !col->agent)
			col->out->ops->tls(col->out, &ref, res, (enum tls_sni_source)c->tls_sni_source, cached);
	}
}

static void tls_request(struct collector *col, struct conn *c, const char *sni, enum tls_sni_source src)
{
	const struct tls_report *res = NULL;

	if (c->tls_requested || c->sel == TV_SEL_NO)
		return;
	c->tls_requested = true;
	dlink_remove(&c->hello);
	if (!sni || !sni[0]) {
		sni = tls_track_option_name(col->tls, &c->id);
		src = sni ? TLS_SNI_OPTION : TLS_SNI_NONE;
	}
	c->tls_sni_source = (uint8_t)src; /* a shared result may have come from another source */
	switch (tls_track_request(col->tls, &c->id, sni, &c->tls_waiter, &res)) {
	case TLS_REQ_PENDING:
		c->tls_pending = true;
		col->tls_pending++;
		break;
	case TLS_REQ_CACHED:
		conn_tls_result(col, c, res, true);
		break;
	case TLS_REQ_FAILED:
		conn_tls_result(col, c, res, false);
		break;
	case TLS_REQ_NONE:
		break;
	}
}

/* The first bytes an outgoing connection to a TLS port wrote. */
static void collector_tls_hello(struct collector *col, const struct tv_rec_tls_hello *h)
{
	struct conn *c = conn_table_get(&col->table, h->conn.cookie);
	char sni[TV_SNI_MAX + 1];
	enum tls_hello_result pr;

	col->stats.records++;
	if (!c || !col->tls)
		return;
	pr = tls_hello_sni(h->data, h->len < TV_HELLO_MAX ? h->len : TV_HELLO_MAX, sni);
	pr_debug("connection %llu: first write of %u bytes: %s%s%s\n", (unsigned long long)h->conn.cookie,
		 h->total, tls_hello_result_name(pr), pr == TLS_HELLO_SNI ? " " : "",
		 pr == TLS_HELLO_SNI ? sni : "");
	if (pr == TLS_HELLO_NOT_TLS) {
		dlink_remove(&c->hello); /* not a TLS client: nothing to check on its behalf */
		return;
	}
	tls_request(col, c, pr == TLS_HELLO_SNI ? sni : NULL, TLS_SNI_CLIENT_HELLO);
	conn_settle(col, c, h->hdr.ts_ns);
}

/* ---- the record path ---- */

static bool is_anomaly(const union tv_record *r)
{
	switch (r->hdr.type) {
	case TV_REC_RETRANSMIT:
	case TV_REC_OFO:
	case TV_REC_DUP:
	case TV_REC_DUPACK:
	case TV_REC_RESET:
	case TV_REC_DROP:
	case TV_REC_ERROR:
		return true;
	case TV_REC_OPEN:
		return r->open.syn_retrans > 0;
	case TV_REC_WINDOW:
		return !r->window.open;
	case TV_REC_TLS_ALERT: /* a close_notify, encrypted or not, is how TLS ends */
		return !r->alert.encrypted && r->alert.description != 0;
	default:
		return false;
	}
}

/* A record the kernel emitted for a socket already in CLOSE. */
static bool is_late(const union tv_record *r)
{
	switch (r->hdr.type) {
	case TV_REC_RESET: return r->reset.state == TCP_CLOSE;
	case TV_REC_RETRANSMIT: return r->retransmit.state == TCP_CLOSE;
	case TV_REC_DROP: return r->drop.state == TCP_CLOSE;
	default: return false;
	}
}

/*
 * tcp_reset() fires tcp_receive_reset also when this host aborts a connection
 * that receives data after it shut down its receiving side
 * (tcp_rcv_state_process, "step 7"), and then sends a reset of its own. That
 * can only happen in these states; such a received reset is held until a
 * sent reset proves it our own abort, or the hold runs out.
 */
static bool may_be_own_abort(const union tv_record *r)
{
	if (r->hdr.type != TV_REC_RESET || r->reset.side != TV_RESET_RECEIVED)
		return false;
	switch (r->reset.state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	}
	return false;
}

/* The connection a record belongs to, created on first sight; NULL when
 * the record must not create one. */
static struct conn *conn_for(struct collector *col, const union tv_record *r)
{
	const struct tv_conn *id = &r->state.conn; /* every record has it after the header */
	struct conn *c = conn_table_get(&col->table, id->cookie);

	if (c)
		return c;
	if (is_late(r)) {
		col->stats.unkept++; /* its connection was reported already */
		return NULL;
	}
	if (conn_table_full(&col->table)) {
		col->stats.evicted++;
		conn_report(col, conn_table_oldest(&col->table), true);
	}
	c = conn_table_add(&col->table, id, r->hdr.ts_ns);
	if (!c) {
		pr_warn("out of memory for a new connection; its records are dropped\n");
		col->stats.unkept++;
	}
	return c;
}

/* A retransmission timeout: runs of them without progress in between (the
 * kernel's backoff counts them) are what stalls a connection. */
static void facts_timeout(struct conn_facts *f, const struct tv_rec_retransmit *rt, uint64_t ts)
{
	struct timeout_run *run = &f->run;
	bool full = rt->mss && rt->len >= rt->mss;

	if (rt->kind == TV_RETRANS_SYN) {
		f->syn_timeouts++;
		return;
	}
	f->timeouts++;
	if (rt->backoff == 0 || !run->n) {
		*run = (struct timeout_run){ .first_ns = ts, .full_size = true, .acked = rt->acked, .mss = rt->mss };
	}
	run->n++;
	run->last_ns = ts;
	run->full_size &= full;
	if (run->n > f->longest.n || (run->n == f->longest.n && run->last_ns - run->first_ns >
								  f->longest.last_ns - f->longest.first_ns))
		f->longest = *run;
}

static void facts_drop(struct conn_facts *f, uint32_t reason, uint32_t count)
{
	for (uint32_t i = 0; i < f->ndrops; i++) {
		if (f->drops[i].reason == reason) {
			f->drops[i].count += count;
			return;
		}
	}
	if (f->ndrops < TV_FACT_DROPS) {
		f->drops[f->ndrops].reason = reason;
		f->drops[f->ndrops++].count = count;
	} else {
		f->drops_other += count;
	}
}

static void facts_window(struct conn_facts *f, const struct tv_rec_window *w, uint64_t ts)
{
	struct zero_windows *z;

	if (w->side > TV_WINDOW_LOCAL)
		return;
	z = &f->zw[w->side];
	if (!w->open) {
		z->n++;
		z->since_ns = ts;
		return;
	}
	if (!z->since_ns) /* short: only its reopening was written */
		z->n++;
	if (ts > w->since_ns) {
		z->closed_ns += ts - w->since_ns;
		if (ts - w->since_ns > z->longest_ns)
			z->longest_ns = ts - w->since_ns;
	}
	z->probes += w->probes;
	z->since_ns = 0;
}

static void facts_alert(struct conn_facts *f, const struct tv_rec_tls_alert *a)
{
	uint8_t side = a->side == TV_RESET_SENT ? 0 : 1;

	f->alerts[side]++;
	f->alerts_encrypted[side] += a->encrypted;
	if (!a->encrypted && a->description != 0 && !f->has_alert) {
		f->has_alert = true;
		f->alert_side = side;
		f->alert_level = a->level;
		f->alert_description = a->description;
	}
}

/* What a record tells about how the connection fared. */
static void facts_update(struct conn_facts *f, const union tv_record *r)
{
	uint32_t n = r->hdr.count;

	switch (r->hdr.type) {
	case TV_REC_OPEN:
		f->established = true;
		break;
	case TV_REC_STATE:
		if (r->state.new_state == TCP_ESTABLISHED)
			f->established = true;
		break;
	case TV_REC_RETRANSMIT:
		if (r->retransmit.kind <= TV_RETRANS_SYNACK)
			f->segs[r->retransmit.kind] += r->retransmit.segs;
		if (r->retransmit.flags & TV_RETRANS_TIMEOUT)
			facts_timeout(f, &r->retransmit, r->hdr.ts_ns);
		break;
	case TV_REC_OFO:
		f->ofo += n;
		f->ofo_bytes += r->segment.len;
		break;
	case TV_REC_DUP: f->dup += n; break;
	case TV_REC_DUPACK: f->dupacks += n; break;
	case TV_REC_RESET:
		if (r->reset.side == TV_RESET_RECEIVED) {
			if (!f->resets_received++)
				f->reset_received_state = r->reset.state;
			f->late_resets_received += !!(r->reset.flags & TV_RESET_AFTER_CLOSE);
		} else {
			if (!f->resets_sent++) {
				f->reset_sent_reason = r->reset.reason;
				f->reset_sent_state = r->reset.state;
			}
			f->late_resets_sent += !!(r->reset.flags & TV_RESET_AFTER_CLOSE);
		}
		break;
	case TV_REC_DROP:
		facts_drop(f, r->drop.reason, n);
		break;
	case TV_REC_ERROR:
		f->error = r->error.error;
		break;
	case TV_REC_WINDOW:
		facts_window(f, &r->window, r->hdr.ts_ns);
		break;
	case TV_REC_TLS_ALERT:
		facts_alert(f, &r->alert);
		break;
	}
}


/* What the record changes in the connection's facts and its life. */
static void conn_update(struct collector *col, struct conn *c, const union tv_record *r)
{
	uint64_t ts = r->hdr.ts_ns;

	if (is_anomaly(r))
		c->saw_anomaly = c->trouble = true;
	if (r->hdr.type != TV_REC_CLOSE)
		facts_update(&c->facts, r);
	switch (r->hdr.type) {
	case TV_REC_OPEN:
		if (col->tls && c->id.dir == TV_DIR_OUT && !c->tls_requested &&
		    tls_track_port(col->tls, c->id.dport) && !dlink_linked(&c->hello)) {
			c->hello_deadline_ns = ts + TV_HELLO_WAIT_NS;
			dlist_append(&col->hello_waits, &c->hello);
		}
		break;
	case TV_REC_CLOSE:
		/* a TLS connection that ended before its ClientHello (or without a
		 * way to see one) is checked now: its close waits for the result */
		if (dlink_linked(&c->hello))
			tls_request(col, c, NULL, TLS_SNI_NONE);
		c->close = r->close;
		c->phase = CONN_CLOSED;
		if (r->close.hist.start_ns && r->close.hist.start_ns < c->first_ts_ns)
			c->first_ts_ns = r->close.hist.start_ns; /* the timeline starts at connect or accept */
		dlink_remove(&c->hello);
		hold_until(col, c, ts + (r->close.resets_sent || r->close.resets_received || r->close.error
					       ? TV_LATE_HOLD_NS : TV_HOLD_NS));
		break;
	case TV_REC_RESET:
		if (r->reset.side == TV_RESET_SENT && r->reset.state == TCP_CLOSE && c->suspect) {
			/* the received reset held back was this host's own abort */
			rec_queue_remove(&c->held, c->suspect - 1);
			c->suspect = 0;
			c->add_resets_received--;
			if (c->facts.resets_received) /* not the peer's after all */
				c->facts.resets_received--;
		}
		/* a reset without a socket is never in the kernel's close */
		if (c->phase == CONN_CLOSED || (r->reset.flags & TV_RESET_AFTER_CLOSE)) {
			if (r->reset.side == TV_RESET_SENT)
				c->add_resets_sent++;
			else
				c->add_resets_received++;
		}
		break;
	case TV_REC_DROP:
		if (c->phase == CONN_CLOSED)
			c->add_drops += (int32_t)r->hdr.count;
		break;
	}
}

static void record_apply(struct collector *col, const union tv_record *r);

static void apply_cb(void *col, const union tv_record *r)
{
	record_apply(col, r);
}

void collector_record(struct collector *col, const union tv_record *r)
{
	const struct tv_conn *id = &r->state.conn;

	col->stats.records++;
	if (!id->cookie) {
		/* no socket yet: cannot belong to a traced process */
		if (!col->by_owner_pid && !col->cfg->comm[0] &&
		    collector_filter(col->cfg, false, id) == TV_SEL_YES)
			col->out->ops->orphan(col->out, r);
		return;
	}
	if (r->hdr.type == TV_REC_CONN) {
		/* a connection the collector must see while open: its history so far
		 * becomes the records it stands for, then records come live */
		history_records(id, &r->announce.hist, apply_cb, col);
		col->stats.unkept += r->announce.hist.dropped;
		return;
	}
	record_apply(col, r); /* a healthy connection's close carries its history to the formats */
}

/* One record of a connection, from the kernel or from its history. */
static void record_apply(struct collector *col, const union tv_record *r)
{
	const struct tv_conn *id = &r->state.conn;
	struct conn *c;

	c = conn_for(col, r);
	if (!c)
		return;
	conn_learn(c, id);
	conn_select(col, c);
	conn_update(col, c, r);
	if (may_be_own_abort(r) && c->sel != TV_SEL_NO && !c->suspect) {
		if (rec_queue_push(&c->held, r)) {
			c->suspect = c->held.n;
			hold_until(col, c, r->hdr.ts_ns + TV_HOLD_NS);
		}
	} else if (r->hdr.type != TV_REC_CLOSE) {
		conn_deliver(col, c, r);
	}
	if (conn_ready(col, c))
		conn_flush(col, c);
	conn_settle(col, c, r->hdr.ts_ns);
}

void collector_raw(struct collector *col, const void *data, size_t len)
{
	union tv_record r;
	enum tv_decode_result res = record_decode(data, len, &r);

	if (res != TV_DECODE_OK) {
		col->stats.rejected++;
		pr_debug("rejected a record of %zu bytes: %s\n", len, decode_result_name(res));
		return;
	}
	if (r.hdr.type == TV_REC_TLS_HELLO) {
		collector_tls_hello(col, data); /* ring-buffer records are 8-byte aligned */
		return;
	}
	collector_record(col, &r);
}

void collector_lost(struct collector *col, uint64_t ts_ns, uint64_t records)
{
	col->stats.lost += records;
	col->out->ops->lost(col->out, ts_ns, records);
}

void collector_missed(struct collector *col, uint64_t ts_ns, uint64_t events, const struct hook_count *hooks, int n)
{
	col->stats.missed += events;
	col->out->ops->missed(col->out, ts_ns, events, hooks, n);
}

/* ---- time ---- */

void collector_tick(struct collector *col, uint64_t now_ns)
{
	const struct tls_report *res;
	struct dlink *n;
	uint64_t cookie;

	while (tls_track_next(col->tls, &cookie, &res)) {
		struct conn *c = conn_table_get(&col->table, cookie);

		if (!c)
			continue;
		conn_tls_result(col, c, res, false);
		conn_settle(col, c, now_ns);
	}
	while ((n = dlist_first(&col->hello_waits))) {
		struct conn *c = container_of(n, struct conn, hello);

		if (c->hello_deadline_ns > now_ns)
			break;
		dlink_remove(n);
		if (c->phase == CONN_OPEN)
			tls_request(col, c, NULL, TLS_SNI_NONE);
	}
	while ((n = dlist_first(&col->holds))) {
		struct conn *c = container_of(n, struct conn, hold);

		if (c->hold_until_ns > now_ns)
			break;
		dlink_remove(n);
		c->suspect = 0; /* no reset of ours followed: it was the peer's */
		if (conn_ready(col, c))
			conn_flush(col, c);
		conn_settle(col, c, now_ns);
	}
	conn_table_trim(&col->table, now_ns);
}

int collector_tls_pending(const struct collector *col)
{
	return col->tls_pending;
}

size_t collector_open_selected(const struct collector *col)
{
	size_t n = 0;

	for (const struct conn *c = conn_table_oldest(&col->table); c; c = conn_table_next(&col->table, c))
		n += c->sel == TV_SEL_YES && c->phase == CONN_OPEN;
	return n;
}

void collector_socket(struct collector *col, const struct tv_conn *id, const struct sock_snapshot *snap,
		      bool at_stop, uint64_t now_ns)
{
	struct conn *c = conn_table_get(&col->table, id->cookie);

	if (!c) {
		if (conn_table_full(&col->table))
			return; /* a full table keeps the connections it traces */
		c = conn_table_add(&col->table, id, now_ns);
		if (!c)
			return;
	}
	conn_learn(c, id);
	conn_select(col, c);
	if (at_stop && c->phase == CONN_OPEN) {
		c->has_snapshot = true;
		c->snapshot = *snap;
		c->end_ns = now_ns;
	}
}

static void report_one(void *out, const struct endpoint *ep)
{
	((struct output *)out)->ops->report(out, ep);
}

void collector_finish(struct collector *col)
{
	struct conn *c;

	while ((c = conn_table_oldest(&col->table))) {
		c->suspect = 0;
		conn_report(col, c, false);
	}
	if (col->out->ops->report && !col->agent)
		endpoints_each(col->endpoints, report_one, col->out);
}
