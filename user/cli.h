/* Command-line options, parsed into one config struct passed explicitly. */
#ifndef TV_CLI_H
#define TV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "addr.h"

#define TV_MAX_FILTERS 64

enum tv_hooks_mode { TV_HOOKS_AUTO = 0, TV_HOOKS_TP_BTF, TV_HOOKS_RAW_TP };
enum tv_storage_mode { TV_STORAGE_AUTO = 0, TV_STORAGE_SK, TV_STORAGE_HASH };
enum tv_color_mode { TV_COLOR_AUTO = 0, TV_COLOR_ALWAYS, TV_COLOR_NEVER };

struct tv_config {
	bool json;
	bool all;
	bool verbose;
	enum tv_color_mode color; /* text only; auto: a terminal, and NO_COLOR unset */
	pid_t pids[TV_MAX_FILTERS];
	int npids;
	char comm[16]; /* empty: any */
	uint16_t ports[TV_MAX_FILTERS];
	int nports;
	struct tv_prefix raddrs[TV_MAX_FILTERS];
	int nraddrs;
	uint32_t netns;     /* 0: every namespace */
	const char *netns_path; /* --netns PATH, resolved to netns by cli_check */
	double duration_s;  /* 0: until stopped */
	uint64_t ringbuf_size;
	enum tv_hooks_mode hooks;
	enum tv_storage_mode storage;
	char **command;     /* argv after --, NULL-terminated; NULL if none */
	const char *output; /* -o FILE: records go there instead of stdout; NULL: stdout */
	const char *record; /* --record FILE (for developers): the raw ring-buffer records too */
	bool test_nest_forget; /* --test-nest-forget (for tests): the first programs note no event */
	bool test_destroy_forget; /* --test-destroy-forget (for tests): one socket in 8 gets no destroy */
	/* --agent: left running; healthy connections write nothing, and a summary every interval */
	bool agent;
	double interval_s;  /* summaries and the metrics file; 0: none */
	struct tv_prefix metrics_addr; /* --metrics ADDR:PORT; family 0: off */
	uint16_t metrics_port;
	const char *metrics_file;      /* --metrics-file PATH */
	const char *user;   /* --user NAME|UID[:GID]: switch to it after attach */
	/* TLS checks */
	bool tls_off;
	uint16_t tls_ports[TV_MAX_FILTERS]; /* added to the default TLS ports */
	int ntls_ports;
	struct tv_tls_name tls_names[TV_MAX_FILTERS];
	int ntls_names;
	const char *ca_file;
	int tls_timeout_ms;
	int tls_warn_days;
	int tls_ttl_s;
};

enum tv_cli_result {
	TV_CLI_RUN = 0,   /* trace with cfg */
	TV_CLI_EXIT = 1,  /* --help or --version printed; exit 0 */
	TV_CLI_ERROR = 2, /* usage error; err holds one line */
};

/* Parses argv into cfg, touching no file; on error writes a one-line message into err. */
enum tv_cli_result cli_parse(int argc, char **argv, struct tv_config *cfg, char *err, size_t errlen);
/* After parsing: what the options name in the file system (--netns PATH,
 * --ca-file). TV_CLI_RUN, or TV_CLI_ERROR with one line in err. */
enum tv_cli_result cli_check(struct tv_config *cfg, char *err, size_t errlen);
void cli_usage(FILE *out);

#endif
