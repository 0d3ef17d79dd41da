/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS: alerts received and sent, and the ClientHello of a new outgoing
 * connection to a TLS port.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

/*
 * TLS records: a 5-byte header (content type, version, length). An alert is
 * content type 21 with a 2-byte body (level, description) in plaintext, or
 * a longer encrypted one (TLS 1.2 and earlier after ChangeCipherSpec);
 * TLS 1.3 sends every alert after its ServerHello as application data (23),
 * which cannot be told from data. A write that carries an alert is small:
 * 7 bytes, or about 30 encrypted, maybe behind another record or two.
 */
#define TLS_HDR 5
#define TLS_CONTENT_ALERT 21
#define TLS_ALERT_WRITE_MAX 64
#define TLS_RECORDS_SCANNED 4

static __always_inline void alert_record(struct conn_state *st, __u8 side, const __u8 *h)
{
	struct tv_rec_tls_alert *r;
	__u16 len = (__u16)h[3] << 8 | h[4];

	burst_flush(st);
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_TLS_ALERT, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return;
	r->side = side;
	r->encrypted = len != 2;
	r->level = len == 2 ? h[5] : 0;
	r->description = len == 2 ? h[6] : 0;
	r->version = (__u16)h[1] << 8 | h[2];
	r->length = len;
	rec_submit(r);
}

/*
 * A received alert. The payload of a received segment is where the driver
 * put it: in the linear area (a NIC's small packets are often copied there),
 * or in page fragments (loopback and veth hand over the sender's pages),
 * which a tracing program reaches through the kernel's direct map: x86-64
 * only, from vmemmap_base and page_offset_base (CONFIG_DYNAMIC_MEMORY_LAYOUT;
 * without them, fragments are not read). Only a small in-order segment that
 * is one whole alert record is taken: the record boundaries of the stream are
 * not tracked, so an alert behind data in the same segment is not seen.
 */
#define TV_PAGE_SHIFT 12

/* skb_frag_t from 5.4 on: the page (6.12: netmem_ref), then len, then offset */
struct frag_raw {
	__u64 page;
	__u32 len;
	__u32 offset;
};

static __always_inline bool segment_bytes(struct sk_buff *skb, __u32 off, __u8 *out, __u32 n, bool typed)
{
	unsigned char *head = RD(typed, skb, head), *data = RD(typed, skb, data);
	__u32 headlen = RD(typed, skb, len) - RD(typed, skb, data_len);
	struct skb_shared_info *shi;
	struct frag_raw f;
	__u64 vmemmap = 0, direct = 0, pfn;

	if (off + n <= headlen)
		return !bpf_probe_read_kernel(out, n & 63, data + off);
	if (off < headlen || !HAS_DIRECT_MAP)
		return false;
	shi = (struct skb_shared_info *)(head + RD(typed, skb, end));
	if (bpf_probe_read_kernel(&f, sizeof(f), (void *)shi + bpf_core_field_offset(struct skb_shared_info, frags)))
		return false;
	off -= headlen;
	if ((f.page & 1) || off + n > f.len) /* a net_iov (device memory), or past the first fragment */
		return false;
	if (bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), &vmemmap_base) ||
	    bpf_probe_read_kernel(&direct, sizeof(direct), &page_offset_base) || f.page < vmemmap)
		return false;
	pfn = (f.page - vmemmap) / bpf_core_type_size(struct page);
	return !bpf_probe_read_kernel(out, n & 63, (void *)(direct + (pfn << TV_PAGE_SHIFT) + f.offset + off));
}

static __always_inline void received_alert(struct sock *sk, struct sk_buff *skb, __u32 len, bool typed)
{
	unsigned char *data = RD(typed, skb, data);
	struct conn_state *st;
	__u8 doff = 0, h[TLS_HDR + 2];

	if (bpf_probe_read_kernel(&doff, 1, data + 12))
		return;
	if (!segment_bytes(skb, (doff >> 4) * 4, h, sizeof(h), typed))
		return;
	/* one whole record: type alert, version 3.x, length the rest */
	if (h[0] != TLS_CONTENT_ALERT || h[1] != 3 || ((__u32)h[3] << 8 | h[4]) != len - TLS_HDR)
		return;
	st = state_lookup(sk, typed);
	if (!st || !st->conn.cookie || st->dead || st->sel == SEL_NO)
		return;
	alert_record(st, TV_RESET_RECEIVED, h);
}

