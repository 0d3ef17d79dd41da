/* The text format keeps each connection's timeline and TLS line itself and
 * prints the block at conn_end: events, TLS line, close, late records, counters. */
#include <stdlib.h>
#include <netinet/tcp.h>
#include "output.h"
#include "unit.h"

static char *buf;
static size_t buflen;

static union tv_record rec(uint16_t type, uint64_t ts)
{
	union tv_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = type;
	r.hdr.count = 1;
	r.hdr.ts_ns = ts;
	return r;
}

static const char *line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	return p ? p : "";
}

int main(void)
{
	struct output o = { .ops = &output_text_ops };
	struct conn_ref c = { .cookie = 77, .first_ts_ns = 1000000 };
	struct conn_end end = { 0 };
	struct tls_report tls = { .result = TLS_RESULT_OK };
	union tv_record r;
	FILE *f = open_memstream(&buf, &buflen);

	o.f = f;
	c.id.cookie = 77;
	c.id.family = 4;
	c.id.sport = 5000;
	c.id.dport = 443;
	c.id.dir = TV_DIR_OUT;
	CHECK(o.ops->init(&o) == 0, "text format sets up its state");

	r = rec(TV_REC_STATE, 1000000);
	r.state.old_state = TCP_CLOSE;
	r.state.new_state = TCP_SYN_SENT;
	o.ops->event(&o, &c, &r);
	r = rec(TV_REC_RETRANSMIT, 2000000);
	r.retransmit.segs = 2;
	r.retransmit.kind = TV_RETRANS_RTO;
	r.retransmit.state = TCP_ESTABLISHED;
	o.ops->event(&o, &c, &r);
	snprintf(tls.server_name, sizeof(tls.server_name), "media.example.test");
	o.ops->tls(&o, &c, &tls, TLS_SNI_CLIENT_HELLO, false);
	fflush(f);
	CHECK(buflen == 0, "nothing is printed before the connection ends: the format holds the timeline");

	end.closed = true;
	end.anomalous = true;
	end.closed_by = TV_CLOSED_RESET_SENT;
	end.close.hdr.ts_ns = 3000000;
	end.close.last_state = TCP_FIN_WAIT2;
	end.close.resets_sent = 1;
	r = rec(TV_REC_RESET, 3000100); /* after the kernel's destroy */
	r.reset.side = TV_RESET_SENT;
	r.reset.state = TCP_CLOSE;
	r.reset.reason = TV_REASON_UNKNOWN;
	o.ops->event(&o, &c, &r);
	o.ops->conn_end(&o, &c, &end);
	fflush(f);
	{
		const char *state = line_with(buf, "state CLOSE -> SYN_SENT");
		const char *rtx = line_with(buf, "retransmit (rto) 2 segs");
		const char *tl = line_with(buf, "tls  media.example.test: chain verified");
		const char *cl = line_with(buf, "close: reset_sent, last state FIN_WAIT2");
		const char *late = line_with(buf, "reset sent in CLOSE");
		const char *counters = line_with(buf, "resets 1 sent, 0 received");

		CHECK(*state && *rtx && *tl && *cl && *late && *counters, "the block has every line");
		CHECK(state < rtx && rtx < tl && tl < cl && cl < late && late < counters,
		      "in order: events, TLS line, close, the late reset, the counters");
		CHECK(strstr(buf, "conn 77 (sk:4d)") && !strstr(buf, "still open"), "header names the cookie, not still open");
	}

	/* a healthy connection is not printed without --all; its timeline is freed anyway */
	fseek(f, 0, SEEK_SET);
	buflen = 0;
	c.cookie = c.id.cookie = 78;
	r = rec(TV_REC_STATE, 1000000);
	o.ops->event(&o, &c, &r);
	memset(&end, 0, sizeof(end));
	end.closed = true;
	o.ops->conn_end(&o, &c, &end);
	fflush(f);
	CHECK(buflen == 0, "healthy: no block without --all");

	/* a healthy connection: no events, its close carries its history */
	o.all = true;
	fseek(f, 0, SEEK_SET);
	buflen = 0;
	c.cookie = c.id.cookie = 80;
	memset(&end, 0, sizeof(end));
	end.closed = true;
	end.close.hdr.ts_ns = 5000000;
	end.close.hist = (struct tv_history){ .start_ns = 1000000, .handshake_us = 70, .established = 1, .ntrans = 2 };
	end.close.hist.trans[0] = (struct tv_transition){ .ts_ns = 1000000, .old_state = TCP_CLOSE, .new_state = TCP_SYN_SENT };
	end.close.hist.trans[1] = (struct tv_transition){ .ts_ns = 1070000, .old_state = TCP_SYN_SENT, .new_state = TCP_ESTABLISHED };
	o.ops->conn_end(&o, &c, &end);
	fflush(f);
	{
		const char *a = line_with(buf, "+0.000 ms  state CLOSE -> SYN_SENT");
		const char *b = line_with(buf, "+0.070 ms  state SYN_SENT -> ESTABLISHED");
		const char *h = line_with(buf, "+0.070 ms  established, handshake 0.070 ms");
		const char *cl = line_with(buf, "close: local");

		CHECK(*a && *b && *h && *cl && a < b && b < h && h < cl,
		      "--all: a healthy connection's timeline comes from the history its close carries");
	}

	fseek(f, 0, SEEK_SET);
	buflen = 0;
	c.cookie = c.id.cookie = 79;
	o.ops->event(&o, &c, &r);
	end.closed = false;
	end.evicted = true;
	o.ops->conn_end(&o, &c, &end);
	fflush(f);
	CHECK(strstr(buf, "(still open; evicted from a full table)") != NULL,
	      "--all: an evicted connection is printed, marked still open and evicted");

	/* missed runs: one line naming the hooks, and the count in the last line */
	{
		struct hook_count hooks[] = { { "inet_sock_set_state", 3 }, { "tcp_destroy_sock", 1 } };
		struct stop_info si = { .connections = 2, .records = 5, .missed = 4 };

		fseek(f, 0, SEEK_SET);
		buflen = 0;
		o.ops->missed(&o, 0, 4, hooks, 2);
		o.ops->stop(&o, 0, &si);
		fflush(f);
		CHECK(strstr(buf, "!! 4 events missed: ") && strstr(buf, "(inet_sock_set_state 3, tcp_destroy_sock 1)"),
		      "missed runs: a line with the count and each hook's");
		CHECK(strstr(buf, "-- 2 connections, 5 records, 0 lost, 4 events missed\n") != NULL,
		      "missed runs: the last line counts them");
	}
	o.ops->fini(&o);
	fclose(f);
	free(buf);
	UNIT_EXIT();
}
