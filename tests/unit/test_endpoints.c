/* The endpoint report: grouping, the bound, the order, and the diagnosis
 * paragraph, on connection ends made by hand. */
#include <arpa/inet.h>
#include "endpoints.h"
#include "unit.h"

static struct endpoints eps;

/* An outgoing connection to 203.0.113.7:port, with the verdicts in set. */
static void add(uint16_t port, const char *sni, uint32_t set, uint32_t retrans, bool tls_ok)
{
	struct conn_ref c = { .id = { .family = 4, .dir = TV_DIR_OUT, .dport = port } };
	struct conn_end e = { .closed = true };

	inet_pton(AF_INET, "203.0.113.7", c.id.daddr);
	e.verdicts.set = set;
	e.close.retrans_segs = retrans;
	e.close.dupacks = retrans ? 4 : 0;
	if (sni) {
		e.tls.present = true;
		e.tls.result = tls_ok ? TLS_RESULT_OK : TLS_RESULT_VERIFY_FAILED;
		snprintf(e.tls.server_name, sizeof(e.tls.server_name), "%s", sni);
		e.tls.earliest_expiry = 1886400000; /* 2029-10-11 */
	}
	endpoints_add(&eps, &c, &e);
}

struct seen {
	const struct endpoint *v[8];
	int n;
};

static void collect(void *arg, const struct endpoint *ep)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->v[s->n++] = ep;
}

int main(void)
{
	struct seen s = { 0 };
	char text[1024];

	endpoints_init(&eps);
	add(443, "media.example", 1u << TV_V_LOSS, 40, true);
	add(443, "media.example", (1u << TV_V_LOSS) | (1u << TV_V_PEER_ABORT_MID_TRANSFER), 41, true);
	add(443, "media.example", 0, 0, true);
	add(443, "other.example", 0, 0, true); /* another name: another group */
	add(80, NULL, 1u << TV_V_REFUSED, 0, false);
	endpoints_each(&eps, collect, &s);
	CHECK(s.n == 3, "three groups: one per address, port and server name");
	CHECK(s.v[0]->conns == 3 && s.v[0]->healthy == 1 && !strcmp(s.v[0]->key.server_name, "media.example"),
	      "the most troubled first");
	CHECK(s.v[2]->conns == 1 && s.v[2]->healthy == 1, "the healthy group last");
	{
		struct endpoints one;
		struct conn_ref c = { .id = { .family = 4, .dir = TV_DIR_OUT, .dport = 8080 } };
		struct conn_end e = { .closed = true, .verdicts.set = 1u << TV_V_LOSS };

		e.close.ofo_segs = 2751; /* a download: this side only saw the gaps */
		endpoints_init(&one);
		endpoints_add(&one, &c, &e);
		endpoint_diagnosis(&one.groups[0], text, sizeof(text));
		CHECK(strstr(text, "1 was losing segments (2751 segments received out of order in the group)"),
		      "a receiver's loss is told by its gaps, not by retransmissions it never made");
	}

	endpoint_diagnosis(s.v[0], text, sizeof(text));
	CHECK_STR(text,
		  "2 of 3 connections to 203.0.113.7:443 (media.example) had trouble: 2 were losing segments "
		  "(81 segments retransmitted, 8 duplicate ACKs in the group); 1 was aborted by the peer "
		  "mid-transfer. The certificate chain is valid (the earliest expiry is 2029-10-11), so the "
		  "certificate is not the cause.",
		  "the diagnosis counts, gives the numbers, and rules the certificate out");
	endpoint_diagnosis(s.v[1], text, sizeof(text));
	CHECK_STR(text,
		  "1 of 1 connection to 203.0.113.7:80 had trouble: 1 was refused. Nothing was retransmitted, "
		  "so loss on the path is not the cause.",
		  "a refused port: the path ruled out");
	endpoint_diagnosis(s.v[2], text, sizeof(text));
	CHECK_STR(text,
		  "The 1 connection to 203.0.113.7:443 (other.example) was healthy. The certificate chain is "
		  "valid (the earliest expiry is 2029-10-11).",
		  "a healthy group says so");

	endpoints_init(&eps);
	for (int p = 1; p <= TV_ENDPOINTS_MAX + 10; p++)
		add((uint16_t)p, NULL, 0, 0, false);
	s.n = 0;
	endpoints_each(&eps, collect, &s);
	CHECK(eps.n == TV_ENDPOINTS_MAX && eps.other.conns == 10, "past the limit, the rest counted as other");
	UNIT_EXIT();
}
