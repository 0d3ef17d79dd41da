/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who owns a connection: the process that connects (captured at the state
 * change), the process that accepts (the accept syscalls' exit), and the
 * process tree that --pid and -- COMMAND follow.
 *
 * Part of the one BPF object: included by tcpvitals.bpf.c, in its order.
 */

static __always_inline void owner_of_accepted(struct conn_state *st, struct sock *sk)
{
	struct accepted_owner *o;
	__u64 key = (__u64)sk;

	if (!accept_owner || st->conn.dir != TV_DIR_IN || (st->conn.owner_flags & TV_OWNER_KNOWN))
		return;
	o = bpf_map_lookup_elem(&accepted, &key);
	if (!o)
		return;
	st->conn.pid = o->tgid;
	__builtin_memcpy(st->conn.comm, o->comm, sizeof(st->conn.comm));
	st->conn.owner_flags = o->flags;
	bpf_map_delete_elem(&accepted, &key);
	conn_decide(st);
}

/* Record the owner: called only where `current` is the process using sk. */
static __always_inline void owner_capture(struct conn_state *st)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 flags = TV_OWNER_KNOWN;

	if (filter_pids && bpf_map_lookup_elem(&traced_tgids, &tgid))
		flags |= TV_OWNER_MATCH;
	st->conn.pid = tgid;
	bpf_get_current_comm(st->conn.comm, sizeof(st->conn.comm));
	st->conn.owner_flags = flags;
	conn_decide(st);
}

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* The socket behind file descriptor fd of the current process, or NULL. */
static __always_inline struct sock *sock_of_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

static __always_inline int on_accept(long fd)
{
	struct accepted_owner o = { .flags = TV_OWNER_KNOWN };
	struct sock *sk = sock_of_fd(fd);
	__u64 key = (__u64)sk;

	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP ||
	    !netns_wanted(&sk->__sk_common, false))
		return 0;
	o.tgid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pids && bpf_map_lookup_elem(&traced_tgids, &o.tgid))
		o.flags |= TV_OWNER_MATCH;
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&accepted, &key, &o, BPF_ANY);
	return 0;
}

/* Classic tracepoints, attached through tracefs ids: syscalls have no BTF
 * variants. Both accept(2) and accept4(2). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child, bool typed)
{
	__u32 ptgid = RD(typed, parent, tgid), ctgid = RD(typed, child, tgid);
	__u8 one = 1;

	if (ptgid != ctgid && bpf_map_lookup_elem(&traced_tgids, &ptgid))
		bpf_map_update_elem(&traced_tgids, &ctgid, &one, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(struct task_struct *task, bool typed)
{
	__u32 pid = RD(typed, task, pid), tgid = RD(typed, task, tgid);

	if (pid == tgid) /* the whole process is going; a reused pid must not inherit tracing */
		bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}
