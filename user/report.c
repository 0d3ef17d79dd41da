#include "report.h"

const char *closed_by_name(enum tv_closed_by c)
{
	switch (c) {
	case TV_CLOSED_LOCAL: return "local";
	case TV_CLOSED_REMOTE: return "remote";
	case TV_CLOSED_RESET_SENT: return "reset_sent";
	case TV_CLOSED_RESET_RECEIVED: return "reset_received";
	case TV_CLOSED_NEVER_ESTABLISHED: return "never_established";
	}
	return "unknown";
}

const char *tls_result_name(enum tls_result_kind r)
{
	switch (r) {
	case TLS_RESULT_OK: return "ok";
	case TLS_RESULT_VERIFY_FAILED: return "verify_failed";
	case TLS_RESULT_HANDSHAKE_FAILED: return "handshake_failed";
	case TLS_RESULT_TIMEOUT: return "timeout";
	case TLS_RESULT_REFUSED: return "refused";
	case TLS_RESULT_NOT_TLS: return "not_tls";
	case TLS_RESULT_ERROR: return "error";
	}
	return "error";
}

const char *tls_sni_source_name(enum tls_sni_source s)
{
	switch (s) {
	case TLS_SNI_CLIENT_HELLO: return "client_hello";
	case TLS_SNI_OPTION: return "option";
	case TLS_SNI_NONE: return "none";
	}
	return "none";
}

int64_t tls_earliest_expiry(const struct tls_cert *certs, int n)
{
	int64_t e = 0;

	for (int i = 0; i < n; i++)
		if (certs[i].not_after && (!e || certs[i].not_after < e))
			e = certs[i].not_after;
	return e;
}
