#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "command.h"
#include "exitcodes.h"
#include "loader.h"
#include "output.h"
#include "log.h"
#include "tcpvitals.h" /* before the skeleton, which names its types */
#include "tcpvitals.skel.h"
#include "tls_track.h"

enum hook_need { HOOK_REQUIRED, HOOK_OPTIONAL, HOOK_PID_FILTER };

struct hook_variant {
	int nargs;        /* arguments this variant reads */
	const char *prog; /* program name without its btf_/raw_ prefix (classic: the name) */
};

struct hook {
	const char *tp;
	enum hook_need need;
	struct hook_variant variants[3]; /* most arguments first */
	const char *classic; /* a classic tracepoint of this tracefs category, found by
			      * its tracefs id; NULL: tp_btf/raw_tp, chosen from BTF */
	int again;           /* TV_AGAIN: its slot in bpf/nest.h + 1; 0: none */
};

/* The hooks of bpf/hooks.h, one entry per tracepoint with its variants in
 * the list's order (newest kernel first: the first whose argument count the
 * kernel's tracepoint provides is loaded). */
#define TV_NARGS(...) TV_NARGS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define TV_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n
static const struct hook_row {
	const char *tp;
	enum hook_need need;
	int nargs;
	const char *prog;
	const char *classic;
	int again; /* TV_AGAIN: its slot + 1 */
} rows[] = {
#define TV_HOOK(name, tp, need, call, ...) { tp, HOOK_##need, TV_NARGS(__VA_ARGS__), #name, NULL, 0 },
#define TV_AGAIN(name, slot, key_sk, key_what, tp, need, call, ...) \
	{ tp, HOOK_##need, TV_NARGS(__VA_ARGS__), #name, NULL, (slot) + 1 },
#define TV_CLASSIC(name, category, tp, need) { tp, HOOK_##need, 0, #name, category, 0 },
#include "hooks.h"
#undef TV_HOOK
#undef TV_AGAIN
#undef TV_CLASSIC
};
static struct hook hooks[TV_MAX_HOOKS];
static size_t nhook_tps; /* entries of hooks */

/* Groups the rows by tracepoint, once. */
static void hooks_init(void)
{
	if (nhook_tps)
		return;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct hook *h = nhook_tps ? &hooks[nhook_tps - 1] : NULL;
		int nv = 0;

		if (!h || strcmp(h->tp, rows[r].tp)) {
			h = &hooks[nhook_tps++];
			*h = (struct hook){ .tp = rows[r].tp, .need = rows[r].need, .classic = rows[r].classic };
		}
		while (nv < 3 && h->variants[nv].prog)
			nv++;
		h->variants[nv] = (struct hook_variant){ .nargs = rows[r].nargs, .prog = rows[r].prog };
		h->again = rows[r].again;
	}
}

struct attempt {
	bool raw_tp;
	bool hash_storage;
};

/*
 * What the running kernel offers, probed once, here, before any load, each
 * with the change it detects; the BPF side's own probes (struct fields, enum
 * values, kernel symbols) are in bpf/probes.h. Two more are found by trying
 * (load_and_attach's attempts): tp_btf programs (5.5) and sk_storage from
 * tracing programs (5.11).
 */
struct kernel_features {
	/* per hooks[]: the tracepoint's argument count, -1 where the kernel
	 * lacks it (hooks.h names the change behind each variant) */
	int arity[TV_MAX_HOOKS];
	bool bpf_timer;      /* struct bpf_timer: 5.15, commit b00628b1c7d5 */
	/* no tcp_sendmsg_locked tracepoint, but tcp_sendmsg in BTF: fentry (5.5) */
	bool fentry_sendmsg;
	bool accept_owner;   /* the accept syscalls' exit tracepoints (tracefs) */
	/* tcp_send_reset with its reason fires for resets sent without a socket
	 * too: 6.10, commit 19822a980e19 ("trace: tcp: fully support
	 * trace_tcp_send_reset") */
	bool reset_nosock;
};

