/* Records from the ring buffer: short, oversized and unknown ones are rejected. */
#include <string.h>
#include "record.h"
#include "unit.h"

int main(void)
{
	struct tv_rec_close close = { .hdr = { .type = TV_REC_CLOSE, .size = sizeof(close), .count = 1 } };
	struct tv_rec_state state = { .hdr = { .type = TV_REC_STATE, .size = sizeof(state), .count = 1 } };
	unsigned char big[512] = { 0 };
	union tv_record r;

	close.conn.cookie = 42;
	close.retrans_segs = 7;
	CHECK(record_decode(&close, sizeof(close), &r) == TV_DECODE_OK && r.close.retrans_segs == 7 &&
		      r.close.conn.cookie == 42,
	      "a close record decodes");
	memset(&r, 0xff, sizeof(r)); /* what the close before left, and more */
	CHECK(record_decode(&state, sizeof(state), &r) == TV_DECODE_OK, "a state record decodes");
	{
		const unsigned char *p = (const unsigned char *)&r;
		size_t nonzero = 0;

		for (size_t i = sizeof(state); i < sizeof(r); i++)
			nonzero += p[i] != 0;
		CHECK(nonzero == 0, "a record shorter than the union leaves the rest of it zero");
	}
	CHECK(record_decode(&close, 8, &r) == TV_DECODE_SHORT, "shorter than a header");
	CHECK(record_decode(&close, sizeof(close) - 8, &r) == TV_DECODE_SIZE,
	      "size larger than what the ring buffer handed over");
	close.hdr.size = sizeof(struct tv_rec_state);
	CHECK(record_decode(&close, sizeof(close), &r) == TV_DECODE_SHORT,
	      "size too small for its type");
	close.hdr.size = 4;
	CHECK(record_decode(&close, sizeof(close), &r) == TV_DECODE_SIZE, "size smaller than a header");
	state.hdr.type = 0;
	CHECK(record_decode(&state, sizeof(state), &r) == TV_DECODE_UNKNOWN, "type 0 is unknown");
	state.hdr.type = TV_REC_TYPE_MAX;
	CHECK(record_decode(&state, sizeof(state), &r) == TV_DECODE_UNKNOWN, "a future type is unknown");
	/* a newer kernel side may append fields: accepted, truncated to what we know */
	state.hdr.type = TV_REC_STATE;
	state.hdr.size = 200;
	memcpy(big, &state, sizeof(state));
	CHECK(record_decode(big, 200, &r) == TV_DECODE_OK, "a longer record of a known type");
	static struct tv_rec_tls_hello hello = { .hdr = { .type = TV_REC_TLS_HELLO, .size = sizeof(hello) } };

	CHECK(record_decode(&hello, sizeof(hello), &r) == TV_DECODE_OK && r.hdr.type == TV_REC_TLS_HELLO,
	      "a ClientHello record is checked and its header handed back");
	CHECK(record_decode(&hello, sizeof(hello) - 100, &r) != TV_DECODE_OK, "a short ClientHello record is rejected");
	UNIT_EXIT();
}
