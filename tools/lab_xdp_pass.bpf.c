// SPDX-License-Identifier: GPL-2.0
/*
 * For the lab: an XDP program that passes every packet. On a veth, XDP makes
 * the kernel copy each arriving packet into a fresh buffer, so that a small
 * segment's payload lies in the linear area, as a NIC that copies small
 * packets leaves it, instead of in the sender's page fragments.
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
