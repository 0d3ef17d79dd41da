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
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

#define NEST_KEYS 16 /* a power of 2 */

/* An event: its socket, and what else tells two events of one socket apart
 * (a state change's old and new state). The socket pointer is compared as
 * it is, never mixed with other bits: the verifier refuses arithmetic on a
 * typed pointer, but a privileged program may store and compare one. */
struct nest {
	__u64 sk[NEST_KEYS]; /* the last events the first program handled */
	__u32 what[NEST_KEYS];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TV_AGAIN_SLOTS);
	__type(key, __u32);
	__type(value, struct nest);
} nests SEC(".maps");

__u64 recovered[TV_AGAIN_SLOTS]; /* runs the second programs made up for */

/* The first program handled the event (sk, what). */
static __always_inline void nest_done(__u32 slot, void *sk, __u32 what)
{
	struct nest *n = bpf_map_lookup_elem(&nests, &slot);
	__u32 i;

	if (n) {
		i = n->next & (NEST_KEYS - 1);
		n->sk[i] = (__u64)sk;
		n->what[i] = what;
		n->next++;
	}
}

/* The event (sk, what) the second program sees is one the first did not handle. */
static __always_inline bool nest_skipped(__u32 slot, void *sk, __u32 what)
{
	struct nest *n = bpf_map_lookup_elem(&nests, &slot);

	if (!n)
		return false;
	for (__u32 k = 1; k <= NEST_KEYS; k++) {
		__u32 i = (n->next - k) & (NEST_KEYS - 1);

		if (n->sk[i] == (__u64)sk && n->what[i] == what)
			return false; /* the usual case: the newest */
	}
	/* bounded for 5.10's verifier, which loses the constant once the key is on the stack */
	if (slot < TV_AGAIN_SLOTS)
		__sync_fetch_and_add(&recovered[slot], 1);
	return true;
}
