/* The collector: joining records by connection, selection, and one lifecycle
 * per connection (held for its TLS check and late records, then reported). */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "collector.h"
#include "unit.h"

/* ---- an output that writes down every call ---- */

enum call_kind { CALL_EVENT, CALL_ORPHAN, CALL_TLS, CALL_END };

struct call {
	enum call_kind kind;
	uint64_t cookie;
	uint16_t type;             /* CALL_EVENT, CALL_ORPHAN: the record type */
	union tv_record rec;
	struct conn_end end;       /* CALL_END */
	enum tls_result_kind tls;  /* CALL_TLS */
	bool cached;
};

static struct call calls[4096];
static int ncalls;

static void spy_event(struct output *o, const struct conn_ref *c, const union tv_record *r)
{
	calls[ncalls++] = (struct call){ .kind = CALL_EVENT, .cookie = c->cookie, .type = r->hdr.type, .rec = *r };
}
static void spy_orphan(struct output *o, const union tv_record *r)
{
	calls[ncalls++] = (struct call){ .kind = CALL_ORPHAN, .type = r->hdr.type };
}
static void spy_tls(struct output *o, const struct conn_ref *c, const struct tls_report *t,
		    enum tls_sni_source src, bool cached)
{
	calls[ncalls++] = (struct call){ .kind = CALL_TLS, .cookie = c->cookie, .tls = t->result, .cached = cached };
}
static void spy_end(struct output *o, const struct conn_ref *c, const struct conn_end *e)
{
	calls[ncalls++] = (struct call){ .kind = CALL_END, .cookie = c->cookie, .end = *e };
}
static void spy_lost(struct output *o, uint64_t ts, uint64_t n) {}

static const struct output_ops spy = { .event = spy_event, .orphan = spy_orphan, .tls = spy_tls,
				       .conn_end = spy_end, .lost = spy_lost };

static int count(enum call_kind kind, uint64_t cookie)
{
	int n = 0;

	for (int i = 0; i < ncalls; i++)
		n += calls[i].kind == kind && calls[i].cookie == cookie;
	return n;
}

static const struct call *find(enum call_kind kind, uint64_t cookie)
{
	for (int i = 0; i < ncalls; i++)
		if (calls[i].kind == kind && calls[i].cookie == cookie)
			return &calls[i];
	return NULL;
}

static int index_of(enum call_kind kind, uint64_t cookie)
{
	const struct call *c = find(kind, cookie);

	return c ? (int)(c - calls) : -1;
}

/* ---- records ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t t0;

static union tv_record mk(uint16_t type, uint64_t cookie, uint16_t lport, uint8_t owner, uint32_t pid)
{
	union tv_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = type;
	r.hdr.count = 1;
	r.hdr.ts_ns = t0;
	r.state.conn.cookie = cookie;
	r.state.conn.sport = lport;
	r.state.conn.dport = 443;
	r.state.conn.family = 4;
	r.state.conn.dir = TV_DIR_OUT;
	r.state.conn.owner_flags = owner;
	r.state.conn.pid = pid;
	memcpy(r.state.conn.comm, "curl", 5);
	return r;
}

static union tv_record mk_reset(uint64_t cookie, uint8_t side, uint8_t state, uint64_t ts)
{
	union tv_record r = mk(TV_REC_RESET, cookie, 5000, TV_OWNER_KNOWN, 10);

	r.hdr.ts_ns = ts;
	r.reset.side = side;
	r.reset.state = state;
	r.reset.reason = TV_REASON_UNKNOWN;
	return r;
}

static union tv_record mk_close(uint64_t cookie, uint64_t ts, uint16_t sent, uint16_t received)
{
	union tv_record r = mk(TV_REC_CLOSE, cookie, 5000, TV_OWNER_KNOWN, 10);

	r.hdr.ts_ns = ts;
	r.close.hist.established = 1;
	r.close.announced = 1; /* its records came live */
	r.close.closer = TV_CLOSER_LOCAL;
	r.close.resets_sent = sent;
	r.close.resets_received = received;
	return r;
}

static void feed(struct collector *col, union tv_record r)
{
	collector_record(col, &r);
}

static void reset_calls(void)
{
	ncalls = 0;
}

/* ---- scenarios ---- */

