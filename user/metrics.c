#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef TV_HAVE_MHD
#include <microhttpd.h>
#endif
#include "log.h"
#include "metrics.h"

#define TV_STR_(x) #x
#define TV_STR(x) TV_STR_(x)
#define METRICS_CONN_LIMIT 4     /* concurrent scrapers */
#define METRICS_CONN_TIMEOUT_S 10

/* ---- the exposition ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP tcpvitals_%s %s\n# TYPE tcpvitals_%s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "tcpvitals_%s %llu\n", name, (unsigned long long)v);
}

static void labeled(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	fprintf(f, "tcpvitals_%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)v);
}

/* A label value from outside (a server name): \, " and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	sample(f, name, v);
}

static void by_side(FILE *f, const char *name, const char *help, const char *a, uint64_t va, const char *b,
		    uint64_t vb)
{
	family(f, name, "counter", help);
	labeled(f, name, "side", a, va);
	labeled(f, name, "side", b, vb);
}

static void tls_expiry(FILE *f, const struct tls_ends *te)
{
	family(f, "tls_certificate_expiry_timestamp_seconds", "gauge",
	       "Earliest notAfter of the certificate chain a TLS server sent, in Unix seconds; "
	       "the most recently checked servers, at most " TV_STR(TV_TLS_ENDS_MAX) ".");
	for (uint32_t i = 0; i < te->n; i++) {
		const struct tls_end *e = &te->v[i];
		struct tv_conn id = { .family = e->family };
		char addr[64];

		if (!e->earliest_expiry)
			continue;
		memcpy(id.daddr, e->addr, sizeof(id.daddr));
		format_addr(&id, true, addr, sizeof(addr));
		fputs("tcpvitals_tls_certificate_expiry_timestamp_seconds{server_name=\"", f);
		label_value(f, e->server_name);
		fprintf(f, "\",addr=\"%s\",port=\"%u\"} %lld\n", addr, e->port, (long long)e->earliest_expiry);
	}
}

char *metrics_format(const struct metrics_view *v, size_t *len)
{
	static const char *dirs[] = { "unknown", "out", "in" };
	const struct tally *t = v->t;
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	family(f, "connections_opened_total", "counter",
	       "Connections opened, by direction, as the kernel side counted them.");
	labeled(f, "connections_opened_total", "direction", "out", v->kernel.opened_out);
	labeled(f, "connections_opened_total", "direction", "in", v->kernel.opened_in);
	family(f, "connections_total", "counter",
	       "Connections reported (closed, or still open when counted at the end), by direction.");
	for (int d = 0; d < 3; d++)
		labeled(f, "connections_total", "direction", dirs[d], t->closed[d]);
	counter(f, "connections_troubled_total", "Connections reported with an anomaly or a verdict.", t->troubled);
	family(f, "verdicts_total", "counter", "Connections reported with each verdict.");
	for (int i = 0; i < TV_V_COUNT; i++)
		labeled(f, "verdicts_total", "verdict", verdict_name(i), t->verdicts[i]);
	family(f, "retransmitted_segments_total", "counter",
	       "Segments retransmitted (the kernel's total_retrans of each connection), by kind; "
	       "unattributed: counted by the kernel where no record told the kind.");
	for (int k = 0; k <= TV_RETRANS_SYNACK + 1; k++)
		labeled(f, "retransmitted_segments_total", "kind",
			k > TV_RETRANS_SYNACK ? "unattributed" : retrans_kind_name((unsigned)k), t->retrans_kind[k]);
	counter(f, "out_of_order_segments_total", "Segments received out of order.", t->ofo_segs);
	counter(f, "duplicate_segments_total", "Segments received that carried only data already received.",
		t->dup_segs);
	counter(f, "duplicate_acks_total", "Duplicate acknowledgements received.", t->dupacks);
	by_side(f, "resets_total", "Resets sent and received.", "sent", t->resets_sent, "received", t->resets_received);
	by_side(f, "late_resets_total", "Resets sent and received after the socket was gone.", "sent",
		t->late_resets_sent, "received", t->late_resets_received);
	family(f, "drops_total", "counter", "Segments of traced connections the kernel dropped, by reason.");
	for (int i = 0; i <= TV_TALLY_REASONS; i++)
		if (t->drop_reason[i])
			labeled(f, "drops_total", "reason",
				i == TV_TALLY_REASONS ? "other" : drop_reason_name(v->names, (uint32_t)i),
				t->drop_reason[i]);
	by_side(f, "zero_windows_total", "Times a receive window closed: the peer's, or this host's.", "peer",
		t->zero_windows[0], "local", t->zero_windows[1]);
	by_side(f, "tls_alerts_total", "TLS alert records sent and received.", "sent", t->tls_alerts[0],
		"received", t->tls_alerts[1]);
	family(f, "tls_checks_total", "counter", "Connections whose TLS server was checked, by result.");
	for (int i = 0; i <= TLS_RESULT_ERROR; i++)
		labeled(f, "tls_checks_total", "result", tls_result_name(i), t->tls_checks[i]);
	tls_expiry(f, v->tls_ends);
	counter(f, "records_total", "Records received from the kernel.", v->stats->records);
	counter(f, "records_lost_total", "Records the kernel had no ring-buffer room for.", v->kernel.lost);
	if (!v->stats->missed_unknown)
		counter(f, "events_missed_total",
			"Events the kernel ran no program for: it was already running on that CPU, or it runs none there.", v->stats->missed);
	counter(f, "records_rejected_total", "Malformed records.", v->stats->rejected);
	counter(f, "records_unkept_total", "Records past a connection's limit, or too late for it.",
		v->stats->unkept);
	counter(f, "connections_evicted_total", "Connections reported early because the table was full.",
		v->stats->evicted);
	counter(f, "output_lines_dropped_total", "Output lines dropped while the output could not be written.",
		v->output_dropped);
	family(f, "tracked_connections", "gauge", "Connections in the collector's table.");
	sample(f, "tracked_connections", v->tracked);
	family(f, "start_time_seconds", "gauge", "When tracing started, in Unix seconds.");
	sample(f, "start_time_seconds", (uint64_t)v->start_unix);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

int metrics_file_write(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return error_line(err, errlen, -1, "--metrics-file %s: name too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_line(err, errlen, -1, "--metrics-file %s: %s", tmp, strerror(errno));
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			unlink(tmp);
			return error_line(err, errlen, -1, "--metrics-file %s: %s", tmp, strerror(e));
		}
		off += (size_t)w;
	}
	if (close(fd) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return error_line(err, errlen, -1, "--metrics-file %s: %s", path, strerror(e));
	}
	return 0;
}

/* ---- the endpoint ---- */

