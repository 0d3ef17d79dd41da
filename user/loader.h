/* Opens, configures, loads and attaches the BPF programs, choosing each
 * hook's program variant from the running kernel's BTF. */
#ifndef TV_LOADER_H
#define TV_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cli.h"
#include "tcpvitals.h"

#define TV_MAX_HOOKS 16

struct tcpvitals_bpf;
struct bpf_link;

struct loader {
	struct tcpvitals_bpf *skel;
	struct bpf_link *links[TV_MAX_HOOKS];
	int prog_fds[TV_MAX_HOOKS + 1]; /* links[i]'s program (and fentry_sendmsg's, last) */
	int again[TV_MAX_HOOKS];        /* links[i]'s second program: its slot + 1 (bpf/nest.h) */
	struct bpf_link *again_links[TV_AGAIN_SLOTS];
	int nagain;
	struct bpf_link *flusher; /* starts the burst flusher timer; NULL without one */
	struct bpf_link *fentry_sendmsg; /* the ClientHello without its tracepoint; NULL without */
	int nlinks;
	const char *attach;  /* "tp_btf" or "raw_tp" */
	const char *storage; /* "sk_storage" or "hash" */
	const char *hooks[TV_MAX_HOOKS + 2]; /* attached tracepoints (and fentry:tcp_sendmsg, burst_timer) */
	int nhooks;
	const char *missing[TV_MAX_HOOKS + 1]; /* optional tracepoints (and burst_timer) not available */
	int nmissing;
};

/* Returns 0, or an exit code (TV_EXIT_PRIV, TV_EXIT_RUNTIME) with one line in err. */
int loader_start(struct loader *ld, const struct tv_config *cfg, char *err, size_t errlen);
int loader_ringbuf_fd(const struct loader *ld);
/* Marks pid and its live descendants as traced; the kernel adds the ones
 * forked later. 0 or a negative errno. */
int loader_trace_tree(struct loader *ld, pid_t pid);
/* Records the kernel failed to reserve, since loading. */
uint64_t loader_lost_total(const struct loader *ld);
struct tv_counters loader_counters(const struct loader *ld);
/* Events the kernel did not run a program for, since loading, that no
 * second program made up for: a tracing program is not run again on a CPU
 * where it is already running (a softirq that interrupts it), and the kernel
 * counts each such miss (5.12: bpf_prog_info.recursion_misses); plus, for
 * the state and destroy hooks, the runs the kernel neither made nor counted
 * that the BPF side found afterwards (bpf/maps.h, unseen; a lower bound).
 * Per attached hook in hook[], in the order of ld->hooks. Returns 0, or a negative errno
 * where the kernel will not say: with
 * kernel.unprivileged_bpf_disabled set, some kernels (5.10; not 6.1) let a
 * process without CAP_BPF make no bpf() call at all, even on its own programs. */
int loader_misses(const struct loader *ld, uint64_t *hook);
/* Once the burst flusher's timer runs, its starter leaves the state-change
 * tracepoint (it would cost a program run on every state change). */
void loader_tick(struct loader *ld);
/* The kernel side's bounded tables, for the agent's summaries; how many. */
struct kernel_table;
int loader_tables(const struct loader *ld, struct kernel_table *t, int max);
void loader_stop(struct loader *ld);

/* Number of arguments of tracepoint tp in btf, or -1 if it has none. */
struct btf;
int tracepoint_arity(const struct btf *btf, const char *tp);

/* A program the kernel refused, read from libbpf's warnings: its name, and
 * the verifier log's last lines (shown with -v). */
struct loader_refusal {
	char prog[64];
	char log_tail[480];
};
void loader_refusal_note(struct loader_refusal *r, const char *libbpf_msg);

#endif
