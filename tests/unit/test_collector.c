/* The connection table and the collector: joining, selection, eviction. */
#include <stdlib.h>
#include "collector.h"
#include "unit.h"

static int nrecords, nends, nend_open;
static uint64_t last_cookie;

static void rec(struct output *o, const struct conn *c, const union tv_record *r)
{
	nrecords++;
	last_cookie = c ? c->cookie : 0;
}
static void end(struct output *o, const struct conn *c, const union tv_record *close)
{
	nends++;
	nend_open += close == NULL;
}
static void start(struct output *o, const struct start_info *si) {}
static void lost(struct output *o, uint64_t ts, uint64_t n) {}
static void stop(struct output *o, uint64_t ts, const struct stop_info *si) {}

static struct output_ops streaming = { .streams = true, .start = start, .record = rec,
				       .conn_end = end, .lost = lost, .stop = stop };

static union tv_record mk(uint16_t type, uint64_t cookie, uint16_t lport, uint8_t owner, uint32_t pid)
{
	union tv_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = type;
	r.hdr.count = 1;
	r.hdr.ts_ns = 1000;
	r.state.conn.cookie = cookie;
	r.state.conn.sport = lport;
	r.state.conn.dport = 443;
	r.state.conn.family = 4;
	r.state.conn.owner_flags = owner;
	r.state.conn.pid = pid;
	memcpy(r.state.conn.comm, "curl", 5);
	return r;
}

static void reset_counts(void)
{
	nrecords = nends = nend_open = 0;
}

int main(void)
{
	struct output out = { .ops = &streaming };
	struct tv_config cfg = { 0 };
	struct collector col;
	union tv_record r;
	struct conn_table t;

	/* table basics */
	conn_table_init(&t, 4);
	struct tv_conn id = { .cookie = 9 };
	struct conn *c = conn_table_add(&t, &id, 1);
	CHECK(conn_table_get(&t, 9) == c && !conn_table_get(&t, 10), "table finds by cookie");
	for (int i = 0; i < TV_CONN_MAX_EVENTS + 5; i++)
		conn_append(c, &r);
	CHECK(c->nevents == TV_CONN_MAX_EVENTS && c->elided == 5, "timeline is bounded, overflow counted");
	conn_table_remove(&t, c);
	CHECK(!conn_table_get(&t, 9) && t.count == 0, "removed");
	conn_table_free(&t);

	/* records of one connection stream out; close ends it */
	collector_init(&col, &cfg, &out, 4);
	reset_counts();
	r = mk(TV_REC_STATE, 1, 5000, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	r = mk(TV_REC_CLOSE, 1, 5000, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 2 && nends == 1 && col.table.count == 0 && col.stats.connections == 1,
	      "state then close: two records, one connection ended");

	/* until connect() picks the port, records wait */
	reset_counts();
	r = mk(TV_REC_STATE, 2, 0, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 0, "port 0: held back");
	r = mk(TV_REC_STATE, 2, 5001, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 2, "port known: both written");

	/* a full table evicts the oldest connection, reported as still open */
	reset_counts();
	for (uint64_t k = 100; k < 105; k++) {
		r = mk(TV_REC_STATE, k, 6000, TV_OWNER_KNOWN, 10);
		collector_record(&col, &r);
	}
	CHECK(col.table.count == 4 && col.stats.evicted == 2 && nend_open == 2,
	      "full table evicts the oldest and counts it");
	collector_finish(&col);
	CHECK(col.table.count == 0, "finish reports every open connection");
	collector_free(&col);

	/* --port selects by local or remote port */
	cfg.nports = 1;
	cfg.ports[0] = 7000;
	collector_init(&col, &cfg, &out, 16);
	reset_counts();
	r = mk(TV_REC_STATE, 3, 7000, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	r = mk(TV_REC_STATE, 4, 7001, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 1 && last_cookie == 3, "--port: only the matching connection");
	collector_free(&col);

	/* --pid: the kernel's match flag decides; unknown owners wait */
	memset(&cfg, 0, sizeof(cfg));
	cfg.npids = 1;
	cfg.pids[0] = 10;
	collector_init(&col, &cfg, &out, 16);
	reset_counts();
	r = mk(TV_REC_STATE, 5, 7000, 0, 0);
	collector_record(&col, &r);
	CHECK(nrecords == 0, "--pid: owner unknown, held");
	r = mk(TV_REC_STATE, 5, 7000, TV_OWNER_KNOWN | TV_OWNER_MATCH, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 2, "--pid: owner matched, held record released");
	r = mk(TV_REC_STATE, 6, 7000, TV_OWNER_KNOWN, 11);
	collector_record(&col, &r);
	r = mk(TV_REC_CLOSE, 6, 7000, TV_OWNER_KNOWN, 11);
	collector_record(&col, &r);
	CHECK(nrecords == 2 && col.table.count == 1, "--pid: other owners dropped and forgotten at close");
	r = mk(TV_REC_CLOSE, 7, 7000, 0, 0);
	collector_record(&col, &r);
	CHECK(nrecords == 2 && nends == 0, "--pid: a connection whose owner never showed is not reported");
	collector_free(&col);

	/* --comm */
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.comm, "wget");
	collector_init(&col, &cfg, &out, 16);
	reset_counts();
	r = mk(TV_REC_STATE, 8, 7000, TV_OWNER_KNOWN, 10);
	collector_record(&col, &r);
	CHECK(nrecords == 0, "--comm: curl is not wget");
	collector_free(&col);

	/* malformed input is counted, not fatal */
	memset(&cfg, 0, sizeof(cfg));
	collector_init(&col, &cfg, &out, 16);
	collector_raw(&col, "xx", 2);
	CHECK(col.stats.rejected == 1 && col.stats.records == 0, "a short record is rejected and counted");
	collector_free(&col);
	UNIT_EXIT();
}
