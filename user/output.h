/* Output formats behind one interface: one file per format. */
#ifndef TV_OUTPUT_H
#define TV_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "clock.h"
#include "conn_table.h"
#include "names.h"
#include "record.h"
#include "tls_check.h"

struct start_info {
	const char *version;
	const char *kernel;
	const char *attach;  /* tp_btf or raw_tp */
	const char *storage; /* sk_storage or hash */
	const char **hooks;  /* attached tracepoints */
	int nhooks;
	const char **missing; /* optional tracepoints not available */
	int nmissing;
};

struct stop_info {
	uint64_t records;     /* records received from the kernel */
	uint64_t lost;        /* records the kernel could not hand over */
	uint64_t connections; /* connections reported */
	uint64_t rejected;    /* malformed records */
	uint64_t evicted;     /* connections pushed out of a full table */
	uint64_t unkept;      /* events past a connection's timeline limit */
};

struct output;

struct output_ops {
	/* true: every selected record goes to record() as it arrives (JSON).
	 * false: the collector keeps records in the connection's timeline and
	 * hands over the whole connection to conn_end() (text). */
	bool streams;
	void (*start)(struct output *o, const struct start_info *si);
	/* c is NULL for records that belong to no socket yet (SYN-ACK retransmits) */
	void (*record)(struct output *o, const struct conn *c, const union tv_record *r);
	/* close is NULL for a connection still open when tracing stopped */
	void (*conn_end)(struct output *o, const struct conn *c, const union tv_record *close);
	/* a TLS check's result for connection c (cached: an earlier check's) */
	void (*tls)(struct output *o, struct conn *c, const struct tls_result *res, bool cached);
	void (*lost)(struct output *o, uint64_t ts_ns, uint64_t records);
	void (*stop)(struct output *o, uint64_t ts_ns, const struct stop_info *si);
};

struct output {
	const struct output_ops *ops;
	FILE *f;
	struct tv_clock clk;
	const struct reason_names *names;
	bool all; /* text: also connections without anomalies */
	int tls_warn_days;
};

extern const struct output_ops output_json_ops;
extern const struct output_ops output_text_ops;

/* Formatting helpers shared by the formats. */
void format_addr(const struct tv_conn *c, bool remote, char *buf, size_t len);
const char *family_name(const struct tv_conn *c);
const char *dir_name(const struct tv_conn *c);
/* Earliest not_after over n certificates, 0 if none. */
int64_t tls_earliest_expiry(const struct tls_cert *certs, int n);
void format_date(int64_t unix_s, bool with_time, char *buf, size_t len);

#endif
