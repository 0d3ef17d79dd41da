/* Option values that name addresses, parsed without touching the system. */
#ifndef TV_ADDR_H
#define TV_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct tv_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* prefix length in bits */
	uint8_t addr[16];
};

struct tv_tls_name {
	struct tv_prefix addr; /* a full address */
	uint16_t port;         /* 0: any port */
	char name[254];
};

bool parse_number(const char *s, unsigned long long max, unsigned long long *out);
/* ADDR[/LEN], IPv4 or IPv6 */
bool prefix_parse(const char *text, struct tv_prefix *p);
bool prefix_match(const struct tv_prefix *p, uint8_t family, const uint8_t *addr);
/* ADDR[:PORT]=NAME; an IPv6 address with a port is written [ADDR]:PORT */
bool tls_name_parse(const char *text, struct tv_tls_name *tn);
/* [ADDR:]PORT, IPv6 as [ADDR]:PORT; a bare port is 127.0.0.1 */
bool metrics_addr_parse(const char *text, struct tv_prefix *addr, uint16_t *port);

#endif
