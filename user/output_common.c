#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include "output.h"

/* Dotted decimal by hand: every record carries two addresses. */
static void format_ipv4(const uint8_t *a, char *buf)
{
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

void format_addr(const struct tv_conn *c, bool remote, char *buf, size_t len)
{
	const uint8_t *a = remote ? c->daddr : c->saddr;

	if (c->family != 6 && len >= 16)
		format_ipv4(a, buf);
	else if (!inet_ntop(c->family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

const char *family_name(const struct tv_conn *c)
{
	return c->family == 6 ? "ipv6" : "ipv4";
}

const char *dir_name(const struct tv_conn *c)
{
	switch (c->dir) {
	case TV_DIR_OUT: return "out";
	case TV_DIR_IN: return "in";
	default: return "unknown";
	}
}

void format_date(int64_t unix_s, bool with_time, char *buf, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}
