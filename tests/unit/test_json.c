/* JSON escaping: quotes, backslashes, control bytes, invalid UTF-8. */
#include <stdlib.h>
#include "clock.h"
#include "json.h"
#include "output.h"
#include "unit.h"

static char *escape(const char *s, size_t n)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_write_string(f, s, n);
	fclose(f);
	return buf;
}

int main(void)
{
	CHECK_STR(escape("curl", 4), "\"curl\"", "plain text");
	CHECK_STR(escape("a\"b\\c", 5), "\"a\\\"b\\\\c\"", "quote and backslash");
	CHECK_STR(escape("a\nb\tc\r", 6), "\"a\\nb\\tc\\r\"", "newline, tab, return");
	CHECK_STR(escape("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"", "control bytes");
	CHECK_STR(escape("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"", "valid UTF-8 kept");
	CHECK_STR(escape("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"", "three-byte UTF-8 kept");
	CHECK_STR(escape("a\xffz", 3), "\"a\\ufffdz\"", "invalid byte replaced");
	CHECK_STR(escape("\xc3", 1), "\"\\ufffd\"", "truncated sequence replaced");
	CHECK_STR(escape("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"", "overlong form replaced");
	CHECK_STR(escape("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"", "surrogate replaced");
	CHECK_STR(escape("ab\0cd", 5), "\"ab\\u0000cd\"", "NUL escaped");

	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct jw w;

	jw_begin(&w, f);
	jw_str(&w, "type", "x");
	jw_u64(&w, "n", 18446744073709551615ULL);
	jw_i64(&w, "e", -32);
	jw_null(&w, "z");
	jw_open(&w, "l", '[');
	jw_elem_str(&w, "a");
	jw_elem_str(&w, "b");
	jw_close(&w, ']');
	jw_bool(&w, "t", true);
	jw_end(&w);
	fclose(f);
	CHECK_STR(buf, "{\"type\":\"x\",\"n\":18446744073709551615,\"e\":-32,\"z\":null,\"l\":[\"a\",\"b\"],\"t\":true}\n",
		  "object writer");
	/* a hostile process name, through the real record writer */
	char line[2048];
	FILE *lf = fmemopen(line, sizeof(line), "w");
	struct output o = { .ops = &output_json_ops, .f = lf };
	union tv_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = TV_REC_STATE;
	r.state.conn.cookie = 42;
	r.state.conn.family = 4;
	r.state.conn.owner_flags = TV_OWNER_KNOWN;
	memcpy(r.state.conn.comm, "ev\"il\\\xff\x01\n", 9);
	r.state.old_state = 7;
	r.state.new_state = 2;
	o.ops->orphan(&o, &r);
	fclose(lf);
	CHECK(strstr(line, "\"comm\":\"ev\\\"il\\\\\\ufffd\\u0001\\n\",") != NULL,
	      "comm with a quote, a backslash, invalid UTF-8 and control bytes stays valid JSON");
	CHECK(strstr(line, "\"old\":\"CLOSE\",\"new\":\"SYN_SENT\"") != NULL, "state names in a record");

	/* missed runs: the count, and each hook's */
	{
		struct hook_count hooks[] = { { "inet_sock_set_state", 3 }, { "tcp_destroy_sock", 1 } };

		lf = fmemopen(line, sizeof(line), "w");
		o.f = lf;
		o.ops->missed(&o, 0, 4, hooks, 2);
		fclose(lf);
		CHECK(strstr(line, "{\"type\":\"missed\",") == line &&
			      strstr(line, ",\"events\":4,\"hooks\":{\"inet_sock_set_state\":3,\"tcp_destroy_sock\":1}}\n"),
		      "a missed record: its events and each hook's");
	}

	/* addresses, formatted by hand for IPv4 */
	struct tv_conn c4 = { .family = 4 };
	char addr[64];
	const uint8_t cases[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 10, 1, 20, 3 }, { 127, 0, 100, 9 } };
	const char *want[] = { "0.0.0.0", "255.255.255.255", "10.1.20.3", "127.0.100.9" };
	int good = 0;

	for (int i = 0; i < 4; i++) {
		memcpy(c4.daddr, cases[i], 4);
		format_addr(&c4, true, addr, sizeof(addr));
		good += !strcmp(addr, want[i]);
	}
	CHECK(good == 4, "IPv4 addresses: one, two and three digits, edges");
	struct tv_conn c6 = { .family = 6, .saddr = { [15] = 1 } };
	format_addr(&c6, false, addr, sizeof(addr));
	CHECK_STR(addr, "::1", "IPv6 address");

	char ts[40];

	clock_format_real(0, ts, sizeof(ts));
	CHECK_STR(ts, "1970-01-01T00:00:00.000000Z", "RFC 3339 epoch");
	clock_format_real(1795712426123456789LL, ts, sizeof(ts));
	CHECK_STR(ts, "2026-11-26T17:00:26.123456Z", "RFC 3339 with microseconds, UTC");
	clock_format_real(1795712426999999999LL, ts, sizeof(ts));
	CHECK_STR(ts, "2026-11-26T17:00:26.999999Z", "same second from the cache");
	clock_format_real(1795712427000001000LL, ts, sizeof(ts));
	CHECK_STR(ts, "2026-11-26T17:00:27.000001Z", "next second");
	UNIT_EXIT();
}
