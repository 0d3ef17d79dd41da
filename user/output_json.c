/* JSON Lines: one object per record, written as records arrive; a
 * connection's close when the collector reports it. No state of its own. */
#include <string.h>
#include <time.h>
#include "json.h"
#include "output.h"

static void write_ts(struct output *o, struct jw *w, uint64_t ts_ns)
{
	char ts[40];

	clock_format_rfc3339(&o->clk, ts_ns, ts, sizeof(ts));
	jw_lit(w, "ts", ts);
}

static void write_conn_keys(struct jw *w, const struct tv_conn *id)
{
	char addr[64];

	jw_u64(w, "conn", id->cookie);
	if (id->owner_flags & TV_OWNER_KNOWN) {
		jw_u64(w, "pid", id->pid);
		jw_strn(w, "comm", id->comm, strnlen(id->comm, sizeof(id->comm)));
	} else {
		jw_null(w, "pid");
		jw_null(w, "comm");
	}
	jw_u64(w, "netns", id->netns);
	jw_lit(w, "family", family_name(id));
	format_addr(id, false, addr, sizeof(addr));
	jw_lit(w, "laddr", addr);
	jw_u64(w, "lport", id->sport);
	format_addr(id, true, addr, sizeof(addr));
	jw_lit(w, "raddr", addr);
	jw_u64(w, "rport", id->dport);
	jw_lit(w, "dir", dir_name(id));
}

static void write_date(struct jw *w, const char *key, int64_t unix_s)
{
	char buf[32];

	if (!unix_s) {
		jw_null(w, key);
		return;
	}
	format_date(unix_s, true, buf, sizeof(buf));
	jw_str(w, key, buf);
}

static void write_chain(struct jw *w, const char *key, const struct tls_cert *certs, int n, int64_t now)
{
	jw_open(w, key, '[');
	for (int i = 0; i < n; i++) {
		const struct tls_cert *c = &certs[i];
		int64_t left = c->not_after - now;

		jw_open(w, NULL, '{');
		jw_u64(w, "depth", (uint64_t)i);
		jw_str(w, "subject", c->subject);
		jw_str(w, "issuer", c->issuer);
		jw_str(w, "serial", c->serial);
		write_date(w, "not_before", c->not_before);
		write_date(w, "not_after", c->not_after);
		/* whole days, rounded down: -1 on the first day past expiry */
		jw_i64(w, "days_left", left >= 0 ? left / TV_DAY_S : -((-left + TV_DAY_S - 1) / TV_DAY_S));
		jw_str(w, "sha256", c->sha256);
		jw_bool(w, "self_signed", c->self_signed);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void json_tls(struct output *o, const struct conn_ref *c, const struct tls_report *res,
		     enum tls_sni_source src, bool cached)
{
	int64_t now = (int64_t)time(NULL);
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "tls");
	write_ts(o, &w, clock_mono_now_ns());
	write_conn_keys(&w, &c->id);
	jw_str(&w, "server_name", res->server_name[0] ? res->server_name : NULL);
	jw_lit(&w, "sni_source", tls_sni_source_name(src));
	jw_lit(&w, "result", tls_result_name(res->result));
	jw_str(&w, "version", res->version[0] ? res->version : NULL);
	jw_str(&w, "cipher", res->cipher[0] ? res->cipher : NULL);
	jw_open(&w, "verify_errors", '[');
	for (int i = 0; i < res->nerrors; i++) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "depth", (uint64_t)res->errors[i].depth);
		jw_u64(&w, "code", (uint64_t)res->errors[i].code);
		jw_str(&w, "text", res->errors[i].text);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	if (res->nchain)
		jw_bool(&w, "hostname_match", res->hostname_match);
	else
		jw_null(&w, "hostname_match");
	write_chain(&w, "chain", res->chain, res->nchain, now);
	if (res->has_verified)
		write_chain(&w, "verified_chain", res->verified, res->nverified, now);
	else
		jw_null(&w, "verified_chain");
	write_date(&w, "earliest_expiry", tls_earliest_expiry(res->chain, res->nchain));
	write_date(&w, "verified_earliest_expiry",
		   res->has_verified ? tls_earliest_expiry(res->verified, res->nverified) : 0);
	if (res->has_alert) {
		jw_open(&w, "alert", '{');
		jw_lit(&w, "side", res->alert_side);
		jw_str(&w, "description", res->alert);
		jw_close(&w, '}');
	} else {
		jw_null(&w, "alert");
	}
	jw_str(&w, "error", res->error[0] ? res->error : NULL);
	jw_u64(&w, "duration_ms", (uint64_t)res->duration_ms);
	jw_bool(&w, "cached", cached);
	jw_end(&w);
}

