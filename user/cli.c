#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "cli.h"
#include "tcpvitals.h"
#include "log.h"

#define TV_TLS_TTL_MAX_S (30 * 86400) /* --tls-ttl: a month at most */

void cli_usage(FILE *out)
{
	fputs("Usage: tcpvitals [OPTIONS] [-- COMMAND [ARG...]]\n"
	      "Trace TCP connections from the kernel's own state and say why they fail.\n"
	      "\n"
	      "  --json               JSON Lines on stdout, one object per line\n"
	      "  -o, --output FILE    write the records to FILE (appended; created mode 0640)\n"
	      "  --all                text: also print connections that had no anomaly;\n"
	      "                       --agent: also write healthy connections' close records\n"
	      "  --agent              run as an agent: JSON Lines, nothing for a healthy\n"
	      "                       connection, a connection's timeline from its first\n"
	      "                       anomaly, a summary every --interval; SIGHUP reopens -o FILE\n"
	      "  --interval SEC       summaries (--agent, --json) and --metrics-file every SEC\n"
	      "                       seconds (default 60 with --agent or a metrics option)\n"
	      "  --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	      "                       (a bare port: 127.0.0.1)\n"
	      "  --metrics-file PATH  write the same metrics to PATH every interval (for\n"
	      "                       node_exporter's textfile collector)\n"
	      "  --user NAME|UID[:GID]  after attaching, run as this user with the fewest\n"
	      "                       capabilities that still do the work"
	      "  --color auto|always|never  text: colour the verdicts (auto: on a terminal,\n"
	      "                       unless NO_COLOR is set)\n"
	      "  --pid PID            (repeatable) connections owned by PID or its descendants\n"
	      "  --comm NAME          connections owned by processes with this name\n"
	      "  --port PORT          (repeatable) local or remote port\n"
	      "  --raddr ADDR[/LEN]   (repeatable) remote address or prefix, IPv4 or IPv6\n"
	      "  --netns PATH|INODE   only that network namespace (e.g. /run/netns/lab)\n"
	      "  -d, --duration SEC   stop after SEC seconds\n"
	      "  --ringbuf-size BYTES ring buffer size, a power of two (default 4M)\n"
	      "  --hooks auto|tp_btf|raw_tp  program variants to load (default auto)\n"
	      "  --storage auto|sk_storage|hash  per-connection state (default auto)\n"
	      "  --tls-check auto|off check the certificates of TLS servers this host connects to\n"
	      "  --tls-port PORT      (repeatable) also treat PORT as TLS\n"
	      "  --tls-name ADDR[:PORT]=NAME  (repeatable) server name to check when the client\n"
	      "                       sent none that could be read\n"
	      "  --ca-file FILE       trusted certificates (PEM) instead of the system store\n"
	      "  --tls-timeout MS     deadline for one check, connect and handshake (default 3000)\n"
	      "  --tls-warn-days N    warn when a certificate expires within N days (default 14)\n"
	      "  --tls-ttl SEC        reuse a check's result this long (default 600)\n"
	      "  -v, --verbose        say what was loaded and why\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        print the version\n"
	      "  -- COMMAND ...       run COMMAND, trace only it and its descendants, stop when\n"
	      "                       it exits, and exit with its status; with --json and no -o,\n"
	      "                       COMMAND's stdout goes to stderr so stdout stays JSON\n"
	      "\n"
	      "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 missing privilege or\n"
	      "kernel feature; with -- COMMAND, COMMAND's own status.\n",
	      out);
}

#define fail(err, errlen, ...) ((enum tv_cli_result)error_line(err, errlen, TV_CLI_ERROR, __VA_ARGS__))

