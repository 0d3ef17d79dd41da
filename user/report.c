#include <stdio.h>
#include <openssl/x509_vfy.h> /* the X509_V_ERR_* numbers only: nothing is linked */
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

const char *verdict_name(enum tv_verdict v)
{
	switch (v) {
	case TV_V_REFUSED: return "refused";
	case TV_V_UNREACHABLE: return "unreachable";
	case TV_V_CONNECT_TIMEOUT: return "connect_timeout";
	case TV_V_CONNECT_ABANDONED: return "connect_abandoned";
	case TV_V_SYN_LOSS: return "syn_loss";
	case TV_V_PATH_MTU_BLACKHOLE: return "path_mtu_blackhole";
	case TV_V_RTO_STALL: return "rto_stall";
	case TV_V_LOSS: return "loss";
	case TV_V_REORDERING: return "reordering";
	case TV_V_ZERO_WINDOW: return "zero_window";
	case TV_V_RECEIVER_STALL: return "receiver_stall";
	case TV_V_TLS_ALERT: return "tls_alert";
	case TV_V_PEER_ABORT_MID_TRANSFER: return "peer_abort_mid_transfer";
	case TV_V_PEER_RESET: return "peer_reset";
	case TV_V_LOCAL_RESET: return "local_reset";
	case TV_V_KERNEL_DROP: return "kernel_drop";
	case TV_V_TLS_EXPIRED: return "tls_expired";
	case TV_V_TLS_NOT_YET_VALID: return "tls_not_yet_valid";
	case TV_V_TLS_EXPIRING_SOON: return "tls_expiring_soon";
	case TV_V_TLS_UNTRUSTED: return "tls_untrusted";
	case TV_V_TLS_HOSTNAME_MISMATCH: return "tls_hostname_mismatch";
	case TV_V_TLS_HANDSHAKE_FAILED: return "tls_handshake_failed";
	case TV_V_TLS_TIMEOUT: return "tls_timeout";
	case TV_V_COUNT: break;
	}
	return "unknown";
}

uint32_t conn_facts_retrans(const struct conn_facts *f)
{
	uint32_t n = 0;

	for (int k = 0; k <= TV_RETRANS_SYNACK; k++)
		n += f->segs[k];
	return n;
}

void conn_end_counts(const struct conn_end *e, struct conn_counts *c)
{
	const struct conn_facts *f = &e->facts;
	const struct tv_rec_close *cl = &e->close;

	if (e->closed) {
		*c = (struct conn_counts){
			.retrans = cl->retrans_segs, .ofo = cl->ofo_segs, .dup = cl->dup_segs,
			.dupacks = cl->dupacks, .resets_sent = cl->resets_sent,
			.resets_received = cl->resets_received, .drops = cl->drops,
			.zero_windows = { cl->zw_peer, cl->zw_local },
			.has_bytes = true, .bytes_sent = cl->bytes_sent, .bytes_received = cl->bytes_received,
		};
		return;
	}
	*c = (struct conn_counts){
		.retrans = conn_facts_retrans(f), .ofo = f->ofo, .dup = f->dup, .dupacks = f->dupacks,
		.resets_sent = f->resets_sent, .resets_received = f->resets_received,
		.drops = conn_facts_drops(f), .zero_windows = { f->zw[0].n, f->zw[1].n },
	};
	if (e->has_snapshot) {
		if (e->snapshot.total_retrans > c->retrans)
			c->retrans = e->snapshot.total_retrans;
		c->has_bytes = true;
		c->bytes_sent = e->snapshot.bytes_sent;
		c->bytes_received = e->snapshot.bytes_received;
	}
}

uint32_t conn_facts_drops(const struct conn_facts *f)
{
	uint32_t n = f->drops_other;

	for (uint32_t i = 0; i < f->ndrops; i++)
		n += f->drops[i].count;
	return n;
}

void tls_report_classify(const struct tls_report *r, struct tls_summary *s)
{
	s->expired = s->not_yet_valid = s->hostname_mismatch = s->untrusted = false;
	s->first_error[0] = '\0';
	snprintf(s->alert, sizeof(s->alert), "%s", r->has_alert ? r->alert : "");
	for (int i = 0; i < r->nerrors; i++) {
		switch (r->errors[i].code) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			s->expired = true;
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			s->not_yet_valid = true;
			break;
		case X509_V_ERR_HOSTNAME_MISMATCH:
		case X509_V_ERR_IP_ADDRESS_MISMATCH:
			s->hostname_mismatch = true;
			break;
		default:
			if (!s->untrusted)
				snprintf(s->first_error, sizeof(s->first_error), "%s", r->errors[i].text);
			s->untrusted = true;
		}
	}
	/* a handshake that failed never got to verification: only the name can be judged */
	if (r->result == TLS_RESULT_OK || r->result == TLS_RESULT_VERIFY_FAILED)
		s->hostname_mismatch |= r->nchain > 0 && !r->hostname_match;
}

uint64_t zero_windows_closed_ns(const struct zero_windows *z, uint64_t end_ns)
{
	return z->closed_ns + (z->since_ns && end_ns > z->since_ns ? end_ns - z->since_ns : 0);
}
