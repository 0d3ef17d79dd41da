#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include "output.h"

void format_addr(const struct tv_conn *c, bool remote, char *buf, size_t len)
{
	const void *a = remote ? c->daddr : c->saddr;

	if (!inet_ntop(c->family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
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