/* Programs beyond the hooks, each left out again if the kernel refuses it. */
struct extras {
	bool burst_timer;    /* the flusher timer (tp_btf only) */
	bool fentry_sendmsg; /* the ClientHello at tcp_sendmsg's entry */
};

/* Whether this process may load tracing programs: CAP_SYS_ADMIN, or
 * CAP_BPF with CAP_PERFMON (5.8). */
static bool bpf_privileged(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	return (eff >> CAP_SYS_ADMIN & 1) || ((eff >> 39 /* CAP_BPF */ & 1) && (eff >> 38 /* CAP_PERFMON */ & 1));
}

/* The program the kernel refused in the last load, as libbpf reported it. */
static struct loader_refusal refusal;

#define REFUSAL_TAIL_LINES 4

/* From libbpf's warnings "prog 'NAME': BPF program load failed: ..." and
 * "prog 'NAME': -- BEGIN PROG LOAD LOG --\n...-- END PROG LOAD LOG --". */
void loader_refusal_note(struct loader_refusal *r, const char *msg)
{
	static const char begin_mark[] = "-- BEGIN PROG LOAD LOG --\n";
	const char *name = strstr(msg, "prog '"), *q, *begin, *end, *from;
	int lines = 0;

	if (!name)
		return;
	name += strlen("prog '");
	q = strchr(name, '\'');
	if (!q)
		return;
	if (!strncmp(q, "': BPF program load failed", strlen("': BPF program load failed"))) {
		snprintf(r->prog, sizeof(r->prog), "%.*s", (int)(q - name), name);
		r->log_tail[0] = '\0';
		return;
	}
	begin = strstr(q, begin_mark);
	end = begin ? strstr(begin, "-- END PROG LOAD LOG --") : NULL;
	if (!end)
		return;
	begin += strlen(begin_mark);
	/* back from the end to the start of the last lines: just after the
	 * newline that ends the line before them */
	for (from = end; from > begin; from--)
		if (from[-1] == '\n' && ++lines > REFUSAL_TAIL_LINES)
			break;
	if ((size_t)(end - from) >= sizeof(r->log_tail)) /* keep the end, where the verifier says why */
		from = end - (sizeof(r->log_tail) - 1);
	snprintf(r->log_tail, sizeof(r->log_tail), "%.*s", (int)(end - from), from);
}

/* libbpf's messages go to debug output (fallbacks make expected failures);
 * its warnings are also read for the program the kernel refused. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL;
	int n;

	if (level != LIBBPF_WARN && log_level() < TV_LOG_DEBUG)
		return 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return n;
	if (level == LIBBPF_WARN)
		loader_refusal_note(&refusal, msg);
	if (log_level() >= TV_LOG_DEBUG) /* whole: a verifier log outgrows tv_log's line */
		fprintf(stderr, "tcpvitals: %s", msg);
	free(msg);
	return n;
}

int tracepoint_arity(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	return btf_vlen(t) - 1; /* the first parameter is the tracepoint's private data */
}

static struct bpf_program *find_prog(struct tcpvitals_bpf *skel, const struct hook *h, bool raw,
				     const char *name)
{
	char full[64];

	if (h->classic)
		return bpf_object__find_program_by_name(skel->obj, name);
	snprintf(full, sizeof(full), "%s_%s", raw ? "raw" : "btf", name);
	return bpf_object__find_program_by_name(skel->obj, full);
}

/* A TV_AGAIN hook's second program (bpf/nest.h), or NULL. */
static struct bpf_program *again_prog(struct tcpvitals_bpf *skel, const struct bpf_program *first,
				      const struct hook *h)
{
	char full[64];

	if (!h->again)
		return NULL;
	snprintf(full, sizeof(full), "%s_again", bpf_program__name(first));
	return bpf_object__find_program_by_name(skel->obj, full);
}