/* The first user buffer of a write and its length; false for kernel-internal
 * writes (sendfile, splice), which have none. */
static __always_inline bool write_buffer(struct msghdr *msg, const void **base, __u64 *count)
{
	struct iov_iter *it = &msg->msg_iter;
	const struct iovec *iov;
	__u64 first;

	*count = BPF_CORE_READ(it, count);
	if (HAS_ITER_TYPE) {
		__u8 type = BPF_CORE_READ(it, iter_type);

		if (HAS_ITER_UBUF && type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
			*base = BPF_CORE_READ(it, ubuf);
			return true;
		}
		if (type != bpf_core_enum_value(enum iter_type, ITER_IOVEC))
			return false;
	} else if (!(BPF_CORE_READ((struct iov_iter___pre514 *)it, type) &
		     bpf_core_enum_value(enum iter_type, ITER_IOVEC))) {
		return false;
	}
	if (HAS_ITER___IOV)
		iov = BPF_CORE_READ(it, __iov);
	else
		iov = BPF_CORE_READ((struct iov_iter___pre64 *)it, iov);
	*base = BPF_CORE_READ(iov, iov_base);
	first = BPF_CORE_READ(iov, iov_len);
	if (first < *count)
		*count = first;
	return true;
}

/* The ClientHello: the first write of an outgoing connection to a TLS port. */
static __always_inline void sent_hello(struct conn_state *st, struct msghdr *msg)
{
	struct tv_rec_tls_hello *r;
	const void *base;
	__u64 count;
	__u32 n;

	if (!write_buffer(msg, &base, &count))
		return;
	conn_announce(st);
	r = rec_reserve(sizeof(*r), TV_REC_TLS_HELLO, bpf_ktime_get_ns(), 1, &st->conn);
	if (!r)
		return;
	n = count < TV_HELLO_MAX ? count : TV_HELLO_MAX;
	r->total = count > 0xffffffff ? 0xffffffff : count;
	r->len = 0;
	/* bounded read of the caller's buffer; fails only if it is unmapped */
	if (n && !bpf_probe_read_user(r->data, n, base))
		r->len = n;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP); /* its TLS check should start now */
}

static __always_inline void sent_alert(struct conn_state *st, struct msghdr *msg)
{
	__u8 buf[TLS_ALERT_WRITE_MAX * 2] = {};
	const void *base;
	__u32 off = 0;
	__u64 count;

	__u32 n;

	if (!write_buffer(msg, &base, &count) || count < TLS_HDR + 2 || count > TLS_ALERT_WRITE_MAX)
		return;
	/* a bound the verifier sees (6.1's cannot follow the compiler's range checks) */
	n = count;
	asm volatile("" : "+r"(n));
	if (bpf_probe_read_user(buf, n & (TLS_ALERT_WRITE_MAX * 2 - 1), base))
		return;
	for (int i = 0; i < TLS_RECORDS_SCANNED; i++) {
		__u8 *h;

		if (off + TLS_HDR + 2 > count)
			return;
		h = &buf[off & (TLS_ALERT_WRITE_MAX - 1)];
		if (h[1] != 3) /* SSL 3.0 to TLS 1.3 all say 3.x */
			return;
		if (h[0] == TLS_CONTENT_ALERT) {
			alert_record(st, TV_RESET_SENT, h);
			return;
		}
		off += TLS_HDR + ((__u32)h[3] << 8 | h[4]);
	}
}

static __always_inline int on_sendmsg(struct sock *sk, struct msghdr *msg, bool typed)
{
	struct conn_state *st;
	__u16 dport;

	/* every TCP write comes here: the ports decide first */
	dport = bpf_ntohs(RD(typed, sk, __sk_common.skc_dport));
	if (!tls_port(dport) && !tls_port(RD(typed, sk, __sk_common.skc_num)))
		return 0;
	st = state_lookup(sk, typed);
	if (!st || st->dead || st->sel == SEL_NO)
		return 0;
	if (!st->first_write_seen && st->conn.dir == TV_DIR_OUT && tls_port(dport)) {
		st->first_write_seen = 1;
		if (tls_capture)
			sent_hello(st, msg);
		return 0;
	}
	if (BPF_CORE_READ(msg, msg_iter.count) <= TLS_ALERT_WRITE_MAX)
		sent_alert(st, msg);
	return 0;
}