static void json_start(struct output *o, const struct start_info *si)
{
	struct jw w;
	int i;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "start");
	write_ts(o, &w, clock_mono_now_ns());
	jw_str(&w, "version", si->version);
	jw_str(&w, "kernel", si->kernel);
	jw_str(&w, "attach", si->attach);
	jw_str(&w, "storage", si->storage);
	jw_open(&w, "hooks", '[');
	for (i = 0; i < si->nhooks; i++)
		jw_elem_str(&w, si->hooks[i]);
	jw_close(&w, ']');
	jw_open(&w, "missing", '[');
	for (i = 0; i < si->nmissing; i++)
		jw_elem_str(&w, si->missing[i]);
	jw_close(&w, ']');
	if (si->existing >= 0)
		jw_u64(&w, "existing", (uint64_t)si->existing);
	else
		jw_null(&w, "existing");
	jw_str(&w, "ca_store", si->ca_store);
	if (si->privs) {
		jw_open(&w, "privileges", '{');
		jw_bool(&w, "dropped", si->privs->dropped);
		jw_str(&w, "user", si->privs->user);
		jw_u64(&w, "uid", si->privs->uid);
		jw_u64(&w, "gid", si->privs->gid);
		jw_open(&w, "capabilities", '[');
		for (i = 0; i < si->privs->ncaps; i++)
			jw_elem_str(&w, si->privs->caps[i]);
		jw_close(&w, ']');
		if (si->netns_helper) {
			jw_open(&w, "netns_helper", '{');
			jw_u64(&w, "pid", (uint64_t)si->netns_helper);
			jw_open(&w, "capabilities", '[');
			jw_elem_str(&w, "sys_admin");
			jw_elem_str(&w, "sys_ptrace");
			jw_close(&w, ']');
			jw_close(&w, '}');
		} else {
			jw_null(&w, "netns_helper");
		}
		jw_close(&w, '}');
	}
	jw_end(&w);
}

/* Every record but the close, with the keys of connection id. */
static void write_record(struct output *o, const struct tv_conn *id, const union tv_record *r)
{
	const struct tv_hdr *h = &r->hdr;
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", record_type_name(h->type));
	write_ts(o, &w, h->ts_ns);
	write_conn_keys(&w, id);
	switch (h->type) {
	case TV_REC_STATE:
		jw_lit(&w, "old", tcp_state_name(r->state.old_state));
		jw_lit(&w, "new", tcp_state_name(r->state.new_state));
		break;
	case TV_REC_OPEN:
		jw_u64(&w, "handshake_us", r->open.handshake_us);
		jw_u64(&w, "syn_retrans", r->open.syn_retrans);
		break;
	case TV_REC_RETRANSMIT:
		jw_u64(&w, "seq", r->retransmit.seq);
		jw_u64(&w, "segs", r->retransmit.segs);
		jw_lit(&w, "kind", retrans_kind_name(r->retransmit.kind));
		jw_lit(&w, "state", tcp_state_name(r->retransmit.state));
		jw_u64(&w, "count", h->count);
		jw_i64(&w, "err", r->retransmit.err);
		jw_bool(&w, "timeout", r->retransmit.flags & TV_RETRANS_TIMEOUT);
		if (r->retransmit.flags & TV_RETRANS_TIMEOUT) {
			jw_u64(&w, "backoff", r->retransmit.backoff);
			jw_u64(&w, "len", r->retransmit.len);
			jw_u64(&w, "mss", r->retransmit.mss);
		}
		break;
	case TV_REC_ERROR:
		jw_lit(&w, "error", errno_name(r->error.error));
		jw_lit(&w, "state", tcp_state_name(r->error.state));
		break;
	case TV_REC_OFO:
	case TV_REC_DUP:
		jw_u64(&w, "seq", r->segment.seq);
		jw_u64(&w, "expected", r->segment.expected);
		jw_u64(&w, "len", r->segment.len);
		jw_u64(&w, "count", h->count);
		break;
	case TV_REC_DUPACK:
		jw_u64(&w, "ack", r->segment.seq);
		jw_u64(&w, "count", h->count);
		break;
	case TV_REC_RESET:
		jw_lit(&w, "side", r->reset.side == TV_RESET_SENT ? "sent" : "received");
		jw_lit(&w, "reason", r->reset.reason == TV_REASON_UNKNOWN
					     ? "unknown"
					     : reset_reason_name(o->names, r->reset.reason));
		jw_lit(&w, "state", tcp_state_name(r->reset.state));
		jw_bool(&w, "after_close", r->reset.flags & TV_RESET_AFTER_CLOSE);
		break;
	case TV_REC_WINDOW:
		jw_lit(&w, "side", r->window.side == TV_WINDOW_PEER ? "peer" : "local");
		jw_bool(&w, "reopened", r->window.open);
		if (r->window.open) {
			jw_u64(&w, "closed_us", h->ts_ns > r->window.since_ns ? (h->ts_ns - r->window.since_ns) / 1000 : 0);
			jw_u64(&w, "window", r->window.window);
			if (r->window.side == TV_WINDOW_PEER)
				jw_u64(&w, "probes", r->window.probes);
		}
		break;
	case TV_REC_TLS_ALERT:
		jw_lit(&w, "side", r->alert.side == TV_RESET_SENT ? "sent" : "received");
		jw_bool(&w, "encrypted", r->alert.encrypted);
		if (r->alert.encrypted) {
			jw_null(&w, "level");
			jw_null(&w, "description");
		} else {
			jw_lit(&w, "level", r->alert.level == TV_TLS_FATAL ? "fatal"
					   : r->alert.level == TV_TLS_WARNING ? "warning" : "unknown");
			jw_str(&w, "description", tls_alert_name(r->alert.description));
		}
		jw_u64(&w, "code", r->alert.description);
		jw_u64(&w, "record_version", r->alert.version);
		jw_u64(&w, "length", r->alert.length);
		break;
	case TV_REC_DROP:
		jw_lit(&w, "reason", r->drop.reason == TV_REASON_UNKNOWN
					     ? "unknown"
					     : drop_reason_name(o->names, r->drop.reason));
		jw_u64(&w, "count", h->count);
		break;
	}
	jw_end(&w);
}

