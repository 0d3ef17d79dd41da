/* Which connections get a TLS check, the cache of results, and which
 * connections wait for which check. Runs in the collector's thread; the
 * checks run in tls_check's workers. Results come back by polling
 * (tls_track_next), never through a callback. */
#ifndef TV_TLS_TRACK_H
#define TV_TLS_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cli.h"
#include "report.h"
#include "tcpvitals.h"

extern const uint16_t tls_default_ports[];
extern const int tls_default_nports;

/* The TLS ports, default and extra, one bit each: the kernel side's and the
 * tracker's set, built in one place. */
void tls_port_bits(uint8_t bits[65536 / 8], const uint16_t *extra, int nextra);

struct tls_track_options {
	const uint16_t *extra_ports; /* TLS ports besides the default ones (--tls-port) */
	int nextra_ports;
	const struct tv_tls_name *names; /* --tls-name */
	int nnames;
	const char *ca_file;    /* NULL: the system trust store */
	int timeout_ms;         /* one check's deadline */
	int ttl_s;              /* a result is reused this long */
	int cache_max;          /* results kept at most; 0: 4096 */
	int workers;            /* 0: 4 */
	int queue;              /* checks waiting for a worker at most; 0: 256 */
};

struct tls_track;
struct tls_entry;

/* A connection waiting for a check, embedded in the connection: waiting
 * never allocates. */
struct tls_waiter {
	uint64_t cookie;
	struct tls_entry *entry; /* the check waited for; NULL while not waiting */
	struct tls_waiter *next;
};

enum tls_request {
	TLS_REQ_NONE = 0, /* not checked (safety rules) */
	TLS_REQ_PENDING,  /* a check runs; the waiter gets its result from tls_track_next() */
	TLS_REQ_CACHED,   /* *res holds a fresh result */
	TLS_REQ_FAILED,   /* *res holds why no check could run */
};

/* 0, or an exit code with one line in err (TV_EXIT_USAGE: the CA file). */
int tls_track_new(struct tls_track **out, const struct tls_track_options *opt, char *err, size_t errlen);
/* Starts the checks' threads (after the privileges are dropped: threads
 * keep the capabilities they were made with). 0, or an exit code with err set. */
int tls_track_start(struct tls_track *tt, char *err, size_t errlen);
void tls_track_free(struct tls_track *tt);
bool tls_track_port(const struct tls_track *tt, uint16_t port);
/* The trusted certificates the checks use (for the start record); NULL: none. */
const char *tls_track_ca_store(const struct tls_track *tt);
/* The name to check for a connection without a readable ClientHello. */
const char *tls_track_option_name(const struct tls_track *tt, const struct tv_conn *id);
/* Asks for a check of id's server under sni (NULL or "": none) on behalf of
 * connection id->cookie. *res stays valid until the next call into tls_track. */
enum tls_request tls_track_request(struct tls_track *tt, const struct tv_conn *id, const char *sni,
				   struct tls_waiter *w, const struct tls_report **res);
/* The waiter's connection is gone: it gets no result. */
void tls_track_cancel(struct tls_waiter *w);
/* One finished check for one waiting connection; false when there is none
 * right now. *res stays valid until the next call into tls_track. */
bool tls_track_next(struct tls_track *tt, uint64_t *cookie, const struct tls_report **res);

#endif
