/* Which connections get a TLS check, the cache of results, and who waits for
 * which check. Runs in the collector's thread; the checks run in tls_check. */
#ifndef TV_TLS_TRACK_H
#define TV_TLS_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "tls_check.h"
#include "tcpvitals.h"

extern const uint16_t tls_default_ports[];
extern const int tls_default_nports;

struct tls_track;

enum tls_request {
	TLS_REQ_NONE = 0, /* not checked (safety rules) */
	TLS_REQ_PENDING,  /* a check runs; the result comes through tls_track_poll */
	TLS_REQ_CACHED,   /* *res holds a fresh result */
	TLS_REQ_FAILED,   /* *res holds why no check could run */
};

/* NULL with a line in err on failure. */
struct tls_track *tls_track_new(const struct tv_config *cfg, char *err, size_t errlen);
void tls_track_free(struct tls_track *tt);
bool tls_track_port(const struct tls_track *tt, uint16_t port);
/* The name to check for a connection without a readable ClientHello. */
const char *tls_track_option_name(const struct tls_track *tt, const struct tv_conn *id);
/* Asks for a check of id's server under sni (NULL or "": none) for connection id->cookie. */
enum tls_request tls_track_request(struct tls_track *tt, const struct tv_conn *id, const char *sni,
				   const struct tls_result **res);
typedef void (*tls_deliver_fn)(void *arg, uint64_t cookie, const struct tls_result *res);
/* Hands every finished check to deliver(), once per waiting connection. */
void tls_track_poll(struct tls_track *tt, tls_deliver_fn deliver, void *arg);
int tls_track_busy(struct tls_track *tt);

#endif
