/* The collector's connections, by socket cookie and oldest first. Bounded:
 * the collector reports the oldest connection early when the table is full. */
#ifndef TV_CONN_TABLE_H
#define TV_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cookie_map.h"
#include "list.h"
#include "record.h"
#include "report.h"
#include "tls_track.h"

#define TV_CONN_HELD_MAX 256 /* records held back per connection; later ones are counted */

enum tv_sel { TV_SEL_UNKNOWN = 0, TV_SEL_YES, TV_SEL_NO };

/* Where a connection is in its life; it is forgotten once reported. */
enum conn_phase {
	CONN_OPEN = 0, /* records flow */
	CONN_CLOSED,   /* the kernel's close arrived; held for its TLS check and late records */
};

/* Records not handed to the formats yet. */
struct rec_queue {
	union tv_record *recs;
	uint32_t n, cap;
	uint32_t overflow; /* records past TV_CONN_HELD_MAX */
};

struct conn {
	struct cookie_node node; /* node.cookie: the socket cookie */
	struct tv_conn id;       /* latest: pid and comm arrive once the owner is known */
	uint64_t first_ts_ns;
	enum conn_phase phase;
	enum tv_sel sel;
	bool saw_anomaly;
	bool trouble;            /* an anomaly or a failed TLS check: --agent writes its timeline */
	/* held back while the selection is undecided, the local port unknown,
	 * or a received reset may still turn out to be this host's own abort */
	struct rec_queue held;
	uint32_t suspect;         /* 1 + index in held of such a reset; 0: none */
	uint64_t hold_until_ns;   /* not reported before: late records may still join */
	struct tv_rec_close close; /* CONN_CLOSED: the kernel's close */
	/* what joined after the close, and corrections to the kernel's counts */
	int32_t add_resets_sent, add_resets_received, add_drops;
	/* its TLS check */
	bool tls_requested;
	bool tls_pending;         /* a check runs; the report waits for it */
	uint8_t tls_sni_source;   /* enum tls_sni_source */
	uint64_t hello_deadline_ns; /* a TLS port: checked without a ClientHello after this */
	struct tls_waiter tls_waiter;
	struct tls_summary *tls;  /* once its check has a result: most connections have none */
	struct conn_facts facts;  /* what its records told, for the verdicts */
	bool has_snapshot;        /* the socket table's view when tracing stopped */
	uint64_t end_ns;          /* when tracing stopped, for one still open */
	struct sock_snapshot snapshot;
	/* list memberships */
	struct dlink age;   /* the table's age order */
	struct dlink hello; /* the collector's ClientHello waits */
	struct dlink hold;  /* the collector's holds, by hold_until_ns */
};

struct conn_table {
	struct cookie_map map;
	struct dlist age; /* oldest first */
	size_t max;
	/* connections removed, kept for the next ones: a churn of short
	 * connections then allocates and faults in nothing (replay: 1.7 times
	 * the records a second). What a whole period left unused is freed
	 * (conn_table_trim), so the spares follow the load down. */
	struct dlist spare;
	size_t nspare, spare_low; /* spare_low: the fewest spares this period */
	uint64_t trim_ns;
};

int conn_table_init(struct conn_table *t, size_t max);
void conn_table_free(struct conn_table *t);
struct conn *conn_table_get(const struct conn_table *t, uint64_t cookie);
/* Adds a connection; the caller makes room first if conn_table_full(). */
struct conn *conn_table_add(struct conn_table *t, const struct tv_conn *id, uint64_t ts_ns);
bool conn_table_full(const struct conn_table *t);
/* Frees the spares the last period did not need; call it as time passes. */
void conn_table_trim(struct conn_table *t, uint64_t now_ns);
size_t conn_table_count(const struct conn_table *t);
struct conn *conn_table_oldest(const struct conn_table *t);
struct conn *conn_table_next(const struct conn_table *t, const struct conn *c);
/* Unlinks c from the table and frees it; the caller unlinks it from its own lists. */
void conn_table_remove(struct conn_table *t, struct conn *c);

/* Keeps a copy of r; false if it was only counted (full, or out of memory). */
bool rec_queue_push(struct rec_queue *q, const union tv_record *r);
void rec_queue_remove(struct rec_queue *q, uint32_t i);
void rec_queue_clear(struct rec_queue *q);

#endif