/* BYTES with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mult = 1ULL << 10; break;
		case 'm': case 'M': mult = 1ULL << 20; break;
		case 'g': case 'G': mult = 1ULL << 30; break;
		default: return false;
		}
		if (end[1] && !(end[1] == 'i' && end[2] == 'B' && !end[3]) && !((end[1] == 'B') && !end[2]))
			return false;
	}
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d > 0) || d > 1e9)
		return false;
	*out = d;
	return true;
}

/* A repeatable PORT option: 1 to 65535, at most TV_MAX_FILTERS of them. */
static enum tv_cli_result add_port(const char *opt, const char *arg, uint16_t *ports, int *n, char *err,
				   size_t errlen)
{
	unsigned long long v;

	if (!parse_number(arg, 65535, &v) || v == 0)
		return fail(err, errlen, "%s needs a port from 1 to 65535, got '%s'", opt, arg);
	if (*n == TV_MAX_FILTERS)
		return fail(err, errlen, "at most %d %s options", TV_MAX_FILTERS, opt);
	ports[(*n)++] = (uint16_t)v;
	return TV_CLI_RUN;
}

/* --netns INODE now; a PATH is resolved by cli_check. */
static void parse_netns(const char *s, struct tv_config *cfg)
{
	unsigned long long v;

	cfg->netns_path = NULL;
	cfg->netns = 0;
	if (parse_number(s, UINT32_MAX, &v) && v)
		cfg->netns = (uint32_t)v;
	else
		cfg->netns_path = s;
}

