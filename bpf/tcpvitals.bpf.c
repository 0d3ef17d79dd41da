// SPDX-License-Identifier: GPL-2.0
/*
 * tcpvitals kernel side: per-connection health from the TCP tracepoints.
 *
 * Every hook exists twice: a tp_btf program (typed arguments, direct reads,
 * sk_storage) and a raw_tp program (probe reads, LRU hash keyed by the socket
 * pointer). Both expand the same __always_inline handler with a constant
 * `typed` argument, so the compiler keeps only the reads that variant may do.
 * Userspace picks one variant per hook at load time from BTF (see
 * user/loader.c); this file never looks at kernel version numbers.
 *
 * The receive path (tcp_probe) touches only the socket's own storage and
 * writes to the ring buffer only for anomalous segments; bursts of one
 * anomaly are coalesced into one record with a count.
 *
 * One object, written in parts by concern: each header below is included
 * here once, in this order (a part uses only those above it), and this file
 * makes the programs from the hook list in hooks.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpvitals.h"

char LICENSE[] SEC("license") = "GPL";

#include "kernel.h"
#include "probes.h"
#include "maps.h"
#include "sock.h"
#include "select.h"
#include "owner.h"
#include "storage.h"
#include "records.h"
#include "bursts.h"
#include "nest.h"
#include "resets.h"
#include "lifecycle.h"
#include "retransmit.h"
#include "window.h"
#include "tls.h"
#include "receive.h"
#include "errors.h"
#include "drops.h"

/*
 * One tp_btf and one raw_tp program per hook and argument list. Variants
 * named *_err, *_reason, *_rxsk take the arguments that later kernels added;
 * the loader enables the one that matches the running kernel's BTF.
 */
#define HOOK(name, tp, call, ...)                                         \
	SEC("tp_btf/" tp) int BPF_PROG(btf_##name, __VA_ARGS__)            \
	{                                                                 \
		const bool typed = true;                                  \
		return call;                                              \
	}                                                                 \
	SEC("raw_tp/" tp) int BPF_PROG(raw_##name, __VA_ARGS__)            \
	{                                                                 \
		const bool typed = false;                                 \
		return call;                                              \
	}

/* Kernels without the tcp_sendmsg_locked tracepoint (6.1 and older): the same
 * handler at the entry of tcp_sendmsg, where the kernel allows fentry (5.5). */
SEC("fentry/tcp_sendmsg")
int BPF_PROG(fentry_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	return on_sendmsg(sk, msg, true);
}

/* A hook with a second program (nest.h): the first notes the event it
 * handled; the second, attached after it, runs the handler for an event the
 * first did not handle. */
#define AGAIN_PAIR(prefix, sec, is_typed, name, slot, key_sk, key_what, tp, call, ...) \
	SEC(sec "/" tp) int BPF_PROG(prefix##_##name, __VA_ARGS__)                     \
	{                                                                           \
		const bool typed = is_typed;                                        \
		call;                                                               \
		nest_done(slot, key_sk, key_what);                                  \
		return 0;                                                           \
	}                                                                           \
	SEC(sec "/" tp) int BPF_PROG(prefix##_##name##_again, __VA_ARGS__)             \
	{                                                                           \
		const bool typed = is_typed;                                        \
		if (nest_skipped(slot, key_sk, key_what) && call != NEST_SEEN)      \
			nest_made_up(slot);                                         \
		return 0;                                                           \
	}
#define HOOK_AGAIN(name, slot, key_sk, key_what, tp, call, ...)                                       \
	AGAIN_PAIR(btf, "tp_btf", true, name, slot, key_sk, key_what, tp, call, __VA_ARGS__)          \
	AGAIN_PAIR(raw, "raw_tp", false, name, slot, key_sk, key_what, tp, call, __VA_ARGS__)

#define TV_HOOK(name, tp, need, call, ...) HOOK(name, tp, call, __VA_ARGS__)
#define TV_AGAIN(name, slot, key_sk, key_what, tp, need, call, ...) \
	HOOK_AGAIN(name, slot, key_sk, key_what, tp, call, __VA_ARGS__)
#define TV_CLASSIC(name, category, tp, need) /* written out in owner.h */
#include "hooks.h"
#undef TV_HOOK
#undef TV_AGAIN
#undef TV_CLASSIC
