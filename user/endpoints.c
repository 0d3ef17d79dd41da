#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "endpoints.h"
#include "output.h"

void endpoints_init(struct endpoints *eps)
{
	memset(eps, 0, sizeof(*eps));
	eps->other.other = true;
}

static void key_of(const struct conn_ref *c, const struct conn_end *e, struct endpoint_key *k)
{
	const struct tv_conn *id = &c->id;
	bool local = id->dir == TV_DIR_IN;

	memset(k, 0, sizeof(*k));
	k->dir = id->dir;
	k->family = id->family;
	k->port = local ? id->sport : id->dport;
	memcpy(k->addr, local ? id->saddr : id->daddr, sizeof(k->addr));
	if (!local && e->tls.present)
		snprintf(k->server_name, sizeof(k->server_name), "%s", e->tls.server_name);
}

static uint32_t key_hash(const struct endpoint_key *k)
{
	uint32_t h = 2166136261u; /* FNV-1a over the fixed part and the name */
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < offsetof(struct endpoint_key, server_name); i++)
		h = (h ^ p[i]) * 16777619u;
	for (const char *s = k->server_name; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool key_equal(const struct endpoint_key *a, const struct endpoint_key *b)
{
	return !memcmp(a, b, offsetof(struct endpoint_key, server_name)) &&
	       !strcmp(a->server_name, b->server_name);
}

/* The key's group, made if there is room; the "other" group if not. */
static struct endpoint *group_of(struct endpoints *eps, const struct endpoint_key *k)
{
	const uint32_t nslots = sizeof(eps->slots) / sizeof(eps->slots[0]);
	uint32_t i = key_hash(k) % nslots;

	for (;; i = (i + 1) % nslots) { /* at most half full: a free slot ends every search */
		struct endpoint *ep;

		if (!eps->slots[i])
			break;
		ep = &eps->groups[eps->slots[i] - 1];
		if (key_equal(&ep->key, k))
			return ep;
	}
	if (eps->n == TV_ENDPOINTS_MAX)
		return &eps->other;
	eps->slots[i] = (uint16_t)(eps->n + 1);
	memset(&eps->groups[eps->n], 0, sizeof(eps->groups[0]));
	eps->groups[eps->n].key = *k;
	return &eps->groups[eps->n++];
}

void endpoints_add(struct endpoints *eps, const struct conn_ref *c, const struct conn_end *e)
{
	struct endpoint_key k;
	struct endpoint *ep;
	const struct timeout_run *run = &e->facts.longest;
	struct conn_counts n;

	key_of(c, e, &k);
	ep = group_of(eps, &k);
	ep->conns++;
	ep->healthy += !e->verdicts.set;
	ep->still_open += !e->closed;
	for (int v = 0; v < TV_V_COUNT; v++)
		ep->verdicts[v] += !!(e->verdicts.set & (1u << v));
	conn_end_counts(e, &n);
	ep->retrans_segs += n.retrans;
	ep->dupacks += n.dupacks;
	ep->ofo_segs += n.ofo;
	if (run->n > ep->longest_stall_n ||
	    (run->n == ep->longest_stall_n && run->last_ns - run->first_ns > ep->longest_stall_ns)) {
		ep->longest_stall_n = run->n;
		ep->longest_stall_ns = run->last_ns - run->first_ns;
	}
	if (e->tls.present) {
		ep->tls_checked = true;
		ep->tls_result = e->tls.result;
		if (e->tls.earliest_expiry && (!ep->earliest_expiry || e->tls.earliest_expiry < ep->earliest_expiry))
			ep->earliest_expiry = e->tls.earliest_expiry;
	}
}

static int troubled_first(const void *pa, const void *pb)
{
	const struct endpoint *a = *(const struct endpoint *const *)pa, *b = *(const struct endpoint *const *)pb;
	uint32_t ta = a->conns - a->healthy, tb = b->conns - b->healthy;

	if (ta != tb)
		return ta > tb ? -1 : 1;
	if (a->conns != b->conns)
		return a->conns > b->conns ? -1 : 1;
	return 0;
}

void endpoints_each(struct endpoints *eps, void (*fn)(void *arg, const struct endpoint *ep), void *arg)
{
	const struct endpoint *order[TV_ENDPOINTS_MAX];

	for (uint32_t i = 0; i < eps->n; i++)
		order[i] = &eps->groups[i];
	qsort(order, eps->n, sizeof(order[0]), troubled_first);
	for (uint32_t i = 0; i < eps->n; i++)
		fn(arg, order[i]);
	if (eps->other.conns)
		fn(arg, &eps->other);
}

void endpoint_label(const struct endpoint *ep, char *buf, size_t len)
{
	struct tv_conn id = { .family = ep->key.family };
	char addr[64];

	if (ep->other) {
		snprintf(buf, len, "to or from the other endpoints (past the first %d)", TV_ENDPOINTS_MAX);
		return;
	}
	memcpy(id.daddr, ep->key.addr, sizeof(id.daddr));
	format_addr(&id, true, addr, sizeof(addr));
	snprintf(buf, len, ep->key.family == 6 ? "%s [%s]:%u%s%s%s" : "%s %s:%u%s%s%s",
		 ep->key.dir == TV_DIR_IN ? "accepted on" : "to", addr, ep->key.port,
		 ep->key.server_name[0] ? " (" : "", ep->key.server_name, ep->key.server_name[0] ? ")" : "");
}

/* ---- the paragraph ---- */

struct para {
	char *buf;
	size_t len, n;
};

static void put(struct para *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct para *p, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (p->n >= p->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(p->buf + p->n, p->len - p->n, fmt, ap);
	va_end(ap);
	p->n = w < 0 ? p->len : p->n + (size_t)w;
}

/* What k connections with verdict v had, as a clause: "2 were refused". */
static void clause(struct para *p, const struct endpoint *ep, enum tv_verdict v, uint32_t k)
{
	static const char *const what[TV_V_COUNT] = {
		[TV_V_REFUSED] = "refused",
		[TV_V_UNREACHABLE] = "ended by an ICMP error (unreachable)",
		[TV_V_CONNECT_TIMEOUT] = "left without an answer to the SYN",
		[TV_V_CONNECT_ABANDONED] = "abandoned by the application before the handshake",
		[TV_V_SYN_LOSS] = "slowed by lost SYNs",
		[TV_V_PATH_MTU_BLACKHOLE] = "stuck where full-size segments never arrived (a path MTU black hole)",
		[TV_V_RTO_STALL] = "stalled on retransmission timeouts",
		[TV_V_LOSS] = "losing segments",
		[TV_V_REORDERING] = "reordered on the way",
		[TV_V_ZERO_WINDOW] = "held up by a peer that stopped reading (zero window)",
		[TV_V_RECEIVER_STALL] = "held up by an application on this host that stopped reading",
		[TV_V_TLS_ALERT] = "ended by a TLS alert",
		[TV_V_PEER_ABORT_MID_TRANSFER] = "aborted by the peer mid-transfer",
		[TV_V_PEER_RESET] = "reset by the peer",
		[TV_V_LOCAL_RESET] = "reset by this host",
		[TV_V_KERNEL_DROP] = "losing segments to this host's own kernel (see the drop reasons)",
		[TV_V_TLS_EXPIRED] = "talking to a server whose certificate has expired",
		[TV_V_TLS_NOT_YET_VALID] = "talking to a server whose certificate is not valid yet",
		[TV_V_TLS_EXPIRING_SOON] = "talking to a server whose certificate expires soon",
		[TV_V_TLS_UNTRUSTED] = "talking to a server whose chain does not verify",
		[TV_V_TLS_HOSTNAME_MISMATCH] = "talking to a server whose certificate names another host",
		[TV_V_TLS_HANDSHAKE_FAILED] = "talking to a server whose TLS handshake failed",
		[TV_V_TLS_TIMEOUT] = "talking to a server that did not answer the TLS check",
	};

	put(p, "%" PRIu32 " %s %s", k, k == 1 ? "was" : "were", what[v]);
	if (v == TV_V_LOSS && ep->retrans_segs) /* this side sent */
		put(p, " (%" PRIu64 " segments retransmitted, %" PRIu64 " duplicate ACKs in the group)",
		    ep->retrans_segs, ep->dupacks);
	else if (v == TV_V_LOSS) /* this side received: gaps */
		put(p, " (%" PRIu64 " segments received out of order in the group)", ep->ofo_segs);
	if (v == TV_V_RTO_STALL && ep->longest_stall_n >= 2)
		put(p, " (the longest: %" PRIu32 " in a row over %.1f s)", ep->longest_stall_n,
		    ep->longest_stall_ns / 1e9);
}

static bool any(const struct endpoint *ep, const enum tv_verdict *vs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ep->verdicts[vs[i]])
			return true;
	return false;
}

void endpoint_diagnosis(const struct endpoint *ep, char *buf, size_t len)
{
	static const enum tv_verdict path[] = { TV_V_SYN_LOSS, TV_V_PATH_MTU_BLACKHOLE, TV_V_RTO_STALL,
						TV_V_LOSS, TV_V_REORDERING, TV_V_CONNECT_TIMEOUT };
	static const enum tv_verdict cert[] = { TV_V_TLS_EXPIRED, TV_V_TLS_NOT_YET_VALID,
						TV_V_TLS_UNTRUSTED, TV_V_TLS_HOSTNAME_MISMATCH,
						TV_V_TLS_HANDSHAKE_FAILED, TV_V_TLS_TIMEOUT };
	struct para p = { .buf = buf, .len = len };
	uint32_t troubled = ep->conns - ep->healthy;
	char label[TV_SNI_MAX + 96], date[32];
	const char *sep = ": ";

	buf[0] = '\0';
	endpoint_label(ep, label, sizeof(label));
	if (!troubled) {
		put(&p, "%s %" PRIu32 " connection%s %s %s healthy.", ep->conns == 1 ? "The" : "All",
		    ep->conns, ep->conns == 1 ? "" : "s", label, ep->conns == 1 ? "was" : "were");
	} else {
		put(&p, "%" PRIu32 " of %" PRIu32 " connection%s %s had trouble", troubled, ep->conns,
		    ep->conns == 1 ? "" : "s", label);
		for (int v = 0; v < TV_V_COUNT; v++) {
			if (!ep->verdicts[v])
				continue;
			put(&p, "%s", sep);
			clause(&p, ep, (enum tv_verdict)v, ep->verdicts[v]);
			sep = "; ";
		}
		put(&p, ".");
	}
	/* what the facts rule out */
	if (ep->tls_checked && ep->earliest_expiry && !any(ep, cert, sizeof(cert) / sizeof(cert[0])) &&
	    ep->tls_result == TLS_RESULT_OK) {
		format_date(ep->earliest_expiry, false, date, sizeof(date));
		put(&p, " The certificate chain is valid (the earliest expiry is %s)%s", date,
		    troubled ? ", so the certificate is not the cause." : ".");
	}
	if (troubled && !any(ep, path, sizeof(path) / sizeof(path[0])) && !ep->retrans_segs)
		put(&p, " Nothing was retransmitted, so loss on the path is not the cause.");
	if (ep->still_open)
		put(&p, " %" PRIu32 " %s still open when tracing stopped.", ep->still_open,
		    ep->still_open == 1 ? "was" : "were");
}