struct metrics_server {
	int fd; /* listening */
	pthread_mutex_t lock;
	char *text;
	size_t len;
#ifdef TV_HAVE_MHD
	struct MHD_Daemon *d;
#endif
};

#ifndef TV_HAVE_MHD
struct metrics_server *metrics_server_listen(const struct tv_prefix *addr, uint16_t port, char *err,
					     size_t errlen)
{
	error_line(err, errlen, -1,
		   "--metrics: this build has no HTTP server (built without libmicrohttpd); use --metrics-file");
	return NULL;
}
#else
struct metrics_server *metrics_server_listen(const struct tv_prefix *addr, uint16_t port, char *err,
					     size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	struct metrics_server *s;
	char where[64];
	int one = 1, fd;

	if (addr->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr->addr, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr->addr, 16);
		sl = sizeof(*in6);
	}
	inet_ntop(ss.ss_family, addr->addr, where, sizeof(where));
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		error_line(err, errlen, -1, "--metrics %s%s%s:%u: %s", addr->family == 6 ? "[" : "", where,
			   addr->family == 6 ? "]" : "", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		error_line(err, errlen, -1, "out of memory");
		return NULL;
	}
	s->fd = fd;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}
#endif

#ifdef TV_HAVE_MHD
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req)
{
	struct metrics_server *s = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *copy;
	size_t len;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	pthread_mutex_lock(&s->lock);
	len = s->len;
	copy = malloc(len ? len : 1);
	if (copy)
		memcpy(copy, s->text, len);
	pthread_mutex_unlock(&s->lock);
	if (!copy)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
#endif

int metrics_server_run(struct metrics_server *s, char *err, size_t errlen)
{
#ifdef TV_HAVE_MHD
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)METRICS_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)METRICS_CONN_TIMEOUT_S, MHD_OPTION_END);
	if (!s->d)
		return error_line(err, errlen, -1, "--metrics: the HTTP server did not start");
	return 0;
#else
	return error_line(err, errlen, -1, "--metrics: this build has no HTTP server");
#endif
}

void metrics_server_update(struct metrics_server *s, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&s->lock);
	old = s->text;
	s->text = text;
	s->len = len;
	pthread_mutex_unlock(&s->lock);
	free(old);
}

void metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return;
#ifdef TV_HAVE_MHD
	if (s->d)
		MHD_stop_daemon(s->d);
	else
		close(s->fd);
#endif
	pthread_mutex_destroy(&s->lock);
	free(s->text);
	free(s);
}