static void test_basics(void)
{
	struct output out = { .ops = &spy };
	struct tv_config cfg = { 0 };
	struct collector col;

	collector_init(&col, &cfg, &out, NULL, 4);
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 1, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_close(1, t0, 0, 0));
	CHECK(count(CALL_EVENT, 1) == 1 && count(CALL_END, 1) == 0,
	      "state is written at once; the close is held");
	collector_tick(&col, t0 + TV_HOLD_NS - 1);
	CHECK(count(CALL_END, 1) == 0, "held until the hold has run out");
	collector_tick(&col, t0 + TV_HOLD_NS);
	CHECK(count(CALL_END, 1) == 1 && find(CALL_END, 1)->end.closed &&
		      find(CALL_END, 1)->end.closed_by == TV_CLOSED_LOCAL && conn_table_count(&col.table) == 0 &&
		      col.stats.connections == 1,
	      "then reported once, closed by local, and forgotten");

	/* until connect() picks the port, records wait */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 2, 0, TV_OWNER_KNOWN, 10));
	CHECK(ncalls == 0, "port 0: held back");
	feed(&col, mk(TV_REC_STATE, 2, 5001, TV_OWNER_KNOWN, 10));
	CHECK(count(CALL_EVENT, 2) == 2, "port known: both written, in order");

	/* a full table reports the oldest connection early */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 100, 6000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_close(100, t0, 0, 0)); /* closed, held */
	for (uint64_t k = 101; k < 105; k++)
		feed(&col, mk(TV_REC_STATE, k, 6000, TV_OWNER_KNOWN, 10));
	CHECK(conn_table_count(&col.table) == 4 && col.stats.evicted == 2, "full table: two evicted, counted");
	CHECK(find(CALL_END, 2) && !find(CALL_END, 2)->end.closed && find(CALL_END, 2)->end.evicted,
	      "an open connection evicted is reported still open, marked evicted");
	CHECK(find(CALL_END, 100) && find(CALL_END, 100)->end.closed,
	      "a closed connection evicted while held is reported closed, with its close");
	collector_finish(&col);
	CHECK(conn_table_count(&col.table) == 0 && count(CALL_END, 104) == 1 && !find(CALL_END, 104)->end.closed,
	      "finish reports every open connection as still open");
	collector_free(&col);
}

static void test_selection(void)
{
	struct output out = { .ops = &spy };
	struct tv_config cfg = { 0 };
	struct collector col;

	cfg.nports = 1;
	cfg.ports[0] = 7000;
	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 3, 7000, TV_OWNER_KNOWN, 10));
	feed(&col, mk(TV_REC_STATE, 4, 7001, TV_OWNER_KNOWN, 10));
	CHECK(count(CALL_EVENT, 3) == 1 && count(CALL_EVENT, 4) == 0, "--port: only the matching connection");
	collector_free(&col);

	memset(&cfg, 0, sizeof(cfg));
	cfg.npids = 1;
	cfg.pids[0] = 10;
	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 5, 7000, 0, 0));
	CHECK(ncalls == 0, "--pid: owner unknown, held");
	feed(&col, mk(TV_REC_STATE, 5, 7000, TV_OWNER_KNOWN | TV_OWNER_MATCH, 10));
	CHECK(count(CALL_EVENT, 5) == 2, "--pid: owner matched, held record released");
	feed(&col, mk(TV_REC_STATE, 6, 7000, TV_OWNER_KNOWN, 11));
	feed(&col, mk_close(6, t0, 0, 0));
	collector_tick(&col, t0 + TV_HOLD_NS);
	CHECK(count(CALL_EVENT, 6) == 0 && count(CALL_END, 6) == 0 && !conn_table_get(&col.table, 6),
	      "--pid: other owners dropped, and forgotten once closed");
	feed(&col, mk_close(7, t0, 0, 0));
	collector_tick(&col, t0 + TV_HOLD_NS);
	CHECK(count(CALL_END, 7) == 0, "--pid: a connection whose owner never showed is not reported");
	collector_free(&col);

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.comm, "wget");
	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 8, 7000, TV_OWNER_KNOWN, 10));
	CHECK(ncalls == 0, "--comm: curl is not wget");
	collector_free(&col);

	memset(&cfg, 0, sizeof(cfg));
	collector_init(&col, &cfg, &out, NULL, 16);
	collector_raw(&col, "xx", 2);
	CHECK(col.stats.rejected == 1 && col.stats.records == 0, "a short record is rejected and counted");
	collector_free(&col);
}

