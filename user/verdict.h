/* The verdict stage: what a finished connection's facts mean. It runs between
 * the connection table and the output formats, once per connection, when the
 * collector reports it: who closed the connection, whether anything went
 * wrong, and the verdicts with their evidence. The rules and their reasons
 * are in the README ("Verdicts"); this file is their one implementation. */
#ifndef TV_VERDICT_H
#define TV_VERDICT_H

#include <stdbool.h>
#include <stdint.h>
#include "names.h"
#include "report.h"

struct verdict_opts {
	int tls_warn_days;     /* tls_expiring_soon within this many days */
	int64_t now_unix;      /* for certificate expiry */
	const struct reason_names *names; /* reset and drop reasons; NULL: numbers */
};

/* Fills e->closed_by, e->error, e->anomalous and e->verdicts from e->close (with late
 * records already joined) or e->snapshot (still open), e->facts and e->tls. */
void verdict_judge(struct conn_end *e, const struct conn_ref *ref, bool saw_anomaly,
		   const struct verdict_opts *o);

/* Whether a drop reason counts against the connection: the kernel also
 * "drops" segments it has no further use for as part of normal work. */
bool verdict_drop_counts(const char *reason);

#endif