/* Where tracefs is; mounts it when it is missing (libbpf finds classic
 * tracepoints' ids there). *mounted says whether we did. */
static const char *tracefs(bool *mounted)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	*mounted = false;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (access(path, F_OK) == 0)
			return dirs[i];
	}
	if (mount("tracefs", dirs[0], "tracefs", 0, NULL) == 0) {
		*mounted = true;
		pr_debug("mounted tracefs at %s for the syscall tracepoints\n", dirs[0]);
		return dirs[0];
	}
	pr_debug("no tracefs (%s): no syscall tracepoints\n", strerror(errno));
	return NULL;
}

/* 0 if the classic tracepoint CATEGORY/NAME exists, -1 if not. */
static int classic_arity(const char *fs, const char *category, const char *name)
{
	char path[256];

	if (!fs)
		return -1;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", fs, category, name);
	return access(path, R_OK) == 0 ? 0 : -1;
}

static const struct hook_variant *pick_variant(const struct hook *h, int arity)
{
	for (size_t i = 0; i < 3 && h->variants[i].prog; i++)
		if (h->variants[i].nargs <= arity)
			return &h->variants[i];
	return NULL;
}

static size_t hook_index(const char *tp)
{
	size_t i;

	for (i = 0; i < nhook_tps && strcmp(hooks[i].tp, tp); i++)
		;
	return i;
}

/* The user's selection in the kernel: ports and the owner's name as
 * read-only data; --raddr goes into raddr_filter after the load. */
static void filters_set(struct tcpvitals_bpf *skel, const struct tv_config *cfg)
{
	skel->rodata->filter_ports = cfg->nports > 0;
	for (int i = 0; i < cfg->nports; i++)
		skel->rodata->port_filter_bits[cfg->ports[i] / 8] |= (uint8_t)(1 << (cfg->ports[i] % 8));
	skel->rodata->filter_raddrs = cfg->nraddrs > 0;
	memcpy(skel->rodata->filter_comm, cfg->comm, sizeof(skel->rodata->filter_comm));
	if (!cfg->nraddrs)
		bpf_map__set_max_entries(skel->maps.raddr_filter, 1);
}

