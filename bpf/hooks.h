/*
 * The one list of tcpvitals' tracepoint hooks, read by both sides:
 * bpf/tcpvitals.bpf.c makes a tp_btf and a raw_tp program of each TV_HOOK,
 * and user/loader.c picks, per tracepoint, the variant whose argument list
 * the running kernel's BTF has (the first that fits: newest kernel first).
 * Adding a hook is one line here and its handler in the BPF file.
 *
 *   TV_HOOK(program, tracepoint, need, handler call, arguments...)
 *   TV_AGAIN(program, slot, sock, what, tracepoint, need, handler call, arguments...):
 *       a hook whose every run matters, with a second program that does the
 *       work of a run the kernel skipped (bpf/nest.h; slot: its place in the
 *       nests map; sock and what, a 64-bit value: they tell events apart)
 *   TV_CLASSIC(program, category, tracepoint, need): a classic tracepoint,
 *       found by its tracefs id; its program is written out in the BPF file
 *
 * need: REQUIRED (no tracing without it: exit 3), OPTIONAL (named in the
 * start record's "missing" when the kernel lacks it), PID_FILTER (only with
 * --pid or -- COMMAND).
 */
/* a missed state change loses a transition (and the owner or the error), a
 * missed destroy the whole connection: these two get a second program */
TV_AGAIN(state, TV_AGAIN_STATE, sk, nest_what(sk, (__u32)old << 8 | (__u32)new, typed), "inet_sock_set_state", REQUIRED,
	 on_state(sk, old, new, typed), struct sock *sk, int old, int new)
TV_AGAIN(destroy, TV_AGAIN_DESTROY, sk, nest_what(sk, 0, typed), "tcp_destroy_sock", REQUIRED, on_destroy(sk, typed),
	 struct sock *sk)
/* 6.17 added err */
TV_HOOK(retransmit_err, "tcp_retransmit_skb", REQUIRED, on_retransmit(sk, skb, err, typed),
	struct sock *sk, struct sk_buff *skb, int err)
TV_HOOK(retransmit, "tcp_retransmit_skb", REQUIRED, on_retransmit(sk, skb, 0, typed),
	struct sock *sk, struct sk_buff *skb)
TV_HOOK(retransmit_synack, "tcp_retransmit_synack", OPTIONAL, on_retransmit_synack(sk, req, typed),
	struct sock *sk, struct request_sock *req)
TV_HOOK(rcv_segment, "tcp_probe", OPTIONAL, on_rcv_segment(sk, skb, typed), struct sock *sk, struct sk_buff *skb)
/* 6.10 added enum sk_rst_reason */
TV_HOOK(send_reset_reason, "tcp_send_reset", OPTIONAL, on_reset(sk, skb, TV_RESET_SENT, reason, typed),
	struct sock *sk, struct sk_buff *skb, int reason)
TV_HOOK(send_reset, "tcp_send_reset", OPTIONAL, on_reset(sk, skb, TV_RESET_SENT, TV_REASON_UNKNOWN, typed),
	struct sock *sk, struct sk_buff *skb)
TV_HOOK(receive_reset, "tcp_receive_reset", OPTIONAL,
	on_reset(sk, NULL, TV_RESET_RECEIVED, TV_REASON_UNKNOWN, typed), struct sock *sk)
/* the socket's error (refused, unreachable, timed out); sk_error_report() and
 * its tracepoint came after 5.10 */
TV_HOOK(error, "inet_sk_error_report", OPTIONAL, on_error(sk, typed), struct sock *sk)
/* 6.11 added the receiving socket, 5.17 the drop reason */
TV_HOOK(drop_rxsk, "kfree_skb", OPTIONAL, drop_reason_counts(reason) ? on_drop(skb, rx_sk, reason, typed) : 0,
	struct sk_buff *skb, void *location, int reason, struct sock *rx_sk)
TV_HOOK(drop_reason, "kfree_skb", OPTIONAL, drop_reason_counts(reason) ? on_drop(skb, NULL, reason, typed) : 0,
	struct sk_buff *skb, void *location, int reason)
TV_HOOK(drop, "kfree_skb", OPTIONAL, on_drop(skb, NULL, TV_REASON_UNKNOWN, typed),
	struct sk_buff *skb, void *location)
/* the owner of an accepted connection: the process that accepts it */
TV_CLASSIC(accept4_exit, "syscalls", "sys_exit_accept4", OPTIONAL)
TV_CLASSIC(accept_exit, "syscalls", "sys_exit_accept", OPTIONAL)
/* the ClientHello's server name, for --tls-check, and TLS alerts sent (6.x;
 * before it, fentry on tcp_sendmsg: see the BPF file) */
TV_HOOK(sendmsg, "tcp_sendmsg_locked", OPTIONAL, on_sendmsg(sk, msg, typed), struct sock *sk, struct msghdr *msg)
/* --pid and -- COMMAND: descendants forked later, and their end */
TV_HOOK(fork, "sched_process_fork", PID_FILTER, on_fork(parent, child, typed),
	struct task_struct *parent, struct task_struct *child)
TV_HOOK(exit, "sched_process_exit", PID_FILTER, on_exit(task, typed), struct task_struct *task)
