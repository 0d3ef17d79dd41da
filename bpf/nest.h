/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runs the kernel skips. A tracing program is not run again on a CPU where
 * it is already running: a softirq that interrupts it (or that runs in the
 * kernel's own few instructions around it) and hits the same tracepoint is
 * not seen by it, and the kernel counts a miss (bpf_prog_info's
 * recursion_misses; kernels before that check run the program nested). For
 * the hooks where one lost run is a lost transition or a lost connection
 * (hooks.h's TV_AGAIN), a second program on the same tracepoint, attached
 * after the first, does the work of a run that was skipped: it is another
 * program, so the kernel runs it there.
 *
 * The first program notes each event it handled, by its arguments, in a
 * short list per CPU and hook; the second acts on an event that is not
 * in the list. Keys, not a depth count: the kernel may skip the first in
 * instructions before or after its body, where no mark of the program's
 * own could say that it is running. A softirq that comes between the two
 * programs of one event may handle many events of its own (a batch of
 * segments), each noted by the first program: the list is long enough for
 * such a batch, and searched newest first, so that the usual case is one
 * comparison. The made-up runs are counted in recovered[], for the loader.
 *
 * The list cannot be proof against every softirq: one that comes between the
 * two programs of an event, or while the second runs (whose own second
 * programs the kernel then skips), may note more than NEST_KEYS events of
 * its own and push the event out. The second then runs the handler for an
 * event the first handled, so each handler also knows an event it has seen
 * (a state change already last in the history, the destroy of a buried
 * connection) and returns NEST_SEEN for it: nothing is done twice, and
 * that run is not counted as made up.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

#define NEST_KEYS 16 /* a power of 2 */
#define NEST_SEEN 1  /* a handler's answer: this event was handled before */

/* An event: its socket, and what else tells two events of one socket apart
 * (a state change's old and new state) and two sockets at one address apart
 * (their ports: a socket freed is soon allocated again, and a connection's
 * destroy must not be taken for the last one's at that address, still in the
 * list). The socket pointer is compared as it is, never mixed with other
 * bits: the verifier refuses arithmetic on a typed pointer, but a privileged
 * program may store and compare one. */
struct nest {
	__u64 sk[NEST_KEYS]; /* the last events the first program handled */
	__u64 what[NEST_KEYS];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TV_AGAIN_SLOTS);
	__type(key, __u32);
	__type(value, struct nest);
} nests SEC(".maps");

__u64 recovered[TV_AGAIN_SLOTS]; /* runs the second programs made up for */

/* What tells the event apart, besides its socket: its change, and the ports.
 * Read by both programs at the same tracepoint call, so the same for both. */
static __always_inline __u64 nest_what(struct sock *sk, __u32 change, bool typed)
{
	return (__u64)RD(typed, sk, __sk_common.skc_portpair) << 32 | change;
}

/* The first program handled the event (sk, what). */
static __always_inline void nest_done(__u32 slot, void *sk, __u64 what)
{
	struct nest *n = bpf_map_lookup_elem(&nests, &slot);
	__u32 i;

	if (n && !nest_forget) {
		i = n->next & (NEST_KEYS - 1);
		n->sk[i] = (__u64)sk;
		n->what[i] = what;
		n->next++;
	}
}

/* The event (sk, what) the second program sees is one the first did not handle. */
static __always_inline bool nest_skipped(__u32 slot, void *sk, __u64 what)
{
	struct nest *n = bpf_map_lookup_elem(&nests, &slot);

	if (!n)
		return false;
	for (__u32 k = 1; k <= NEST_KEYS; k++) {
		__u32 i = (n->next - k) & (NEST_KEYS - 1);

		if (n->sk[i] == (__u64)sk && n->what[i] == what)
			return false; /* the usual case: the newest */
	}
	return true;
}

/* The second program did the work of a run the kernel skipped. */
static __always_inline void nest_made_up(__u32 slot)
{
	/* bounded for 5.10's verifier, which loses the constant once the key is on the stack */
	if (slot < TV_AGAIN_SLOTS)
		__sync_fetch_and_add(&recovered[slot], 1);
}
