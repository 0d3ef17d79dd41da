/* Option values that name addresses: prefixes, --tls-name's ADDR[:PORT]=NAME,
 * --metrics' [ADDR:]PORT, and the numbers in them. Pure parsing: no file,
 * no name lookup. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "tls_hello.h"

/* A decimal number up to max, nothing before or after it. */
bool parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool prefix_parse(const char *text, struct tv_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned long long len;
	int max;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = 6;
		max = 128;
	} else {
		return false;
	}
	if (slash) {
		if (!parse_number(slash + 1, (unsigned long long)max, &len))
			return false;
		p->len = (uint8_t)len;
	} else {
		p->len = (uint8_t)max;
	}
	return true;
}

bool prefix_match(const struct tv_prefix *p, uint8_t family, const uint8_t *addr)
{
	int full = p->len / 8, rest = p->len % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

/* ADDR[:PORT]=NAME; an IPv6 address with a port is written [ADDR]:PORT. */
bool tls_name_parse(const char *text, struct tv_tls_name *tn)
{
	char buf[INET6_ADDRSTRLEN + 16], *eq, *addr, *port = NULL, *end;
	const char *name;
	unsigned long long p;
	size_t n;

	memset(tn, 0, sizeof(*tn));
	eq = strchr(text, '=');
	if (!eq || (size_t)(eq - text) >= sizeof(buf))
		return false;
	name = eq + 1;
	n = strlen(name);
	if (n >= sizeof(tn->name) || !dns_name_plausible(name, n))
		return false;
	memcpy(tn->name, name, n + 1);
	memcpy(buf, text, (size_t)(eq - text));
	buf[eq - text] = '\0';
	addr = buf;
	if (buf[0] == '[') {
		end = strchr(buf, ']');
		if (!end)
			return false;
		*end = '\0';
		addr = buf + 1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return false;
	} else if (strchr(buf, '.') && strchr(buf, ':')) {
		port = strchr(buf, ':');
		*port++ = '\0';
	}
	if (strchr(addr, '/') || !prefix_parse(addr, &tn->addr))
		return false;
	if (port) {
		if (!parse_number(port, 65535, &p) || p == 0)
			return false;
		tn->port = (uint16_t)p;
	}
	return true;
}

/* [ADDR:]PORT, IPv6 as [ADDR]:PORT; a bare port is 127.0.0.1. */
bool metrics_addr_parse(const char *text, struct tv_prefix *addr, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *p = strrchr(text, ':');
	unsigned long long v;

	if (!p) {
		p = text;
		prefix_parse("127.0.0.1", addr);
	} else {
		size_t n = (size_t)(p - text);

		if (n >= sizeof(buf))
			return false;
		memcpy(buf, text, n);
		buf[n] = '\0';
		if (buf[0] == '[' && n > 2 && buf[n - 1] == ']') {
			buf[n - 1] = '\0';
			if (!prefix_parse(buf + 1, addr) || addr->family != 6 || strchr(buf, '/'))
				return false;
		} else if (!prefix_parse(buf, addr) || addr->family != 4 || strchr(buf, '/')) {
			return false;
		}
		p++;
	}
	if (!parse_number(p, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