static void test_late_records(void)
{
	struct output out = { .ops = &spy };
	struct tv_config cfg = { 0 };
	struct collector col;
	const struct call *e;

	collector_init(&col, &cfg, &out, NULL, 16);

	/* the kernel resets the peer's data after our close: the reset comes after the destroy */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 20, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_close(20, t0 + 10, 0, 0));
	feed(&col, mk_reset(20, TV_RESET_SENT, TCP_CLOSE, t0 + 20));
	collector_tick(&col, t0 + 10 + TV_HOLD_NS);
	e = find(CALL_END, 20);
	CHECK(count(CALL_END, 20) == 1 && conn_table_count(&col.table) == 0,
	      "late reset: one connection, reported once");
	CHECK(e && e->end.close.resets_sent == 1 && e->end.closed_by == TV_CLOSED_RESET_SENT && e->end.anomalous,
	      "late reset: joined the close (resets_sent 1, closed_by reset_sent)");
	CHECK(index_of(CALL_EVENT, 20) >= 0 && calls[index_of(CALL_END, 20) - 1].type == TV_REC_RESET,
	      "late reset: written before the close");

	/* a late record of a connection already reported creates nothing */
	reset_calls();
	feed(&col, mk_reset(20, TV_RESET_SENT, TCP_CLOSE, t0 + TV_HOLD_NS + 30));
	union tv_record drop = mk(TV_REC_DROP, 20, 5000, TV_OWNER_KNOWN, 10);
	drop.drop.state = TCP_CLOSE;
	feed(&col, drop);
	collector_finish(&col);
	CHECK(ncalls == 0 && col.stats.unkept == 2, "records in CLOSE never create a connection; counted as unkept");

	/* shutdown() then data: tcp_reset() reports a "received" reset for our own abort */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 21, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_reset(21, TV_RESET_RECEIVED, TCP_FIN_WAIT2, t0 + 100));
	CHECK(count(CALL_EVENT, 21) == 1, "a received reset in FIN_WAIT2 is held back");
	feed(&col, mk_reset(21, TV_RESET_SENT, TCP_CLOSE, t0 + 101));
	feed(&col, mk_close(21, t0 + 5000, 1, 1)); /* the app closes later: the kernel counted both */
	collector_tick(&col, t0 + 5000 + TV_LATE_HOLD_NS);
	e = find(CALL_END, 21);
	CHECK(count(CALL_EVENT, 21) == 2 && calls[1].rec.reset.side == TV_RESET_SENT,
	      "own abort: the received reset is dropped, the sent one written");
	CHECK(e && e->end.close.resets_received == 0 && e->end.close.resets_sent == 1 &&
		      e->end.closed_by == TV_CLOSED_RESET_SENT,
	      "own abort: counted as one reset sent, none received");

	/* the same after close(): received reset, close, then the reset sent */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 22, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_reset(22, TV_RESET_RECEIVED, TCP_FIN_WAIT1, t0 + 200));
	feed(&col, mk_close(22, t0 + 201, 0, 1));
	feed(&col, mk_reset(22, TV_RESET_SENT, TCP_CLOSE, t0 + 202));
	collector_tick(&col, t0 + 201 + TV_LATE_HOLD_NS);
	e = find(CALL_END, 22);
	CHECK(e && e->end.close.resets_received == 0 && e->end.close.resets_sent == 1 &&
		      e->end.closed_by == TV_CLOSED_RESET_SENT,
	      "own abort after the destroy: one reset sent, none received");

	/* a real reset in CLOSE_WAIT: no reset of ours follows, it is released with its order kept */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 23, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_reset(23, TV_RESET_RECEIVED, TCP_CLOSE_WAIT, t0 + 300));
	union tv_record st = mk(TV_REC_STATE, 23, 5000, TV_OWNER_KNOWN, 10);
	st.hdr.ts_ns = t0 + 301;
	st.state.old_state = TCP_CLOSE_WAIT;
	st.state.new_state = TCP_CLOSE;
	feed(&col, st);
	feed(&col, mk_close(23, t0 + 302, 0, 1));
	collector_tick(&col, t0 + 302 + TV_LATE_HOLD_NS);
	CHECK(count(CALL_EVENT, 23) == 3 && calls[1].type == TV_REC_RESET && calls[2].type == TV_REC_STATE &&
		      calls[3].kind == CALL_END,
	      "peer's reset: released in order when no reset of ours follows, then the close");
	e = find(CALL_END, 23);
	CHECK(e && e->end.close.resets_received == 1 && e->end.closed_by == TV_CLOSED_RESET_RECEIVED,
	      "peer's reset: closed_by reset_received");

	/* a reset's connection waits longer: resets from after its socket was gone may follow,
	 * and those count on top of the kernel's close, even when they come before it */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 25, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_reset(25, TV_RESET_RECEIVED, TCP_ESTABLISHED, t0 + 500));
	union tv_record r = mk_reset(25, TV_RESET_RECEIVED, TCP_CLOSE, t0 + 501);
	r.reset.flags = TV_RESET_AFTER_CLOSE;
	feed(&col, r); /* the socket is unhashed, the application has not closed it yet */
	feed(&col, mk_close(25, t0 + 600, 0, 1));
	collector_tick(&col, t0 + 600 + TV_HOLD_NS);
	CHECK(count(CALL_END, 25) == 0, "a close after a reset is not reported after the usual hold");
	r.hdr.ts_ns = t0 + 700;
	feed(&col, r);
	collector_tick(&col, t0 + 600 + TV_LATE_HOLD_NS);
	e = find(CALL_END, 25);
	CHECK(e && e->end.close.resets_received == 3 && e->end.facts.late_resets_received == 2,
	      "but after the longer one, with the resets after the close before and after its record joined");

	/* an open connection's held reset goes out when its hold runs out */
	reset_calls();
	feed(&col, mk(TV_REC_STATE, 24, 5000, TV_OWNER_KNOWN, 10));
	feed(&col, mk_reset(24, TV_RESET_RECEIVED, TCP_FIN_WAIT2, t0 + 400));
	collector_tick(&col, t0 + 400 + TV_HOLD_NS);
	CHECK(count(CALL_EVENT, 24) == 2 && count(CALL_END, 24) == 0,
	      "held reset of an open connection: written after the hold, connection still open");
	collector_free(&col);
}

