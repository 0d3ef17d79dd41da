/* tcpvitals: the collector's entry point and run loop. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "clock.h"
#include "collector.h"
#include "command.h"
#include "exitcodes.h"
#include "loader.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "sockets.h"
#include "tls_track.h"

#define POLL_MS 100
#define BUSY_RECORDS 1000 /* a batch this large: poll again after BUSY_POLL_MS */
#define BUSY_POLL_MS 5
#define COMMAND_GRACE_NS 1000000000ULL /* after COMMAND exits, wait this long for its closes */
#define MAX_CONNS 65536

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
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
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a write error */
}

static bool output_broken(FILE *f)
{
	return fflush(f) != 0 || ferror(f);
}

/* -o FILE: appended to, created with mode 0640 (not widened by the umask). */
static FILE *output_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	FILE *f;

	if (fd >= 0)
		fchmod(fd, 0640);
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "a"))) {
		snprintf(err, errlen, "--output %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

struct run {
	struct tv_config cfg;
	struct loader ld;
	struct output out;
	struct collector col;
	struct command cmd;
	struct ring_buffer *rb;
	struct tls_track *tls;
	FILE *outfile; /* -o FILE */
	FILE *recfile; /* --record FILE */
	uint64_t lost_reported;
	bool have_cmd;
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
		collector_tick(&r->col, now);
		if (output_broken(r->out.f)) {
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
			fprintf(stderr, "tcpvitals: --pid %d: no such process\n", cfg->pids[i]);
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

int main(int argc, char **argv)
{
	static struct run r;
	struct start_info si = { 0 };
	struct reason_names *names = NULL;
	struct utsname uts;
	char err[256];
	int rc;

	switch (cli_parse(argc, argv, &r.cfg, err, sizeof(err))) {
	case TV_CLI_EXIT:
		return TV_EXIT_OK;
	case TV_CLI_ERROR:
		fprintf(stderr, "tcpvitals: %s\n", err);
		return TV_EXIT_USAGE;
	case TV_CLI_RUN:
		break;
	}
	log_set_level(r.cfg.verbose ? TV_LOG_DEBUG : TV_LOG_WARN);
	rc = check_pids(&r.cfg);
	if (rc)
		return rc;
	install_signals();
	/* before COMMAND exists: a bad --output or --ca-file must not leave it behind */
	if (r.cfg.output) {
		r.outfile = output_open(r.cfg.output, err, sizeof(err));
		if (!r.outfile) {
			fprintf(stderr, "tcpvitals: %s\n", err);
			return TV_EXIT_USAGE;
		}
	}
	if (r.cfg.record && !(r.recfile = fopen(r.cfg.record, "we"))) {
		fprintf(stderr, "tcpvitals: --record %s: %s\n", r.cfg.record, strerror(errno));
		return TV_EXIT_USAGE;
	}
	if (!r.cfg.tls_off) {
		struct tls_track_options to = {
			.extra_ports = r.cfg.tls_ports, .nextra_ports = r.cfg.ntls_ports,
			.names = r.cfg.tls_names, .nnames = r.cfg.ntls_names,
			.ca_file = r.cfg.ca_file, .timeout_ms = r.cfg.tls_timeout_ms, .ttl_s = r.cfg.tls_ttl_s,
		};

		rc = tls_track_new(&r.tls, &to, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tcpvitals: %s\n", err);
			return rc;
		}
	}

	if (r.cfg.command) {
		/* JSON on stdout: the command's own output must not land among the records */
		int cmd_stdout = r.cfg.json && !r.cfg.output ? STDERR_FILENO : -1;

		if (command_spawn(&r.cmd, r.cfg.command, cmd_stdout, err, sizeof(err))) {
			fprintf(stderr, "tcpvitals: %s\n", err);
			tls_track_free(r.tls);
			return TV_EXIT_RUNTIME;
		}
		r.have_cmd = true;
	}
	rc = loader_start(&r.ld, &r.cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tcpvitals: %s\n", err);
		if (r.have_cmd) {
			kill(r.cmd.pid, SIGKILL);
			command_wait(&r.cmd);
		}
		tls_track_free(r.tls);
		return rc;
	}
	for (int i = 0; i < r.cfg.npids + r.have_cmd; i++) {
		pid_t pid = i < r.cfg.npids ? r.cfg.pids[i] : r.cmd.pid;
		int e = loader_trace_tree(&r.ld, pid);

		if (e) {
			fprintf(stderr, "tcpvitals: cannot mark process %d as traced: %s\n", pid, strerror(-e));
			rc = TV_EXIT_RUNTIME;
			goto out;
		}
	}
	names = reason_names_load(NULL);
	r.out.ops = r.cfg.json ? &output_json_ops : &output_text_ops;
	r.out.f = r.outfile ? r.outfile : stdout;
	setvbuf(r.out.f, NULL, _IOFBF, 1 << 16); /* flushed after every batch of records */
	r.out.names = names;
	r.out.all = r.cfg.all;
	r.out.color = !r.cfg.json && use_color(r.cfg.color, r.out.f);
	r.out.tls_warn_days = r.cfg.tls_warn_days;
	clock_init(&r.out.clk);
	if ((r.out.ops->init && r.out.ops->init(&r.out)) ||
	    collector_init(&r.col, &r.cfg, &r.out, r.tls, MAX_CONNS)) {
		fprintf(stderr, "tcpvitals: out of memory\n");
		rc = TV_EXIT_RUNTIME;
		goto out;
	}
	r.rb = ring_buffer__new(loader_ringbuf_fd(&r.ld), on_ring_record, &r, NULL);
	if (!r.rb) {
		fprintf(stderr, "tcpvitals: cannot open the ring buffer: %s\n", strerror(errno));
		rc = TV_EXIT_RUNTIME;
		goto out;
	}

	uname(&uts);
	si.version = TV_VERSION;
	si.kernel = uts.release;
	si.attach = r.ld.attach;
	si.storage = r.ld.storage;
	si.hooks = r.ld.hooks;
	si.nhooks = r.ld.nhooks;
	si.missing = r.ld.missing;
	si.nmissing = r.ld.nmissing;
	/* COMMAND has not run yet: no connection older than tracing can be its */
	si.existing = r.have_cmd ? 0 : open_sockets(&r, false);
	si.ca_store = tls_track_ca_store(r.tls);
	r.out.ops->start(&r.out, &si);
	fflush(r.out.f);

	if (r.have_cmd && command_release(&r.cmd, r.cfg.command[0], err, sizeof(err))) {
		fprintf(stderr, "tcpvitals: %s\n", err);
		command_wait(&r.cmd);
		rc = command_exit_code(&r.cmd);
		goto out;
	}

	rc = run_loop(&r);
	if (!r.quiet) {
		ring_buffer__consume(r.rb);
		report_lost(&r);
		if (!stop_signal)
			wait_tls_checks(&r);
		open_sockets(&r, true);
		collector_finish(&r.col);
		r.col.stats.lost = r.lost_reported;
		r.out.ops->stop(&r.out, clock_mono_now_ns(), &r.col.stats);
		if (output_broken(r.out.f))
			r.quiet = true;
	}
	if (r.have_cmd) {
		command_wait(&r.cmd);
		if (rc == TV_EXIT_OK)
			rc = command_exit_code(&r.cmd);
	}
out:
	if (r.have_cmd && r.cmd.go_fd >= 0) { /* never released: it must not run */
		kill(r.cmd.pid, SIGKILL);
		command_wait(&r.cmd);
	}
	tls_track_free(r.tls);
	ring_buffer__free(r.rb);
	loader_stop(&r.ld);
	collector_free(&r.col);
	if (r.out.ops && r.out.ops->fini)
		r.out.ops->fini(&r.out);
	if (r.recfile)
		fclose(r.recfile);
	if (r.outfile && fclose(r.outfile) && rc == TV_EXIT_OK) {
		pr_warn("writing %s failed: %s\n", r.cfg.output, strerror(errno));
		rc = TV_EXIT_RUNTIME;
	}
	reason_names_free(names);
	return rc;
}
