/* Validation of records from the ring buffer (the kernel/user ABI). */
#ifndef TV_RECORD_H
#define TV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "tcpvitals.h"

/* Any record, copied out of the ring buffer. */
union tv_record {
	struct tv_hdr hdr;
	struct tv_rec_state state;
	struct tv_rec_open open;
	struct tv_rec_retransmit retransmit;
	struct tv_rec_segment segment; /* ofo, dup, dupack */
	struct tv_rec_reset reset;
	struct tv_rec_drop drop;
	struct tv_rec_close close;
	struct tv_rec_conn announce; /* a connection's history before its first live record */
	struct tv_rec_error error;
	struct tv_rec_window window;
	struct tv_rec_tls_alert alert;
};

enum tv_decode_result {
	TV_DECODE_OK = 0,
	TV_DECODE_SHORT,   /* shorter than its header or than its type's record */
	TV_DECODE_SIZE,    /* hdr.size disagrees with what the ring buffer handed over */
	TV_DECODE_UNKNOWN, /* a type number this build does not know */
};

/* Checks data/len and copies the record into out. Records longer than this
 * build knows (a newer kernel side) are accepted and truncated. A record
 * larger than the union (TV_REC_TLS_HELLO) is checked but not copied. */
enum tv_decode_result record_decode(const void *data, size_t len, union tv_record *out);
const char *record_type_name(uint16_t type);
/* A file of raw ring-buffer records (--record), for replaying through the
 * collector: each record as a 32-bit length in host order, then its bytes. */
int record_file_append(FILE *f, const void *data, size_t len);
/* The next record of buf (len bytes) at *pos; false at the end or on a truncated one. */
bool record_file_next(const uint8_t *buf, size_t len, size_t *pos, const void **data, size_t *rlen);
/* The state and open records a connection's history stands for, in order:
 * calls fn for each; returns how many. */
int history_records(const struct tv_conn *id, const struct tv_history *h,
		    void (*fn)(void *arg, const union tv_record *r), void *arg);
const char *decode_result_name(enum tv_decode_result r);

#endif
