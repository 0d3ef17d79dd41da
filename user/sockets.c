/*
 * Network namespaces are found through /proc/PID/ns/net and /run/netns; each
 * is entered just long enough to open a sock_diag socket there (a netlink
 * socket belongs to the namespace it was created in), then this thread
 * returns to its own. Owners come from one walk of /proc/PID/fd.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "cookie_map.h"
#include "netns.h"
#include "sockets.h"

#define TCP_LISTEN_STATE 10
#define TCP_TIME_WAIT_STATE 6
#define TCP_NEW_SYN_RECV_STATE 12

struct netns {
	uint32_t inode;
	char path[64]; /* /proc/PID/ns/net or /run/netns/NAME */
};

struct netns_list {
	struct netns *v;
	size_t n, cap;
};

static void netns_add(struct netns_list *l, uint32_t inode, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].inode == inode)
			return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct netns *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].inode = inode;
	snprintf(l->v[l->n].path, sizeof(l->v[l->n].path), "%s", path);
	l->n++;
}

static void netns_scan(struct netns_list *l)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir("/proc"))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/ns/net", de->d_name);
			if (stat(path, &st) == 0)
				netns_add(l, (uint32_t)st.st_ino, path);
		}
		closedir(d);
	}
	if ((d = opendir("/run/netns"))) {
		while ((de = readdir(d))) {
			snprintf(path, sizeof(path), "/run/netns/%.40s", de->d_name);
			if (de->d_name[0] != '.' && stat(path, &st) == 0)
				netns_add(l, (uint32_t)st.st_ino, path);
		}
		closedir(d);
	}
}

/* A sock_diag socket in the namespace at path; -1 if it cannot be had. */
static int diag_socket_in(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), sock;

	if (fd < 0)
		return -1;
	sock = netns_socket_at(fd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	close(fd);
	return sock < 0 ? -1 : sock;
}

/* ---- owners: socket inode -> process ---- */

struct owner {
	struct cookie_node node; /* node.cookie: the socket inode */
	uint32_t pid;
	char comm[TV_COMM_LEN];
};

static void read_comm(const char *pid, char comm[TV_COMM_LEN])
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%.20s/comm", pid);
	comm[0] = '\0';
	if ((f = fopen(path, "r"))) {
		if (fgets(comm, TV_COMM_LEN, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

static void owners_scan(struct cookie_map *m)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *f;
	char path[300], link[64];

	while (proc && (p = readdir(proc))) {
		char comm[TV_COMM_LEN];
		bool have_comm = false;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", p->d_name);
		if (!(fds = opendir(path)))
			continue;
		while ((f = readdir(fds))) {
			unsigned long inode;
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%lu]", &inode) != 1 || cookie_map_get(m, inode))
				continue;
			struct owner *o = calloc(1, sizeof(*o));

			if (!o)
				continue;
			if (!have_comm) {
				read_comm(p->d_name, comm);
				have_comm = true;
			}
			o->node.cookie = inode;
			o->pid = (uint32_t)atoi(p->d_name);
			memcpy(o->comm, comm, sizeof(o->comm));
			cookie_map_add(m, &o->node);
		}
		closedir(fds);
	}
	if (proc)
		closedir(proc);
}

static void owners_free(struct cookie_map *m)
{
	for (size_t i = 0; m->buckets && i <= m->mask; i++)
		while (m->buckets[i]) {
			struct cookie_node *n = m->buckets[i];

			cookie_map_remove(m, n);
			free(n);
		}
	cookie_map_free(m);
}

/* ---- sock_diag ---- */

/* Sends one dump request for TCP over family in the given states. */
static int diag_request(int sock, uint8_t family, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = states,
			 .idiag_ext = 1 << (INET_DIAG_INFO - 1) },
	};

	return send(sock, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -1;
}

typedef void (*diag_fn)(void *arg, const struct inet_diag_msg *m, const struct tcp_info *ti, size_t tilen);

/* Reads one dump's answers and calls fn for each socket. */
static int diag_read(int sock, diag_fn fn, void *arg)
{
	static char buf[32768] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);
			const struct tcp_info *ti = NULL;
			size_t tilen = 0;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

			for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == INET_DIAG_INFO) {
					ti = RTA_DATA(a);
					tilen = RTA_PAYLOAD(a);
				}
			fn(arg, m, ti, tilen);
		}
	}
}

#define LISTEN_SAMPLE 64

