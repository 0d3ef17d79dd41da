/* Output formats behind one interface, one file per format. The collector
 * calls them in a connection's order: events as they happen, the TLS result
 * when it comes, and conn_end once, last. Each format keeps whatever state it
 * needs itself. */
#ifndef TV_OUTPUT_H
#define TV_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "clock.h"
#include "endpoints.h"
#include "names.h"
#include "record.h"
#include "report.h"

struct start_info {
	const char *version;
	const char *kernel;
	const char *attach;  /* tp_btf or raw_tp */
	const char *storage; /* sk_storage or hash */
	const char **hooks;  /* attached tracepoints */
	int nhooks;
	const char **missing; /* optional tracepoints not available */
	int nmissing;
	int existing; /* connections open before tracing began; -1: could not tell */
	const char *ca_store; /* the TLS checks' trusted certificates; NULL: off, or none found */
};

struct stop_info {
	uint64_t records;     /* records received from the kernel */
	uint64_t lost;        /* records the kernel could not hand over */
	uint64_t connections; /* connections reported */
	uint64_t rejected;    /* malformed records */
	uint64_t evicted;     /* connections pushed out of a full table */
	uint64_t unkept;      /* records not reported: past a connection's limit, or too late */
};

struct output;

struct output_ops {
	/* Sets up the format's own state; 0 or -1 (out of memory). May be NULL. */
	int (*init)(struct output *o);
	void (*fini)(struct output *o);
	void (*start)(struct output *o, const struct start_info *si);
	/* A selected connection's record, in order. Never its close: see conn_end. */
	void (*event)(struct output *o, const struct conn_ref *c, const union tv_record *r);
	/* A record of no connection yet (SYN-ACK retransmits). */
	void (*orphan)(struct output *o, const union tv_record *r);
	/* The TLS check made for connection c (cached: an earlier check's result). */
	void (*tls)(struct output *o, const struct conn_ref *c, const struct tls_report *t,
		    enum tls_sni_source src, bool cached);
	/* The connection is finished; the last call about c. */
	void (*conn_end)(struct output *o, const struct conn_ref *c, const struct conn_end *e);
	void (*lost)(struct output *o, uint64_t ts_ns, uint64_t records);
	/* One group of the endpoint report, after every connection's conn_end. */
	void (*report)(struct output *o, const struct endpoint *ep);
	void (*stop)(struct output *o, uint64_t ts_ns, const struct stop_info *si);
};

struct output {
	const struct output_ops *ops;
	FILE *f;
	struct tv_clock clk;
	const struct reason_names *names;
	bool all; /* text: also connections without anomalies */
	bool color; /* text: ANSI colours (--color) */
	int tls_warn_days;
	void *priv; /* the format's own state */
};

extern const struct output_ops output_json_ops;
extern const struct output_ops output_text_ops;

/* Formatting helpers shared by the formats. */
void format_addr(const struct tv_conn *c, bool remote, char *buf, size_t len);
const char *family_name(const struct tv_conn *c);
const char *dir_name(const struct tv_conn *c);
void format_date(int64_t unix_s, bool with_time, char *buf, size_t len);

#endif
