/* The agent's parts that need no kernel: the output sink (whole lines, a
 * failing file, the gap counted), the tallies' differences, the metrics
 * exposition and --user lookups. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "metrics.h"
#include "privs.h"
#include "sink.h"
#include "tally.h"
#include "unit.h"

static size_t file_lines(const char *path, size_t *bytes, int *torn)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	*bytes = 0;
	*torn = 0;
	while (f && (len = getline(&line, &cap, f)) > 0) {
		n++;
		*bytes += (size_t)len;
		/* every line this test writes is "{...}\n" */
		if (line[0] != '{' || len < 3 || line[len - 2] != '}' || line[len - 1] != '\n')
			(*torn)++;
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

static void test_whole_lines(const char *dir)
{
	char path[256], err[256];
	struct sink s;
	size_t bytes;
	int torn;

	snprintf(path, sizeof(path), "%s/whole.json", dir);
	CHECK(sink_open(&s, path, err, sizeof(err)) == 0, "the sink opens a new file");
	fputs("{\"a\":1}\n{\"b\":", s.f);
	fflush(s.f);
	CHECK(sink_flush(&s) == SINK_OK, "a flush");
	CHECK(file_lines(path, &bytes, &torn) == 1 && !torn, "only the whole line went out");
	fputs("2}\n", s.f);
	CHECK(sink_flush(&s) == SINK_OK && file_lines(path, &bytes, &torn) == 2 && !torn,
	      "the rest of the line follows once it is whole");
	/* a burst larger than the buffer, between two flushes, to a file that works */
	for (int i = 0; i < 100000; i++)
		fputs("{\"burst\":\"0123456789012345678901234567890123456789012345678901234567890123\"}\n", s.f);
	CHECK(sink_flush(&s) == SINK_OK && s.dropped == 0, "a burst past the buffer's size: written, nothing dropped");
	CHECK(sink_close(&s) == 0 && s.written == 100002 && s.dropped == 0 &&
		      file_lines(path, &bytes, &torn) == 100002 && !torn,
	      "closed with every line written whole, none dropped");
}

/* The file fails (/dev/full: every write is ENOSPC), then works again. */
static void test_failing_file(const char *dir)
{
	char path[256], err[256], line[600];
	struct sink s;
	size_t bytes, lines_in;
	uint64_t total = 0;
	int torn;

	snprintf(path, sizeof(path), "%s/later.json", dir);
	CHECK(sink_open(&s, "/dev/full", err, sizeof(err)) == 0, "the sink opens /dev/full");
	memset(line, 'x', sizeof(line));
	line[0] = '{';
	line[sizeof(line) - 2] = '}';
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 3; i++) {
		fwrite(line, 1, sizeof(line), s.f);
		total++;
	}
	CHECK(sink_flush(&s) == SINK_FAILING && s.error == ENOSPC, "a write error: the lines wait");
	CHECK(s.dropped == 0, "nothing dropped while the buffer has room");
	/* 6 MB more: past the 4 MiB the sink keeps */
	for (int i = 0; i < 10000; i++) {
		fwrite(line, 1, sizeof(line), s.f);
		total++;
	}
	CHECK(sink_flush(&s) == SINK_FAILING, "still failing");
	CHECK(s.dropped > 0 && s.gap == s.dropped, "lines past the limit are dropped and counted");
	CHECK(s.len <= TV_SINK_MAX, "the buffer stays within its limit");
	/* the disk has room again */
	close(s.fd);
	s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(sink_flush(&s) == SINK_RECOVERED, "writing works again: reported once");
	lines_in = file_lines(path, &bytes, &torn);
	CHECK(!torn, "no torn line in the file");
	CHECK(lines_in + s.dropped == total, "lines written + lines dropped = lines made");
	s.gap = 0;
	CHECK(sink_flush(&s) == SINK_OK, "then quiet");
	sink_close(&s);
}

