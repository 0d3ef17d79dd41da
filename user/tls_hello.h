/* The server name a client asked for, from the ClientHello it wrote. */
#ifndef TV_TLS_HELLO_H
#define TV_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TV_SNI_MAX 253 /* longest DNS name */

enum tls_hello_result {
	TLS_HELLO_SNI = 0,    /* a server name was found */
	TLS_HELLO_NO_SNI,     /* a ClientHello without server_name */
	TLS_HELLO_TRUNCATED,  /* a ClientHello, cut before the server name could be read */
	TLS_HELLO_NOT_TLS,    /* not a TLS handshake record holding a ClientHello */
	TLS_HELLO_MALFORMED,  /* a ClientHello whose lengths do not add up */
};

/* Parses the first bytes of a TLS connection. On TLS_HELLO_SNI, name holds
 * the host name (NUL-terminated, checked to be a plausible DNS name). */
enum tls_hello_result tls_hello_sni(const uint8_t *data, size_t len, char name[TV_SNI_MAX + 1]);
const char *tls_hello_result_name(enum tls_hello_result r);
/* A host name of letters, digits, '-', '.' and '_', 1 to TV_SNI_MAX bytes:
 * what a server name sent or given may hold. */
bool dns_name_plausible(const char *s, size_t n);

#endif
