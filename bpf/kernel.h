/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's constants that vmlinux.h lacks, and the two ways of reading
 * its structures (typed for tp_btf, probe reads for raw_tp).
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_RST 0x04
#define TCPHDR_ACK 0x10
#define TCPHDR_FLAGS_OFF 13 /* the byte of the flags in struct tcphdr (bitfields there) */
#define ICSK_TIME_LOSS_PROBE 5 /* include/net/inet_connection_sock.h */
#define CLOCK_MONOTONIC 1
/* tcp_sock keeps the smoothed RTT times 8 and its mean deviation times 4
 * (tcp_rtt_estimator(), net/ipv4/tcp_input.c); records carry microseconds */
#define TCP_SRTT_SHIFT 3
#define TCP_MDEV_SHIFT 2

/* Read a field directly (tp_btf) or through bpf_probe_read_kernel (raw_tp). */
#define RD(typed, p, f) ((typed) ? (p)->f : BPF_CORE_READ(p, f))
#define RD_BITS(typed, p, f) ((typed) ? BPF_CORE_READ_BITFIELD(p, f) : BPF_CORE_READ_BITFIELD_PROBED(p, f))

static __always_inline bool after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}