static int raddrs_load(struct loader *ld, const struct tv_config *cfg)
{
	for (int i = 0; i < cfg->nraddrs; i++) {
		const struct tv_prefix *p = &cfg->raddrs[i];
		struct tv_raddr_key key = { .prefixlen = 8u + p->len, .family = p->family };
		uint8_t one = 1;
		int e;

		memcpy(key.addr, p->addr, sizeof(key.addr));
		e = bpf_map__update_elem(ld->skel->maps.raddr_filter, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
		if (e)
			return e;
	}
	return 0;
}

/* Opens and loads one configuration; chosen[i] is the program for hooks[i]. */
static int try_load(struct loader *ld, const struct tv_config *cfg, const struct attempt *at,
		    const struct extras *ex, const struct kernel_features *kf, struct bpf_program **chosen)
{
	struct tcpvitals_bpf *skel = tcpvitals_bpf__open();
	bool pid_filter = cfg->npids > 0 || cfg->command;
	struct bpf_program *p;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->filter_netns = cfg->netns;
	skel->rodata->filter_pids = pid_filter;
	skel->rodata->use_hash_storage = at->hash_storage;
	skel->rodata->tls_capture = !cfg->tls_off;
	skel->rodata->nest_forget = cfg->test_nest_forget;
	skel->rodata->destroy_forget = cfg->test_destroy_forget;
	filters_set(skel, cfg);
	tls_port_bits(skel->rodata->tls_port_bits, cfg->tls_ports, cfg->ntls_ports);
	skel->rodata->accept_owner = kf->accept_owner;
	skel->rodata->burst_timer = ex->burst_timer;
	skel->rodata->reset_nosock_traced = kf->reset_nosock;
	bpf_map__set_max_entries(skel->maps.events, (uint32_t)cfg->ringbuf_size);
	if (!at->hash_storage) {
		bpf_map__set_max_entries(skel->maps.hash_states, 1);
		bpf_map__set_max_entries(skel->maps.dead_states, 1);
	}
	if (!pid_filter)
		bpf_map__set_max_entries(skel->maps.traced_tgids, 1);

	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	for (size_t i = 0; i < nhook_tps; i++) {
		const struct hook_variant *v;

		chosen[i] = NULL;
		if (hooks[i].need == HOOK_PID_FILTER && !pid_filter)
			continue;
		v = kf->arity[i] < 0 ? NULL : pick_variant(&hooks[i], kf->arity[i]);
		if (!v)
			continue;
		chosen[i] = find_prog(skel, &hooks[i], at->raw_tp, v->prog);
		if (chosen[i])
			bpf_program__set_autoload(chosen[i], true);
		if (chosen[i] && (p = again_prog(skel, chosen[i], &hooks[i])))
			bpf_program__set_autoload(p, true);
	}
	bpf_program__set_autoload(skel->progs.start_flusher, ex->burst_timer);
	bpf_program__set_autoload(skel->progs.fentry_sendmsg, ex->fentry_sendmsg);
	err = tcpvitals_bpf__load(skel);
	if (err) {
		tcpvitals_bpf__destroy(skel);
		return err;
	}
	ld->skel = skel;
	return 0;
}

#define fail error_line

static int features_probe(struct kernel_features *kf, const char *fs, char *err, size_t errlen)
{
	struct btf *btf = btf__load_vmlinux_btf();

	memset(kf, 0, sizeof(*kf));
	if (libbpf_get_error(btf))
		return fail(err, errlen, TV_EXIT_PRIV,
			    "the kernel has no BTF (/sys/kernel/btf/vmlinux); tcpvitals needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	for (size_t i = 0; i < nhook_tps; i++) {
		kf->arity[i] = hooks[i].classic ? classic_arity(fs, hooks[i].classic, hooks[i].tp)
						: tracepoint_arity(btf, hooks[i].tp);
		if (kf->arity[i] < 0 && hooks[i].need != HOOK_OPTIONAL) {
			btf__free(btf);
			return fail(err, errlen, TV_EXIT_PRIV,
				    "this kernel has no tracepoint %s, which tcpvitals needs", hooks[i].tp);
		}
	}
	kf->bpf_timer = btf__find_by_name_kind(btf, "bpf_timer", BTF_KIND_STRUCT) > 0;
	kf->fentry_sendmsg = kf->arity[hook_index("tcp_sendmsg_locked")] < 0 &&
			     btf__find_by_name_kind(btf, "tcp_sendmsg", BTF_KIND_FUNC) > 0;
	kf->accept_owner = kf->arity[hook_index("sys_exit_accept4")] >= 0 ||
			   kf->arity[hook_index("sys_exit_accept")] >= 0;
	kf->reset_nosock = kf->arity[hook_index("tcp_send_reset")] >= 3;
	btf__free(btf);
	return 0;
}

static int load_and_attach(struct loader *ld, const struct tv_config *cfg, const char *fs, char *err,
			   size_t errlen)
{
	/* in order of preference; raw_tp cannot use sk_storage or cookies */
	static const struct attempt attempts[] = {
		{ .raw_tp = false, .hash_storage = false },
		{ .raw_tp = false, .hash_storage = true }, /* tracing + sk_storage: 5.11 */
		{ .raw_tp = true, .hash_storage = true },
	};
	struct bpf_program *chosen[TV_MAX_HOOKS], *p;
	struct kernel_features kf;
	const struct attempt *used = NULL;
	int first = 0, last = 2, rc;
	char tried[320] = ""; /* each refused attempt: the program and the variant */
	size_t ntried = 0;

	memset(ld, 0, sizeof(*ld));
	libbpf_set_print(libbpf_print);
	rc = features_probe(&kf, fs, err, errlen);
	if (rc)
		return rc;
	rc = -ENOENT;

	if (cfg->hooks == TV_HOOKS_RAW_TP)
		first = 2;
	else if (cfg->hooks == TV_HOOKS_TP_BTF)
		last = 1;
	if (cfg->storage == TV_STORAGE_HASH && first == 0)
		first = 1;
	else if (cfg->storage == TV_STORAGE_SK)
		last = 0;
	for (int a = first; a <= last; a++) {
		/* the flusher timer: tp_btf only (a raw_tp program may not use a timer) */
		struct extras ex = {
			/* a raw_tp program may not use a timer */
			.burst_timer = !attempts[a].raw_tp && kf.bpf_timer,
			.fentry_sendmsg = kf.fentry_sendmsg,
		};

		memset(&refusal, 0, sizeof(refusal));
		rc = try_load(ld, cfg, &attempts[a], &ex, &kf, chosen);
		if (rc && (ex.burst_timer || ex.fentry_sendmsg)) {
			pr_debug("loading with the burst flusher or fentry failed (%s); trying without them\n",
				 strerror(-rc));
			ex = (struct extras){ 0 };
			memset(&refusal, 0, sizeof(refusal));
			rc = try_load(ld, cfg, &attempts[a], &ex, &kf, chosen);
		}
		if (!rc) {
			used = &attempts[a];
			break;
		}
		pr_debug("loading with %s programs and %s storage failed: %s\n",
			 attempts[a].raw_tp ? "raw_tp" : "tp_btf",
			 attempts[a].hash_storage ? "hash" : "sk_storage", strerror(-rc));
		if (ntried < sizeof(tried))
			ntried += (size_t)snprintf(tried + ntried, sizeof(tried) - ntried, "%s%s (%s + %s)",
						   ntried ? ", then " : "",
						   refusal.prog[0] ? refusal.prog : "a program",
						   attempts[a].raw_tp ? "raw_tp" : "tp_btf",
						   attempts[a].hash_storage ? "hash storage" : "sk_storage");
		if (refusal.log_tail[0])
			pr_debug("the verifier's last lines for %s:\n%s", refusal.prog, refusal.log_tail);
		if (rc == -EPERM)
			break;
	}
	if (!used) {
		/* EACCES is also the verifier's refusal, and EPERM a kernel that
		 * refuses a program type even to root: only the process's own
		 * capabilities say whether privilege is what is missing */
		if ((rc == -EPERM || rc == -EACCES) && !bpf_privileged())
			return fail(err, errlen, TV_EXIT_PRIV,
				    "needs root or CAP_BPF and CAP_PERFMON to load BPF programs; try sudo");
		return fail(err, errlen, TV_EXIT_PRIV,
			    "the kernel refused program %s: %s; run with -v for the verifier's log",
			    tried[0] ? tried : "tcpvitals' programs", strerror(-rc));
	}
	ld->attach = used->raw_tp ? "raw_tp" : "tp_btf";
	ld->storage = used->hash_storage ? "hash" : "sk_storage";
	rc = raddrs_load(ld, cfg);
	if (rc) {
		loader_stop(ld);
		return fail(err, errlen, TV_EXIT_RUNTIME, "cannot load the --raddr prefixes into the kernel: %s",
			    strerror(-rc));
	}

	for (size_t i = 0; i < nhook_tps; i++) {
		struct bpf_link *link;

		if (hooks[i].need == HOOK_PID_FILTER && !(cfg->npids > 0 || cfg->command))
			continue;
		if (!chosen[i]) {
			ld->missing[ld->nmissing++] = hooks[i].tp;
			continue;
		}
		link = bpf_program__attach(chosen[i]);
		if (!link) {
			int e = errno;

			if (hooks[i].need != HOOK_OPTIONAL) {
				loader_stop(ld);
				return fail(err, errlen, TV_EXIT_PRIV, "cannot attach to tracepoint %s: %s",
					    hooks[i].tp, strerror(e));
			}
			pr_debug("optional tracepoint %s not attached: %s\n", hooks[i].tp, strerror(e));
			ld->missing[ld->nmissing++] = hooks[i].tp;
			continue;
		}
		ld->prog_fds[ld->nlinks] = bpf_program__fd(chosen[i]);
		ld->again[ld->nlinks] = 0;
		ld->links[ld->nlinks++] = link;
		ld->hooks[ld->nhooks++] = hooks[i].tp;
		/* after the first: a tracepoint runs its programs in the order attached */
		if ((p = again_prog(ld->skel, chosen[i], &hooks[i]))) {
			ld->again_links[ld->nagain] = bpf_program__attach(p);
			if (ld->again_links[ld->nagain]) {
				ld->again[ld->nlinks - 1] = hooks[i].again;
				ld->nagain++;
			} else {
				pr_debug("the second program of %s did not attach: %s\n", hooks[i].tp,
					 strerror(errno));
			}
		}
	}
	if (bpf_program__autoload(ld->skel->progs.fentry_sendmsg)) {
		ld->fentry_sendmsg = bpf_program__attach(ld->skel->progs.fentry_sendmsg);
		if (ld->fentry_sendmsg)
			ld->hooks[ld->nhooks++] = "fentry:tcp_sendmsg";
		else
			pr_debug("fentry on tcp_sendmsg did not attach: %s\n", strerror(errno));
	}
	if (ld->skel->rodata->burst_timer) {
		ld->flusher = bpf_program__attach(ld->skel->progs.start_flusher);
		if (!ld->flusher)
			pr_debug("the burst flusher did not attach: %s\n", strerror(errno));
	}
	if (ld->flusher)
		ld->hooks[ld->nhooks++] = "burst_timer";
	else
		ld->missing[ld->nmissing++] = "burst_timer";
	pr_info("attached %d hooks with %s programs and %s storage\n", ld->nhooks, ld->attach,
		ld->storage);
	return 0;
}

int loader_start(struct loader *ld, const struct tv_config *cfg, char *err, size_t errlen)
{
	bool mounted;
	const char *fs;
	int rc;

	hooks_init();
	fs = tracefs(&mounted);
	rc = load_and_attach(ld, cfg, fs, err, errlen);

	/* attached tracepoints keep working without it: leave the system as it was */
	if (mounted && umount2(fs, MNT_DETACH))
		pr_debug("cannot unmount tracefs again: %s\n", strerror(errno));
	return rc;
}

int loader_ringbuf_fd(const struct loader *ld)
{
	return bpf_map__fd(ld->skel->maps.events);
}

static int trace_pid(struct loader *ld, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	uint8_t one = 1;

	return bpf_map__update_elem(ld->skel->maps.traced_tgids, &key, sizeof(key), &one, sizeof(one),
				    BPF_ANY);
}

struct tree_walk {
	struct loader *ld;
	int err;
};

static void trace_descendant(pid_t pid, void *arg)
{
	struct tree_walk *w = arg;
	int e = trace_pid(w->ld, pid);

	if (e && !w->err)
		w->err = e;
}

int loader_trace_tree(struct loader *ld, pid_t pid)
{
	struct tree_walk w = { .ld = ld };
	int e = trace_pid(ld, pid);

	if (e)
		return e;
	for_each_descendant(pid, trace_descendant, &w);
	return w.err;
}

/* The kernel side's run-wide counters, summed over the CPU slots; read
 * through the .bss mapping, so also after privileges are dropped. */
struct tv_counters loader_counters(const struct loader *ld)
{
	struct tv_counters sum = { 0 };
	const volatile struct tv_counters *c = ld->skel && ld->skel->bss ? ld->skel->bss->counters : NULL;

	for (int i = 0; c && i < TV_CPU_SLOTS; i++) {
		sum.lost += c[i].lost;
		sum.opened_out += c[i].opened_out;
		sum.opened_in += c[i].opened_in;
	}
	return sum;
}

/* The program's skipped runs (0 before 5.12, which neither counts nor skips
 * them); returns 0, or -errno where the kernel will not say. */
static int prog_misses(int fd, uint64_t *n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	*n = 0;
	if (fd < 0)
		return -EBADF;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*n = info.recursion_misses;
	return 0;
}

int loader_misses(const struct loader *ld, uint64_t *hook)
{
	uint64_t n;
	int err = 0, e, h = 0;

	for (int i = 0; i < ld->nlinks; i++, h++) {
		e = prog_misses(ld->prog_fds[i], &n);
		err = err ? err : e; /* the first failure's reason */
		if (ld->again[i]) { /* what the second program did not make up for */
			uint64_t made_up = ld->skel->bss->recovered[ld->again[i] - 1];

			n = n > made_up ? n - made_up : 0;
		}
		/* runs the kernel did not make, and counted nowhere, found afterwards
		 * (bpf/maps.h, unseen) */
		if (ld->again[i])
			n += ld->skel->bss->unseen[ld->again[i] - 1];
		hook[h] = n;
	}
	if (ld->fentry_sendmsg) {
		e = prog_misses(bpf_program__fd(ld->skel->progs.fentry_sendmsg), &n);
		err = err ? err : e;
		hook[h++] = n;
	}
	/* burst_timer, last in ld->hooks: its starter's misses lose nothing (the
	 * next state change starts it), and the timer is no program run */
	for (; h < ld->nhooks; h++)
		hook[h] = 0;
	return err;
}

void loader_tick(struct loader *ld)
{
	if (ld->flusher && ld->skel->bss->flusher_started) {
		bpf_link__destroy(ld->flusher);
		ld->flusher = NULL;
	}
}

int loader_tables(const struct loader *ld, struct kernel_table *t, int max)
{
	const struct tcpvitals_bpf *k = ld->skel;
	bool hash = ld->storage && !strcmp(ld->storage, "hash");
	const struct kernel_table all[] = {
		{ "sk_states", 0, "none: kept with each socket, freed with it" },
		{ "hash_states", bpf_map__max_entries(k->maps.hash_states), "the least recently used is evicted" },
		{ "dead_states", bpf_map__max_entries(k->maps.dead_states), "the least recently used is evicted" },
		{ "bursts", bpf_map__max_entries(k->maps.bursts), "anomalies are written one by one" },
		{ "traced_tgids", bpf_map__max_entries(k->maps.traced_tgids), "new processes are not marked" },
		{ "late_conns", bpf_map__max_entries(k->maps.late_conns), "the least recently used is evicted" },
		{ "accepted", bpf_map__max_entries(k->maps.accepted), "the least recently used is evicted" },
		{ "events", bpf_map__max_entries(k->maps.events), "records are lost, and counted" },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++)
		if ((i > 2 || (i == 0) != hash) && all[i].max_entries != 1) /* 1: shrunk, unused */
			t[n++] = all[i];
	return n;
}

uint64_t loader_lost_total(const struct loader *ld)
{
	return loader_counters(ld).lost;
}

void loader_stop(struct loader *ld)
{
	bpf_link__destroy(ld->fentry_sendmsg);
	ld->fentry_sendmsg = NULL;
	bpf_link__destroy(ld->flusher);
	ld->flusher = NULL;
	for (int i = 0; i < ld->nlinks; i++)
		bpf_link__destroy(ld->links[i]);
	ld->nlinks = 0;
	for (int i = 0; i < ld->nagain; i++)
		bpf_link__destroy(ld->again_links[i]);
	ld->nagain = 0;
	tcpvitals_bpf__destroy(ld->skel);
	ld->skel = NULL;
}
