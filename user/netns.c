#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cap-ng.h>
#include "log.h"
#include "netns.h"

struct helper_req {
	uint32_t inode, pid;
	int domain, type, proto;
};

struct helper_reply {
	int err; /* 0: the socket comes with it */
};

static int helper_fd = -1;   /* the collector's end */
static pid_t helper;
static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER; /* one request at a time */

int netns_find(uint32_t inode, uint32_t pid)
{
	char path[300];
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (pid) {
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == inode)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	/* the owner is gone: a named namespace may still be there */
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (stat(path, &st) == 0 && st.st_ino == inode) {
			closedir(d);
			return open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (d)
		closedir(d);
	return -1;
}

int netns_socket_at(int nsfd, int domain, int type, int proto)
{
	int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), sock, e;
	struct stat a, b;

	if (own < 0)
		return -errno;
	if (!fstat(own, &a) && !fstat(nsfd, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
		close(own); /* our own: no privilege needed */
		sock = socket(domain, type, proto);
		return sock >= 0 ? sock : -errno;
	}
	if (setns(nsfd, CLONE_NEWNET) != 0) {
		e = errno;
		close(own);
		return -e;
	}
	sock = socket(domain, type, proto);
	e = errno;
	if (setns(own, CLONE_NEWNET) != 0)
		abort(); /* a thread left in another namespace would do the wrong thing */
	close(own);
	return sock >= 0 ? sock : -e;
}

static int socket_direct(const struct helper_req *q)
{
	int nsfd = netns_find(q->inode, q->pid), sock;

	if (nsfd < 0)
		return -ENOENT;
	sock = netns_socket_at(nsfd, q->domain, q->type | SOCK_CLOEXEC, q->proto);
	close(nsfd);
	return sock;
}

/* ---- the helper ---- */

static void helper_reply(int fd, int err, int sock)
{
	struct helper_reply rep = { .err = err };
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (sock >= 0) {
		struct cmsghdr *c;

		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sock, sizeof(int));
	}
	sendmsg(fd, &msg, MSG_NOSIGNAL);
}

static void __attribute__((noreturn)) helper_main(int fd, pid_t parent)
{
	struct helper_req q;
	int null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	signal(SIGINT, SIG_IGN); /* Ctrl-C is for the collector, which ends us */
	signal(SIGHUP, SIG_IGN);
	/* nothing of the collector's: its output (a pipe's reader must see its
	 * end when the collector goes), its BPF objects */
	if (dup2(fd, 3) != 3)
		_exit(1);
	close_range(4, ~0U, 0);
	fd = 3;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_SYS_ADMIN,
		      CAP_SYS_PTRACE, -1);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0)
		_exit(1);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_NAME, "tcpvitals-netns");
	for (;;) {
		ssize_t n = recv(fd, &q, sizeof(q), 0);
		int sock;

		if (n == 0 || (n < 0 && errno != EINTR))
			_exit(0); /* the collector has gone */
		if (n != sizeof(q)) {
			helper_reply(fd, EINVAL, -1);
			continue;
		}
		sock = socket_direct(&q);
		helper_reply(fd, sock < 0 ? -sock : 0, sock);
		if (sock >= 0)
			close(sock);
	}
}

int netns_helper_start(char *err, size_t errlen)
{
	int sv[2];
	pid_t parent = getpid(), pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return error_line(err, errlen, -1, "cannot start the namespace helper: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_line(err, errlen, -1, "cannot start the namespace helper: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], parent);
	}
	close(sv[1]);
	helper_fd = sv[0];
	helper = pid;
	return 0;
}

pid_t netns_helper_pid(void)
{
	return helper;
}

void netns_helper_stop(void)
{
	if (helper_fd < 0)
		return;
	close(helper_fd); /* it reads the end and exits */
	helper_fd = -1;
	waitpid(helper, NULL, 0);
	helper = 0;
}

static int socket_from_helper(const struct helper_req *q)
{
	struct helper_reply rep;
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int sock = -1;
	ssize_t n;

	pthread_mutex_lock(&helper_lock);
	if (send(helper_fd, q, sizeof(*q), MSG_NOSIGNAL) != sizeof(*q)) {
		pthread_mutex_unlock(&helper_lock);
		return -EPIPE;
	}
	do
		n = recvmsg(helper_fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&helper_lock);
	if (n != sizeof(rep))
		return -EPIPE;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&sock, CMSG_DATA(c), sizeof(int));
	if (rep.err) {
		if (sock >= 0)
			close(sock);
		return -rep.err;
	}
	return sock >= 0 ? sock : -EPIPE;
}

int netns_socket(uint32_t inode, uint32_t pid, int domain, int type, int proto)
{
	struct helper_req q = { .inode = inode, .pid = pid, .domain = domain, .type = type, .proto = proto };

	return helper_fd >= 0 ? socket_from_helper(&q) : socket_direct(&q);
}