/* A healthy connection crosses the ring buffer once: its close carries its history. */
static void test_history(void)
{
	struct output out = { .ops = &spy };
	struct tv_config cfg = { 0 };
	struct collector col;
	union tv_record r;
	struct tv_history *h;

	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	r = mk_close(50, t0 + 5000, 0, 0);
	r.close.announced = 0;
	h = &r.close.hist;
	h->start_ns = t0;
	h->handshake_us = 42;
	h->ntrans = 3;
	h->trans[0] = (struct tv_transition){ .ts_ns = t0, .old_state = TCP_CLOSE, .new_state = TCP_SYN_SENT };
	h->trans[1] = (struct tv_transition){ .ts_ns = t0 + 100, .old_state = TCP_SYN_SENT, .new_state = TCP_ESTABLISHED };
	h->trans[2] = (struct tv_transition){ .ts_ns = t0 + 4000, .old_state = TCP_ESTABLISHED, .new_state = TCP_FIN_WAIT1 };
	feed(&col, r);
	collector_tick(&col, t0 + 5000 + TV_HOLD_NS);
	CHECK(ncalls == 1 && calls[0].kind == CALL_END && !calls[0].end.history_live &&
		      calls[0].end.close.hist.ntrans == 3,
	      "a healthy connection: one record, the end carries its history for the format");
	CHECK(col.stats.records == 1, "one record from the kernel");

	/* an announced connection: its history first, then live records, and a close without replay */
	reset_calls();
	memset(&r, 0, sizeof(r));
	r.hdr = (struct tv_hdr){ .type = TV_REC_CONN, .size = sizeof(r.announce), .count = 1, .ts_ns = t0 + 200 };
	r.announce.conn = mk(TV_REC_STATE, 51, 5000, TV_OWNER_KNOWN, 10).state.conn;
	r.announce.hist.ntrans = 1;
	r.announce.hist.trans[0] = (struct tv_transition){ .ts_ns = t0, .old_state = TCP_CLOSE, .new_state = TCP_SYN_SENT };
	feed(&col, r);
	feed(&col, mk_reset(51, TV_RESET_RECEIVED, TCP_SYN_SENT, t0 + 300));
	r = mk_close(51, t0 + 400, 0, 1);
	r.close.hist.established = 0;
	r.close.hist.ntrans = 1; /* the same history: announced, so not replayed again */
	r.close.hist.trans[0] = (struct tv_transition){ .ts_ns = t0, .old_state = TCP_CLOSE, .new_state = TCP_SYN_SENT };
	feed(&col, r);
	collector_tick(&col, t0 + 400 + TV_LATE_HOLD_NS);
	CHECK(ncalls == 3 && calls[0].type == TV_REC_STATE && calls[1].type == TV_REC_RESET &&
		      calls[2].kind == CALL_END && calls[2].end.closed_by == TV_CLOSED_NEVER_ESTABLISHED &&
		      calls[2].end.history_live,
	      "announced: history as events, the live reset, the end; never established");
	collector_free(&col);
}

