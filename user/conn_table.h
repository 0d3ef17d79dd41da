/* Connections by socket cookie, each with its recent events. Bounded: the
 * collector evicts the oldest connection when the table is full. */
#ifndef TV_CONN_TABLE_H
#define TV_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record.h"

#define TV_CONN_MAX_EVENTS 256 /* per connection; later ones are counted, not kept */

enum tv_sel { TV_SEL_UNKNOWN = 0, TV_SEL_YES, TV_SEL_NO };

/* What a close record says about the connection's TLS server. */
struct tls_summary {
	bool present;
	uint8_t result;          /* enum tls_result_kind */
	char server_name[254];   /* empty: none */
	int64_t earliest_expiry; /* Unix seconds over the sent chain; 0: none */
};

struct conn {
	uint64_t cookie;
	struct tv_conn id;     /* latest: pid and comm arrive once the owner is known */
	uint64_t first_ts_ns;
	enum tv_sel sel;
	bool anomalous;
	bool closed;
	union tv_record *events;
	uint32_t nevents, cap;
	uint32_t elided;       /* events past TV_CONN_MAX_EVENTS */
	bool tls_requested;
	bool tls_pending;          /* a check runs; the close waits for it */
	uint8_t tls_sni_source;    /* enum tls_sni_source: where this connection's name came from */
	uint64_t tls_wait_until_ns; /* a TLS port: check without a ClientHello after this */
	struct tls_summary tls;
	char *tls_line;            /* the text output's line */
	union tv_record *held_close;
	struct conn *hnext;    /* hash chain */
	struct conn *prev, *next; /* age order, oldest first */
};

struct conn_table {
	struct conn **buckets;
	size_t nbuckets;
	struct conn *oldest, *newest;
	size_t count, max;
};

int conn_table_init(struct conn_table *t, size_t max);
void conn_table_free(struct conn_table *t);
struct conn *conn_table_get(const struct conn_table *t, uint64_t cookie);
/* Adds a connection; the caller evicts first if conn_table_full(). */
struct conn *conn_table_add(struct conn_table *t, const struct tv_conn *id, uint64_t ts_ns);
bool conn_table_full(const struct conn_table *t);
void conn_table_remove(struct conn_table *t, struct conn *c);
/* Keeps a copy of r in c's timeline; false if it was only counted. */
bool conn_append(struct conn *c, const union tv_record *r);
void conn_clear_events(struct conn *c);

#endif
