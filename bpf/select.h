/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user's selection (--port, --raddr, --comm, --pid) decided in the
 * kernel, so that an unselected connection moves no records.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/* A port as an index the verifier can bound: the compiler, which knows a
 * __u16 is below 65536, may load it as part of a wider word, and drop any
 * mask that says so; older verifiers (6.1) then see an unbounded index. */
static __always_inline __u32 port_index(__u16 port)
{
	__u32 i = port;

	asm volatile("" : "+r"(i));
	return i & 0xffff;
}

static __always_inline bool port_selected(__u16 port)
{
	__u32 i = port_index(port);

	return port_filter_bits[i >> 3] & (1 << (i & 7));
}

static __always_inline bool tls_port(__u16 port)
{
	__u32 i = port_index(port);

	return tls_port_bits[i >> 3] & (1 << (i & 7));
}

static __always_inline bool raddr_selected(const struct tv_conn *c)
{
	struct tv_raddr_key key = { .prefixlen = 8 + (c->family == 4 ? 32 : 128), .family = c->family };

	__builtin_memcpy(key.addr, c->daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&raddr_filter, &key);
}

static __always_inline bool comm_selected(const struct tv_conn *c)
{
	for (int i = 0; i < TV_COMM_LEN - 1; i++) {
		if (filter_comm[i] != c->comm[i])
			return false;
		if (!filter_comm[i])
			break;
	}
	return true;
}

/* The selection by ports and addresses alone, for what has no owner to ask. */
static __always_inline bool addrs_selected(const struct tv_conn *c)
{
	return (!filter_ports || port_selected(c->sport) || port_selected(c->dport)) &&
	       (!filter_raddrs || raddr_selected(c));
}

/*
 * Decides the user's selection for a connection as soon as what it depends
 * on is known (the local port after connect() picks it, the owner at connect
 * or accept); the collector applies the same selection again. Until then the
 * connection is undecided and its records go out for the collector to decide.
 */
static __always_inline void conn_decide(struct conn_state *st)
{
	const struct tv_conn *c = &st->conn;
	bool undecided = false;

	if (st->sel != SEL_UNDECIDED)
		return;
	if (filter_ports && !port_selected(c->dport) && !(c->sport && port_selected(c->sport))) {
		if (c->sport) {
			st->sel = SEL_NO;
			return;
		}
		undecided = true;
	}
	if (filter_raddrs && !raddr_selected(c)) {
		st->sel = SEL_NO;
		return;
	}
	if (filter_pids || filter_comm[0]) {
		if (!(c->owner_flags & TV_OWNER_KNOWN)) {
			undecided = true;
		} else if ((filter_pids && !(c->owner_flags & TV_OWNER_MATCH)) ||
			   (filter_comm[0] && !comm_selected(c))) {
			st->sel = SEL_NO;
			return;
		}
	}
	if (!undecided)
		st->sel = SEL_YES;
}
