/*
 * The agent's output: JSON Lines through a bounded buffer to a file or stdout.
 *
 * The formats write to sink.f as to any stream. Lines collect in memory and
 * leave in sink_flush, whole lines only, so that a rename between two
 * flushes (logrotate, then SIGHUP) never splits a line across files. When
 * the file cannot be written (a full disk, an I/O error), the lines wait in
 * the buffer, up to TV_SINK_MAX bytes, and every flush tries again; lines
 * that do not fit are dropped whole and counted, and the caller reports the
 * gap once writing works again.
 */
#ifndef TV_SINK_H
#define TV_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_SINK_MAX (4u << 20) /* bytes of lines kept while the output cannot be written */

struct sink {
	FILE *f;          /* what the formats write to */
	int fd;           /* where the lines go */
	const char *path; /* NULL: stdout */
	char *buf;
	char *stdio;        /* f's buffer: setvbuf ignores the size without one */
	size_t len, alloc;  /* bytes in buf, and its size */
	size_t whole;       /* bytes of buf that are whole lines */
	bool dropping;      /* the line being written did not fit: its rest goes too */
	int error;          /* errno of the write that failed; 0: writing works */
	uint64_t dropped;   /* lines dropped since the start */
	uint64_t gap;       /* of those, since writing last worked */
	uint64_t written;   /* lines written since the start */
};

enum sink_flush_result {
	SINK_OK = 0,
	SINK_FAILING,   /* the write failed; the lines wait (sink.error says why) */
	SINK_RECOVERED, /* writing works again after a failure, or lines were dropped
			 * (sink.gap of them) since the last report */
	SINK_GONE,      /* stdout's reader has gone (EPIPE) */
};

/* path NULL: stdout. A file is appended to, created with mode 0640. */
int sink_open(struct sink *s, const char *path, char *err, size_t errlen);
/* Hands the whole lines to the file; call after every batch of records. */
enum sink_flush_result sink_flush(struct sink *s);
/* SIGHUP: the file opened again by its name (after logrotate moved it);
 * the old one is kept if that fails. 0, or -1 with err set. */
int sink_reopen(struct sink *s, char *err, size_t errlen);
/* Flushes what it can and closes; 0, or -1 if lines were left unwritten. */
int sink_close(struct sink *s);
/* Opens path for appending, created with mode 0640 (not widened by the
 * umask); the descriptor, or -1 with err set. */
int output_file_open(const char *path, char *err, size_t errlen);

#endif
