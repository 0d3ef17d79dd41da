/* Which connections get a TLS check: only ours, outgoing, to TLS ports,
 * never the metadata service; --tls-name forms and matching; the cache keeps
 * the newest results; every waiting connection gets its result once. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "tls_track.h"
#include "unit.h"

static struct tv_conn conn(const char *addr, uint16_t port, uint8_t dir)
{
	struct tv_conn c = { .cookie = 7, .dport = port, .dir = dir };

	if (inet_pton(AF_INET, addr, c.daddr) == 1) {
		c.family = 4;
	} else {
		c.family = 6;
		inet_pton(AF_INET6, addr, c.daddr);
	}
	return c;
}

/* A loopback port with nothing listening: a check of it is refused at once. */
static uint16_t closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Waits for every pending check; returns how many results were handed out. */
static int drain(struct tls_track *tt, uint64_t *cookies, int max)
{
	uint64_t end = clock_mono_now_ns() + 3000000000ULL, cookie;
	const struct tls_report *res;
	int n = 0;

	while (clock_mono_now_ns() < end) {
		while (tls_track_next(tt, &cookie, &res))
			if (n < max)
				cookies[n++] = cookie;
		if (n == max)
			break;
		usleep(5000);
	}
	return n;
}

static void test_cache_and_waiters(uint32_t own_netns)
{
	uint16_t ports[3] = { closed_port(), closed_port(), closed_port() };
	struct tls_track_options opt = { .extra_ports = ports, .nextra_ports = 3, .timeout_ms = 500,
					 .ttl_s = 600, .cache_max = 2 };
	static struct tls_waiter w[300];
	const struct tls_report *res;
	struct tls_track *tt;
	struct tv_conn c = { .family = 4, .dir = TV_DIR_OUT, .netns = own_netns,
			     .daddr = { 127, 0, 0, 1 } };
	uint64_t got[300];
	char err[256];
	int n, seen[300] = { 0 }, dup = 0;

	if (tls_track_new(&tt, &opt, err, sizeof(err)) || tls_track_start(tt, err, sizeof(err))) {
		CHECK(false, "checker starts");
		return;
	}
	/* three endpoints checked one after the other; the cache keeps two */
	for (int i = 0; i < 3; i++) {
		c.cookie = 100 + i;
		c.dport = ports[i];
		CHECK(tls_track_request(tt, &c, NULL, &w[i], &res) == TLS_REQ_PENDING, "a new endpoint is checked");
		CHECK(drain(tt, got, 1) == 1 && got[0] == c.cookie, "its waiter gets the result");
	}
	c.dport = ports[2];
	CHECK(tls_track_request(tt, &c, NULL, &w[0], &res) == TLS_REQ_CACHED && res->result == TLS_RESULT_REFUSED,
	      "the newest result is cached");
	c.dport = ports[1];
	CHECK(tls_track_request(tt, &c, NULL, &w[0], &res) == TLS_REQ_CACHED, "the second newest too");
	c.dport = ports[0];
	CHECK(tls_track_request(tt, &c, NULL, &w[0], &res) == TLS_REQ_PENDING,
	      "past the cache's size, the oldest result was dropped, not the newest");
	drain(tt, got, 1);

	/* 300 connections wait for one check; one of them goes away first */
	opt.ttl_s = 0;
	tls_track_free(tt);
	if (tls_track_new(&tt, &opt, err, sizeof(err)) || tls_track_start(tt, err, sizeof(err)))
		return;
	c.dport = ports[0];
	for (int i = 0; i < 300; i++) {
		c.cookie = 1000 + i;
		tls_track_request(tt, &c, "shared.example", &w[i], &res);
	}
	tls_track_cancel(&w[7]);
	n = drain(tt, got, 300);
	for (int i = 0; i < n; i++) {
		if (got[i] >= 1000 && got[i] < 1300)
			dup += seen[got[i] - 1000]++;
	}
	CHECK(n == 299 && !dup && !seen[7], "every waiting connection gets the result once; a cancelled one none");
	CHECK(!w[0].entry && !w[299].entry, "no waiter is left linked");
	tls_track_free(tt);
}