static void json_event(struct output *o, const struct conn_ref *c, const union tv_record *r)
{
	write_record(o, &c->id, r);
}

static void json_orphan(struct output *o, const union tv_record *r)
{
	write_record(o, &r->state.conn, r);
}

/* The connection's life as the kernel kept it: its state changes (the first
 * ones and the latest, up to TV_MAX_TRANSITIONS), each at microseconds since
 * its first sight, as the text timeline counts, and its handshake. */
static void write_history(struct output *o, struct jw *w, const struct tv_history *h)
{
	uint32_t n = h->ntrans < TV_MAX_TRANSITIONS ? h->ntrans : TV_MAX_TRANSITIONS;

	if (h->established) {
		jw_u64(w, "handshake_us", h->handshake_us);
		jw_u64(w, "syn_retrans", h->syn_retrans);
	} else {
		jw_null(w, "handshake_us");
		jw_null(w, "syn_retrans");
	}
	jw_open(w, "states", '[');
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ts = h->trans[i].ts_ns;

		jw_open(w, NULL, '{');
		jw_u64(w, "at_us", ts > h->start_ns ? (ts - h->start_ns) / 1000 : 0);
		jw_lit(w, "old", tcp_state_name(h->trans[i].old_state));
		jw_lit(w, "new", tcp_state_name(h->trans[i].new_state));
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "states_dropped", h->dropped);
}

/* Every close ends with why: the verdicts, each with its evidence. */
static void write_verdicts(struct jw *w, const struct conn_end *e)
{
	/* most connections: one constant, written as it stands */
	static const char healthy[] =
		"\"verdict\":[\"healthy\"],\"evidence\":{\"healthy\":\"" VERDICT_HEALTHY_TEXT "\"}";
	const struct verdicts *v = &e->verdicts;

	if (!v->set) {
		jw_sep(w);
		jw_put(w, healthy, sizeof(healthy) - 1);
		return;
	}
	jw_open(w, "verdict", '[');
	for (int k = 0; k < TV_V_COUNT; k++)
		if (v->set & (1u << k))
			jw_elem_str(w, verdict_name(k));
	jw_close(w, ']');
	jw_open(w, "evidence", '{');
	for (int k = 0; k < TV_V_COUNT; k++)
		if (v->set & (1u << k))
			jw_str(w, verdict_name(k), v->evidence[k]);
	jw_close(w, '}');
}