struct ns_walk {
	uint32_t netns;
	uint16_t listening[LISTEN_SAMPLE]; /* local ports listening in this namespace (a sample suffices) */
	int nlistening;
	struct cookie_map *owners;
	open_sock_fn fn;
	void *arg;
	int count;
};

static void on_listener(void *arg, const struct inet_diag_msg *m, const struct tcp_info *ti, size_t tilen)
{
	struct ns_walk *w = arg;
	uint16_t port = ntohs(m->id.idiag_sport);

	for (int i = 0; i < w->nlistening; i++)
		if (w->listening[i] == port)
			return;
	if (w->nlistening < LISTEN_SAMPLE)
		w->listening[w->nlistening++] = port;
}

static void on_conn(void *arg, const struct inet_diag_msg *m, const struct tcp_info *ti, size_t tilen)
{
	struct ns_walk *w = arg;
	struct open_sock s = { 0 };
	struct tcp_info info = { 0 };
	struct owner *o = (struct owner *)cookie_map_get(w->owners, m->idiag_inode);

	memcpy(&info, ti, tilen < sizeof(info) ? tilen : sizeof(info)); /* older kernels send less */
	s.id.cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	s.id.netns = w->netns;
	s.id.family = m->idiag_family == AF_INET6 ? 6 : 4;
	memcpy(s.id.saddr, m->id.idiag_src, s.id.family == 6 ? 16 : 4);
	memcpy(s.id.daddr, m->id.idiag_dst, s.id.family == 6 ? 16 : 4);
	s.id.sport = ntohs(m->id.idiag_sport);
	s.id.dport = ntohs(m->id.idiag_dport);
	s.id.dir = TV_DIR_OUT;
	for (int i = 0; i < w->nlistening; i++)
		if (w->listening[i] == s.id.sport)
			s.id.dir = TV_DIR_IN;
	if (o) {
		s.id.pid = o->pid;
		memcpy(s.id.comm, o->comm, sizeof(s.id.comm));
		s.id.owner_flags = TV_OWNER_KNOWN;
	}
	s.snap.state = m->idiag_state;
	s.snap.inode = m->idiag_inode;
	s.snap.recv_queue = m->idiag_rqueue;
	s.snap.send_queue = m->idiag_wqueue;
	s.snap.total_retrans = info.tcpi_total_retrans;
	s.snap.rtt_us = info.tcpi_rtt;
	s.snap.rttvar_us = info.tcpi_rttvar;
	s.snap.unacked = info.tcpi_unacked;
	s.snap.bytes_acked = info.tcpi_bytes_acked;
	s.snap.bytes_received = info.tcpi_bytes_received;
	if (tilen >= offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof(info.tcpi_bytes_sent))
		s.snap.bytes_sent = info.tcpi_bytes_sent;
	w->fn(w->arg, &s);
	w->count++;
}

int sockets_enumerate(uint32_t only_netns, open_sock_fn fn, void *arg, char *err, size_t errlen)
{
	/* every state but LISTEN, TIME_WAIT and NEW_SYN_RECV (no full socket) */
	const uint32_t conn_states = 0xfff & ~(1u << TCP_LISTEN_STATE) & ~(1u << TCP_TIME_WAIT_STATE) &
				     ~(1u << TCP_NEW_SYN_RECV_STATE);
	struct netns_list nsl = { 0 };
	struct cookie_map owners;
	int total = 0;

	if (cookie_map_init(&owners, 1024)) {
		snprintf(err, errlen, "cannot list open connections: %s", strerror(errno));
		return -1;
	}
	netns_scan(&nsl);
	owners_scan(&owners);
	for (size_t i = 0; i < nsl.n; i++) {
		struct ns_walk w = { .netns = nsl.v[i].inode, .owners = &owners, .fn = fn, .arg = arg };
		int sock;

		if (only_netns && nsl.v[i].inode != only_netns)
			continue;
		sock = diag_socket_in(nsl.v[i].path);
		if (sock < 0)
			continue; /* the namespace went away meanwhile */
		for (int pass = 0; pass < 2; pass++) /* listeners first: they tell the direction */
			for (int f = 0; f < 2; f++) {
				uint8_t family = f ? AF_INET6 : AF_INET;

				if (diag_request(sock, family, pass ? conn_states : 1u << TCP_LISTEN_STATE) == 0)
					diag_read(sock, pass ? on_conn : on_listener, &w);
			}
		close(sock);
		total += w.count;
	}
	owners_free(&owners);
	free(nsl.v);
	return total;
}