static void test_own_checks(void)
{
	struct output out = { .ops = &spy };
	struct tv_config cfg = { 0 };
	struct collector col;
	uint32_t self = (uint32_t)getpid();
	union tv_record r;

	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	r = mk(TV_REC_STATE, 30, 0, TV_OWNER_KNOWN, self); /* connect(): no port yet */
	feed(&col, r);
	r = mk(TV_REC_STATE, 30, 41000, TV_OWNER_KNOWN, self);
	r.state.conn.saddr[0] = 127, r.state.conn.saddr[3] = 1;
	r.state.conn.daddr[0] = 127, r.state.conn.daddr[3] = 1;
	feed(&col, r);
	/* the local server's end: accepted, addresses mirrored, owned by another process */
	r = mk(TV_REC_STATE, 31, 443, TV_OWNER_KNOWN, 99);
	r.state.conn.dir = TV_DIR_IN;
	r.state.conn.dport = 41000;
	r.state.conn.saddr[0] = 127, r.state.conn.saddr[3] = 1;
	r.state.conn.daddr[0] = 127, r.state.conn.daddr[3] = 1;
	feed(&col, r);
	feed(&col, mk_close(30, t0, 0, 0));
	feed(&col, mk_close(31, t0, 0, 0));
	collector_finish(&col);
	CHECK(ncalls == 0 && col.stats.connections == 0,
	      "the checker's own connection and the local server's end of it are never reported");

	/* a dual-stack server: its end has IPv4-mapped IPv6 addresses */
	collector_free(&col);
	collector_init(&col, &cfg, &out, NULL, 16);
	reset_calls();
	r = mk(TV_REC_STATE, 32, 41001, TV_OWNER_KNOWN, self);
	r.state.conn.saddr[0] = 127, r.state.conn.saddr[3] = 1;
	r.state.conn.daddr[0] = 127, r.state.conn.daddr[3] = 1;
	feed(&col, r);
	r = mk(TV_REC_STATE, 33, 443, TV_OWNER_KNOWN, 99);
	r.state.conn.family = 6;
	r.state.conn.dir = TV_DIR_IN;
	r.state.conn.dport = 41001;
	for (int i = 0; i < 2; i++) {
		uint8_t *a = i ? r.state.conn.daddr : r.state.conn.saddr;

		a[10] = a[11] = 0xff, a[12] = 127, a[15] = 1;
	}
	feed(&col, r);
	collector_finish(&col);
	CHECK(ncalls == 0, "a dual-stack server's end of the checker's connection is not reported either");
	collector_free(&col);
}

/* A local port that accepts and never answers: a TLS check of it times out. */
static int silent_listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static size_t load_hello(uint8_t *buf, size_t cap)
{
	FILE *f = fopen("tests/unit/data/hello_curl.bin", "rb");
	size_t n = f ? fread(buf, 1, cap, f) : 0;

	if (f)
		fclose(f);
	return n;
}

/* A new outgoing connection to the silent TLS port, with its ClientHello. */
static void tls_connection(struct collector *col, uint64_t cookie, uint16_t port, uint32_t netns)
{
	static struct tv_rec_tls_hello h;
	union tv_record r = mk(TV_REC_OPEN, cookie, 5000, TV_OWNER_KNOWN, 10);

	r.state.conn.dport = port;
	r.state.conn.netns = netns;
	r.state.conn.daddr[0] = 127, r.state.conn.daddr[3] = 1;
	feed(col, r);
	memset(&h, 0, sizeof(h));
	h.hdr.type = TV_REC_TLS_HELLO;
	h.hdr.size = sizeof(h);
	h.hdr.count = 1;
	h.hdr.ts_ns = t0;
	h.conn = r.state.conn;
	h.len = (uint32_t)load_hello(h.data, sizeof(h.data));
	collector_raw(col, &h, sizeof(h));
}

