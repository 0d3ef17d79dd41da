/*
 * Connection churn for the benchmarks (loopback or a test namespace only).
 *
 *   churn server ADDR PORT         accept connections, close each once the client has
 *                                  closed (so TIME_WAIT stays on the client), forever
 *   churn client ADDR PORT SECONDS connect and close as fast as one thread can for
 *                                  SECONDS; prints "CONNECTIONS ELAPSED_S"
 *   churn count ADDR PORT N        N connections, one after another, each closed at once;
 *                                  prints "N ELAPSED_S"
 *   churn rr ADDR PORT SECONDS     one connection (Nagle off): a 64-byte request, the
 *                                  server's 64-byte answer, again, for SECONDS; prints
 *                                  "TRANSACTIONS ELAPSED_S"
 * The server answers any bytes it gets with as many, so one server serves both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in address(const char *addr, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "churn: %s is no IPv4 address\n", addr);
		exit(2);
	}
	return sa;
}

static int serve(struct sockaddr_in sa)
{
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[256];

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		perror("churn: listen");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd != lfd) { /* bytes are echoed; the client closed: so do we */
				char buf[4096];
				ssize_t got = read(fd, buf, sizeof(buf));

				if (got > 0 && write(fd, buf, (size_t)got) == got)
					continue;
				close(fd);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };

				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev))
					close(fd);
			}
		}
	}
}

/* For SECONDS, or (seconds 0) until want connections were made. */
static int client(struct sockaddr_in sa, double seconds, unsigned long want)
{
	double start = now_s(), end = start + seconds;
	unsigned long n = 0, failed = 0;

	while (want ? n < want : now_s() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			failed++;
			if (fd >= 0)
				close(fd);
			if (failed > 1000 && failed > n) {
				perror("churn: connect");
				return 1;
			}
			continue;
		}
		close(fd);
		n++;
	}
	printf("%lu %.3f\n", n, now_s() - start);
	return 0;
}

static int request_response(struct sockaddr_in sa, double seconds)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	double start, end;
	unsigned long n = 0;
	char msg[64] = { 0 };

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("churn: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	start = now_s();
	end = start + seconds;
	while (now_s() < end) {
		size_t got = 0;

		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			return 1;
		while (got < sizeof(msg)) {
			ssize_t r = read(fd, msg + got, sizeof(msg) - got);

			if (r <= 0)
				return 1;
			got += (size_t)r;
		}
		n++;
	}
	printf("%lu %.3f\n", n, now_s() - start);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(address(argv[2], argv[3]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(address(argv[2], argv[3]), atof(argv[4]), 0);
	if (argc == 5 && !strcmp(argv[1], "count"))
		return client(address(argv[2], argv[3]), 0, strtoul(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "rr"))
		return request_response(address(argv[2], argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: churn server ADDR PORT | churn client|rr ADDR PORT SECONDS | churn count ADDR PORT N\n");
	return 2;
}
