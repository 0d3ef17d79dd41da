#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collector.h"
#include "log.h"

#define TLS_HELLO_WAIT_NS 1000000000ULL /* a TLS connection that wrote nothing for 1 s is checked anyway */

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   size_t max_conns)
{
	memset(col, 0, sizeof(*col));
	col->cfg = cfg;
	col->out = out;
	col->by_owner_pid = cfg->npids > 0 || cfg->command;
	col->self_pid = (uint32_t)getpid();
	return conn_table_init(&col->table, max_conns);
}

void collector_free(struct collector *col)
{
	conn_table_free(&col->table);
}

enum tv_sel filter_conn(const struct tv_config *cfg, bool by_owner_pid, const struct tv_conn *id)
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

static bool is_anomaly(const union tv_record *r)
{
	switch (r->hdr.type) {
	case TV_REC_RETRANSMIT:
	case TV_REC_OFO:
	case TV_REC_DUP:
	case TV_REC_DUPACK:
	case TV_REC_RESET:
	case TV_REC_DROP:
		return true;
	case TV_REC_OPEN:
		return r->open.syn_retrans > 0;
	case TV_REC_CLOSE:
		return r->close.closed_by == TV_CLOSED_NEVER_ESTABLISHED ||
		       r->close.closed_by == TV_CLOSED_RESET_SENT ||
		       r->close.closed_by == TV_CLOSED_RESET_RECEIVED;
	default:
		return false;
	}
}

static void flush_pending(struct collector *col, struct conn *c)
{
	uint32_t i;

	if (!col->out->ops->streams)
		return;
	for (i = 0; i < c->nevents; i++)
		col->out->ops->record(col->out, c, &c->events[i]);
	conn_clear_events(c);
}

/* The connection is done (closed, evicted, or tracing stopped): report it
 * if selected and forget it. */
static void conn_done(struct collector *col, struct conn *c, const union tv_record *close)
{
	if (close && c->tls_pending && c->sel == TV_SEL_YES) {
		/* the close carries the check's result: hold it until the check ends */
		c->held_close = malloc(sizeof(*c->held_close));
		if (c->held_close) {
			*c->held_close = *close;
			c->closed = true;
			return;
		}
	}
	if (c->sel == TV_SEL_YES) {
		flush_pending(col, c);
		if (close && col->out->ops->streams)
			col->out->ops->record(col->out, c, close);
		col->out->ops->conn_end(col->out, c, close);
		col->stats.connections++;
		col->stats.unkept += c->elided;
	}
	conn_table_remove(&col->table, c);
}

static void conn_learn(struct conn *c, const struct tv_conn *id)
{
	if (!(c->id.owner_flags & TV_OWNER_KNOWN) && (id->owner_flags & TV_OWNER_KNOWN)) {
		c->id.pid = id->pid;
		memcpy(c->id.comm, id->comm, sizeof(c->id.comm));
		c->id.owner_flags = id->owner_flags;
	}
	if (c->id.dir == TV_DIR_UNKNOWN)
		c->id.dir = id->dir;
	if (!c->id.sport && id->sport) {
		memcpy(c->id.saddr, id->saddr, sizeof(id->saddr));
		c->id.sport = id->sport;
	}
}

/* The TLS checker's own connections, and a local server's end of them. */
static bool is_own_check(struct collector *col, const struct conn *c)
{
	const struct tv_conn *id = &c->id;

	if ((id->owner_flags & TV_OWNER_KNOWN) && id->pid == col->self_pid) {
		bool known = false;

		for (unsigned i = 0; i < 64 && i < col->nself; i++)
			known |= col->self_ends[i].cookie == id->cookie;
		if (id->sport && !known) /* once connect() has picked the port */
			col->self_ends[col->nself++ % 64] = *id;
		return true;
	}
	for (unsigned i = 0; i < 64 && i < col->nself; i++) {
		const struct tv_conn *s = &col->self_ends[i];

		if (s->netns == id->netns && s->sport == id->dport && s->dport == id->sport &&
		    !memcmp(s->saddr, id->daddr, 16))
			return true;
	}
	return false;
}

static void tls_summarize(struct conn *c, const struct tls_result *res)
{
	c->tls.present = true;
	c->tls.result = (uint8_t)res->result;
	snprintf(c->tls.server_name, sizeof(c->tls.server_name), "%s", res->key.sni);
	c->tls.earliest_expiry = tls_earliest_expiry(res->chain, res->nchain);
	if (res->result != TLS_RESULT_OK)
		c->anomalous = true;
}

static void tls_give(struct collector *col, struct conn *c, const struct tls_result *res, bool cached)
{
	c->tls_pending = false;
	tls_summarize(c, res);
	if (c->sel == TV_SEL_YES) {
		flush_pending(col, c);
		col->out->ops->tls(col->out, c, res, cached);
	}
	if (c->held_close) {
		union tv_record close = *c->held_close;

		conn_done(col, c, &close);
	}
}

