/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel has, asked here and nowhere else in bpf/: each
 * probe is a CO-RE relocation that libbpf resolves against the kernel's BTF
 * at load time, so a missing feature is a constant false and the code behind
 * it is gone before the verifier looks. Each names the kernel change that
 * added the feature. The loader's own probes (which tracepoint variant,
 * bpf_timer, fentry, sk_storage for tracing programs, the classic
 * tracepoints) are in user/loader.c's features_probe() and hooks.h; what
 * they find reaches this side as the load-time settings in maps.h.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/* tcp_sock's byte counts and D-SACKs received: 4.19 ("tcp: add data bytes
 * sent stats", "tcp: add data bytes retransmitted stats", "tcp: add dsack
 * blocks received stats") */
#define HAS_BYTES_SENT bpf_core_field_exists(struct tcp_sock, bytes_sent)
#define HAS_BYTES_RETRANS bpf_core_field_exists(struct tcp_sock, bytes_retrans)
#define HAS_DSACK_DUPS bpf_core_field_exists(struct tcp_sock, dsack_dups)
/* the kernel's own count of RTO episodes: 6.7, commit 3868ab0f1925 ("tcp:
 * add tcpi_total_rto...") */
#define HAS_TOTAL_RTO bpf_core_field_exists(struct tcp_sock, total_rto)

/*
 * Drop reasons, as the running kernel numbers them (the numbers move between
 * releases). The enum came with kfree_skb's reason, 5.17, commit
 * c504e5c2f964 ("net: skb: introduce kfree_skb_reason()"), with NO_SOCKET;
 * TCP_CLOSE came in 5.19 ("tcp: add drop reasons to
 * tcp_rcv_state_process()"), QUEUE_PURGE in 6.6 ("net: add
 * skb_queue_purge_reason and __skb_queue_purge_reason"). SKB_CONSUMED, a
 * member of the enum from 6.0 on, marks a buffer freed after use.
 */
#define DROP_REASON_IS(reason, name)                                                 \
	(bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_##name) && \
	 (reason) == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_##name))
#define DROP_REASON_IS_CONSUMED(reason)                                   \
	(bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) && \
	 (reason) == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))

/*
 * struct iov_iter, for the first user buffer of a write. `iter_type` came in
 * 5.14 ("iov_iter: separate direction from flavour"; before, `type` held
 * ITER_* bits with the direction); ITER_UBUF, a single user buffer, in 6.0
 * ("iov_iter: new iov_iter flavour - ITER_UBUF"); `iov` became `__iov` in
 * 6.4. The older layouts, for CO-RE:
 */
struct iov_iter___pre514 {
	unsigned int type;
};

struct iov_iter___pre64 {
	const struct iovec *iov;
};

#define HAS_ITER_TYPE bpf_core_field_exists(struct iov_iter, iter_type)
#define HAS_ITER_UBUF bpf_core_enum_value_exists(enum iter_type, ITER_UBUF)
#define HAS_ITER___IOV bpf_core_field_exists(struct iov_iter, __iov)

/*
 * The kernel's direct map, to read a received segment's page fragments:
 * x86-64 kernels whose memory layout is set at boot
 * (CONFIG_DYNAMIC_MEMORY_LAYOUT), with a kallsyms that lists data symbols
 * (CONFIG_KALLSYMS_ALL). Weak: a kernel without them loads, and reads no
 * fragments.
 */
extern const void vmemmap_base __ksym __weak;
extern const void page_offset_base __ksym __weak;
#define HAS_DIRECT_MAP (&vmemmap_base && &page_offset_base)