enum tv_cli_result cli_parse(int argc, char **argv, struct tv_config *cfg, char *err, size_t errlen)
{
	enum { OPT_JSON = 256, OPT_ALL, OPT_PID, OPT_COMM, OPT_PORT, OPT_RADDR, OPT_NETNS,
	       OPT_RINGBUF, OPT_HOOKS, OPT_STORAGE, OPT_TLS_CHECK, OPT_TLS_PORT,
	       OPT_TLS_NAME, OPT_CA_FILE, OPT_TLS_TIMEOUT, OPT_TLS_WARN, OPT_TLS_TTL, OPT_RECORD, OPT_TEST_NEST_FORGET, OPT_TEST_DESTROY_FORGET, OPT_COLOR,
	       OPT_AGENT, OPT_INTERVAL, OPT_METRICS, OPT_METRICS_FILE, OPT_USER };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "raddr", required_argument, NULL, OPT_RADDR },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "duration", required_argument, NULL, 'd' },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
		{ "hooks", required_argument, NULL, OPT_HOOKS },
		{ "storage", required_argument, NULL, OPT_STORAGE },
		{ "tls-check", required_argument, NULL, OPT_TLS_CHECK },
		{ "tls-port", required_argument, NULL, OPT_TLS_PORT },
		{ "tls-name", required_argument, NULL, OPT_TLS_NAME },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "tls-timeout", required_argument, NULL, OPT_TLS_TIMEOUT },
		{ "tls-warn-days", required_argument, NULL, OPT_TLS_WARN },
		{ "tls-ttl", required_argument, NULL, OPT_TLS_TTL },
		{ "agent", no_argument, NULL, OPT_AGENT },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "record", required_argument, NULL, OPT_RECORD }, /* for developers: see README, Performance */
		/* for tests: every event as if the kernel had skipped the first program (bpf/nest.h) */
		{ "test-nest-forget", no_argument, NULL, OPT_TEST_NEST_FORGET },
		/* for tests: some sockets' destroys as if the kernel had never run the programs */
		{ "test-destroy-forget", no_argument, NULL, OPT_TEST_DESTROY_FORGET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	unsigned long long v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ringbuf_size = TV_RINGBUF_DEFAULT;
	cfg->tls_timeout_ms = 3000;
	cfg->tls_warn_days = 14;
	cfg->tls_ttl_s = 600;
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option, so COMMAND's own options stay its own */
	while ((c = getopt_long(argc, argv, "+:d:o:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			cfg->json = true;
			break;
		case OPT_ALL:
			cfg->all = true;
			break;
		case 'o':
			if (!*optarg)
				return fail(err, errlen, "--output needs a file name");
			cfg->output = optarg;
			break;
		case OPT_PID:
			if (!parse_number(optarg, INT_MAX, &v) || v == 0)
				return fail(err, errlen, "--pid needs a process id, got '%s'", optarg);
			if (cfg->npids == TV_MAX_FILTERS)
				return fail(err, errlen, "at most %d --pid options", TV_MAX_FILTERS);
			cfg->pids[cfg->npids++] = (pid_t)v;
			break;
		case OPT_COMM:
			if (!*optarg)
				return fail(err, errlen, "--comm needs a process name");
			/* the kernel keeps 15 bytes of a name: compare those, like pgrep */
			snprintf(cfg->comm, sizeof(cfg->comm), "%s", optarg);
			break;
		case OPT_PORT:
			if (add_port("--port", optarg, cfg->ports, &cfg->nports, err, errlen))
				return TV_CLI_ERROR;
			break;
		case OPT_RADDR:
			if (cfg->nraddrs == TV_MAX_FILTERS)
				return fail(err, errlen, "at most %d --raddr options", TV_MAX_FILTERS);
			if (!prefix_parse(optarg, &cfg->raddrs[cfg->nraddrs]))
				return fail(err, errlen,
					    "--raddr needs an IPv4 or IPv6 address with an optional /LEN, got '%s'",
					    optarg);
			cfg->nraddrs++;
			break;
		case OPT_NETNS:
			parse_netns(optarg, cfg);
			break;
		case 'd':
			if (!parse_seconds(optarg, &cfg->duration_s))
				return fail(err, errlen, "--duration needs a positive number of seconds, got '%s'",
					    optarg);
			break;
		case OPT_AGENT:
			cfg->agent = true;
			break;
		case OPT_INTERVAL:
			if (!parse_seconds(optarg, &cfg->interval_s) || cfg->interval_s < 0.1)
				return fail(err, errlen, "--interval needs seconds, at least 0.1, got '%s'", optarg);
			break;
		case OPT_METRICS:
			if (!metrics_addr_parse(optarg, &cfg->metrics_addr, &cfg->metrics_port))
				return fail(err, errlen,
					    "--metrics needs [ADDR:]PORT (IPv6 as [ADDR]:PORT), got '%s'", optarg);
			break;
		case OPT_METRICS_FILE:
			if (!*optarg)
				return fail(err, errlen, "--metrics-file needs a file name");
			cfg->metrics_file = optarg;
			break;
		case OPT_USER:
			if (!*optarg)
				return fail(err, errlen, "--user needs a user name or id");
			cfg->user = optarg;
			break;
		case OPT_RINGBUF: {
			uint64_t size;

			if (!parse_size(optarg, &size) || size < 4096 || size > (1ULL << 30) ||
			    (size & (size - 1)))
				return fail(err, errlen,
					    "--ringbuf-size needs a power of two from 4096 to 1G, got '%s'", optarg);
			cfg->ringbuf_size = size;
			break;
		}
		case OPT_HOOKS:
			if (!strcmp(optarg, "auto"))
				cfg->hooks = TV_HOOKS_AUTO;
			else if (!strcmp(optarg, "tp_btf"))
				cfg->hooks = TV_HOOKS_TP_BTF;
			else if (!strcmp(optarg, "raw_tp"))
				cfg->hooks = TV_HOOKS_RAW_TP;
			else
				return fail(err, errlen, "--hooks is auto, tp_btf or raw_tp, got '%s'", optarg);
			break;
		case OPT_COLOR:
			if (!strcmp(optarg, "auto"))
				cfg->color = TV_COLOR_AUTO;
			else if (!strcmp(optarg, "always"))
				cfg->color = TV_COLOR_ALWAYS;
			else if (!strcmp(optarg, "never"))
				cfg->color = TV_COLOR_NEVER;
			else
				return fail(err, errlen, "--color is auto, always or never, got '%s'", optarg);
			break;
		case OPT_STORAGE:
			if (!strcmp(optarg, "auto"))
				cfg->storage = TV_STORAGE_AUTO;
			else if (!strcmp(optarg, "sk_storage"))
				cfg->storage = TV_STORAGE_SK;
			else if (!strcmp(optarg, "hash"))
				cfg->storage = TV_STORAGE_HASH;
			else
				return fail(err, errlen, "--storage is auto, sk_storage or hash, got '%s'", optarg);
			break;
		case OPT_TLS_CHECK:
			if (!strcmp(optarg, "auto"))
				cfg->tls_off = false;
			else if (!strcmp(optarg, "off"))
				cfg->tls_off = true;
			else
				return fail(err, errlen, "--tls-check is auto or off, got '%s'", optarg);
			break;
		case OPT_TLS_PORT:
			if (add_port("--tls-port", optarg, cfg->tls_ports, &cfg->ntls_ports, err, errlen))
				return TV_CLI_ERROR;
			break;
		case OPT_TLS_NAME:
			if (cfg->ntls_names == TV_MAX_FILTERS)
				return fail(err, errlen, "at most %d --tls-name options", TV_MAX_FILTERS);
			if (!tls_name_parse(optarg, &cfg->tls_names[cfg->ntls_names]))
				return fail(err, errlen,
					    "--tls-name needs ADDR[:PORT]=NAME (IPv6 as [ADDR]:PORT), got '%s'", optarg);
			cfg->ntls_names++;
			break;
		case OPT_CA_FILE:
			cfg->ca_file = optarg;
			break;
		case OPT_TLS_TIMEOUT:
			if (!parse_number(optarg, 600000, &v) || v < 10)
				return fail(err, errlen, "--tls-timeout needs milliseconds from 10 to 600000, got '%s'", optarg);
			cfg->tls_timeout_ms = (int)v;
			break;
		case OPT_TLS_WARN:
			if (!parse_number(optarg, 36500, &v))
				return fail(err, errlen, "--tls-warn-days needs a number of days, got '%s'", optarg);
			cfg->tls_warn_days = (int)v;
			break;
		case OPT_TLS_TTL:
			if (!parse_number(optarg, TV_TLS_TTL_MAX_S, &v))
				return fail(err, errlen, "--tls-ttl needs seconds (0 to 2592000), got '%s'", optarg);
			cfg->tls_ttl_s = (int)v;
			break;
		case OPT_RECORD:
			cfg->record = optarg;
			break;
		case OPT_TEST_NEST_FORGET:
			cfg->test_nest_forget = true;
			break;
		case OPT_TEST_DESTROY_FORGET:
			cfg->test_destroy_forget = true;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			cli_usage(stdout);
			return TV_CLI_EXIT;
		case 'V':
			printf("tcpvitals %s\n", TV_VERSION);
			return TV_CLI_EXIT;
		case ':':
			return fail(err, errlen, "%s needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < OPT_JSON) /* a short option's character */
				return fail(err, errlen, "unknown option '-%c'; see tcpvitals --help", optopt);
			return fail(err, errlen, "unknown option '%s'; see tcpvitals --help", argv[optind - 1]);
		}
	}
	if (cfg->agent)
		cfg->json = true;
	if (cfg->interval_s && !cfg->json && !cfg->metrics_file)
		return fail(err, errlen, "--interval needs --agent, --json or --metrics-file: the text report has no summaries");
	if (!cfg->interval_s && (cfg->agent || cfg->metrics_file))
		cfg->interval_s = 60;
	if (cfg->hooks == TV_HOOKS_RAW_TP && cfg->storage == TV_STORAGE_SK)
		return fail(err, errlen, "--hooks raw_tp works only with --storage hash: raw tracepoints cannot use sk_storage");
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0)
			return fail(err, errlen, "unexpected argument '%s'; put a command after --", argv[optind]);
		cfg->command = &argv[optind];
		if (cfg->agent)
			return fail(err, errlen, "--agent runs until it is stopped; it takes no COMMAND (use --pid)");
	} else if (optind > 1 && !strcmp(argv[optind - 1], "--")) {
		return fail(err, errlen, "-- needs a command to run");
	}
	return TV_CLI_RUN;
}

enum tv_cli_result cli_check(struct tv_config *cfg, char *err, size_t errlen)
{
	struct stat st;

	if (cfg->netns_path) {
		if (stat(cfg->netns_path, &st) != 0)
			return fail(err, errlen,
				    "--netns needs a namespace file (e.g. /run/netns/NAME) or an inode number, got '%s'",
				    cfg->netns_path);
		cfg->netns = (uint32_t)st.st_ino;
	}
	if (cfg->ca_file && access(cfg->ca_file, R_OK) != 0)
		return fail(err, errlen, "--ca-file %s: %s", cfg->ca_file, strerror(errno));
	return TV_CLI_RUN;
}
