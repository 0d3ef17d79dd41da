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
#include "privs.h"
#include "record.h"
#include "report.h"
#include "tally.h"

/* One of the kernel side's bounded tables. */
struct kernel_table {
	const char *name;
	uint32_t max_entries;
	const char *when_full; /* what the kernel does then */
};

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
	const struct privs *privs; /* what the collector kept */
	int netns_helper;          /* its pid; 0: none */
};

struct hook_count {
	const char *hook; /* a tracepoint's name */
	uint64_t n;
};

struct stop_info {
	uint64_t records;     /* records received from the kernel */
	uint64_t lost;        /* records the kernel could not hand over */
	uint64_t missed;      /* events the kernel ran no program for (loader_misses) */
	bool missed_unknown;  /* the kernel would not say (without privileges, on some kernels) */
	uint64_t connections; /* connections reported */
	uint64_t rejected;    /* malformed records */
	uint64_t evicted;     /* connections pushed out of a full table */
	uint64_t unkept;      /* records not reported: past a connection's limit, or too late */
};

#define TV_SUMMARY_ENDPOINTS 20 /* endpoints a summary lists, most troubled first */
/* stdio's buffer for the records' stream, flushed after every batch. setvbuf
 * needs the buffer itself: given NULL, glibc keeps its default (st_blksize,
 * 4 kB), which cost a write(2) per four records in a flood of closes. */
#define TV_OUTPUT_BUF (256u << 10)

/* A period of an agent's run (--interval). */
struct summary_info {
	uint64_t from_ns, to_ns;         /* monotonic */
	const struct tally *t;           /* connections reported in the period */
	uint64_t opened[3];              /* by enum tv_dir, as the kernel counted them */
	struct endpoints *eps;           /* the period's endpoints */
	struct stop_info recs;           /* the period's records */
	uint64_t output_dropped;         /* lines the output could not keep */
	uint64_t conns, conns_max;       /* the collector's connection table now */
	uint64_t tls_ends_replaced;
	const struct kernel_table *tables; /* the kernel's tables and their limits */
	int ntables;
	double cpu_user_s, cpu_system_s; /* the collector's, in the period */
	uint64_t rss_kb, rss_max_kb;     /* now, and the most so far */
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
	/* Events the kernel ran no program for, since the last call, and the hooks
	 * that missed them (n of them, each with its count). */
	void (*missed)(struct output *o, uint64_t ts_ns, uint64_t events, const struct hook_count *hooks, int n);
	/* One group of the endpoint report, after every connection's conn_end. */
	void (*report)(struct output *o, const struct endpoint *ep);
	void (*stop)(struct output *o, uint64_t ts_ns, const struct stop_info *si);
	/* --agent, --json with --interval: one period's figures. May be NULL. */
	void (*summary)(struct output *o, const struct summary_info *si);
	/* Lines the output could not keep while it could not be written. May be NULL. */
	void (*output_lost)(struct output *o, uint64_t ts_ns, uint64_t lines);
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
