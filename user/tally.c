#include <stdio.h>
#include <string.h>
#include "tally.h"

_Static_assert(sizeof(struct tally) % sizeof(uint64_t) == 0, "a tally is counters only");

/* The figures the connection's close record carries (output_json.c). */
void tally_conn(struct tally *t, const struct conn_end *e, uint8_t dir)
{
	const struct conn_facts *f = &e->facts;
	struct conn_counts c;
	uint32_t kinds = 0;

	t->closed[dir < 3 ? dir : 0]++;
	t->still_open += !e->closed;
	t->troubled += e->anomalous || e->verdicts.set;
	for (int v = 0; v < TV_V_COUNT; v++)
		t->verdicts[v] += !!(e->verdicts.set & (1u << v));
	for (int k = 0; k <= TV_RETRANS_SYNACK; k++) {
		t->retrans_kind[k] += f->segs[k];
		kinds += f->segs[k];
	}
	conn_end_counts(e, &c);
	t->retrans_segs += c.retrans;
	/* the kernel's count is the truth; what no record explained is "unattributed" */
	if (c.retrans > kinds)
		t->retrans_kind[TV_RETRANS_SYNACK + 1] += c.retrans - kinds;
	t->ofo_segs += c.ofo;
	t->dup_segs += c.dup;
	t->dupacks += c.dupacks;
	t->resets_sent += c.resets_sent;
	t->resets_received += c.resets_received;
	t->drops += c.drops;
	t->zero_windows[0] += c.zero_windows[0];
	t->zero_windows[1] += c.zero_windows[1];
	t->bytes_sent += c.bytes_sent;
	t->bytes_received += c.bytes_received;
	t->late_resets_sent += f->late_resets_sent;
	t->late_resets_received += f->late_resets_received;
	for (uint32_t i = 0; i < f->ndrops; i++)
		t->drop_reason[f->drops[i].reason < TV_TALLY_REASONS ? f->drops[i].reason : TV_TALLY_REASONS] +=
			f->drops[i].count;
	t->drop_reason[TV_TALLY_REASONS] += f->drops_other;
	t->tls_alerts[0] += f->alerts[0];
	t->tls_alerts[1] += f->alerts[1];
	t->errors += e->error != 0;
}

void tally_diff(const struct tally *now, const struct tally *then, struct tally *out)
{
	const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)then;
	uint64_t *o = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		o[i] = a[i] - b[i];
}

void tls_ends_update(struct tls_ends *te, const struct tv_conn *id, const struct tls_report *r, uint64_t now_ns)
{
	struct tls_end *slot = NULL;

	for (uint32_t i = 0; i < te->n && !slot; i++) {
		struct tls_end *x = &te->v[i];

		if (x->family == id->family && x->port == id->dport && !memcmp(x->addr, id->daddr, 16) &&
		    !strcmp(x->server_name, r->server_name))
			slot = x;
	}
	if (!slot && te->n < TV_TLS_ENDS_MAX) {
		slot = &te->v[te->n++];
	} else if (!slot) {
		slot = &te->v[0];
		for (uint32_t i = 1; i < te->n; i++)
			if (te->v[i].seen_ns < slot->seen_ns)
				slot = &te->v[i];
		te->replaced++;
	}
	slot->family = id->family;
	memcpy(slot->addr, id->daddr, 16);
	slot->port = id->dport;
	snprintf(slot->server_name, sizeof(slot->server_name), "%s", r->server_name);
	slot->earliest_expiry = tls_earliest_expiry(r->chain, r->nchain);
	slot->result = r->result;
	slot->seen_ns = now_ns;
}