static void write_tls_summary(struct output *o, struct jw *w, const struct tls_summary *t)
{
	if (!t->present)
		return;
	jw_open(w, "tls", '{');
	jw_lit(w, "result", tls_result_name(t->result));
	jw_str(w, "server_name", t->server_name[0] ? t->server_name : NULL);
	write_date(w, "earliest_expiry", t->earliest_expiry);
	jw_close(w, '}');
}

/* A connection still open when tracing stopped (or pushed out of a full
 * table): what is known so far, from the records and the kernel's socket
 * table at the end, and a verdict from what happened so far. */
static void write_still_open(struct output *o, struct jw *w, const struct conn_ref *c, const struct conn_end *e)
{
	const struct conn_facts *f = &e->facts;
	const struct sock_snapshot *s = &e->snapshot;
	struct conn_counts n;

	conn_end_counts(e, &n);
	jw_bool(w, "still_open", true);
	jw_bool(w, "evicted", e->evicted);
	jw_u64(w, "duration_us", e->end_ns > c->first_ts_ns ? (e->end_ns - c->first_ts_ns) / 1000 : 0);
	if (e->has_snapshot)
		jw_lit(w, "state", tcp_state_name(s->state));
	else
		jw_null(w, "state");
	jw_null(w, "closed_by");
	if (e->has_snapshot) {
		jw_u64(w, "bytes_sent", s->bytes_sent);
		jw_u64(w, "bytes_acked", s->bytes_acked);
		jw_u64(w, "bytes_received", s->bytes_received);
		jw_u64(w, "unacked_segs", s->unacked);
		jw_u64(w, "send_queue", s->send_queue);
		jw_u64(w, "recv_queue", s->recv_queue);
		jw_u64(w, "srtt_us", s->rtt_us);
		jw_u64(w, "rttvar_us", s->rttvar_us);
	}
	jw_u64(w, "retrans_segs", n.retrans);
	jw_u64(w, "rto", f->timeouts + f->syn_timeouts);
	jw_u64(w, "ofo_segs", n.ofo);
	jw_u64(w, "dup_segs", n.dup);
	jw_u64(w, "dupacks", n.dupacks);
	jw_u64(w, "resets_sent", n.resets_sent);
	jw_u64(w, "resets_received", n.resets_received);
	jw_u64(w, "drops", n.drops);
}

/* Zero windows, resets after the close and TLS alerts: each an object by side. */
static void write_signals(struct jw *w, const struct conn_end *e)
{
	const struct conn_facts *f = &e->facts;
	const struct tv_rec_close *cl = &e->close;
	uint64_t now = e->end_ns;
	const struct zero_windows *p = &f->zw[TV_WINDOW_PEER], *l = &f->zw[TV_WINDOW_LOCAL];

	jw_open(w, "zero_windows", '{');
	if (e->closed) {
		jw_u64(w, "peer", cl->zw_peer);
		jw_u64(w, "peer_ms", cl->zw_peer_ns / 1000000);
		jw_u64(w, "probes", cl->zw_probes);
		jw_u64(w, "local", cl->zw_local);
		jw_u64(w, "local_ms", cl->zw_local_ns / 1000000);
		jw_bool(w, "peer_closed", cl->zw_closed & TV_ZW_PEER);
		jw_bool(w, "local_closed", cl->zw_closed & TV_ZW_LOCAL);
	} else {
		jw_u64(w, "peer", p->n);
		jw_u64(w, "peer_ms", zero_windows_closed_ns(p, now) / 1000000);
		jw_u64(w, "probes", p->probes);
		jw_u64(w, "local", l->n);
		jw_u64(w, "local_ms", zero_windows_closed_ns(l, now) / 1000000);
		jw_bool(w, "peer_closed", p->since_ns);
		jw_bool(w, "local_closed", l->since_ns);
	}
	jw_close(w, '}');
	jw_open(w, "late_resets", '{');
	jw_u64(w, "sent", f->late_resets_sent);
	jw_u64(w, "received", f->late_resets_received);
	jw_close(w, '}');
	jw_open(w, "tls_alerts", '{');
	jw_u64(w, "sent", f->alerts[0]);
	jw_u64(w, "received", f->alerts[1]);
	jw_close(w, '}');
}

/* The close record, from the kernel's counters with late records joined;
 * for a connection still open, what is known so far. */