static void test_tally_and_metrics(void)
{
	struct tally a = { 0 }, b, d;
	struct conn_end e = { 0 };
	struct stop_info st = { .records = 7 };
	struct tls_ends te = { 0 };
	struct metrics_view v = { .t = &a, .stats = &st, .tls_ends = &te };
	struct tls_report rep = { .server_name = "a\"b.example", .result = TLS_RESULT_OK, .nchain = 1 };
	struct tv_conn id = { .family = 4, .dport = 443, .daddr = { 192, 0, 2, 1 } };
	char *text;
	size_t len;

	e.closed = true;
	e.close.retrans_segs = 5;
	e.facts.segs[TV_RETRANS_FAST] = 3;
	e.verdicts.set = 1u << TV_V_LOSS;
	tally_conn(&a, &e, TV_DIR_OUT);
	b = a;
	tally_conn(&a, &e, TV_DIR_IN);
	tally_diff(&a, &b, &d);
	CHECK(d.closed[TV_DIR_IN] == 1 && d.closed[TV_DIR_OUT] == 0 && d.retrans_segs == 5 &&
		      d.verdicts[TV_V_LOSS] == 1 && d.troubled == 1,
	      "a period's counts are the difference of two tallies");
	CHECK(a.retrans_kind[TV_RETRANS_FAST] == 6 && a.retrans_kind[TV_RETRANS_SYNACK + 1] == 4,
	      "retransmissions no record explained are unattributed, so the kinds add up to the kernel's count");
	rep.chain[0].not_after = 1893456000;
	tls_ends_update(&te, &id, &rep, 1);
	tls_ends_update(&te, &id, &rep, 2);
	CHECK(te.n == 1, "one TLS endpoint, checked twice, is one series");
	text = metrics_format(&v, &len);
	CHECK(text && strstr(text, "# TYPE tcpvitals_retransmitted_segments_total counter\n"),
	      "metrics: a TYPE line per family");
	CHECK(text && strstr(text, "tcpvitals_retransmitted_segments_total{kind=\"fast\"} 6\n") &&
		      strstr(text, "tcpvitals_retransmitted_segments_total{kind=\"unattributed\"} 4\n"),
	      "metrics: retransmissions by kind");
	CHECK(text && strstr(text, "tcpvitals_tls_certificate_expiry_timestamp_seconds{server_name=\"a\\\"b.example\","
				   "addr=\"192.0.2.1\",port=\"443\"} 1893456000\n"),
	      "metrics: a server name's quote is escaped in its label");
	CHECK(text && len > 0 && text[len - 1] == '\n', "metrics: the exposition ends with a newline");
	free(text);
}

static void test_users(void)
{
	uid_t uid;
	gid_t gid;
	char err[256];

	CHECK(privs_lookup_user("root", &uid, &gid, err, sizeof(err)) == 0 && uid == 0 && gid == 0,
	      "--user root from /etc/passwd");
	CHECK(privs_lookup_user("1234:55", &uid, &gid, err, sizeof(err)) == 0 && uid == 1234 && gid == 55,
	      "--user UID:GID");
	CHECK(privs_lookup_user("1234", &uid, &gid, err, sizeof(err)) == 0 && uid == 1234 && gid == 1234,
	      "--user UID alone: the same number as group");
	CHECK(privs_lookup_user("no-such-user-x", &uid, &gid, err, sizeof(err)) == -1 && strstr(err, "no such user"),
	      "an unknown user: one line");
	CHECK(privs_lookup_user("12:x", &uid, &gid, err, sizeof(err)) == -1 && strstr(err, "group"),
	      "a group that is not a number: one line");
}

int main(void)
{
	char dir[] = "/tmp/tv_agent_parts.XXXXXX";

	if (!mkdtemp(dir)) {
		CHECK(false, "a temporary directory");
		UNIT_EXIT();
	}
	test_whole_lines(dir);
	test_failing_file(dir);
	test_tally_and_metrics();
	test_users();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
	UNIT_EXIT();
}
