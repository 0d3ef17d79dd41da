#include "verdict.h"

/* Resets decide over FINs: a reset ends the connection whoever sent the
 * first FIN; late resets (after the kernel's destroy) are already counted. */
static enum tv_closed_by closed_by(const struct tv_rec_close *cl)
{
	if (!cl->hist.established)
		return TV_CLOSED_NEVER_ESTABLISHED;
	if (cl->resets_received)
		return TV_CLOSED_RESET_RECEIVED;
	if (cl->resets_sent)
		return TV_CLOSED_RESET_SENT;
	return cl->closer == TV_CLOSER_REMOTE ? TV_CLOSED_REMOTE : TV_CLOSED_LOCAL;
}

void verdict_judge(struct conn_end *e, bool saw_anomaly)
{
	bool bad_end = false;

	if (e->closed) {
		e->closed_by = closed_by(&e->close);
		bad_end = e->closed_by != TV_CLOSED_LOCAL && e->closed_by != TV_CLOSED_REMOTE;
	}
	e->anomalous = saw_anomaly || bad_end || (e->tls.present && e->tls.result != TLS_RESULT_OK);
}