static void json_conn_end(struct output *o, const struct conn_ref *c, const struct conn_end *e)
{
	const struct tv_rec_close *cl = &e->close;
	uint64_t ts = e->closed ? cl->hdr.ts_ns : e->end_ns ? e->end_ns : c->first_ts_ns;
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "close");
	write_ts(o, &w, ts);
	write_conn_keys(&w, &c->id);
	if (!e->closed) {
		write_still_open(o, &w, c, e);
	} else {
		jw_bool(&w, "still_open", false);
		jw_u64(&w, "duration_us", ts > cl->hist.start_ns ? (ts - cl->hist.start_ns) / 1000 : 0);
		jw_lit(&w, "last_state", tcp_state_name(cl->last_state));
		jw_lit(&w, "closed_by", closed_by_name(e->closed_by));
		jw_u64(&w, "bytes_sent", cl->bytes_sent);
		jw_u64(&w, "bytes_acked", cl->bytes_acked);
		jw_u64(&w, "bytes_received", cl->bytes_received);
		jw_u64(&w, "bytes_retrans", cl->bytes_retrans);
		jw_u64(&w, "retrans_segs", cl->retrans_segs);
		jw_u64(&w, "rto", cl->rto);
		jw_u64(&w, "ofo_segs", cl->ofo_segs);
		jw_u64(&w, "dup_segs", cl->dup_segs);
		jw_u64(&w, "dupacks", cl->dupacks);
		jw_u64(&w, "dsack", cl->dsack);
		jw_u64(&w, "resets_sent", cl->resets_sent);
		jw_u64(&w, "resets_received", cl->resets_received);
		jw_u64(&w, "drops", cl->drops);
		jw_u64(&w, "srtt_us", cl->srtt_us);
		jw_u64(&w, "rttvar_us", cl->rttvar_us);
		write_history(o, &w, &cl->hist);
	}
	write_signals(&w, e);
	if (e->error)
		jw_lit(&w, "error", errno_name(e->error));
	else
		jw_null(&w, "error");
	write_tls_summary(o, &w, &e->tls);
	write_verdicts(&w, e);
	jw_end(&w);
}

/* A record of one count: {"type":TYPE,"ts":...,KEY:n} */
static void write_count_record(struct output *o, const char *type, uint64_t ts_ns, const char *key, uint64_t n)
{
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", type);
	write_ts(o, &w, ts_ns);
	jw_u64(&w, key, n);
	jw_end(&w);
}

static void json_lost(struct output *o, uint64_t ts_ns, uint64_t records)
{
	write_count_record(o, "lost", ts_ns, "records", records);
}

static void json_missed(struct output *o, uint64_t ts_ns, uint64_t events, const struct hook_count *hooks, int n)
{
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "missed");
	write_ts(o, &w, ts_ns);
	jw_u64(&w, "events", events);
	jw_open(&w, "hooks", '{');
	for (int i = 0; i < n; i++)
		jw_u64(&w, hooks[i].hook, hooks[i].n);
	jw_close(&w, '}');
	jw_end(&w);
}

static void json_stop(struct output *o, uint64_t ts_ns, const struct stop_info *si)
{
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "stop");
	write_ts(o, &w, ts_ns);
	jw_u64(&w, "records", si->records);
	jw_u64(&w, "lost", si->lost);
	if (si->missed_unknown)
		jw_null(&w, "missed");
	else
		jw_u64(&w, "missed", si->missed);
	jw_u64(&w, "connections", si->connections);
	jw_u64(&w, "rejected", si->rejected);
	jw_u64(&w, "evicted", si->evicted);
	jw_u64(&w, "unkept", si->unkept);
	jw_end(&w);
}

/* An endpoint group's keys and counts, in the report and the summaries. */
static void write_endpoint(struct jw *w, const struct endpoint *ep)
{
	struct tv_conn id = { .family = ep->key.family, .dir = ep->key.dir };
	char addr[64];

	jw_bool(w, "other", ep->other);
	if (ep->other) {
		jw_null(w, "dir");
		jw_null(w, "addr");
		jw_null(w, "port");
		jw_null(w, "server_name");
	} else {
		memcpy(id.daddr, ep->key.addr, sizeof(id.daddr));
		format_addr(&id, true, addr, sizeof(addr));
		jw_lit(w, "dir", dir_name(&id));
		jw_str(w, "addr", addr);
		jw_u64(w, "port", ep->key.port);
		jw_str(w, "server_name", ep->key.server_name[0] ? ep->key.server_name : NULL);
	}
	jw_u64(w, "connections", ep->conns);
	jw_u64(w, "healthy", ep->healthy);
	jw_u64(w, "still_open", ep->still_open);
	jw_open(w, "verdicts", '{');
	for (int v = 0; v < TV_V_COUNT; v++)
		if (ep->verdicts[v])
			jw_u64(w, verdict_name(v), ep->verdicts[v]);
	jw_close(w, '}');
	jw_u64(w, "retrans_segs", ep->retrans_segs);
}

