#include <string.h>
#include "collector.h"
#include "log.h"

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   size_t max_conns)
{
	memset(col, 0, sizeof(*col));
	col->cfg = cfg;
	col->out = out;
	col->by_owner_pid = cfg->npids > 0 || cfg->command;
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
	if (is_anomaly(r))
		c->anomalous = true;
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
		n += c->sel == TV_SEL_YES;
	return n;
}

void collector_finish(struct collector *col)
{
	while (col->table.oldest)
		conn_done(col, col->table.oldest, NULL);
}