static void tls_deliver(void *arg, uint64_t cookie, const struct tls_result *res)
{
	struct collector *col = arg;
	struct conn *c = conn_table_get(&col->table, cookie);

	if (c && c->tls_pending)
		tls_give(col, c, res, false);
}

static void tls_request(struct collector *col, struct conn *c, const char *sni, enum tls_sni_source src)
{
	const struct tls_result *res = NULL;

	if (c->tls_requested || c->sel == TV_SEL_NO)
		return;
	c->tls_requested = true;
	c->tls_wait_until_ns = 0;
	if (!sni || !sni[0]) {
		sni = tls_track_option_name(col->tls, &c->id);
		src = sni ? TLS_SNI_OPTION : TLS_SNI_NONE;
	}
	c->tls_sni_source = (uint8_t)src; /* a shared result may have come from another source */
	switch (tls_track_request(col->tls, &c->id, sni, &res)) {
	case TLS_REQ_PENDING:
		c->tls_pending = true;
		break;
	case TLS_REQ_CACHED:
		tls_give(col, c, res, true);
		break;
	case TLS_REQ_FAILED:
		tls_give(col, c, res, false);
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
	pr_debug("connection %llu: first write of %u bytes: %s%s%s\n", (unsigned long long)c->cookie,
		 h->total, tls_hello_result_name(pr), pr == TLS_HELLO_SNI ? " " : "",
		 pr == TLS_HELLO_SNI ? sni : "");
	if (pr == TLS_HELLO_NOT_TLS)
		return; /* not a TLS client: nothing to check on its behalf */
	tls_request(col, c, pr == TLS_HELLO_SNI ? sni : NULL, TLS_SNI_CLIENT_HELLO);
}

void collector_tick(struct collector *col, uint64_t now_ns)
{
	struct conn *c, *next;

	if (!col->tls)
		return;
	tls_track_poll(col->tls, tls_deliver, col);
	for (c = col->table.oldest; c; c = next) {
		next = c->next;
		if (c->tls_wait_until_ns && now_ns >= c->tls_wait_until_ns && !c->closed)
			tls_request(col, c, NULL, TLS_SNI_NONE);
	}
}

int collector_tls_busy(const struct collector *col)
{
	const struct conn *c;
	int n = 0;

	for (c = col->table.oldest; c; c = c->next)
		n += c->tls_pending;
	return n;
}

void collector_record(struct collector *col, const union tv_record *r)
{
	const struct tv_conn *id = &r->state.conn; /* every record has it after the header */
	struct conn *c;

	col->stats.records++;
	if (!id->cookie) {
		/* no socket yet: cannot belong to a traced process */
		if (!col->by_owner_pid && !col->cfg->comm[0] &&
		    filter_conn(col->cfg, false, id) == TV_SEL_YES)
			col->out->ops->record(col->out, NULL, r);
		return;
	}
	c = conn_table_get(&col->table, id->cookie);
	if (!c) {
		if (conn_table_full(&col->table)) {
			col->stats.evicted++;
			conn_done(col, col->table.oldest, NULL);
		}
		c = conn_table_add(&col->table, id, r->hdr.ts_ns);
		if (!c) {
			pr_warn("out of memory for a new connection; its records are dropped\n");
			col->stats.unkept++;
			return;
		}
	}
	conn_learn(c, id);
	if ((c->sel != TV_SEL_NO || c->id.pid == col->self_pid) && is_own_check(col, c))
		c->sel = TV_SEL_NO;
	if (is_anomaly(r))
		c->anomalous = true;
	if (r->hdr.type == TV_REC_OPEN && col->tls && c->id.dir == TV_DIR_OUT && !c->tls_requested &&
	    tls_track_port(col->tls, c->id.dport))
		c->tls_wait_until_ns = r->hdr.ts_ns + TLS_HELLO_WAIT_NS;
	if (c->sel == TV_SEL_UNKNOWN)
		c->sel = filter_conn(col->cfg, col->by_owner_pid, &c->id);
	/* hold records back until connect() has picked the local port */
	if (c->sel == TV_SEL_YES && !c->id.sport && r->hdr.type != TV_REC_CLOSE) {
		conn_append(c, r);
		return;
	}

	if (r->hdr.type == TV_REC_CLOSE) {
		conn_done(col, c, r);
		return;
	}
	if (c->sel == TV_SEL_NO) {
		conn_clear_events(c);
		return;
	}
	if (c->sel == TV_SEL_YES && col->out->ops->streams) {
		flush_pending(col, c);
		col->out->ops->record(col->out, c, r);
		return;
	}
	conn_append(c, r);
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

size_t collector_open_selected(const struct collector *col)
{
	const struct conn *c;
	size_t n = 0;

	for (c = col->table.oldest; c; c = c->next)
		n += c->sel == TV_SEL_YES && !c->closed;
	return n;
}

void collector_finish(struct collector *col)
{
	while (col->table.oldest) {
		struct conn *c = col->table.oldest;

		c->tls_pending = false; /* checks still running are not waited for past here */
		if (c->held_close) {
			union tv_record close = *c->held_close;

			conn_done(col, c, &close);
		} else {
			conn_done(col, c, NULL);
		}
	}
}
