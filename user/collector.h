/* Joins records by connection, applies the user's selection, feeds the output. */
#ifndef TV_COLLECTOR_H
#define TV_COLLECTOR_H

#include <stddef.h>
#include "cli.h"
#include "conn_table.h"
#include "output.h"

struct collector {
	const struct tv_config *cfg;
	struct output *out;
	struct conn_table table;
	struct stop_info stats;
	bool by_owner_pid; /* --pid or -- COMMAND: the kernel marks matching owners */
};

int collector_init(struct collector *col, const struct tv_config *cfg, struct output *out,
		   size_t max_conns);
void collector_free(struct collector *col);
/* One record as the ring buffer handed it over; malformed ones are counted. */
void collector_raw(struct collector *col, const void *data, size_t len);
void collector_record(struct collector *col, const union tv_record *r);
void collector_lost(struct collector *col, uint64_t ts_ns, uint64_t records);
/* Selected connections not closed yet. */
size_t collector_open_selected(const struct collector *col);
/* Reports connections still open; call once at the end. */
void collector_finish(struct collector *col);

enum tv_sel filter_conn(const struct tv_config *cfg, bool by_owner_pid, const struct tv_conn *id);

#endif
