/* Which connections get a TLS check: only ours, outgoing, to TLS ports,
 * never the metadata service; --tls-name forms and matching. */
#include <arpa/inet.h>
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

int main(void)
{
	struct tv_config cfg = { .tls_timeout_ms = 200, .tls_ttl_s = 600 };
	const struct tls_result *res;
	struct tls_track *tt;
	struct tv_conn c;
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

	tt = tls_track_new(&cfg, err, sizeof(err));
	CHECK(tt != NULL, "checker starts");
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
	CHECK(tls_track_request(tt, &c, "x.example", &res) == TLS_REQ_NONE,
	      "accepted connections are never checked");
	c = conn("127.0.0.1", 80, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, "x.example", &res) == TLS_REQ_NONE,
	      "ports that are not TLS are never checked");
	c = conn("169.254.169.254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &res) == TLS_REQ_NONE,
	      "the metadata address is never checked");
	c = conn("::ffff:169.254.169.254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &res) == TLS_REQ_NONE,
	      "nor the metadata address mapped into IPv6");
	c = conn("fd00:ec2::254", 443, TV_DIR_OUT);
	CHECK(tls_track_request(tt, &c, NULL, &res) == TLS_REQ_NONE,
	      "nor the IPv6 metadata address");
	c = conn("127.0.0.1", 9999, TV_DIR_OUT);
	c.netns = 1; /* a namespace that does not exist */
	CHECK(tls_track_request(tt, &c, "x.example", &res) == TLS_REQ_FAILED &&
		      res->result == TLS_RESULT_ERROR && strstr(res->error, "namespace"),
	      "a vanished namespace: one clear error, no check");
	tls_track_free(tt);

	cfg.ca_file = "/nonexistent.pem";
	tt = tls_track_new(&cfg, err, sizeof(err));
	CHECK(tt == NULL && strstr(err, "--ca-file"), "an unreadable --ca-file is named");
	UNIT_EXIT();
}
