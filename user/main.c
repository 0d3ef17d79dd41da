/* tcpvitals: the collector's entry point and run loop. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "clock.h"
#include "collector.h"
#include "command.h"
#include "exitcodes.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "netns.h"
#include "notify.h"
#include "output.h"
#include "privs.h"
#include "sink.h"
#include "sockets.h"
#include "tls_track.h"

#define POLL_MS 100
#define BUSY_RECORDS 1000 /* a batch this large: poll again after BUSY_POLL_MS */
#define BUSY_POLL_MS 5
#define COMMAND_GRACE_NS 1000000000ULL /* after COMMAND exits, wait this long for its closes */
#define MAX_CONNS 65536
#define MISSES_CHECK_NS 1000000000ULL /* programs' missed runs are read this often */
#define METRICS_REFRESH_NS 1000000000ULL /* the endpoint's exposition is rebuilt this often */

static volatile sig_atomic_t stop_signal, reopen_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen_signal = 1;
	else
		stop_signal = sig;
}

struct run;
static int on_ring_record(void *ctx, void *data, size_t len);

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* -o FILE is opened again (logrotate) */
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a write error */
}

static bool output_broken(FILE *f)
{
	return fflush(f) != 0 || ferror(f);
}

/* -o FILE: appended to, created with mode 0640 (not widened by the umask). */
static FILE *output_open(const char *path, char *err, size_t errlen)
{
	int fd = output_file_open(path, err, errlen);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "a"))) {
		error_line(err, errlen, -1, "--output %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* What a summary period started from: the totals then. */
struct period {
	uint64_t start_ns, next_ns;
	struct tally tally;
	struct stop_info stats;
	struct tv_counters kernel;
	struct rusage ru;
	uint64_t dropped;
};

struct run {
	struct tv_config cfg;
	struct loader ld;
	struct output out;
	struct collector col;
	struct command cmd;
	struct ring_buffer *rb;
	struct tls_track *tls;
	FILE *outfile; /* -o FILE */
	struct sink sink; /* --agent: -o FILE or stdout, through a bounded buffer */
	struct period period;
	struct metrics_server *metrics;
	struct notify notify; /* systemd's NOTIFY_SOCKET */
	uint64_t metrics_built_ns;
	int64_t start_unix;
	struct kernel_table tables[8];
	int ntables;
	struct privs privs;
	bool drop;  /* --agent or --user: keep nothing after attaching */
	uid_t uid;  /* --user */
	gid_t gid;
	FILE *recfile; /* --record FILE */
	uint64_t lost_reported;
	uint64_t missed_hook[TV_MAX_HOOKS + 2]; /* loader_misses, as last reported */
	uint64_t missed_checked_ns;
	bool have_cmd;
	bool col_ready; /* the collector is set up */
	struct reason_names *names;
	bool quiet; /* the output cannot be written: stdout closed by its reader, or a write error */
};

static int on_ring_record(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;

	if (r->recfile && record_file_append(r->recfile, data, len)) {
		pr_warn("writing %s failed: %s; recording stops\n", r->cfg.record, strerror(errno));
		fclose(r->recfile);
		r->recfile = NULL;
	}
	collector_raw(&r->col, data, len);
	return 0;
}

static void report_lost(struct run *r)
{
	uint64_t total = loader_lost_total(&r->ld);

	if (total > r->lost_reported) {
		collector_lost(&r->col, clock_mono_now_ns(), total - r->lost_reported);
		r->lost_reported = total;
	}
}

/* At most once a second (a system call per program), and at the end. */
static void report_missed(struct run *r, uint64_t now, bool force)
{
	uint64_t hook[TV_MAX_HOOKS + 2], total = 0;
	struct hook_count changed[TV_MAX_HOOKS + 2];
	int n = 0, rc;

	if (r->col.stats.missed_unknown || (!force && now - r->missed_checked_ns < MISSES_CHECK_NS))
		return;
	r->missed_checked_ns = now;
	rc = loader_misses(&r->ld, hook);
	if (rc) {
		pr_warn("the kernel does not let tcpvitals read its programs' statistics (%s): runs it skips "
			"cannot be counted, and \"missed\" is null (those on the state and destroy tracepoints are "
			"still made up for); on this kernel, once privileges are dropped, only "
			"kernel.unprivileged_bpf_disabled=0 allows it\n",
			strerror(-rc));
		r->col.stats.missed_unknown = true;
		return;
	}
	for (int i = 0; i < r->ld.nhooks; i++) {
		if (hook[i] <= r->missed_hook[i])
			continue;
		changed[n++] = (struct hook_count){ r->ld.hooks[i], hook[i] - r->missed_hook[i] };
		total += hook[i] - r->missed_hook[i];
		r->missed_hook[i] = hook[i];
	}
	if (total)
		collector_missed(&r->col, now, total, changed, n);
}

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static uint64_t rss_kb(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static void stats_diff(const struct stop_info *a, const struct stop_info *b, struct stop_info *out)
{
	out->records = a->records - b->records;
	out->lost = a->lost - b->lost;
	out->missed = a->missed - b->missed;
	out->missed_unknown = a->missed_unknown;
	out->connections = a->connections - b->connections;
	out->rejected = a->rejected - b->rejected;
	out->evicted = a->evicted - b->evicted;
	out->unkept = a->unkept - b->unkept;
}

static uint64_t output_dropped(const struct run *r)
{
	return r->cfg.agent ? r->sink.dropped : 0;
}

static char *metrics_text(struct run *r, size_t *len)
{
	struct metrics_view v = {
		.t = &r->col.tally, .kernel = loader_counters(&r->ld), .stats = &r->col.stats,
		.output_dropped = output_dropped(r), .tls_ends = &r->col.tls_ends, .names = r->out.names,
		.tracked = conn_table_count(&r->col.table), .start_unix = r->start_unix,
	};

	return metrics_format(&v, len);
}

/* The endpoint serves an exposition at most METRICS_REFRESH_NS old. */
static void metrics_refresh(struct run *r, uint64_t now, bool force)
{
	char *text;
	size_t len;

	if (!r->metrics || (!force && now - r->metrics_built_ns < METRICS_REFRESH_NS))
		return;
	r->metrics_built_ns = now;
	if ((text = metrics_text(r, &len)))
		metrics_server_update(r->metrics, text, len);
}

/* The end of a summary period: the summary record, and the metrics file. */
static void period_end(struct run *r, uint64_t now)
{
	struct period *p = &r->period;
	struct tv_counters k = loader_counters(&r->ld);
	struct summary_info si = { .from_ns = p->start_ns, .to_ns = now };
	struct tally t;
	struct rusage ru;
	char err[256];

	getrusage(RUSAGE_SELF, &ru);
	if (r->cfg.json && r->out.ops->summary) {
		tally_diff(&r->col.tally, &p->tally, &t);
		si.t = &t;
		si.opened[TV_DIR_OUT] = k.opened_out - p->kernel.opened_out;
		si.opened[TV_DIR_IN] = k.opened_in - p->kernel.opened_in;
		si.eps = r->col.endpoints;
		stats_diff(&r->col.stats, &p->stats, &si.recs);
		si.output_dropped = output_dropped(r) - p->dropped;
		si.conns = conn_table_count(&r->col.table);
		si.conns_max = MAX_CONNS;
		si.tls_ends_replaced = r->col.tls_ends.replaced;
		si.tables = r->tables;
		si.ntables = r->ntables;
		si.cpu_user_s = tv_seconds(ru.ru_utime) - tv_seconds(p->ru.ru_utime);
		si.cpu_system_s = tv_seconds(ru.ru_stime) - tv_seconds(p->ru.ru_stime);
		si.rss_kb = rss_kb();
		si.rss_max_kb = (uint64_t)ru.ru_maxrss;
		r->out.ops->summary(&r->out, &si);
		if (r->cfg.agent) /* the summary's endpoints are the period's */
			endpoints_init(r->col.endpoints);
	}
	if (r->cfg.metrics_file) {
		size_t len;
		char *text = metrics_text(r, &len);

		if (!text)
			pr_warn("out of memory for the metrics\n");
		else if (metrics_file_write(r->cfg.metrics_file, text, len, err, sizeof(err)))
			pr_warn("%s\n", err);
		free(text);
	}
	p->start_ns = now;
	p->next_ns = now + (uint64_t)(r->cfg.interval_s * 1e9);
	p->tally = r->col.tally;
	p->stats = r->col.stats;
	p->kernel = k;
	p->ru = ru;
	p->dropped = output_dropped(r);
}

/* --agent's output: whole lines out, a failure retried, a gap reported.
 * True when the output's reader has gone. */
static bool agent_flush(struct run *r, uint64_t now)
{
	char err[256];

	if (reopen_signal) {
		reopen_signal = 0;
		if (sink_reopen(&r->sink, err, sizeof(err)))
			pr_warn("%s; writing on to the file as it was\n", err);
	}
	switch (sink_flush(&r->sink)) {
	case SINK_GONE:
		return true;
	case SINK_RECOVERED:
		pr_warn("writing %s works again; %llu lines could not be kept meanwhile\n",
			r->cfg.output ? r->cfg.output : "stdout", (unsigned long long)r->sink.gap);
		if (r->sink.gap)
			r->out.ops->output_lost(&r->out, now, r->sink.gap);
		r->sink.gap = 0;
		sink_flush(&r->sink);
		break;
	case SINK_OK:
	case SINK_FAILING:
		break;
	}
	return false;
}

/* Polls until a signal, --duration, COMMAND's end, or an output that cannot be written. */
static int run_loop(struct run *r)
{
	uint64_t start = clock_mono_now_ns(), cmd_done_at = 0;
	uint64_t limit = r->cfg.duration_s > 0 ? (uint64_t)(r->cfg.duration_s * 1e9) : 0;

	int timeout = POLL_MS;

	for (;;) {
		/* the kernel side wakes us only when the ring fills up: consume
		 * after every poll, also when it timed out; after a large batch
		 * come back soon, before the ring can fill */
		int n = ring_buffer__poll(r->rb, timeout);
		uint64_t now = clock_mono_now_ns();

		if (n >= 0 || n == -EINTR) {
			int more = ring_buffer__consume(r->rb);

			n = more < 0 ? more : (n > 0 ? n : 0) + more;
			timeout = n > BUSY_RECORDS ? BUSY_POLL_MS : POLL_MS;
		}
		if (n < 0 && n != -EINTR) {
			pr_warn("reading the ring buffer failed: %s\n", strerror(-n));
			return TV_EXIT_RUNTIME;
		}
		report_lost(r);
		report_missed(r, now, false);
		loader_tick(&r->ld);
		collector_tick(&r->col, now);
		if (r->cfg.interval_s && now >= r->period.next_ns)
			period_end(r, now);
		metrics_refresh(r, now, false);
		if (r->cfg.agent) {
			if (agent_flush(r, now)) {
				r->quiet = true;
				return TV_EXIT_OK;
			}
		} else if (output_broken(r->out.f)) {
			r->quiet = true;
			if (r->out.f == stdout)
				return TV_EXIT_OK; /* the reader (head, jq -n) is done */
			pr_warn("writing %s failed: %s\n", r->cfg.output, strerror(errno));
			return TV_EXIT_RUNTIME;
		}
		if (stop_signal) {
			if (r->have_cmd && !command_poll(&r->cmd))
				kill(r->cmd.pid, stop_signal);
			return TV_EXIT_OK;
		}
		if (limit && now - start >= limit)
			return TV_EXIT_OK;
		if (r->have_cmd && command_poll(&r->cmd)) {
			if (!cmd_done_at)
				cmd_done_at = now;
			if (!collector_open_selected(&r->col) || now - cmd_done_at >= COMMAND_GRACE_NS)
				return TV_EXIT_OK;
		}
	}
}

/* Lets running TLS checks finish (they have their own deadline), so that
 * the connections waiting on them are reported with the result. */
static void wait_tls_checks(struct run *r)
{
	uint64_t limit = clock_mono_now_ns() + (uint64_t)(r->cfg.tls_timeout_ms + 1000) * 1000000ULL;

	while (collector_tls_pending(&r->col) && clock_mono_now_ns() < limit) {
		ring_buffer__poll(r->rb, 50);
		ring_buffer__consume(r->rb);
		collector_tick(&r->col, clock_mono_now_ns());
	}
}

/* Whether pid is traced: a --pid process, COMMAND, or a descendant of one. */
static bool pid_traced(const struct run *r, pid_t pid)
{
	for (int i = 0; i < r->cfg.npids; i++)
		if (pid_descends_from(pid, r->cfg.pids[i]))
			return true;
	return r->have_cmd && pid_descends_from(pid, r->cmd.pid);
}

struct socket_walk {
	struct run *r;
	bool at_stop;
	uint64_t now;
};

static void on_open_socket(void *arg, const struct open_sock *s)
{
	struct socket_walk *w = arg;
	struct tv_conn id = s->id;

	if ((id.owner_flags & TV_OWNER_KNOWN) && pid_traced(w->r, (pid_t)id.pid))
		id.owner_flags |= TV_OWNER_MATCH;
	collector_socket(&w->r->col, &id, &s->snap, w->at_stop, w->now);
}

/* The kernel's socket table: at start, connections older than tracing; at
 * stop, the ones still open (healthy ones never crossed the ring buffer). */
static int open_sockets(struct run *r, bool at_stop)
{
	struct socket_walk w = { .r = r, .at_stop = at_stop, .now = clock_mono_now_ns() };
	char err[256];
	int n = sockets_enumerate(r->cfg.netns, on_open_socket, &w, err, sizeof(err));

	if (n < 0)
		pr_warn("%s\n", err);
	return n;
}

static int check_pids(const struct tv_config *cfg)
{
	for (int i = 0; i < cfg->npids; i++) {
		if (kill(cfg->pids[i], 0) != 0 && errno == ESRCH) {
			pr_warn("--pid %d: no such process\n", cfg->pids[i]);
			return TV_EXIT_USAGE;
		}
	}
	return 0;
}

/* --color: auto is a terminal, unless NO_COLOR is set and not empty (no-color.org). */
static bool use_color(enum tv_color_mode mode, FILE *f)
{
	const char *no_color = getenv("NO_COLOR");

	if (mode != TV_COLOR_AUTO)
		return mode == TV_COLOR_ALWAYS;
	return isatty(fileno(f)) && !(no_color && *no_color);
}

/* Options, outputs, the metrics socket, the namespace helper and the TLS
 * checker: what can fail on bad input, before anything runs. 0, or an exit
 * code (TV_CLI_EXIT_NOW for --help and --version). */
#define TV_CLI_EXIT_NOW (-1)
static int setup(struct run *r, int argc, char **argv)
{
	char err[256];
	int rc;

	switch (cli_parse(argc, argv, &r->cfg, err, sizeof(err))) {
	case TV_CLI_EXIT:
		return TV_CLI_EXIT_NOW;
	case TV_CLI_ERROR:
		pr_warn("%s\n", err);
		return TV_EXIT_USAGE;
	case TV_CLI_RUN:
		break;
	}
	if (cli_check(&r->cfg, err, sizeof(err)) != TV_CLI_RUN) {
		pr_warn("%s\n", err);
		return TV_EXIT_USAGE;
	}
	log_set_level(r->cfg.verbose ? TV_LOG_DEBUG : TV_LOG_WARN);
	rc = check_pids(&r->cfg);
	if (rc)
		return rc;
	install_signals();
	/* before COMMAND exists, which must not inherit NOTIFY_SOCKET */
	if (notify_open(&r->notify, err, sizeof(err)))
		pr_warn("%s\n", err);
	/* before COMMAND exists: a bad --output or --ca-file must not leave it behind */
	if (r->cfg.agent ? sink_open(&r->sink, r->cfg.output, err, sizeof(err)) != 0
			 : r->cfg.output && !(r->outfile = output_open(r->cfg.output, err, sizeof(err)))) {
		pr_warn("%s\n", err);
		return TV_EXIT_USAGE;
	}
	/* bound now: a privileged port, and a clear error before anything runs */
	if (r->cfg.metrics_addr.family &&
	    !(r->metrics = metrics_server_listen(&r->cfg.metrics_addr, r->cfg.metrics_port, err, sizeof(err)))) {
		pr_warn("%s\n", err);
		return TV_EXIT_USAGE;
	}
	r->drop = r->cfg.agent || r->cfg.user;
	if (r->cfg.user && privs_lookup_user(r->cfg.user, &r->uid, &r->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return TV_EXIT_USAGE;
	}
	/* before any thread: it keeps what the TLS checks in other namespaces need */
	if (r->drop && !r->cfg.tls_off && getuid() == 0 && netns_helper_start(err, sizeof(err))) {
		pr_warn("%s\n", err);
		return TV_EXIT_RUNTIME;
	}
	if (r->cfg.record && !(r->recfile = fopen(r->cfg.record, "we"))) {
		pr_warn("--record %s: %s\n", r->cfg.record, strerror(errno));
		return TV_EXIT_USAGE;
	}
	if (!r->cfg.tls_off) {
		struct tls_track_options to = {
			.extra_ports = r->cfg.tls_ports, .nextra_ports = r->cfg.ntls_ports,
			.names = r->cfg.tls_names, .nnames = r->cfg.ntls_names,
			.ca_file = r->cfg.ca_file, .timeout_ms = r->cfg.tls_timeout_ms, .ttl_s = r->cfg.tls_ttl_s,
		};

		rc = tls_track_new(&r->tls, &to, err, sizeof(err));
		if (rc) {
			pr_warn("%s\n", err);
			return rc;
		}
	}
	return 0;
}

/* The format, the collector and the ring buffer. */
static int open_outputs(struct run *r)
{
	r->names = reason_names_load(NULL);
	r->out.ops = r->cfg.json ? &output_json_ops : &output_text_ops;
	if (r->cfg.agent) {
		r->out.f = r->sink.f;
	} else {
		static char buf[TV_OUTPUT_BUF];

		r->out.f = r->outfile ? r->outfile : stdout;
		setvbuf(r->out.f, buf, _IOFBF, sizeof(buf)); /* flushed after every batch of records */
	}
	r->out.names = r->names;
	r->out.all = r->cfg.all;
	r->out.color = !r->cfg.json && use_color(r->cfg.color, r->out.f);
	r->out.tls_warn_days = r->cfg.tls_warn_days;
	clock_init(&r->out.clk);
	if ((r->out.ops->init && r->out.ops->init(&r->out)) ||
	    collector_init(&r->col, &r->cfg, &r->out, r->tls, MAX_CONNS)) {
		pr_warn("out of memory\n");
		return TV_EXIT_RUNTIME;
	}
	r->col_ready = true;
	r->rb = ring_buffer__new(loader_ringbuf_fd(&r->ld), on_ring_record, r, NULL);
	if (!r->rb) {
		pr_warn("cannot open the ring buffer: %s\n", strerror(errno));
		return TV_EXIT_RUNTIME;
	}
	return 0;
}

/* Everything that needs privilege is open: give it up (--agent, --user),
 * then start the threads, write the start record and start the periods. */
static int begin(struct run *r)
{
	struct start_info si = { 0 };
	struct utsname uts;
	char err[256];

	uname(&uts);
	si.version = TV_VERSION;
	si.kernel = uts.release;
	si.attach = r->ld.attach;
	si.storage = r->ld.storage;
	si.hooks = r->ld.hooks;
	si.nhooks = r->ld.nhooks;
	si.missing = r->ld.missing;
	si.nmissing = r->ld.nmissing;
	/* COMMAND has not run yet: no connection older than tracing can be its */
	si.existing = r->have_cmd ? 0 : open_sockets(r, false);
	si.ca_store = tls_track_ca_store(r->tls);
	if (r->drop && privs_drop(&r->privs, r->cfg.user, r->uid, r->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return TV_EXIT_PRIV;
	}
	if (!r->drop)
		privs_read(&r->privs);
	if (tls_track_start(r->tls, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return TV_EXIT_RUNTIME;
	}
	si.privs = &r->privs;
	si.netns_helper = netns_helper_pid();
	r->out.ops->start(&r->out, &si);
	fflush(r->out.f);
	if (r->cfg.agent)
		sink_flush(&r->sink);
	r->ntables = loader_tables(&r->ld, r->tables, (int)(sizeof(r->tables) / sizeof(r->tables[0])));
	r->start_unix = (int64_t)time(NULL);
	r->period.start_ns = clock_mono_now_ns();
	r->period.next_ns = r->period.start_ns + (uint64_t)(r->cfg.interval_s * 1e9);
	getrusage(RUSAGE_SELF, &r->period.ru);
	if (r->metrics) {
		metrics_refresh(r, r->period.start_ns, true);
		if (metrics_server_run(r->metrics, err, sizeof(err))) {
			pr_warn("%s\n", err);
			return TV_EXIT_RUNTIME;
		}
	}
	notify_send(&r->notify, "READY=1");
	return 0;
}

/* COMMAND forked (held until released), the programs loaded and attached,
 * the processes to trace marked, the outputs open, tracing begun, COMMAND
 * released. */
static int start(struct run *r)
{
	char err[256];
	int rc;

	if (r->cfg.command) {
		/* JSON on stdout: the command's own output must not land among the records */
		int cmd_stdout = r->cfg.json && !r->cfg.output ? STDERR_FILENO : -1;

		if (command_spawn(&r->cmd, r->cfg.command, cmd_stdout, err, sizeof(err))) {
			pr_warn("%s\n", err);
			return TV_EXIT_RUNTIME;
		}
		r->have_cmd = true;
	}
	rc = loader_start(&r->ld, &r->cfg, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		return rc;
	}
	for (int i = 0; i < r->cfg.npids + r->have_cmd; i++) {
		pid_t pid = i < r->cfg.npids ? r->cfg.pids[i] : r->cmd.pid;
		int e = loader_trace_tree(&r->ld, pid);

		if (e) {
			pr_warn("cannot mark process %d as traced: %s\n", pid, strerror(-e));
			return TV_EXIT_RUNTIME;
		}
	}
	rc = open_outputs(r);
	if (!rc)
		rc = begin(r);
	if (rc)
		return rc;
	if (r->have_cmd && command_release(&r->cmd, r->cfg.command[0], err, sizeof(err))) {
		pr_warn("%s\n", err);
		command_wait(&r->cmd);
		rc = command_exit_code(&r->cmd);
		return rc ? rc : TV_EXIT_RUNTIME;
	}
	return 0;
}

/* The records still in the ring buffer, the TLS checks under way, the
 * connections left, the last period, and the stop record. */
static void finish(struct run *r)
{
	notify_send(&r->notify, "STOPPING=1");
	if (r->quiet)
		return;
	ring_buffer__consume(r->rb);
	report_lost(r);
	report_missed(r, clock_mono_now_ns(), true);
	if (!stop_signal)
		wait_tls_checks(r);
	if (!r->privs.dropped) /* other namespaces need privilege: the still-open go without a snapshot */
		open_sockets(r, true);
	collector_finish(&r->col);
	if (r->cfg.interval_s)
		period_end(r, clock_mono_now_ns());
	metrics_refresh(r, clock_mono_now_ns(), true);
	r->out.ops->stop(&r->out, clock_mono_now_ns(), &r->col.stats);
	if (r->cfg.agent ? sink_flush(&r->sink) == SINK_GONE : output_broken(r->out.f))
		r->quiet = true;
}

/* Whatever was set up, taken down; rc, or the failure of the last writes. */
static int cleanup(struct run *r, int rc)
{
	if (r->have_cmd && r->cmd.go_fd >= 0) { /* never released: it must not run */
		kill(r->cmd.pid, SIGKILL);
		command_wait(&r->cmd);
	}
	tls_track_free(r->tls);
	netns_helper_stop();
	ring_buffer__free(r->rb);
	loader_stop(&r->ld);
	if (r->col_ready)
		collector_free(&r->col);
	if (r->out.ops && r->out.ops->fini)
		r->out.ops->fini(&r->out);
	if (r->recfile)
		fclose(r->recfile);
	metrics_server_stop(r->metrics);
	notify_close(&r->notify);
	if (r->cfg.agent && sink_close(&r->sink) && rc == TV_EXIT_OK && !r->quiet) {
		pr_warn("writing %s failed: %llu lines could not be written\n",
			r->cfg.output ? r->cfg.output : "stdout", (unsigned long long)r->sink.dropped);
		rc = TV_EXIT_RUNTIME;
	}
	if (r->outfile && fclose(r->outfile) && rc == TV_EXIT_OK) {
		pr_warn("writing %s failed: %s\n", r->cfg.output, strerror(errno));
		rc = TV_EXIT_RUNTIME;
	}
	reason_names_free(r->names);
	return rc;
}

int main(int argc, char **argv)
{
	static struct run r = { .notify.fd = -1 };
	int rc = setup(&r, argc, argv);

	if (rc == TV_CLI_EXIT_NOW)
		return TV_EXIT_OK;
	if (!rc)
		rc = start(&r);
	if (!rc) {
		rc = run_loop(&r);
		finish(&r);
		if (r.have_cmd) {
			command_wait(&r.cmd);
			if (rc == TV_EXIT_OK)
				rc = command_exit_code(&r.cmd);
		}
	}
	return cleanup(&r, rc);
}
