/* Joins records by connection, applies the user's selection, feeds the output. */
#ifndef TV_COLLECTOR_H
#define TV_COLLECTOR_H

#include <stddef.h>
#include "cli.h"
#include "conn_table.h"
#include "output.h"
#include "tls_track.h"

struct collector {
	const struct tv_config *cfg;
	struct output *out;
	struct conn_table table;
	struct stop_info stats;
	bool by_owner_pid; /* --pid or -- COMMAND: the kernel marks matching owners */
	struct tls_track *tls; /* NULL: --tls-check off */
	uint32_t self_pid;     /* our own checks' connections are not traced */
	struct tv_conn self_ends[64]; /* their local ends: a local server's side is ours too */
	unsigned nself;
};

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   size_t max_conns);
void collector_free(struct collector *col);
/* One record as the ring buffer handed it over; malformed ones are counted. */
void collector_raw(struct collector *col, const void *data, size_t len);
void collector_record(struct collector *col, const union tv_record *r);
void collector_lost(struct collector *col, uint64_t ts_ns, uint64_t records);
/* Time-driven work: TLS checks for connections that sent no ClientHello,
 * and finished checks handed to their connections. */
void collector_tick(struct collector *col, uint64_t now_ns);
/* TLS checks still running for reported connections. */
int collector_tls_busy(const struct collector *col);
/* Selected connections not closed yet. */
size_t collector_open_selected(const struct collector *col);
/* Reports connections still open; call once at the end. */
void collector_finish(struct collector *col);

enum tv_sel filter_conn(const struct tv_config *cfg, bool by_owner_pid, const struct tv_conn *id);

#endif
