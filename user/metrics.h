/*
 * Prometheus metrics: one text exposition (format 0.0.4), built from the
 * collector's tallies, served at /metrics (--metrics, libmicrohttpd) and
 * written atomically to a file (--metrics-file, for node_exporter's textfile
 * collector). Label values come from bounded sets: kinds, reasons and
 * verdicts are the program's own names; TLS endpoints are at most
 * TV_TLS_ENDS_MAX.
 */
#ifndef TV_METRICS_H
#define TV_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "cli.h"
#include "names.h"
#include "output.h"
#include "tally.h"
#include "tcpvitals.h"

struct metrics_view {
	const struct tally *t;
	struct tv_counters kernel;     /* run-wide counters of the kernel side */
	const struct stop_info *stats; /* the collector's record counts */
	uint64_t output_dropped;
	const struct tls_ends *tls_ends;
	const struct reason_names *names;
	uint64_t tracked;              /* connections in the collector's table */
	int64_t start_unix;
};

/* The exposition, malloc'd, with *len; NULL if out of memory. */
char *metrics_format(const struct metrics_view *v, size_t *len);
/* Writes text to path through a temporary file and a rename: readers see
 * the old or the new exposition, never a part. 0, or -1 with err set. */
int metrics_file_write(const char *path, const char *text, size_t len, char *err, size_t errlen);

struct metrics_server;
/* Listens on addr:port now (so that a privileged port is bound before the
 * privileges go); serving starts with metrics_server_run. NULL with err set. */
struct metrics_server *metrics_server_listen(const struct tv_prefix *addr, uint16_t port, char *err,
					     size_t errlen);
/* Starts the server's thread; 0, or -1 with err set. */
int metrics_server_run(struct metrics_server *s, char *err, size_t errlen);
/* Replaces the exposition served; takes text (malloc'd). */
void metrics_server_update(struct metrics_server *s, char *text, size_t len);
void metrics_server_stop(struct metrics_server *s);

#endif