int main(void)
{
	struct tv_config cfg = { .tls_timeout_ms = 200, .tls_ttl_s = 600 };
	const struct tls_report *res;
	struct tls_waiter w = { 0 };
	struct tls_track_options opt;
	struct tls_track *tt;
	struct tv_conn c;
	struct stat st;
	char err[256];

	CHECK(tls_name_parse("10.0.0.5:8443=media.example", &cfg.tls_names[0]) &&
		      cfg.tls_names[0].port == 8443 && !strcmp(cfg.tls_names[0].name, "media.example"),
	      "--tls-name ADDR:PORT=NAME");
	CHECK(tls_name_parse("10.0.0.6=any.example", &cfg.tls_names[1]) && cfg.tls_names[1].port == 0,
	      "--tls-name ADDR=NAME: any port");
	CHECK(tls_name_parse("[2001:db8::1]:443=v6.example", &cfg.tls_names[2]) &&
		      cfg.tls_names[2].addr.family == 6 && cfg.tls_names[2].port == 443,
	      "--tls-name [IPv6]:PORT=NAME");
	CHECK(tls_name_parse("2001:db8::2=bare.example", &cfg.tls_names[3]) && cfg.tls_names[3].port == 0,
	      "--tls-name bare IPv6");
	CHECK(!tls_name_parse("10.0.0.5:8443", &cfg.tls_names[4]), "--tls-name without =NAME");
	CHECK(!tls_name_parse("10.0.0.5:0=x.example", &cfg.tls_names[4]), "--tls-name port 0");
	CHECK(!tls_name_parse("10.0.0.0/8=x.example", &cfg.tls_names[4]), "--tls-name takes no prefix");
	CHECK(!tls_name_parse("10.0.0.5=bad name", &cfg.tls_names[4]), "--tls-name with a space in the name");
	cfg.ntls_names = 4;
	cfg.tls_ports[cfg.ntls_ports++] = 9999;

	opt = (struct tls_track_options){ .extra_ports = cfg.tls_ports, .nextra_ports = cfg.ntls_ports,
					  .names = cfg.tls_names, .nnames = cfg.ntls_names,
					  .timeout_ms = cfg.tls_timeout_ms, .ttl_s = cfg.tls_ttl_s };
	CHECK(tls_track_new(&tt, &opt, err, sizeof(err)) == 0 && tls_track_start(tt, err, sizeof(err)) == 0,
	      "checker starts");
	if (!tt)
		UNIT_EXIT();
	c = conn("10.0.0.5", 8443, TV_DIR_OUT);
	CHECK_STR(tls_track_option_name(tt, &c), "media.example", "--tls-name matches address and port");
	c = conn("10.0.0.6", 993, TV_DIR_OUT);
	CHECK_STR(tls_track_option_name(tt, &c), "any.example", "--tls-name without port matches any port");
	c = conn("10.0.0.7", 443, TV_DIR_OUT);
	CHECK(tls_track_option_name(tt, &c) == NULL, "no --tls-name for other addresses");

	CHECK(tls_track_port(tt, 443) && tls_track_port(tt, 6443) && tls_track_port(tt, 9999) &&
		      !tls_track_port(tt, 80),
	      "default TLS ports plus --tls-port");
	c = conn("127.0.0.1", 443, TV_DIR_IN);
	CHECK(tls_track_request(tt, &c, "x.example", &w, &res) == TLS_REQ_NONE,
	      "accepted connections are never checked");
	c = conn("127.0.0.1", 80, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, "x.example", &w, &res) == TLS_REQ_NONE,
	      "ports that are not TLS are never checked");
	c = conn("169.254.169.254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &w, &res) == TLS_REQ_NONE,
	      "the metadata address is never checked");
	c = conn("::ffff:169.254.169.254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &w, &res) == TLS_REQ_NONE,
	      "nor the metadata address mapped into IPv6");
	c = conn("fd00:ec2::254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &w, &res) == TLS_REQ_NONE,
	      "nor the IPv6 metadata address");
	c = conn("127.0.0.1", 9999, TV_DIR_OUT);
	c.netns = 1; /* a namespace that does not exist */
	c.cookie = 77;
	CHECK(tls_track_request(tt, &c, "x.example", &w, &res) == TLS_REQ_PENDING,
	      "a check in another namespace is handed to the checker");
	{
		uint64_t end = clock_mono_now_ns() + 3000000000ULL, cookie = 0;

		res = NULL;
		while (clock_mono_now_ns() < end && !tls_track_next(tt, &cookie, &res))
			usleep(5000);
		CHECK(res && cookie == 77 && res->result == TLS_RESULT_ERROR &&
			      !strcmp(res->error, "the connection's network namespace is gone"),
		      "a vanished namespace: one clear error, no connection made");
	}
	tls_track_free(tt);

	opt.ca_file = "/nonexistent.pem";
	CHECK(tls_track_new(&tt, &opt, err, sizeof(err)) == 2 && tt == NULL && strstr(err, "--ca-file"),
	      "an unreadable --ca-file is named, a usage error");
	stat("/proc/self/ns/net", &st);
	test_cache_and_waiters((uint32_t)st.st_ino);
	UNIT_EXIT();
}