/* One group of the endpoint report. */
static void json_report(struct output *o, const struct endpoint *ep)
{
	char text[1024];
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "report");
	write_ts(o, &w, clock_mono_now_ns());
	write_endpoint(&w, ep);
	jw_u64(&w, "dupacks", ep->dupacks);
	if (ep->tls_checked) {
		jw_open(&w, "tls", '{');
		jw_lit(&w, "result", tls_result_name(ep->tls_result));
		write_date(&w, "earliest_expiry", ep->earliest_expiry);
		jw_close(&w, '}');
	} else {
		jw_null(&w, "tls");
	}
	endpoint_diagnosis(ep, text, sizeof(text));
	jw_str(&w, "diagnosis", text);
	jw_end(&w);
}

/* Nonzero counters of an array as an object, named by fn. */
static void write_counts(struct jw *w, const char *key, const uint64_t *v, int n,
			 const char *(*name)(const void *arg, int i), const void *arg)
{
	jw_open(w, key, '{');
	for (int i = 0; i < n; i++)
		if (v[i])
			jw_u64(w, name(arg, i), v[i]);
	jw_close(w, '}');
}

static const char *verdict_at(const void *arg, int i) { return verdict_name(i); }
static const char *tls_result_at(const void *arg, int i) { return tls_result_name(i); }

static const char *retrans_kind_at(const void *arg, int i)
{
	return i > TV_RETRANS_SYNACK ? "unattributed" : retrans_kind_name((unsigned)i);
}

static const char *drop_reason_at(const void *arg, int i)
{
	return i == TV_TALLY_REASONS ? "other" : drop_reason_name(arg, (uint32_t)i);
}

struct summary_eps {
	struct jw *w;
	int listed, unlisted;
};

static void summary_endpoint(void *arg, const struct endpoint *ep)
{
	struct summary_eps *se = arg;

	if (se->listed == TV_SUMMARY_ENDPOINTS) {
		se->unlisted++;
		return;
	}
	se->listed++;
	jw_open(se->w, NULL, '{');
	write_endpoint(se->w, ep);
	jw_close(se->w, '}');
}

