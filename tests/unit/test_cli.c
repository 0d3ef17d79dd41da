/* Option parsing: valid forms, and one clear line for each mistake. */
#include "cli.h"
#include "unit.h"

static enum tv_cli_result parse(struct tv_config *cfg, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "tcpvitals";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	if (cli_parse(argc, argv, cfg, err, 256) != TV_CLI_RUN)
		return TV_CLI_ERROR;
	return cli_check(cfg, err, 256);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

int main(void)
{
	struct tv_config cfg;
	char err[256];

	CHECK(parse(&cfg, err, ARGS("--json", "--all")) == TV_CLI_RUN && cfg.json && cfg.all,
	      "--json --all");
	CHECK(cfg.ringbuf_size == 4 << 20, "ring buffer defaults to 4 MiB");
	CHECK(parse(&cfg, err, ARGS("--port", "443", "--port", "8443")) == TV_CLI_RUN &&
		      cfg.nports == 2 && cfg.ports[1] == 8443,
	      "--port is repeatable");
	CHECK(parse(&cfg, err, ARGS("--port", "0")) == TV_CLI_ERROR && strstr(err, "--port"),
	      "--port 0 is refused");
	CHECK(parse(&cfg, err, ARGS("--port", "65536")) == TV_CLI_ERROR, "--port 65536 is refused");
	CHECK(parse(&cfg, err, ARGS("--port", "80x")) == TV_CLI_ERROR, "--port 80x is refused");
	CHECK(parse(&cfg, err, ARGS("--pid", "-5")) == TV_CLI_ERROR && strstr(err, "--pid"),
	      "--pid -5 is refused");
	CHECK(parse(&cfg, err, ARGS("--pid")) == TV_CLI_ERROR && strstr(err, "needs a value"),
	      "--pid without a value");
	CHECK(parse(&cfg, err, ARGS("-d", "2.5")) == TV_CLI_RUN && cfg.duration_s == 2.5,
	      "-d takes fractional seconds");
	CHECK(parse(&cfg, err, ARGS("-d", "0")) == TV_CLI_ERROR, "-d 0 is refused");
	CHECK(parse(&cfg, err, ARGS("-d", "nan")) == TV_CLI_ERROR, "-d nan is refused");
	CHECK(parse(&cfg, err, ARGS("--ringbuf-size", "1M")) == TV_CLI_RUN &&
		      cfg.ringbuf_size == 1 << 20,
	      "--ringbuf-size 1M");
	CHECK(parse(&cfg, err, ARGS("--ringbuf-size", "3000")) == TV_CLI_ERROR &&
		      strstr(err, "power of two"),
	      "--ringbuf-size must be a power of two");
	CHECK(parse(&cfg, err, ARGS("--ringbuf-size", "2048")) == TV_CLI_ERROR, "--ringbuf-size below a page");
	CHECK(parse(&cfg, err, ARGS("--ringbuf-size", "2G")) == TV_CLI_ERROR, "--ringbuf-size above 1G");
	CHECK(parse(&cfg, err, ARGS("--raddr", "10.1.0.0/16", "--raddr", "2001:db8::/32")) ==
			      TV_CLI_RUN &&
		      cfg.nraddrs == 2 && cfg.raddrs[0].family == 4 && cfg.raddrs[0].len == 16 &&
		      cfg.raddrs[1].family == 6 && cfg.raddrs[1].len == 32,
	      "--raddr IPv4 and IPv6 prefixes");
	CHECK(parse(&cfg, err, ARGS("--raddr", "10.1.0.0/33")) == TV_CLI_ERROR, "--raddr /33 is refused");
	CHECK(parse(&cfg, err, ARGS("--raddr", "example.com")) == TV_CLI_ERROR &&
		      strstr(err, "--raddr"),
	      "--raddr takes no names");
	CHECK(parse(&cfg, err, ARGS("--netns", "4026531840")) == TV_CLI_RUN && cfg.netns == 4026531840u,
	      "--netns INODE");
	CHECK(parse(&cfg, err, ARGS("--netns", "/nonexistent/ns")) == TV_CLI_ERROR &&
		      strstr(err, "--netns"),
	      "--netns with a missing file");
	CHECK(parse(&cfg, err, ARGS("--netns", "/proc/self/ns/net")) == TV_CLI_RUN && cfg.netns != 0,
	      "--netns PATH");
	CHECK(parse(&cfg, err, ARGS("--comm", "a-very-long-process-name")) == TV_CLI_RUN &&
		      !strcmp(cfg.comm, "a-very-long-pro"),
	      "--comm keeps the kernel's 15 bytes");
	CHECK(parse(&cfg, err, ARGS("--hooks", "raw_tp")) == TV_CLI_RUN && cfg.hooks == TV_HOOKS_RAW_TP,
	      "--hooks raw_tp");
	CHECK(parse(&cfg, err, ARGS("--hooks", "kprobe")) == TV_CLI_ERROR, "--hooks kprobe is refused");
	CHECK(parse(&cfg, err, ARGS("--color", "never")) == TV_CLI_RUN && cfg.color == TV_COLOR_NEVER,
	      "--color never");
	CHECK(parse(&cfg, err, ARGS("--color", "always")) == TV_CLI_RUN && cfg.color == TV_COLOR_ALWAYS,
	      "--color always");
	CHECK(parse(&cfg, err, ARGS("--color", "yes")) == TV_CLI_ERROR &&
		      !strcmp(err, "--color is auto, always or never, got 'yes'"),
	      "--color yes is refused in one line that names the choices");
	CHECK(parse(&cfg, err, ARGS("--bogus")) == TV_CLI_ERROR && strstr(err, "--bogus"),
	      "unknown long option named");
	CHECK(parse(&cfg, err, ARGS("-x")) == TV_CLI_ERROR && strstr(err, "-x"),
	      "unknown short option named");
	CHECK(parse(&cfg, err, ARGS("--json", "--", "curl", "-s", "--json", "x")) == TV_CLI_RUN &&
		      cfg.command && !strcmp(cfg.command[0], "curl") && !strcmp(cfg.command[2], "--json"),
	      "-- COMMAND keeps the command's own options");
	CHECK(parse(&cfg, err, ARGS("curl")) == TV_CLI_ERROR && strstr(err, "--"),
	      "a command without -- is refused");
	CHECK(parse(&cfg, err, ARGS("--")) == TV_CLI_ERROR, "-- without a command");

	struct tv_prefix p;
	uint8_t a4[16] = { 10, 1, 200, 7 }, b4[16] = { 10, 2, 0, 1 };

	prefix_parse("10.1.0.0/16", &p);
	CHECK(prefix_match(&p, 4, a4) && !prefix_match(&p, 4, b4) && !prefix_match(&p, 6, a4),
	      "prefix match");
	prefix_parse("10.1.200.0/21", &p);
	CHECK(prefix_match(&p, 4, a4), "prefix match on a partial byte");
	/* the agent and its outputs */
	CHECK(parse(&cfg, err, ARGS("--agent")) == TV_CLI_RUN && cfg.agent && cfg.json && cfg.interval_s == 60,
	      "--agent writes JSON, a summary every 60 s");
	CHECK(parse(&cfg, err, ARGS("--agent", "--interval", "0.5")) == TV_CLI_RUN && cfg.interval_s == 0.5,
	      "--interval takes fractional seconds");
	CHECK(parse(&cfg, err, ARGS("--agent", "--interval", "0.01")) == TV_CLI_ERROR && strstr(err, "at least 0.1"),
	      "--interval below 0.1 s is refused");
	CHECK(parse(&cfg, err, ARGS("--interval", "5")) == TV_CLI_ERROR && strstr(err, "--agent, --json"),
	      "--interval with the text format is refused");
	CHECK(parse(&cfg, err, ARGS("--json", "--interval", "5")) == TV_CLI_RUN && !cfg.agent,
	      "--json --interval: summaries without the agent");
	CHECK(parse(&cfg, err, ARGS("--agent", "--", "curl")) == TV_CLI_ERROR && strstr(err, "takes no COMMAND"),
	      "--agent with a COMMAND is refused");
	CHECK(parse(&cfg, err, ARGS("--metrics-file", "/tmp/x.prom")) == TV_CLI_RUN && cfg.interval_s == 60 &&
		      !strcmp(cfg.metrics_file, "/tmp/x.prom"),
	      "--metrics-file alone: every 60 s, text output as usual");
	CHECK(parse(&cfg, err, ARGS("--metrics", "9100")) == TV_CLI_RUN && cfg.metrics_port == 9100 &&
		      cfg.metrics_addr.family == 4 && cfg.metrics_addr.addr[0] == 127 && cfg.metrics_addr.addr[3] == 1,
	      "--metrics PORT listens on 127.0.0.1");
	CHECK(parse(&cfg, err, ARGS("--metrics", "0.0.0.0:9100")) == TV_CLI_RUN && cfg.metrics_addr.family == 4 &&
		      cfg.metrics_addr.addr[0] == 0,
	      "--metrics ADDR:PORT");
	CHECK(parse(&cfg, err, ARGS("--metrics", "[::1]:9100")) == TV_CLI_RUN && cfg.metrics_addr.family == 6 &&
		      cfg.metrics_addr.addr[15] == 1 && cfg.metrics_port == 9100,
	      "--metrics [IPv6]:PORT");
	CHECK(parse(&cfg, err, ARGS("--metrics", "::1:9100")) == TV_CLI_ERROR && strstr(err, "[ADDR]:PORT"),
	      "--metrics with an IPv6 address without brackets is refused");
	CHECK(parse(&cfg, err, ARGS("--metrics", "localhost:9100")) == TV_CLI_ERROR, "--metrics takes no names");
	CHECK(parse(&cfg, err, ARGS("--metrics", "127.0.0.1:0")) == TV_CLI_ERROR, "--metrics port 0 is refused");
	CHECK(parse(&cfg, err, ARGS("--user", "nobody")) == TV_CLI_RUN && !strcmp(cfg.user, "nobody"),
	      "--user is kept as given (looked up after parsing)");
	CHECK(parse(&cfg, err, ARGS("--user", "")) == TV_CLI_ERROR && strstr(err, "--user"), "--user '' is refused");
	UNIT_EXIT();
}
