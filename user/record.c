#include <stdbool.h>
#include <string.h>
#include "record.h"

static size_t record_size(uint16_t type)
{
	switch (type) {
	case TV_REC_STATE: return sizeof(struct tv_rec_state);
	case TV_REC_OPEN: return sizeof(struct tv_rec_open);
	case TV_REC_RETRANSMIT: return sizeof(struct tv_rec_retransmit);
	case TV_REC_OFO:
	case TV_REC_DUP:
	case TV_REC_DUPACK: return sizeof(struct tv_rec_segment);
	case TV_REC_RESET: return sizeof(struct tv_rec_reset);
	case TV_REC_DROP: return sizeof(struct tv_rec_drop);
	case TV_REC_CLOSE: return sizeof(struct tv_rec_close);
	case TV_REC_TLS_HELLO: return sizeof(struct tv_rec_tls_hello);
	case TV_REC_CONN: return sizeof(struct tv_rec_conn);
	case TV_REC_ERROR: return sizeof(struct tv_rec_error);
	case TV_REC_WINDOW: return sizeof(struct tv_rec_window);
	case TV_REC_TLS_ALERT: return sizeof(struct tv_rec_tls_alert);
	default: return 0;
	}
}

const char *record_type_name(uint16_t type)
{
	switch (type) {
	case TV_REC_STATE: return "state";
	case TV_REC_OPEN: return "open";
	case TV_REC_RETRANSMIT: return "retransmit";
	case TV_REC_OFO: return "ofo";
	case TV_REC_DUP: return "dup";
	case TV_REC_DUPACK: return "dupack";
	case TV_REC_RESET: return "reset";
	case TV_REC_DROP: return "drop";
	case TV_REC_CLOSE: return "close";
	case TV_REC_TLS_HELLO: return "tls_hello";
	case TV_REC_CONN: return "conn";
	case TV_REC_ERROR: return "error";
	case TV_REC_WINDOW: return "zero_window";
	case TV_REC_TLS_ALERT: return "tls_alert";
	default: return "unknown";
	}
}

const char *decode_result_name(enum tv_decode_result r)
{
	switch (r) {
	case TV_DECODE_OK: return "ok";
	case TV_DECODE_SHORT: return "short record";
	case TV_DECODE_SIZE: return "size mismatch";
	case TV_DECODE_UNKNOWN: return "unknown record type";
	}
	return "?";
}

enum tv_decode_result record_decode(const void *data, size_t len, union tv_record *out)
{
	struct tv_hdr hdr;
	size_t want;

	if (len < sizeof(hdr))
		return TV_DECODE_SHORT;
	memcpy(&hdr, data, sizeof(hdr));
	/* the ring buffer rounds lengths up to 8 bytes; size must fit in it */
	if (hdr.size < sizeof(hdr) || hdr.size > len)
		return TV_DECODE_SIZE;
	want = record_size(hdr.type);
	if (!want)
		return TV_DECODE_UNKNOWN;
	if (hdr.size < want)
		return TV_DECODE_SHORT;
	if (want > sizeof(*out)) {
		memset(out, 0, sizeof(*out));
		out->hdr = hdr; /* large records are read in place, never copied */
		return TV_DECODE_OK;
	}
	memcpy(out, data, want);
	memset((char *)out + want, 0, sizeof(*out) - want); /* the rest of the union */
	return TV_DECODE_OK;
}

int history_records(const struct tv_conn *id, const struct tv_history *h,
		    void (*fn)(void *arg, const union tv_record *r), void *arg)
{
	uint32_t n = h->ntrans < TV_MAX_TRANSITIONS ? h->ntrans : TV_MAX_TRANSITIONS;
	bool opened = false;
	union tv_record r;
	int count = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct tv_transition *t = &h->trans[i];

		memset(&r, 0, sizeof(r));
		r.hdr = (struct tv_hdr){ .type = TV_REC_STATE, .size = sizeof(r.state), .count = 1, .ts_ns = t->ts_ns };
		r.state.conn = *id;
		r.state.old_state = t->old_state;
		r.state.new_state = t->new_state;
		fn(arg, &r);
		count++;
		if (t->new_state == 1 /* TCP_ESTABLISHED */ && h->established && !opened) {
			opened = true;
			memset(&r, 0, sizeof(r));
			r.hdr = (struct tv_hdr){ .type = TV_REC_OPEN, .size = sizeof(r.open), .count = 1, .ts_ns = t->ts_ns };
			r.open.conn = *id;
			r.open.handshake_us = h->handshake_us;
			r.open.syn_retrans = h->syn_retrans;
			fn(arg, &r);
			count++;
		}
	}
	return count;
}

int record_file_append(FILE *f, const void *data, size_t len)
{
	uint32_t n = (uint32_t)len;

	return fwrite(&n, sizeof(n), 1, f) == 1 && fwrite(data, 1, len, f) == len ? 0 : -1;
}

bool record_file_next(const uint8_t *buf, size_t len, size_t *pos, const void **data, size_t *rlen)
{
	uint32_t n;

	if (len - *pos < sizeof(n))
		return false;
	memcpy(&n, buf + *pos, sizeof(n));
	if (len - *pos - sizeof(n) < n)
		return false;
	*data = buf + *pos + sizeof(n);
	*rlen = n;
	*pos += sizeof(n) + n;
	return true;
}