static void json_summary(struct output *o, const struct summary_info *si)
{
	const struct tally *t = si->t;
	struct summary_eps se;
	char ts[40];
	struct jw w;

	jw_begin(&w, o->f);
	jw_lit(&w, "type", "summary");
	write_ts(o, &w, si->to_ns);
	clock_format_rfc3339(&o->clk, si->from_ns, ts, sizeof(ts));
	jw_lit(&w, "from", ts);
	jw_u64(&w, "period_ms", (si->to_ns - si->from_ns) / 1000000);
	jw_open(&w, "connections", '{');
	jw_open(&w, "opened", '{');
	jw_u64(&w, "out", si->opened[TV_DIR_OUT]);
	jw_u64(&w, "in", si->opened[TV_DIR_IN]);
	jw_close(&w, '}');
	jw_open(&w, "reported", '{');
	jw_u64(&w, "out", t->closed[TV_DIR_OUT]);
	jw_u64(&w, "in", t->closed[TV_DIR_IN]);
	jw_u64(&w, "unknown", t->closed[TV_DIR_UNKNOWN]);
	jw_close(&w, '}');
	jw_u64(&w, "still_open", t->still_open);
	jw_u64(&w, "troubled", t->troubled);
	jw_close(&w, '}');
	write_counts(&w, "verdicts", t->verdicts, TV_V_COUNT, verdict_at, NULL);
	jw_u64(&w, "retrans_segs", t->retrans_segs);
	write_counts(&w, "retrans_by_kind", t->retrans_kind, TV_RETRANS_SYNACK + 2, retrans_kind_at, NULL);
	jw_u64(&w, "ofo_segs", t->ofo_segs);
	jw_u64(&w, "dup_segs", t->dup_segs);
	jw_u64(&w, "dupacks", t->dupacks);
	jw_open(&w, "resets", '{');
	jw_u64(&w, "sent", t->resets_sent);
	jw_u64(&w, "received", t->resets_received);
	jw_u64(&w, "late_sent", t->late_resets_sent);
	jw_u64(&w, "late_received", t->late_resets_received);
	jw_close(&w, '}');
	jw_u64(&w, "drops", t->drops);
	write_counts(&w, "drops_by_reason", t->drop_reason, TV_TALLY_REASONS + 1, drop_reason_at, o->names);
	jw_open(&w, "zero_windows", '{');
	jw_u64(&w, "peer", t->zero_windows[TV_WINDOW_PEER]);
	jw_u64(&w, "local", t->zero_windows[TV_WINDOW_LOCAL]);
	jw_close(&w, '}');
	jw_open(&w, "tls_alerts", '{');
	jw_u64(&w, "sent", t->tls_alerts[0]);
	jw_u64(&w, "received", t->tls_alerts[1]);
	jw_close(&w, '}');
	jw_u64(&w, "errors", t->errors);
	jw_open(&w, "bytes", '{');
	jw_u64(&w, "sent", t->bytes_sent);
	jw_u64(&w, "received", t->bytes_received);
	jw_close(&w, '}');
	jw_open(&w, "tls", '{');
	write_counts(&w, "checks", t->tls_checks, TLS_RESULT_ERROR + 1, tls_result_at, NULL);
	jw_u64(&w, "cached", t->tls_cached);
	jw_close(&w, '}');
	se = (struct summary_eps){ .w = &w };
	jw_open(&w, "endpoints", '[');
	endpoints_each(si->eps, summary_endpoint, &se);
	jw_close(&w, ']');
	jw_u64(&w, "endpoints_unlisted", (uint64_t)se.unlisted);
	jw_open(&w, "records", '{');
	jw_u64(&w, "received", si->recs.records);
	jw_u64(&w, "lost", si->recs.lost);
	if (si->recs.missed_unknown)
		jw_null(&w, "missed");
	else
		jw_u64(&w, "missed", si->recs.missed);
	jw_u64(&w, "rejected", si->recs.rejected);
	jw_u64(&w, "unkept", si->recs.unkept);
	jw_close(&w, '}');
	jw_u64(&w, "output_dropped", si->output_dropped);
	jw_open(&w, "tables", '{');
	jw_open(&w, "connections", '{');
	jw_u64(&w, "size", si->conns);
	jw_u64(&w, "max", si->conns_max);
	jw_u64(&w, "evicted", si->recs.evicted);
	jw_close(&w, '}');
	jw_open(&w, "endpoints", '{');
	jw_u64(&w, "size", si->eps->n);
	jw_u64(&w, "max", TV_ENDPOINTS_MAX);
	jw_close(&w, '}');
	jw_open(&w, "tls_endpoints", '{');
	jw_u64(&w, "max", TV_TLS_ENDS_MAX);
	jw_u64(&w, "replaced", si->tls_ends_replaced);
	jw_close(&w, '}');
	jw_open(&w, "kernel", '[');
	for (int i = 0; i < si->ntables; i++) {
		jw_open(&w, NULL, '{');
		jw_lit(&w, "name", si->tables[i].name);
		jw_u64(&w, "max", si->tables[i].max_entries);
		jw_lit(&w, "when_full", si->tables[i].when_full);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_open(&w, "process", '{');
	jw_u64(&w, "cpu_user_us", (uint64_t)(si->cpu_user_s * 1e6));
	jw_u64(&w, "cpu_system_us", (uint64_t)(si->cpu_system_s * 1e6));
	jw_u64(&w, "rss_kb", si->rss_kb);
	jw_u64(&w, "rss_max_kb", si->rss_max_kb);
	jw_close(&w, '}');
	jw_end(&w);
}

static void json_output_lost(struct output *o, uint64_t ts_ns, uint64_t lines)
{
	write_count_record(o, "output_lost", ts_ns, "lines", lines);
}

const struct output_ops output_json_ops = {
	.start = json_start,
	.event = json_event,
	.orphan = json_orphan,
	.conn_end = json_conn_end,
	.tls = json_tls,
	.lost = json_lost,
	.missed = json_missed,
	.report = json_report,
	.stop = json_stop,
	.summary = json_summary,
	.output_lost = json_output_lost,
};