static void test_tls_hold(void)
{
	struct tv_config cfg = { 0 };
	struct output out = { .ops = &spy };
	uint16_t port;
	int lfd = silent_listener(&port);
	struct tls_track_options to = { .extra_ports = &port, .nextra_ports = 1, .timeout_ms = 100,
					.ttl_s = 600 };
	struct tls_track *tt;
	struct collector col;
	struct stat st;
	char err[256];
	uint64_t deadline;
	const struct call *e;

	stat("/proc/self/ns/net", &st);
	if (lfd < 0 || tls_track_new(&tt, &to, err, sizeof(err)) || tls_track_start(tt, err, sizeof(err))) {
		CHECK(false, "TLS checker and a local listener start");
		return;
	}
	collector_init(&col, &cfg, &out, tt, 16);
	reset_calls();
	tls_connection(&col, 40, port, (uint32_t)st.st_ino);
	CHECK(collector_tls_pending(&col) == 1, "the ClientHello starts a check");
	feed(&col, mk_close(40, t0, 0, 0));
	collector_tick(&col, now_ns() + TV_HOLD_NS); /* past the hold, but the check still runs */
	CHECK(count(CALL_END, 40) == 0, "a close is held while its TLS check runs");
	for (deadline = now_ns() + 3000000000ULL; collector_tls_pending(&col) && now_ns() < deadline;)
		collector_tick(&col, now_ns() + TV_HOLD_NS), usleep(10000);
	e = find(CALL_END, 40);
	CHECK(e && index_of(CALL_TLS, 40) >= 0 && index_of(CALL_TLS, 40) < index_of(CALL_END, 40),
	      "when the check ends, its result comes first, then the close");
	CHECK(e && e->end.tls.present && e->end.tls.result == TLS_RESULT_TIMEOUT &&
		      !strcmp(e->end.tls.server_name, "media.example.test") && e->end.anomalous,
	      "the close carries the check's result and server name");

	reset_calls();
	tls_connection(&col, 41, port, (uint32_t)st.st_ino);
	CHECK(find(CALL_TLS, 41) && find(CALL_TLS, 41)->cached && collector_tls_pending(&col) == 0,
	      "the same server again: the cached result, at once");
	feed(&col, mk_close(41, t0, 0, 0));
	collector_tick(&col, t0 + TV_HOLD_NS);
	CHECK(find(CALL_END, 41) && find(CALL_END, 41)->end.tls.present, "its close carries the cached result");

	/* a TLS connection that closes before any ClientHello is checked at its close */
	reset_calls();
	{
		union tv_record r = mk(TV_REC_OPEN, 43, 5000, TV_OWNER_KNOWN, 10);

		r.state.conn.dport = port;
		r.state.conn.netns = (uint32_t)st.st_ino;
		r.state.conn.daddr[0] = 127, r.state.conn.daddr[3] = 2; /* another address: not cached */
		feed(&col, r);
		CHECK(collector_tls_pending(&col) == 0, "no ClientHello yet: no check yet");
		feed(&col, mk_close(43, t0, 0, 0));
		CHECK(collector_tls_pending(&col) == 1 && count(CALL_END, 43) == 0,
		      "closed before its ClientHello: checked at its close, which waits for the check");
	}

	/* a connection evicted while its check runs gets no result later */
	collector_free(&col);
	collector_init(&col, &cfg, &out, tt, 1);
	reset_calls();
	tls_connection(&col, 42, 9, (uint32_t)st.st_ino); /* port 9 is not TLS: nothing */
	CHECK(collector_tls_pending(&col) == 0, "a port that is not TLS gets no check");
	collector_finish(&col);
	collector_free(&col);
	tls_track_free(tt);
	close(lfd);
}

int main(void)
{
	t0 = now_ns();
	test_basics();
	test_selection();
	test_late_records();
	test_history();
	test_own_checks();
	test_tls_hold();
	UNIT_EXIT();
}
