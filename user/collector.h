/*
 * The collector: joins the kernel's records by connection, applies the
 * user's selection, and hands events and finished connections to the output.
 *
 * A connection's life: open (records flow) -> closed by the kernel (its close
 * record arrived) -> held (until its TLS check has ended and TV_HOLD_NS have
 * passed, so that records the kernel emits after the destroy join it) ->
 * reported (verdict stage, then the format's conn_end) -> forgotten. One
 * function decides when a connection is reported, whoever calls it: the
 * record path, the TLS results, the timers, eviction and shutdown.
 */
#ifndef TV_COLLECTOR_H
#define TV_COLLECTOR_H

#include <stddef.h>
#include "cli.h"
#include "conn_table.h"
#include "endpoints.h"
#include "list.h"
#include "tally.h"
#include "output.h"
#include "tls_track.h"

#define TV_HOLD_NS 200000000ULL      /* a closed connection waits this long for late records */
#define TV_LATE_HOLD_NS 1000000000ULL /* one that had a reset or an error: resets without a socket may follow */
#define TV_HELLO_WAIT_NS 1000000000ULL /* a TLS connection that wrote nothing is checked after this */
#define TV_SELF_ENDS 64              /* the checker's own connections remembered, to skip their far end */

struct collector {
	const struct tv_config *cfg;
	struct output *out;
	struct tls_track *tls; /* NULL: --tls-check off */
	struct conn_table table;
	struct stop_info stats;
	bool by_owner_pid;     /* --pid or -- COMMAND: the kernel marks matching owners */
	uint32_t self_pid;     /* our own checks' connections are not reported */
	struct tv_conn self_ends[TV_SELF_ENDS]; /* their local ends: a local server's side is ours too */
	unsigned nself;
	struct dlist hello_waits; /* open TLS connections without a ClientHello, oldest first */
	struct dlist holds;       /* connections held, by hold_until_ns */
	int tls_pending;          /* connections waiting for a TLS check */
	struct endpoints *endpoints; /* the report at the end, built as connections are reported;
				      * --agent: the summary's, of the period */
	bool agent;            /* a healthy connection writes nothing (with --all: its close only) */
	struct tally tally;    /* over every connection reported */
	struct tls_ends tls_ends; /* certificate expiry of the servers checked lately */
};

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   struct tls_track *tls, size_t max_conns);
void collector_free(struct collector *col);
/* One record as the ring buffer handed it over; malformed ones are counted. */
void collector_raw(struct collector *col, const void *data, size_t len);
void collector_record(struct collector *col, const union tv_record *r);
void collector_lost(struct collector *col, uint64_t ts_ns, uint64_t records);
void collector_missed(struct collector *col, uint64_t ts_ns, uint64_t events, const struct hook_count *hooks, int n);
/* Time-driven work: finished TLS checks, checks of TLS connections that sent
 * no ClientHello, and holds that have run out. */
void collector_tick(struct collector *col, uint64_t now_ns);
/* Connections waiting for a TLS check. */
int collector_tls_pending(const struct collector *col);
/* Selected connections the kernel has not closed yet. */
size_t collector_open_selected(const struct collector *col);
/* A connection the kernel's socket table lists: at start (older than
 * tracing: its direction and owner are kept for its records to come), or at
 * stop (still open: snap is what the kernel says of it now). */
void collector_socket(struct collector *col, const struct tv_conn *id, const struct sock_snapshot *snap,
		      bool at_stop, uint64_t now_ns);
/* Reports every connection left (closed ones as closed, the rest as still
 * open), then the endpoint report; call once at the end. */
void collector_finish(struct collector *col);

enum tv_sel collector_filter(const struct tv_config *cfg, bool by_owner_pid, const struct tv_conn *id);

#endif
