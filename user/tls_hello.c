/*
 * ClientHello parsing (RFC 8446 4.1.2, RFC 6066 3). Every length is checked
 * against what was captured; the input is whatever a process wrote, so it is
 * treated as hostile.
 */
#include <string.h>
#include "tls_hello.h"

struct cursor {
	const uint8_t *p;
	size_t left;
};

static int take(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return -1;
	if (out)
		*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int num(struct cursor *c, size_t bytes, unsigned *v)
{
	const uint8_t *p;

	if (take(c, bytes, &p))
		return -1;
	*v = 0;
	for (size_t i = 0; i < bytes; i++)
		*v = *v << 8 | p[i];
	return 0;
}

/* The next n bytes as their own cursor; n may run past what was captured. */
static struct cursor sub(struct cursor *c, size_t n)
{
	struct cursor s = { c->p, n < c->left ? n : c->left };

	c->p += s.left;
	c->left -= s.left;
	return s;
}

bool dns_name_plausible(const char *s, size_t n)
{
	if (n == 0 || n > TV_SNI_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '.' || ch == '_'))
			return false;
	}
	return true;
}

/*
 * Returns 1 with the name, 0 if the hello has no server_name, -1 if a length
 * runs past the data (the caller tells a short capture from a bad hello).
 */
static int find_sni(struct cursor hs, char *name)
{
	struct cursor exts, ext, list;
	unsigned v, n, type, elen;
	const uint8_t *host;

	/* legacy_version, random, session id, cipher suites, compression methods */
	if (num(&hs, 2, &v) || take(&hs, 32, NULL) || num(&hs, 1, &n) || n > 32 || take(&hs, n, NULL) ||
	    num(&hs, 2, &n) || (n & 1) || take(&hs, n, NULL) || num(&hs, 1, &n) || n == 0 ||
	    take(&hs, n, NULL))
		return -1;
	if (!hs.left)
		return 0; /* no extensions at all */
	if (num(&hs, 2, &n) || n > hs.left)
		return -1;
	exts = sub(&hs, n);
	while (exts.left) {
		if (num(&exts, 2, &type) || num(&exts, 2, &elen) || elen > exts.left)
			return -1;
		ext = sub(&exts, elen);
		if (type != 0)
			continue;
		/* server_name: a list of (type, name); host_name is type 0 */
		if (num(&ext, 2, &n) || n > ext.left)
			return -1;
		list = sub(&ext, n);
		while (list.left) {
			if (num(&list, 1, &type) || num(&list, 2, &n) || take(&list, n, &host))
				return -1;
			if (type == 0) {
				if (!dns_name_plausible((const char *)host, n))
					return -2;
				memcpy(name, host, n);
				name[n] = '\0';
				return 1;
			}
		}
		return 0;
	}
	return 0;
}

enum tls_hello_result tls_hello_sni(const uint8_t *data, size_t len, char name[TV_SNI_MAX + 1])
{
	struct cursor c = { data, len }, rec, hs;
	unsigned ctype, vmajor, vminor, rec_len, hs_type, hs_len;
	int complete, found;

	name[0] = '\0';
	/* record header: handshake(22), legacy version 3.x, length; then client_hello(1) */
	if (len > 0 && data[0] != 22)
		return TLS_HELLO_NOT_TLS;
	if (num(&c, 1, &ctype) || num(&c, 1, &vmajor) || num(&c, 1, &vminor) || num(&c, 2, &rec_len))
		return len ? TLS_HELLO_TRUNCATED : TLS_HELLO_NOT_TLS;
	if (vmajor != 3 || vminor > 4 || rec_len == 0 || rec_len > 16384 + 2048)
		return TLS_HELLO_NOT_TLS;
	complete = c.left >= rec_len; /* the capture holds the whole record */
	rec = sub(&c, rec_len);
	if (num(&rec, 1, &hs_type))
		return TLS_HELLO_TRUNCATED;
	if (hs_type != 1)
		return TLS_HELLO_NOT_TLS;
	if (num(&rec, 3, &hs_len))
		return complete ? TLS_HELLO_MALFORMED : TLS_HELLO_TRUNCATED;
	if (complete && hs_len > rec.left)
		return TLS_HELLO_MALFORMED; /* split over records: legal, rare, not followed */
	hs = sub(&rec, hs_len);
	found = find_sni(hs, name);
	if (found == 1)
		return TLS_HELLO_SNI;
	if (found == 0)
		return TLS_HELLO_NO_SNI;
	if (found == -2)
		return TLS_HELLO_MALFORMED;
	return complete ? TLS_HELLO_MALFORMED : TLS_HELLO_TRUNCATED;
}

const char *tls_hello_result_name(enum tls_hello_result r)
{
	switch (r) {
	case TLS_HELLO_SNI: return "server name found";
	case TLS_HELLO_NO_SNI: return "no server name";
	case TLS_HELLO_TRUNCATED: return "truncated";
	case TLS_HELLO_NOT_TLS: return "not TLS";
	case TLS_HELLO_MALFORMED: return "malformed";
	}
	return "?";
}
