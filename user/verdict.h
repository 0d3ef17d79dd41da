/* The verdict stage: what a finished connection's facts mean. It runs between
 * the connection table and the output formats, once per connection, when the
 * collector reports it. Today it decides who closed the connection and
 * whether anything went wrong; verdicts with evidence build on it. */
#ifndef TV_VERDICT_H
#define TV_VERDICT_H

#include <stdbool.h>
#include "report.h"

/* Fills e->closed_by and e->anomalous from e->close (with late records
 * already joined), e->tls, and whether any anomaly record was seen. */
void verdict_judge(struct conn_end *e, bool saw_anomaly);

#endif
