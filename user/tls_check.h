/* Out-of-band TLS checks: worker threads, a bounded queue, OpenSSL. The
 * collector submits and polls; it never waits on a check. */
#ifndef TV_TLS_CHECK_H
#define TV_TLS_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include "tls_hello.h"

#define TLS_MAX_CHAIN 10
#define TLS_MAX_ERRORS 16

enum tls_sni_source { TLS_SNI_CLIENT_HELLO = 0, TLS_SNI_OPTION, TLS_SNI_NONE };

enum tls_result_kind {
	TLS_RESULT_OK = 0,
	TLS_RESULT_VERIFY_FAILED,
	TLS_RESULT_HANDSHAKE_FAILED,
	TLS_RESULT_TIMEOUT,
	TLS_RESULT_REFUSED,
	TLS_RESULT_NOT_TLS,
	TLS_RESULT_ERROR, /* could not check: namespace gone, no memory, ... */
};

/* One endpoint as the traced process saw it. */
struct tls_key {
	uint32_t netns;
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
	char sni[TV_SNI_MAX + 1]; /* empty: none */
};

struct tls_cert {
	char subject[256];
	char issuer[256];
	char serial[80];
	int64_t not_before, not_after; /* Unix seconds */
	char sha256[65];
	bool self_signed;
};

struct tls_verify_error {
	int depth;
	int code;
	char text[128];
};

struct tls_result {
	struct tls_key key;
	enum tls_result_kind result;
	char version[16];
	char cipher[64];
	struct tls_verify_error errors[TLS_MAX_ERRORS];
	int nerrors;
	bool hostname_match;
	struct tls_cert chain[TLS_MAX_CHAIN]; /* as the server sent it */
	int nchain;
	struct tls_cert verified[TLS_MAX_CHAIN];
	int nverified; /* 0 and has_verified false unless verification succeeded */
	bool has_verified;
	bool has_alert;
	char alert_side[12]; /* "received" (from the server) or "sent" */
	char alert[64];
	char error[200];
	double duration_ms;
};

struct tls_options {
	const char *ca_file; /* NULL: the system trust store */
	int timeout_ms;      /* connect + handshake */
	int workers;
	int queue;           /* pending checks at most */
};

struct tls_job {
	struct tls_key key;
	int netns_fd; /* -1: the tracer's own namespace; closed by the checker */
	uint64_t tag; /* the caller's, handed back with the result */
};

struct tls_checker;

/* NULL with a line in err if OpenSSL cannot be set up (e.g. a bad --ca-file). */
struct tls_checker *tls_checker_new(const struct tls_options *opt, char *err, size_t errlen);
/* Queues a check; false if the queue is full (the job's fd is closed). */
bool tls_checker_submit(struct tls_checker *tc, struct tls_job *job);
/* Takes one finished check, or returns false. The result is the caller's to free(). */
bool tls_checker_take(struct tls_checker *tc, struct tls_result **res, uint64_t *tag);
int tls_checker_busy(struct tls_checker *tc); /* queued + running */
void tls_checker_free(struct tls_checker *tc);

const char *tls_result_name(enum tls_result_kind r);
const char *tls_sni_source_name(enum tls_sni_source s);

#endif
