/* Out-of-band TLS checks: worker threads, a bounded queue, OpenSSL. The
 * collector submits and polls; it never waits on a check. */
#ifndef TV_TLS_CHECK_H
#define TV_TLS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report.h"

/* One endpoint as the traced process saw it. */
struct tls_key {
	uint32_t netns;
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
	char sni[TV_SNI_MAX + 1]; /* empty: none */
};

/* A finished check: which endpoint, and what was found. */
struct tls_result {
	struct tls_key key;
	struct tls_report rep;
};

struct tls_options {
	const char *ca_file; /* NULL: the system trust store */
	int timeout_ms;      /* connect + handshake */
	int workers;
	int queue;           /* pending checks at most */
};

struct tls_job {
	struct tls_key key;
	bool other_netns;   /* key.netns is not the tracer's: the socket is made there */
	uint32_t owner_pid; /* the traced connection's owner, to find its namespace by; 0: unknown */
};

struct tls_checker;

/* 0, or an exit code with one line in err: TV_EXIT_USAGE for a CA file that
 * cannot be loaded, TV_EXIT_RUNTIME if no worker thread can start. Fewer
 * workers than asked is a warning. */
int tls_checker_new(struct tls_checker **out, const struct tls_options *opt, char *err, size_t errlen);
/* Starts the worker threads; 0, or TV_EXIT_RUNTIME with one line in err if
 * none can start. Checks queued before wait for it. */
int tls_checker_start(struct tls_checker *tc, char *err, size_t errlen);
/* Queues a check; false if the queue is full. */
bool tls_checker_submit(struct tls_checker *tc, struct tls_job *job);
/* Takes one finished check, or returns false. The result is the caller's to free(). */
bool tls_checker_take(struct tls_checker *tc, struct tls_result **res);
void tls_checker_free(struct tls_checker *tc);
/* The file or directory of trusted certificates in use; NULL if none was found. */
const char *tls_checker_ca_store(const struct tls_checker *tc);

#endif
